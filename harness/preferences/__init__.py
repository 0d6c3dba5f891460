"""Preferences: persona judges rank the candidates' stage-1 responses; symmetric voting makes DPO pairs.

Reads: a run's stage-1 logs and ``inputs/`` snapshots, preference logs (``tasks.preference``). Writes:
``<run>/preferences/`` (inspect logs, ``index.json``) and the output folder: one HF dataset per criterion,
``joint/``, ``summary.json``, ``rankings.jsonl``, ``votes.jsonl``. May import: ``harness.run``, ``tasks``,
``harness.inputs``, ``harness.core``.
"""

from harness.preferences._collect import (
    IDENTICAL,
    JOINT,
    NO_VALID,
    PAIR_COLUMNS,
    SUMMARY_KIND,
    TIE,
    Decision,
    DPOPair,
    NoPair,
    PreferenceResult,
    RankingRecord,
    aggregate_preferences,
    collect_preferences_main,
    decide,
    joint_rows,
    pair_rows,
    ranking_calls,
    tally,
    voting_weights,
    write_preference_datasets,
)

__all__ = [
    "IDENTICAL",
    "JOINT",
    "NO_VALID",
    "PAIR_COLUMNS",
    "SUMMARY_KIND",
    "TIE",
    "DPOPair",
    "Decision",
    "NoPair",
    "PreferenceResult",
    "RankingRecord",
    "aggregate_preferences",
    "collect_preferences_main",
    "decide",
    "joint_rows",
    "pair_rows",
    "ranking_calls",
    "tally",
    "voting_weights",
    "write_preference_datasets",
]
