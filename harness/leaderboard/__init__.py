"""Leaderboard: win rates with intervals, Bradley-Terry ranks, significance, judge bias, personas, safety gate.

Reads: ``<run>/verdicts.parquet``, the ``inputs/`` snapshots and (when present) ``transcripts.parquet`` and
``tables/judge_gate.parquet``. Writes: ``<run>/tables/<name>.csv`` and ``.parquet`` (``injection`` included:
judge-directed text per candidate). ``build_leaderboard`` is pure; statistics come from ``harness.stats``.
May import: ``harness.verdicts``, ``harness.stats``, ``harness.core``.
"""

from harness.leaderboard._build import OVERALL, POOLED, TABLE_COLUMNS, Leaderboard, build_leaderboard
from harness.leaderboard._format import format_leaderboard
from harness.leaderboard._injection import INJECTION_COLUMNS, injection_table
from harness.leaderboard._io import NOT_CHECKED, with_calibration, write_leaderboard
from harness.leaderboard._safety import ABSOLUTE_SAFETY_STATUSES, with_safety

__all__ = [
    "ABSOLUTE_SAFETY_STATUSES",
    "INJECTION_COLUMNS",
    "NOT_CHECKED",
    "OVERALL",
    "POOLED",
    "TABLE_COLUMNS",
    "Leaderboard",
    "build_leaderboard",
    "format_leaderboard",
    "injection_table",
    "with_calibration",
    "write_leaderboard",
    "with_safety",
]
