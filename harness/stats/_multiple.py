"""Multiple-comparison adjustment of p-values (Holm by default, Benjamini-Hochberg on request).

Both procedures come from ``statsmodels.stats.multitest.multipletests``, whose default ``method`` is
Holm-Sidak; the method is therefore always passed explicitly. Adjusted p-values:

* Holm [1] (step-down, family-wise error rate): with sorted ``p_(1) <= ... <= p_(m)``,
  ``p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))``;
* Benjamini-Hochberg [2] (step-up, false discovery rate under independence or positive dependence):
  ``p~_(i) = min(1, min_{j >= i} m p_(j) / j)``;
* Bonferroni: ``min(1, m p)``; ``none``: unadjusted.

NaN p-values (tests that could not be run) are kept as NaN, not rejected, and do not count in ``m``.

References:
    [1] Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Statist. 6, 65-70.
    [2] Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and powerful
        approach to multiple testing. JRSS B 57, 289-300. https://doi.org/10.1111/j.2517-6161.1995.tb02031.x
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from statsmodels.stats.multitest import multipletests

from harness.stats._validate import _validate_choice, _validate_probability

CORRECTIONS: dict[str, str] = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh", "bonferroni": "bonferroni",
                               "none": "none"}
"""Accepted names -> statsmodels method names."""


@dataclass(frozen=True)
class AdjustedPValues:
    """Adjusted p-values and rejection decisions, in the input order."""

    pvalues: np.ndarray
    """Adjusted p-values (NaN where the input was NaN)."""
    reject: np.ndarray
    """Boolean: rejected at ``alpha`` by the procedure (adjusted p <= alpha); False where NaN."""
    method: str
    alpha: float
    m: int
    """Number of non-NaN tests in the family."""


def adjust_pvalues(pvalues: ArrayLike, *, method: str = "holm", alpha: float = 0.05) -> AdjustedPValues:
    """Adjust a family of p-values for multiple comparisons.

    Formulas (module docstring): Holm ``min(1, max_{j<=i} (m-j+1) p_(j))`` [1]; Benjamini-Hochberg
    ``min(1, min_{j>=i} m p_(j) / j)`` [2]; computed by ``statsmodels.stats.multitest.multipletests`` with the
    method passed explicitly (its default is Holm-Sidak).

    Args:
        pvalues: raw p-values in [0, 1] (NaN allowed, ignored).
        method: ``"holm"`` (default), ``"bh"`` (alias ``"fdr_bh"``), ``"bonferroni"`` or ``"none"``.
        alpha: family-wise error rate (Holm, Bonferroni) or false discovery rate (BH).

    Returns:
        :class:`AdjustedPValues`. An empty family gives empty arrays.

    Raises:
        ValueError: unknown method, alpha outside [0, 1], or p-values outside [0, 1].
    """
    _validate_choice(method, "method", CORRECTIONS)
    alpha = _validate_probability(alpha, "alpha")
    p = np.asarray(pvalues, dtype=float).reshape(-1)
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        bad = p[finite][(p[finite] < 0) | (p[finite] > 1)]
        raise ValueError(f"`pvalues` must lie in [0, 1]; got {bad[:5]}")
    adjusted = np.full(p.shape, np.nan)
    reject = np.zeros(p.shape, dtype=bool)
    m = int(finite.sum())
    if m:
        if CORRECTIONS[method] == "none":
            adjusted[finite] = p[finite]
            reject[finite] = p[finite] <= alpha
        else:
            rej, adj, _, _ = multipletests(p[finite], alpha=alpha, method=CORRECTIONS[method])
            adjusted[finite] = adj
            reject[finite] = rej
    return AdjustedPValues(adjusted, reject, method, alpha, m)
