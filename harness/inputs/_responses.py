"""Imported responses: candidates without an API (CSV/JSONL with scenario id + response)."""

from __future__ import annotations

import csv
from pathlib import Path

from harness.core import InputError, iter_jsonl, user_file
from harness.inputs._text import BLANK, is_blank

_FIX = "give one row per scenario with columns scenario_id and response"


def load_responses(path: str | Path, scenario_ids: list[str], known_ids: list[str] | None = None) -> dict[str, str]:
    """Read imported responses and check they cover exactly the run's scenarios.

    Every scenario of the run needs one non-empty response; duplicates and missing ids are errors (never silently
    dropped). With `known_ids` (the whole scenario set, before `scenario_ids` / `scenario_limit`: the run's plan
    passes it), an id that is not a scenario at all is an error (one line: the first few and the count); rows of
    known scenarios the run leaves out are skipped, so one responses file serves a full run and its subsets.
    Without it (a task reading a file its plan checked) other rows are skipped.
    """
    p = user_file(path, "responses", "point `responses` at an existing file")
    rows: list[tuple[str, dict[str, object]]] = []
    if p.suffix.lower() == ".jsonl":
        rows = list(iter_jsonl(p))
    elif p.suffix.lower() == ".csv":
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing_cols = {"scenario_id", "response"} - set(reader.fieldnames or [])
            if missing_cols:
                raise InputError(p, "header", reader.fieldnames, f"missing column(s) {sorted(missing_cols)}", _FIX)
            rows = [(f"row {i}", dict(r)) for i, r in enumerate(reader, start=2)]
    else:
        raise InputError(p, "suffix", p.suffix, "unsupported responses file type", "use .jsonl or .csv")
    out: dict[str, str] = {}
    for where, row in rows:
        sid, text = row.get("scenario_id"), row.get("response")
        if not isinstance(sid, str) or not sid:
            raise InputError(p, f"{where} scenario_id", sid, "missing or not a string", _FIX)
        if not isinstance(text, str) or is_blank(text):
            raise InputError(p, f"{where} response", text, f"missing, or {BLANK}", _FIX)
        if sid in out:
            raise InputError(p, f"{where} scenario_id", sid, "duplicate response for this scenario", _FIX)
        out[sid] = text
    unknown = [s for s in out if s not in set(known_ids) | set(scenario_ids)] if known_ids is not None else []
    if unknown:
        shown = ", ".join(repr(s) for s in unknown[:3]) + (", ..." if len(unknown) > 3 else "")
        raise InputError(p, "scenario_id", unknown[0], f"{len(unknown)} row(s) name scenarios that are not in the "
                         f"run's scenario set: {shown}", "fix those ids or remove the rows (the run's scenario ids "
                         "are in the scenarios file the config names)")
    missing = [s for s in scenario_ids if s not in out]
    if missing:
        raise InputError(p, "scenario_id", missing[0],
                         f"{len(missing)} of the run's {len(scenario_ids)} scenarios have no response",
                         "add a response for every scenario of the run (or restrict the run's scenarios)")
    return {s: out[s] for s in scenario_ids}
