"""The per-turn fidelity table of a run's simulated patient (`<run>/fidelity.parquet`), from its stage-1 logs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from inspect_ai.log import read_eval_log_samples

from harness.fidelity import FIDELITY_COLUMNS, DialogueRecord, fidelity_rows, fidelity_table


def stage1_records(stage1: dict[str, Path]) -> list[DialogueRecord]:
    """One `DialogueRecord` per stage-1 sample (candidate name -> stage-1 log)."""
    from tasks import transcript

    out: list[DialogueRecord] = []
    for candidate, log in stage1.items():
        for s in read_eval_log_samples(str(log), all_samples_required=False):
            md = s.metadata or {}
            out.append(DialogueRecord(
                candidate=candidate, sample_id=str(s.id), scenario_id=str(md.get("scenario_id", "")),
                persona_id=str(md.get("persona_id", "")), risk=str(md.get("risk", "none")),
                turns=[(r, t) for r, t in transcript(s)], facts=md.get("persona_facts"),
                guard=list(md.get("patient_turns") or [])))
    return out


def build_fidelity(stage1: dict[str, Path]) -> pd.DataFrame:
    """Per simulated patient turn of every candidate's dialogues (`harness.fidelity.FIDELITY_COLUMNS`); empty for
    single-turn runs (nothing is simulated)."""
    records = stage1_records(stage1)
    if not any(r == "patient" for d in records for r, _ in d.turns[1:]):
        return pd.DataFrame(columns=list(FIDELITY_COLUMNS))
    return fidelity_rows(records).sort_values(["candidate", "sample_id", "turn"], ignore_index=True)


def fidelity_summary(per_turn: pd.DataFrame, by_scenario: bool = False) -> pd.DataFrame:
    """The fidelity table by candidate (or candidate and scenario): what the summary, leaderboard and report show."""
    return fidelity_table(per_turn, ("candidate", "scenario_id") if by_scenario else ("candidate",))
