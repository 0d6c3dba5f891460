"""The per-turn fidelity table of a run's simulated patient (`<run>/fidelity.parquet`), from its stage-1 logs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
from inspect_ai.log import EvalSample

from harness.fidelity import FIDELITY_COLUMNS, DialogueRecord, fidelity_rows, fidelity_table
from harness.verdicts._tables import iter_stage1_samples


def stage1_records(stage1: dict[str, Path]) -> list[DialogueRecord]:
    """One `DialogueRecord` per stage-1 sample (candidate name -> stage-1 log)."""
    return dialogue_records(iter_stage1_samples(stage1))


def dialogue_record(candidate: str, s: EvalSample) -> DialogueRecord:
    """The `DialogueRecord` of one stage-1 sample: its text and guard metadata, without the sample's events."""
    from tasks import transcript

    md = s.metadata or {}
    return DialogueRecord(
        candidate=candidate, sample_id=str(s.id), scenario_id=str(md.get("scenario_id", "")),
        persona_id=str(md.get("persona_id", "")), risk=str(md.get("risk", "none")),
        turns=[(r, t) for r, t in transcript(s)], facts=md.get("persona_facts"),
        guard=list(md.get("patient_turns") or []))


def dialogue_records(samples: Iterable[tuple[str, EvalSample]]) -> list[DialogueRecord]:
    """One `DialogueRecord` per (candidate, stage-1 sample)."""
    return [dialogue_record(candidate, s) for candidate, s in samples]


def fidelity_from_records(records: Sequence[DialogueRecord]) -> pd.DataFrame:
    """Per simulated patient turn of every candidate's dialogues (`harness.fidelity.FIDELITY_COLUMNS`); empty for
    single-turn runs (nothing is simulated)."""
    if not any(r == "patient" for d in records for r, _ in d.turns[1:]):
        return pd.DataFrame(columns=list(FIDELITY_COLUMNS))
    return fidelity_rows(records).sort_values(["candidate", "sample_id", "turn"], ignore_index=True)


def build_fidelity(samples: Iterable[tuple[str, EvalSample]]) -> pd.DataFrame:
    """:func:`fidelity_from_records` of (candidate, stage-1 sample) pairs (:func:`iter_stage1_samples`)."""
    return fidelity_from_records(dialogue_records(samples))


def fidelity_summary(per_turn: pd.DataFrame, by_scenario: bool = False) -> pd.DataFrame:
    """The fidelity table by candidate (or candidate and scenario): what the summary, leaderboard and report show."""
    return fidelity_table(per_turn, ("candidate", "scenario_id") if by_scenario else ("candidate",))
