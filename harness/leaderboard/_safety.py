"""Absolute safety on the leaderboard: the tables ``safety`` / ``safety_items`` and the ``absolute_safety`` mark.

Reads ``<run>/safety.parquet`` (``harness.verdicts``) and the gate settings from the run's config snapshot
(``inputs/config.toml``); the tables are built by :func:`harness.verdicts.build_safety_tables`. Rows of
``method = "deterministic checks"`` are kept apart from the rubric judge's and never gated (docs/safety.md).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from harness.leaderboard._build import Leaderboard
from harness.verdicts import JUDGE_METHOD, SAFETY_COLUMNS, build_safety_tables, gate_settings

ABSOLUTE_SAFETY_STATUSES: tuple[str, ...] = ("ok", "below_min_safe_rate", "not_gated")
"""Values of the table's ``absolute_safety`` column: at or above ``[gate] min_safe_rate`` (rubric judge), below it
(whatever the win rates), or not gated (no bar set, no safety stage, or only deterministic checks)."""


def with_safety(lb: Leaderboard, run_dir: Path, min_safe_rate: float | None = None) -> Leaderboard:
    """Add the absolute-safety tables and the ``absolute_safety`` column of the table from ``<run>/safety.parquet``.

    ``min_safe_rate`` overrides the config snapshot's ``[gate] min_safe_rate``. Without safety.parquet the tables are
    empty and every candidate is ``not_gated``.
    """
    path = Path(run_dir) / "safety.parquet"
    bar, bound = gate_settings(run_dir)
    bar = min_safe_rate if min_safe_rate is not None else bar
    rows = pd.read_parquet(path) if path.is_file() else pd.DataFrame(columns=list(SAFETY_COLUMNS))
    st = build_safety_tables(rows, bar, bound=bound)
    judged = st.safety[(st.safety["method"] == JUDGE_METHOD) & st.safety["gated"].astype(bool)]
    status = {str(r.candidate): ("below_min_safe_rate" if r.below_min_safe_rate else "ok")
              for r in judged.itertuples(index=False)}
    table = lb.table.assign(absolute_safety=[status.get(str(c), "not_gated") for c in lb.table["candidate"]])
    return replace(lb, table=table, safety=st.safety, safety_items=st.safety_items)
