"""Criteria as data: a TOML file of `[[criteria]]` tables, versioned and hashed."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core import InputError, builtin_or_path, content_hash, read_toml
from harness.inputs._text import NonBlank

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "scorers" / "criteria"


class Criterion(BaseModel):
    """One judging criterion; `better_when`/`worse_when` anchor the judge's comparison."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    name: NonBlank
    description: NonBlank
    better_when: NonBlank
    worse_when: NonBlank


class CriteriaSet(BaseModel):
    """A named, versioned list of criteria; `hash` identifies its exact content on every verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    description: str = ""
    criteria: tuple[Criterion, ...]

    @property
    def hash(self) -> str:
        """sha256 (first 12 hex digits) of the canonical JSON of the whole set."""
        return content_hash(self.model_dump(mode="json"))

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.criteria]

    def get(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def subset(self, ids: list[str], file: str | Path | None = None) -> CriteriaSet:
        """The same set restricted to `ids` (in the set's order); unknown ids are an InputError."""
        unknown = [i for i in ids if i not in self.ids]
        if unknown:
            raise InputError(file, "criteria", unknown[0], f"unknown criterion in set {self.name!r}",
                             f"use one of {self.ids}, or add a [[criteria]] table for it")
        return self.model_copy(update={"criteria": tuple(c for c in self.criteria if c.id in ids)})


def builtin_criteria_sets() -> list[str]:
    """Names of the criteria sets shipped in `scorers/criteria/`."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_criteria(spec: str | Path) -> CriteriaSet:
    """Load a criteria set by builtin name (`therapeutic`, `survey4`, `gricean`) or TOML path."""
    p = builtin_or_path(spec, BUILTIN_DIR, "criteria set", "criteria")
    data = read_toml(p)
    try:
        cs = CriteriaSet.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = err["loc"]
        field = ".".join(str(x) for x in loc)
        if len(loc) >= 2 and loc[0] == "criteria" and isinstance(loc[1], int):
            crit = data.get("criteria", [])[loc[1]]
            cid = crit.get("id", "?") if isinstance(crit, dict) else "?"
            field = f"criteria[{loc[1]}] (id={cid}) " + ".".join(str(x) for x in loc[2:])
        raise InputError(p, field, err.get("input"), err["msg"].removeprefix("Value error, "),
                         "each [[criteria]] needs id, name, description, better_when, worse_when") from None
    seen: set[str] = set()
    for c in cs.criteria:
        if c.id in seen:
            raise InputError(p, "criteria.id", c.id, "duplicate criterion id", "give each criterion a unique id")
        seen.add(c.id)
    if not cs.criteria:
        raise InputError(p, "criteria", [], "the set has no criteria", "add at least one [[criteria]] table")
    return cs
