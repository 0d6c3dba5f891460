"""Preferences: persona judges rank the candidates' stage-1 responses; symmetric voting makes DPO pairs.

Reads: a run's stage-1 logs and ``inputs/`` snapshots, preference logs (``tasks.preference``). Writes:
``<run>/preferences/`` (inspect logs, ``index.json``) and the output folder: one HF dataset per criterion,
``joint/``, ``summary.json``, ``rankings.jsonl``, ``votes.jsonl``. May import: ``harness.run``, ``tasks``,
``harness.inputs``, ``harness.core``.
"""

from harness.preferences._collect import collect_preferences_main
from harness.preferences._datasets import (
    JOINT,
    PAIR_COLUMNS,
    check_out_dir,
    joint_rows,
    pair_rows,
    ranking_calls,
    write_preference_datasets,
)
from harness.preferences._records import (
    SUMMARY_KIND,
    DPOPair,
    NoPair,
    PreferenceResult,
    RankingRecord,
    aggregate_preferences,
)
from harness.preferences._voting import (
    IDENTICAL,
    NO_VALID,
    PAPER_WEIGHTS,
    TIE,
    Decision,
    decide,
    tally,
    voting_weights,
)

__all__ = [
    "IDENTICAL",
    "JOINT",
    "NO_VALID",
    "PAPER_WEIGHTS",
    "PAIR_COLUMNS",
    "SUMMARY_KIND",
    "TIE",
    "DPOPair",
    "Decision",
    "NoPair",
    "PreferenceResult",
    "RankingRecord",
    "aggregate_preferences",
    "check_out_dir",
    "collect_preferences_main",
    "decide",
    "joint_rows",
    "pair_rows",
    "ranking_calls",
    "tally",
    "voting_weights",
    "write_preference_datasets",
]
