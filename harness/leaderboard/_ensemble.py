"""Judge-ensemble tables: a reliability per judge and the ranking that weights each judge by it.

When the verdict table holds head-to-heads of two or more judges (judge = ``judge_model/judge_kind/judge_mode``),
the main table pools them with equal weight; :func:`harness.stats.judge_reliability_bradley_terry` fits one
discrimination parameter per judge instead (arXiv:2601.21817), per criterion. Per-judge position and length bias
are in the ``bias`` table (one row per judge and criterion).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from harness.stats import judge_reliability_bradley_terry

JUDGE_RELIABILITY_COLUMNS: tuple[str, ...] = ("criterion", "judge", "reliability", "n_comparisons")
ENSEMBLE_RANKING_COLUMNS: tuple[str, ...] = ("criterion", "candidate", "rank", "bt_elo_ensemble")
_SCORE = {"A": 1.0, "tie": 0.5, "B": 0.0}


def ensemble_tables(h2h: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(judge_reliability, ensemble_ranking)``; both empty unless two or more judges judged a criterion."""
    rel_rows: list[dict[str, Any]] = []
    rank_rows: list[dict[str, Any]] = []
    scored = h2h[h2h["outcome"] != "unscored"]
    for criterion, part in scored.groupby("criterion", sort=True):
        judges = sorted(part["judge"].astype(str).unique())
        if len(judges) < 2:
            continue
        items = sorted(set(part["candidate_a"]) | set(part["candidate_b"]))
        pos = {c: i for i, c in enumerate(items)}
        jpos = {j: i for i, j in enumerate(judges)}
        pairs = np.c_[part["candidate_a"].map(pos).to_numpy(), part["candidate_b"].map(pos).to_numpy()]
        fit = judge_reliability_bradley_terry(pairs, part["outcome"].map(_SCORE).to_numpy(dtype=float),
                                              part["judge"].astype(str).map(jpos).to_numpy(), items, judges)
        for j, name in enumerate(judges):
            rel_rows.append({"criterion": criterion, "judge": name, "reliability": float(fit.reliability[j]),
                             "n_comparisons": int(fit.n_comparisons[j])})
        order = np.argsort(-fit.elo, kind="stable")
        for rank, k in enumerate(order, start=1):
            rank_rows.append({"criterion": criterion, "candidate": items[k], "rank": rank,
                              "bt_elo_ensemble": float(fit.elo[k])})
    return (pd.DataFrame(rel_rows, columns=list(JUDGE_RELIABILITY_COLUMNS)),
            pd.DataFrame(rank_rows, columns=list(ENSEMBLE_RANKING_COLUMNS)))
