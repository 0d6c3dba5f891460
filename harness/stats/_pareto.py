"""Pareto front of candidates across criteria.

Candidate ``i`` *dominates* ``j`` when ``s_i[c] >= s_j[c]`` for every criterion ``c`` and ``s_i[c] > s_j[c]``
for at least one (higher is better). The front is the set of non-dominated candidates [1]. Computed by
pairwise comparison (``O(K^2 C)``, written by hand: neither scipy nor statsmodels has it, and K is small).

References:
    [1] Miettinen, K. (1999). Nonlinear Multiobjective Optimization, §2.2. Kluwer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def pareto_front(scores: pd.DataFrame) -> pd.DataFrame:
    """Non-dominated candidates for two or more criteria.

    Formula: ``i`` dominates ``j`` iff ``s_i >= s_j`` on every criterion and ``>`` on one; the front is
    ``{j : no i dominates j}`` (Miettinen 1999, §2.2).

    Args:
        scores: one row per candidate (the index), one column per criterion; higher is better.

    Returns:
        DataFrame with ``candidate``, ``on_front`` (bool), ``dominated_by`` (comma-separated names, ``""`` on
        the front), one column per criterion. Candidates with a missing (NaN) score are not compared:
        ``on_front`` False and ``dominated_by`` = ``"(missing score)"``. A single candidate is on the front.

    Raises:
        ValueError: fewer than two criteria, or duplicate candidate names.
    """
    if scores.shape[1] < 2:
        raise ValueError(f"a Pareto front needs >= 2 criteria (columns); got {list(scores.columns)}")
    if scores.index.has_duplicates:
        repeated = scores.index[scores.index.duplicated()].tolist()
        raise ValueError(f"duplicate candidates in the index: {repeated}")
    values = scores.to_numpy(dtype=float)
    names = [str(n) for n in scores.index]
    complete = ~np.isnan(values).any(axis=1)
    geq = (values[:, None, :] >= values[None, :, :]).all(axis=2)
    gt = (values[:, None, :] > values[None, :, :]).any(axis=2)
    dominates = geq & gt & complete[:, None] & complete[None, :]  # dominates[i, j]: i dominates j
    dominated_by = []
    for j in range(len(names)):
        if not complete[j]:
            dominated_by.append("(missing score)")
        else:
            dominated_by.append(", ".join(names[i] for i in np.flatnonzero(dominates[:, j])))
    on_front = complete & ~dominates.any(axis=0)
    out = pd.DataFrame({"candidate": names, "on_front": on_front, "dominated_by": dominated_by})
    for column in scores.columns:
        out[str(column)] = scores[column].to_numpy(dtype=float)
    return out
