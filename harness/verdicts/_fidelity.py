"""The per-turn fidelity table of a run's simulated patient (`<run>/fidelity.parquet`), from its stage-1 logs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from inspect_ai.log import EvalSample

from harness.fidelity import FIDELITY_COLUMNS, DialogueRecord, fidelity_rows, fidelity_table
from harness.verdicts._tables import read_stage1_samples


def stage1_records(stage1: dict[str, Path]) -> list[DialogueRecord]:
    """One `DialogueRecord` per stage-1 sample (candidate name -> stage-1 log)."""
    return dialogue_records(read_stage1_samples(stage1))


def dialogue_records(samples: Sequence[tuple[str, EvalSample]]) -> list[DialogueRecord]:
    """One `DialogueRecord` per (candidate, stage-1 sample)."""
    from tasks import transcript

    out: list[DialogueRecord] = []
    for candidate, s in samples:
        md = s.metadata or {}
        out.append(DialogueRecord(
            candidate=candidate, sample_id=str(s.id), scenario_id=str(md.get("scenario_id", "")),
            persona_id=str(md.get("persona_id", "")), risk=str(md.get("risk", "none")),
            turns=[(r, t) for r, t in transcript(s)], facts=md.get("persona_facts"),
            guard=list(md.get("patient_turns") or [])))
    return out


def build_fidelity(samples: Sequence[tuple[str, EvalSample]]) -> pd.DataFrame:
    """Per simulated patient turn of every candidate's dialogues (`harness.fidelity.FIDELITY_COLUMNS`); empty for
    single-turn runs (nothing is simulated). `samples`: :func:`read_stage1_samples`."""
    records = dialogue_records(samples)
    if not any(r == "patient" for d in records for r, _ in d.turns[1:]):
        return pd.DataFrame(columns=list(FIDELITY_COLUMNS))
    return fidelity_rows(records).sort_values(["candidate", "sample_id", "turn"], ignore_index=True)


def fidelity_summary(per_turn: pd.DataFrame, by_scenario: bool = False) -> pd.DataFrame:
    """The fidelity table by candidate (or candidate and scenario): what the summary, leaderboard and report show."""
    return fidelity_table(per_turn, ("candidate", "scenario_id") if by_scenario else ("candidate",))
