"""McNemar's test for one candidate pair, and the exact sign test.

For two candidates judged on the same head-to-heads, a head-to-head won by the row candidate is a discordant
pair of one kind (``b``), one won by the column candidate the other kind (``c``); ties carry no information
about which is better and are the concordant cells. McNemar's test of ``H0: P(row wins) = P(col wins)``
therefore uses only ``b`` and ``c`` [1]:

* exact (conditional) test: ``p = min(1, 2 * BinomCDF(min(b, c); b + c, 1/2))``;
* mid-p test [2]: ``p = 2 * BinomCDF(min(b, c); n, 1/2) - BinomPMF(min(b, c); n, 1/2)``, and
  ``1 - BinomPMF(b; n, 1/2) / 2`` when ``b = c`` (the convention of [2], supplementary material);
* asymptotic: ``X^2 = (b - c)^2 / (b + c)`` on 1 d.f.; with continuity correction
  ``X^2 = (|b - c| - 1)^2 / (b + c)`` [3].

Degenerate case ``b + c = 0`` (all ties / no scored head-to-head): no evidence either way, every p-value is
1.0 and the statistic 0.0. This is handled before calling statsmodels, whose corrected chi-square returns
``p = 0`` (statistic ``inf``) for an all-concordant table.

The exact test, the exact sign test (:func:`sign_test`, ties discarded) and ``scipy.stats.binomtest`` are the
same test; the tests pin that.

References:
    [1] McNemar, Q. (1947). Note on the sampling error of the difference between correlated proportions or
        percentages. Psychometrika 12, 153-157. https://doi.org/10.1007/BF02295996
    [2] Fagerland, M. W., Lydersen, S. & Laake, P. (2013). The McNemar test for binary matched-pairs data:
        mid-p and asymptotic are better than exact conditional. BMC Med. Res. Methodol. 13, 91.
        https://doi.org/10.1186/1471-2288-13-91
    [3] Agresti, A. (2002). Categorical Data Analysis, 2nd ed., §10.1. Wiley.
    [4] Arbuthnot, J. (1710). An argument for Divine Providence... Phil. Trans. R. Soc. 27, 186-190 (the
        first sign test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import binom, binomtest
from statsmodels.stats.contingency_tables import mcnemar

from harness.stats._validate import _validate_choice, _validate_count

McNemarMethod = Literal["exact", "midp", "chi2", "chi2_cc"]
MCNEMAR_METHODS: tuple[str, ...] = ("exact", "midp", "chi2", "chi2_cc")


@dataclass(frozen=True)
class McNemarResult:
    """All four McNemar p-values for one pair; ``pvalue``/``statistic`` are those of ``method``."""

    b: int
    """Head-to-heads won by the first (row) candidate."""
    c: int
    """Head-to-heads won by the second (column) candidate."""
    method: str
    statistic: float
    """``min(b, c)`` for exact/mid-p; the chi-square value for chi2/chi2_cc; 0.0 when ``b + c = 0``."""
    pvalue: float
    p_exact: float
    p_midp: float
    p_chi2: float
    p_chi2_cc: float


def mcnemar_test(b: int, c: int, *, method: McNemarMethod = "exact") -> McNemarResult:
    """McNemar's test from the two discordant counts (see the module docstring for the formulas).

    Args:
        b: head-to-heads the row candidate won.
        c: head-to-heads the column candidate won.
        method: which p-value goes into ``pvalue``: ``"exact"`` (default, conservative, as statsmodels'
            default), ``"midp"`` (recommended by [2]), ``"chi2"`` or ``"chi2_cc"``.

    References: McNemar (1947); Fagerland et al. (2013) for mid-p; Agresti (2002) §10.1.

    Returns:
        :class:`McNemarResult`; with ``b + c = 0`` every p-value is 1.0 (documented convention).

    Raises:
        ValueError: negative or fractional counts, or an unknown method.

    Example (Agresti 2002, Table 10.1): ``mcnemar_test(150, 86, method="chi2_cc").statistic`` is 16.82.
    """
    bb = int(_validate_count(b, "b"))
    cc = int(_validate_count(c, "c"))
    _validate_choice(method, "method", MCNEMAR_METHODS)
    n = bb + cc
    if n == 0:
        return McNemarResult(bb, cc, method, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    table = np.array([[0, bb], [cc, 0]])
    exact = mcnemar(table, exact=True)
    chi2 = mcnemar(table, exact=False, correction=False)
    chi2_cc = mcnemar(table, exact=False, correction=True)
    k = min(bb, cc)
    # mid-p is not in statsmodels: formula (2) of [2]'s supplementary material, by hand.
    if bb == cc:
        p_midp = 1.0 - 0.5 * float(binom.pmf(k, n, 0.5))
    else:
        p_midp = 2.0 * float(binom.cdf(k, n, 0.5)) - float(binom.pmf(k, n, 0.5))
    pvalues = {"exact": float(exact.pvalue), "midp": p_midp, "chi2": float(chi2.pvalue),
               "chi2_cc": float(chi2_cc.pvalue)}
    statistics = {"exact": float(k), "midp": float(k), "chi2": float(chi2.statistic),
                  "chi2_cc": float(chi2_cc.statistic)}
    return McNemarResult(bb, cc, method, statistics[method], pvalues[method], pvalues["exact"], p_midp,
                         pvalues["chi2"], pvalues["chi2_cc"])


@dataclass(frozen=True)
class SignTestResult:
    """Exact sign test of ``P(win) = P(loss)``; ties are discarded (counted in ``ties_discarded``)."""

    wins: int
    losses: int
    ties_discarded: int
    pvalue: float
    alternative: str


def sign_test(
    wins: int,
    losses: int,
    ties: int = 0,
    *,
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
) -> SignTestResult:
    """Exact sign test: ``scipy.stats.binomtest(wins, wins + losses, p=0.5)``, ties discarded.

    Formula: ``p = 2 min(BinomCDF(w; w + l, 1/2), 1 - BinomCDF(w - 1; w + l, 1/2))`` capped at 1 (scipy's
    two-sided exact binomial test; Conover 1999, Practical Nonparametric Statistics, §3.4).
    ``alternative="greater"`` tests whether wins are more likely than losses. Degenerate case: no wins and
    no losses (all ties, or no data) gives ``pvalue = 1.0``.

    Example (Arbuthnot 1710, [4]): 82 of 82 years with more male than female christenings,
    ``sign_test(82, 0).pvalue`` = ``2**-81``.
    """
    w = int(_validate_count(wins, "wins"))
    lo = int(_validate_count(losses, "losses"))
    t = int(_validate_count(ties, "ties"))
    _validate_choice(alternative, "alternative", ("two-sided", "greater", "less"))
    if w + lo == 0:
        return SignTestResult(w, lo, t, 1.0, alternative)
    result = binomtest(w, w + lo, p=0.5, alternative=alternative)
    return SignTestResult(w, lo, t, float(result.pvalue), alternative)
