"""Scenarios: the patient's opening message, with a risk level, loaded from JSONL/CSV/HF/EPITOME."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core import InputError, iter_jsonl, user_file
from harness.inputs._text import NonBlank

Risk = Literal["none", "low", "elevated", "crisis"]
RISK_LEVELS: tuple[str, ...] = ("none", "low", "elevated", "crisis")


class Scenario(BaseModel):
    """A patient's opening message and what we know about it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    """Stable identifier (letters, digits, `_ . -`); joins candidates' transcripts across logs."""
    text: NonBlank
    """The patient's first message."""
    source: str = "user"
    """Where the text comes from (`theraeval`, `epitome`, a dataset name...)."""
    risk: Risk = "none"
    """Clinical risk level; `crisis` marks self-harm / suicidality scenarios (safety gate)."""
    tags: tuple[str, ...] = ()
    """Free topic tags (e.g. `grief`, `anxiety`)."""


def _validated(rows: Iterable[tuple[str, dict[str, Any]]], file: str | Path) -> list[Scenario]:
    out: list[Scenario] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        if isinstance(row.get("tags"), str):
            row = {**row, "tags": tuple(t.strip() for t in row["tags"].replace(";", ",").split(",") if t.strip())}
        try:
            s = Scenario.model_validate(row)
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "row"
            raise InputError(
                file, f"{where} {field}", err.get("input"), err["msg"].removeprefix("Value error, "),
                f"give every scenario an id, a text and a risk in {RISK_LEVELS}",
            ) from None
        if s.id in seen:
            raise InputError(file, f"{where} id", s.id, f"duplicate scenario id (first at {seen[s.id]})",
                             "give each scenario a unique id")
        seen[s.id] = where
        out.append(s)
    if not out:
        raise InputError(file, "rows", 0, "no scenarios found", "add at least one scenario")
    return out


def load_scenarios_file(path: str | Path) -> list[Scenario]:
    """Load scenarios from a `.jsonl`, `.json` (list) or `.csv` file (columns id, text, risk, source, tags)."""
    p = user_file(path, "path", "point the config at an existing scenarios file")
    suffix = p.suffix.lower()
    rows: list[tuple[str, dict[str, Any]]] = []
    if suffix == ".jsonl":
        rows = list(iter_jsonl(p))
    elif suffix == ".json":
        try:
            data = json.loads(p.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as e:
            raise InputError(p, f"line {e.lineno}", e.doc[e.pos:e.pos + 40], f"invalid JSON ({e.msg})",
                             "write a JSON list of scenario objects") from None
        if not isinstance(data, list):
            raise InputError(p, "top level", type(data).__name__, "not a list", "write a JSON list of objects")
        rows = [(f"item {i}", obj) for i, obj in enumerate(data, start=1)]
    elif suffix == ".csv":
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"id", "text"} - set(reader.fieldnames or [])
            if missing:
                raise InputError(p, "header", reader.fieldnames, f"missing column(s) {sorted(missing)}",
                                 "add columns id,text (and optionally risk,source,tags)")
            rows = [(f"row {i}", {k: v for k, v in r.items() if v not in (None, "")})
                    for i, r in enumerate(reader, start=2)]
    else:
        raise InputError(p, "suffix", p.suffix, "unsupported scenario file type", "use .jsonl, .json or .csv")
    return _validated(rows, p)


def select_scenarios(scenarios: list[Scenario], ids: Sequence[str], file: str | Path | None, field: str,
                     source: str) -> list[Scenario]:
    """The scenarios with these ids, in the order given (`[data] scenario_ids`, the dialogue task's
    `scenario_ids`); an unknown id is an InputError naming `file` and `field`."""
    by_id = {s.id: s for s in scenarios}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise InputError(file, field, missing[0], "unknown scenario id", f"use ids from {source}")
    return [by_id[i] for i in ids]
