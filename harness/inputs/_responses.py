"""Imported responses: candidates without an API (CSV/JSONL with scenario id + response)."""

from __future__ import annotations

import csv
from pathlib import Path

from harness.core import InputError, iter_jsonl

_FIX = "give one row per scenario with columns scenario_id and response"


def load_responses(path: str | Path, scenario_ids: list[str]) -> dict[str, str]:
    """Read imported responses and check they cover exactly the run's scenarios.

    Every scenario of the run needs one non-empty response; duplicates and missing ids are errors
    (never silently dropped), ids not in the run are ignored.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "responses", str(p), "file not found", "point `responses` at an existing file")
    rows: list[tuple[str, dict[str, object]]] = []
    if p.suffix.lower() == ".jsonl":
        rows = list(iter_jsonl(p))
    elif p.suffix.lower() == ".csv":
        with p.open(newline="", encoding="utf-8") as fh:
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
        if not isinstance(text, str) or not text.strip():
            raise InputError(p, f"{where} response", text, "missing or empty response", _FIX)
        if sid in out:
            raise InputError(p, f"{where} scenario_id", sid, "duplicate response for this scenario", _FIX)
        out[sid] = text
    missing = [s for s in scenario_ids if s not in out]
    if missing:
        raise InputError(p, "scenario_id", missing[0],
                         f"{len(missing)} of the run's {len(scenario_ids)} scenarios have no response",
                         "add a response for every scenario of the run (or restrict the run's scenarios)")
    return {s: out[s] for s in scenario_ids}
