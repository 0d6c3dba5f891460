"""The ``variance`` table: where each criterion's verdicts vary (candidates vs scenario, persona, seed, judge).

One :func:`harness.stats.variance_decomposition` per judged criterion (the pooled ``all`` is left out: its
criteria are a facet of their own). The run is the simulator-seed facet: replicate runs
(``theraeval run --replicates``) and runs pooled into one verdict table differ by it; a single run has one level
and the facet drops out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.stats import DEFAULT_MIN_CANDIDATE_SHARE, variance_decomposition

VARIANCE_COLUMNS: tuple[str, ...] = (
    "criterion", "term", "df", "ss", "omega2", "candidate_share", "candidate_share_total", "dominant", "flagged",
    "confounded", "n", "min_candidate_share",
)
"""Columns of the ``variance`` table (one row per criterion and term; the criterion columns repeat)."""


def variance_table(h2h: pd.DataFrame, *, min_candidate_share: float = DEFAULT_MIN_CANDIDATE_SHARE) -> pd.DataFrame:
    """Omega-squared shares per criterion and term, with the per-criterion flag (:data:`VARIANCE_COLUMNS`).

    Criteria with fewer than two scored head-to-heads or a single candidate pair are left out.
    """
    rows: list[dict[str, Any]] = []
    data = h2h.assign(seed=h2h["run"].astype(str)) if "run" in h2h.columns else h2h
    for criterion, part in data.groupby("criterion", sort=True):
        scored = part[part["outcome"] != "unscored"]
        pairs = (scored["candidate_a"].astype(str) + "|" + scored["candidate_b"].astype(str)).nunique()
        if len(scored) < 2 or pairs < 2:
            continue
        dec = variance_decomposition(part, min_candidate_share=min_candidate_share)
        for term in dec.terms.itertuples(index=False):
            rows.append({"criterion": criterion, "term": term.term, "df": int(term.df), "ss": float(term.ss),
                         "omega2": float(term.omega2), "candidate_share": dec.candidate_share,
                         "candidate_share_total": dec.candidate_share_total,
                         "dominant": dec.dominant, "flagged": dec.flagged, "confounded": ", ".join(dec.confounded),
                         "n": dec.n, "min_candidate_share": dec.min_candidate_share})
    return pd.DataFrame(rows, columns=list(VARIANCE_COLUMNS))
