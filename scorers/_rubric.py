"""Rubrics as data: a TOML file of `[[items]]` (pointwise pass/fail items with severities) and locale resources.

The pointwise counterpart of the criteria sets (`harness.inputs.load_criteria`): a rubric scores ONE reply on its
own (absolute), where criteria compare two (relative). Versioned and hashed like criteria; the hash is recorded on
every scored row so that scores from different rubric texts are never pooled silently. Bundled rubrics live in
`scorers/rubrics/*.toml` (`crisis`); see docs/safety.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core import InputError, builtin_or_path, content_hash, read_toml

RUBRIC_DIR = Path(__file__).resolve().parent / "rubrics"
Severity = Literal["critical", "major", "minor"]
SEVERITIES: tuple[str, ...] = ("critical", "major", "minor")
_ITEM_FIELDS = "id, name, severity (critical/major/minor), definition, pass_anchor, fail_anchor"


class RubricItem(BaseModel):
    """One pass/fail item; `pass_anchor`/`fail_anchor` anchor the judge's decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    severity: Severity
    definition: str = Field(min_length=1)
    pass_anchor: str = Field(min_length=1)
    fail_anchor: str = Field(min_length=1)


class Resource(BaseModel):
    """The crisis resources of one locale: `text` (shown to the judge) and `patterns` (for the offline check)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    patterns: tuple[str, ...] = Field(min_length=1)


class Rubric(BaseModel):
    """A named, versioned rubric; `hash` identifies its exact content (items and resources)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    items: tuple[RubricItem, ...]
    resources: dict[str, Resource] = Field(default_factory=dict)
    fallback: Resource

    @property
    def hash(self) -> str:
        """sha256 (first 12 hex digits) of the canonical JSON of the whole rubric."""
        return content_hash(self.model_dump(mode="json"))

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.items]

    @property
    def critical(self) -> list[str]:
        return [i.id for i in self.items if i.severity == "critical"]

    def get(self, item_id: str) -> RubricItem:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def resources_for(self, locale: str) -> tuple[Resource, bool]:
        """The resources of `locale` (case-insensitive ISO code) and True, or the fallback and False."""
        res = self.resources.get(locale.upper())
        return (res, True) if res is not None else (self.fallback, False)


def builtin_rubrics() -> list[str]:
    """Names of the rubrics shipped in `scorers/rubrics/`."""
    return sorted(p.stem for p in RUBRIC_DIR.glob("*.toml"))


def _field_of(data: dict[str, object], loc: tuple[int | str, ...]) -> str:
    field = ".".join(str(x) for x in loc)
    items = data.get("items")
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int) and isinstance(items, list):
        item = items[loc[1]] if loc[1] < len(items) else None
        iid = item.get("id", "?") if isinstance(item, dict) else "?"
        field = f"items[{loc[1]}] (id={iid}) " + ".".join(str(x) for x in loc[2:])
    return field


def load_rubric(spec: str | Path) -> Rubric:
    """Load a rubric by builtin name (`crisis`) or TOML path; every problem is an `InputError` naming the field."""
    p = builtin_or_path(spec, RUBRIC_DIR, "rubric", "rubric")
    data = read_toml(p)
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        field = _field_of(data, loc)
        if loc[:1] == ("items",):
            fix = f"each [[items]] needs {_ITEM_FIELDS}"
        elif loc[:1] in (("resources",), ("fallback",)):
            fix = "each [resources.<LOCALE>] and the [fallback] table need text and a non-empty patterns list"
        else:
            fix = "a rubric needs name, version, [[items]] tables and a [fallback] resource table"
        problem = "missing" if err["type"] == "missing" else err["msg"]
        raise InputError(p, field, err.get("input") if err["type"] != "missing" else None, problem, fix) from None
    if not rubric.items:
        raise InputError(p, "items", [], "the rubric has no items", "add at least one [[items]] table")
    seen: set[str] = set()
    for n, item in enumerate(rubric.items):
        if item.id in seen:
            raise InputError(p, f"items[{n}].id", item.id, "item id repeated", "give each [[items]] a unique id")
        seen.add(item.id)
    if not rubric.critical:
        raise InputError(p, "items.severity", [i.severity for i in rubric.items], "no item is critical",
                         "mark at least one item severity = \"critical\": the safe-handling rate is defined by them")
    for code in rubric.resources:
        if not (len(code) == 2 and code.isalpha() and code.isupper()):
            raise InputError(p, f"resources.{code}", code, "locale is not an upper-case ISO 3166-1 alpha-2 code",
                             "key resources by a two-letter country code such as US, GB, AU")
    return rubric
