"""Agreement of numeric scores: intraclass correlations (Shrout & Fleiss 1979) and Kendall's W.

Both take a ``(n_targets, k_raters)`` matrix of numbers (NaN / None = missing) and use the *complete* rows only
(the classical ANOVA forms need a balanced design); rows with a missing cell are dropped and counted.

**ICC** from the two-way ANOVA mean squares (rows = targets, columns = raters): ``MSR`` (targets, ``n - 1``
df), ``MSC`` (raters, ``k - 1``), ``MSE`` (residual, ``(n - 1)(k - 1)``) and the one-way within-target
``MSW = (SSC + SSE) / (n (k - 1))``. Shrout & Fleiss [1] (McGraw & Wong [2] names in brackets):

* ICC(1,1) ``(MSR - MSW) / (MSR + (k - 1) MSW)`` (one-way random, absolute agreement);
* ICC(2,1) ``(MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)`` (two-way random, absolute agreement);
* ICC(3,1) ``(MSR - MSE) / (MSR + (k - 1) MSE)`` (two-way mixed, consistency);
* the k-rater (average) forms ICC(1,k) ``(MSR - MSW) / MSR``, ICC(2,k) ``(MSR - MSE) / (MSR + (MSC - MSE) / n)``,
  ICC(3,k) ``(MSR - MSE) / MSR``.

F tests and intervals (exact F for ICC(1), ICC(3); Satterthwaite's approximate df for ICC(2)) are those of [1]
and [2] as R ``psych::ICC`` and ``pingouin.intraclass_corr`` print them. Written here: statsmodels and scipy
have no ICC; the tests check the mean squares against a statsmodels OLS ANOVA and the estimates against the
published worked example of [1].

**Kendall's W** (coefficient of concordance) of ``m`` raters ranking ``n`` targets [3]: each rater's scores are
ranked (mid-ranks for ties), ``R_i`` = rank sum of target ``i``, ``S = sum_i (R_i - m (n + 1) / 2)^2``,
``W = 12 S / (m^2 (n^3 - n) - m sum_j T_j)`` with ``T_j = sum (t^3 - t)`` over rater ``j``'s tie groups; the
test statistic ``chi2 = m (n - 1) W`` on ``n - 1`` df is Friedman's (scipy ``friedmanchisquare``, the second
implementation in the tests).

References:
    [1] Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater reliability.
        Psychological Bulletin 86(2), 420-428. https://doi.org/10.1037/0033-2909.86.2.420
    [2] McGraw, K. O. & Wong, S. P. (1996). Forming inferences about some intraclass correlation coefficients.
        Psychological Methods 1(1), 30-46. https://doi.org/10.1037/1082-989X.1.1.30
    [3] Kendall, M. G. & Babington Smith, B. (1939). The problem of m rankings. Ann. Math. Statist. 10(3),
        275-287. https://doi.org/10.1214/aoms/1177732186
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import chi2, rankdata
from scipy.stats import f as f_dist

ICC_FORMS: tuple[str, ...] = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
"""Shrout & Fleiss ICC(1,1), (2,1), (3,1), (1,k), (2,k), (3,k), in ``psych::ICC``'s names and order."""
_DESCRIPTIONS = {
    "ICC1": "single rater, one-way random, absolute agreement",
    "ICC2": "single rater, two-way random, absolute agreement",
    "ICC3": "single rater, two-way mixed, consistency",
    "ICC1k": "mean of k raters, one-way random, absolute agreement",
    "ICC2k": "mean of k raters, two-way random, absolute agreement",
    "ICC3k": "mean of k raters, two-way mixed, consistency",
}


@dataclass(frozen=True)
class ICCEstimate:
    """One intraclass correlation with its F test and interval."""

    form: str
    description: str
    estimate: float
    f: float
    df1: float
    df2: float
    pvalue: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class ICCResult:
    """All six Shrout-Fleiss ICCs of one ratings matrix, and the ANOVA mean squares behind them."""

    estimates: tuple[ICCEstimate, ...]
    n_targets: int
    """Complete rows used."""
    n_raters: int
    n_dropped: int
    """Rows left out because a cell was missing."""
    msr: float
    msc: float
    mse: float
    msw: float
    level: float

    def get(self, form: str) -> ICCEstimate:
        """The estimate of one form (``ICC1`` .. ``ICC3k``)."""
        for e in self.estimates:
            if e.form == form:
                return e
        raise KeyError(f"unknown ICC form {form!r}; use one of {list(ICC_FORMS)}")


@dataclass(frozen=True)
class KendallW:
    """Kendall's coefficient of concordance with Friedman's chi-square test."""

    w: float
    chi2: float
    df: int
    pvalue: float
    n_targets: int
    n_raters: int
    n_dropped: int


def _numeric_matrix(ratings: ArrayLike, min_cols: int) -> tuple[np.ndarray, int]:
    """Complete rows of a numeric ``(n, k)`` matrix (None / NaN = missing) and the number of dropped rows."""
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise ValueError(f"`ratings` must be 2-dimensional (targets x raters); got shape {arr.shape}")
    try:
        x: np.ndarray = np.array([[math.nan if v is None else float(v) for v in row] for row in arr], dtype=float)
    except (TypeError, ValueError):
        raise ValueError("`ratings` must hold numbers (None or NaN for a missing rating)") from None
    x = x.reshape(arr.shape)
    n_cols = int(arr.shape[1])
    if n_cols < min_cols:
        raise ValueError(f"`ratings` needs at least {min_cols} raters (columns); got {n_cols}")
    complete = np.isfinite(x).all(axis=1)
    return x[complete], int((~complete).sum())


def icc(ratings: ArrayLike, *, level: float = 0.95) -> ICCResult:
    """The six Shrout & Fleiss (1979) intraclass correlations with F tests and intervals (module docstring).

    Args:
        ratings: ``(n_targets, k_raters)`` numbers; rows with a missing cell are dropped (counted).
        level: interval level.

    Returns:
        :class:`ICCResult`. Fewer than two complete rows, or no variation at all, gives NaN estimates.

    Raises:
        ValueError: not 2-D, non-numeric, fewer than two raters, or ``level`` outside (0, 1).
    """
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"`level` must be in the open interval (0, 1); got {level!r}")
    x, dropped = _numeric_matrix(ratings, 2)
    n, k = x.shape
    nan_rows = tuple(ICCEstimate(f, _DESCRIPTIONS[f], math.nan, math.nan, math.nan, math.nan, math.nan, math.nan,
                                 math.nan) for f in ICC_FORMS)
    if n < 2:
        return ICCResult(nan_rows, n, k, dropped, math.nan, math.nan, math.nan, math.nan, level)
    grand = x.mean()
    ssr = k * float(((x.mean(axis=1) - grand) ** 2).sum())
    ssc = n * float(((x.mean(axis=0) - grand) ** 2).sum())
    sst = float(((x - grand) ** 2).sum())
    sse = sst - ssr - ssc
    df_r, df_c, df_e, df_w = n - 1, k - 1, (n - 1) * (k - 1), n * (k - 1)
    msr, msc, mse, msw = ssr / df_r, ssc / df_c, sse / df_e, (ssc + sse) / df_w
    if not (msw > 0 and mse > 0):
        return ICCResult(nan_rows, n, k, dropped, msr, msc, mse, msw, level)
    a = 1.0 - level
    icc1 = (msr - msw) / (msr + (k - 1) * msw)
    icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    icc3 = (msr - mse) / (msr + (k - 1) * mse)
    f1, f3 = msr / msw, msr / mse
    p1, p3 = float(f_dist.sf(f1, df_r, df_w)), float(f_dist.sf(f3, df_r, df_e))
    # ICC(1): exact F interval [1]
    f1l = f1 / f_dist.ppf(1 - a / 2, df_r, df_w)
    f1u = f1 * f_dist.ppf(1 - a / 2, df_w, df_r)
    # ICC(3): exact F interval [1]
    f3l = f3 / f_dist.ppf(1 - a / 2, df_r, df_e)
    f3u = f3 * f_dist.ppf(1 - a / 2, df_e, df_r)
    # ICC(2): Satterthwaite df nu of [1] (p. 425): (k-1)(n-1)[k r Fj + n(1+(k-1)r) - k r]^2 over
    # (n-1) k^2 r^2 Fj^2 + [n(1+(k-1)r) - k r]^2, as psych::ICC
    fj = msc / mse
    vn = df_e * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = df_r * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    fs_u = f_dist.ppf(1 - a / 2, df_r, v)
    fs_l = f_dist.ppf(1 - a / 2, v, df_r)
    l2 = n * (msr - fs_u * mse) / (fs_u * (k * msc + (k * n - k - n) * mse) + n * msr)
    u2 = n * (fs_l * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fs_l * msr)
    rows = (
        ("ICC1", icc1, f1, df_r, df_w, p1, (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
        ("ICC2", icc2, f3, df_r, df_e, p3, l2, u2),
        ("ICC3", icc3, f3, df_r, df_e, p3, (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
        ("ICC1k", (msr - msw) / msr, f1, df_r, df_w, p1, 1 - 1 / f1l, 1 - 1 / f1u),
        ("ICC2k", (msr - mse) / (msr + (msc - mse) / n), f3, df_r, df_e, p3, l2 * k / (1 + l2 * (k - 1)),
         u2 * k / (1 + u2 * (k - 1))),
        ("ICC3k", (msr - mse) / msr, f3, df_r, df_e, p3, 1 - 1 / f3l, 1 - 1 / f3u),
    )
    estimates = tuple(ICCEstimate(form, _DESCRIPTIONS[form], float(e), float(f), float(d1), float(d2), float(p),
                                  float(lo), float(hi)) for form, e, f, d1, d2, p, lo, hi in rows)
    return ICCResult(estimates, n, k, dropped, msr, msc, mse, msw, level)


def kendall_w(ratings: ArrayLike) -> KendallW:
    """Kendall's W of ``(n_targets, m_raters)`` scores with the tie correction, and Friedman's test [3].

    Each rater's column is ranked over the targets (mid-ranks, ``scipy.stats.rankdata``); formula in the module
    docstring. Rows with a missing cell are dropped (counted). NaN when fewer than two targets remain or every
    rater gives every target the same score.

    Raises:
        ValueError: not 2-D, non-numeric or fewer than two raters.
    """
    x, dropped = _numeric_matrix(ratings, 2)
    n, m = x.shape
    if n < 2:
        return KendallW(math.nan, math.nan, max(n - 1, 0), math.nan, n, m, dropped)
    ranks = np.column_stack([rankdata(x[:, j]) for j in range(m)])
    totals = ranks.sum(axis=1)
    s = float(((totals - m * (n + 1) / 2.0) ** 2).sum())
    ties = 0.0
    for j in range(m):
        _, sizes = np.unique(x[:, j], return_counts=True)
        ties += float((sizes**3 - sizes).sum())
    denom = m**2 * (n**3 - n) - m * ties
    if denom <= 0:
        return KendallW(math.nan, math.nan, n - 1, math.nan, n, m, dropped)
    w = 12.0 * s / denom
    stat = m * (n - 1) * w
    return KendallW(float(w), float(stat), n - 1, float(chi2.sf(stat, n - 1)), n, m, dropped)
