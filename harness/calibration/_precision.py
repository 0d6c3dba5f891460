"""Standard errors and confidence intervals of agreement coefficients; Gwet's AC2 and weighted Fleiss' kappa.

Every function returns an :class:`AgreementInterval` (estimate, standard error, interval, the observed and chance
agreement behind it). Conventions, each the one of the reference it follows:

* **Cohen's kappa, weighted or not** (two raters): the large-sample variance of Fleiss, Cohen & Everitt (1969)
  [1] as ``statsmodels.stats.inter_rater.cohens_kappa`` computes it (``var_kappa``, the SAS PROC FREQ "ASE");
  interval ``kappa +- z_{(1+level)/2} ASE`` (normal, not truncated), as SAS prints it.
* **Fleiss' kappa** (weighted with agreement weights ``w``, or not) and **Gwet's AC1 / AC2** among several raters
  with missing ratings: Gwet's (2014) [2] linearisation variance, as R irrCAC ``fleiss.kappa.raw`` /
  ``gwet.ac1.raw`` compute it (``N = Inf``, no finite-population correction)::

      n  = units with >= 1 rating, n2 = units with >= 2 ratings
      c_i = (n / n2) (pa_i - pe 1[r_i >= 2]) / (1 - pe)
      c*_i = c_i - 2 (1 - c) (pe_i - pe) / (1 - pe)
      var(c) = (1 / (n (n - 1))) sum_i (c*_i - c)^2

  with ``pa_i = sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))`` (``r*_ik = sum_l w_kl r_il``), and the chance term
  per unit ``pe_i``: AC2 ``(T_w / (q (q - 1))) sum_k r_ik (1 - pi_k) / r_i`` with ``T_w = sum_kl w_kl``; Fleiss
  ``sum_k r_ik pibar_k / r_i`` with ``pibar_k = (sum_l w_kl pi_l + sum_l w_lk pi_l) / 2``. The interval is
  ``c +- t_{n-1} se`` with the upper end capped at 1 (irrCAC's convention).
* **Krippendorff's alpha** (any level): percentile bootstrap over units (seeded), through
  :func:`harness.stats.cluster_bootstrap` on the per-unit coincidence matrices; ``se`` is the replicates' SD.

Written here: statsmodels, scipy and sklearn implement neither AC2, the weighted Fleiss' kappa with missing
ratings nor their variances; irrCAC (R) does, and its printed outputs are the test references.

References:
    [1] Fleiss, J. L., Cohen, J. & Everitt, B. S. (1969). Large sample standard errors of kappa and weighted
        kappa. Psychological Bulletin 72(5), 323-327. https://doi.org/10.1037/h0028106
    [2] Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed., ch. 5 (variances). Advanced Analytics.
    [3] Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of high
        agreement. Br. J. Math. Stat. Psychol. 61(1), 29-48. https://doi.org/10.1348/000711006X126600
    [4] Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. https://repository.upenn.edu/asc_papers/43
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm
from scipy.stats import t as student_t
from statsmodels.stats.inter_rater import cohens_kappa

from harness.calibration._coefficients import (
    CATEGORIES,
    MISSING,
    RatingsLike,
    WeightsLike,
    _validate_categories,
    alpha_from_coincidences,
    alpha_values,
    category_counts,
    cohen_kappa_from_table,
    coincidences,
    contingency_table,
    disagreement_weights,
    encode_ratings,
    krippendorff_alpha,
)
from harness.stats import RngLike, cluster_bootstrap


@dataclass(frozen=True)
class AgreementInterval:
    """An agreement coefficient with its standard error and two-sided interval."""

    coefficient: str
    """``cohen_kappa``, ``fleiss_kappa``, ``gwet_ac2`` (AC1 when unweighted), ``krippendorff_alpha``."""
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pa: float
    """Observed (weighted) agreement."""
    pe: float
    """Chance (weighted) agreement."""
    n_units: int
    """Units behind the estimate (two raters: units both rated; several: units with two or more ratings)."""
    level: float
    method: str
    """How ``se`` and the interval were computed (a short sentence naming the reference)."""
    weights: str
    """``unweighted``, ``linear``, ``quadratic``, ``custom`` or the level of measurement (alpha)."""


def _check_level(level: float) -> float:
    if not isinstance(level, int | float) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"`level` must be in the open interval (0, 1); got {level!r}")
    return float(level)


def _weights_name(weights: WeightsLike) -> str:
    if weights is None:
        return "unweighted"
    return weights if isinstance(weights, str) else "custom"


def _nan_interval(name: str, pa: float, pe: float, n: int, level: float, method: str, weights: str,
                  estimate: float = math.nan) -> AgreementInterval:
    return AgreementInterval(name, estimate, math.nan, math.nan, math.nan, pa, pe, n, level, method, weights)


# ----------------------------------------------------------------------------------------------------------
# two raters: Cohen's kappa, weighted or not


def cohen_kappa_interval_from_table(
    table: ArrayLike, *, weights: WeightsLike = None, level: float = 0.95
) -> AgreementInterval:
    """Cohen's (weighted) kappa of a ``q x q`` table with the Fleiss-Cohen-Everitt (1969) [1] asymptotic SE.

    ``se = sqrt(var_kappa)`` of ``statsmodels.stats.inter_rater.cohens_kappa`` (unweighted: its simple-kappa
    variance; weighted: the weighted form with agreement weights ``1 - d``, ``d`` from
    :func:`harness.calibration.disagreement_weights`); interval ``kappa +- z se`` (SAS PROC FREQ's ASE and
    confidence limits). Degenerate tables (empty, ``p_e = 1``) give NaN.
    """
    level = _check_level(level)
    point = cohen_kappa_from_table(table, weights)
    t = np.asarray(table, dtype=float)
    method = "asymptotic SE, Fleiss, Cohen & Everitt (1969); normal interval"
    name = _weights_name(weights)
    if not math.isfinite(point.estimate):
        return _nan_interval("cohen_kappa", point.pa, point.pe, point.n_units, level, method, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = (cohens_kappa(t) if weights is None
               else cohens_kappa(t, weights=disagreement_weights(t.shape[0], weights)))
    var = float(res["var_kappa"])
    if -1e-12 < var < 0:
        var = 0.0  # rounding below zero at perfect agreement (the variance is exactly 0 there)
    se = math.sqrt(var) if math.isfinite(var) and var >= 0 else math.nan
    z = float(norm.ppf(0.5 + level / 2.0))
    return AgreementInterval("cohen_kappa", point.estimate, se, point.estimate - z * se, point.estimate + z * se,
                             point.pa, point.pe, point.n_units, level, method, name)


def cohen_kappa_interval(
    first: RatingsLike, second: RatingsLike, categories: Sequence[Hashable] = CATEGORIES, *,
    weights: WeightsLike = None, level: float = 0.95,
) -> AgreementInterval:
    """:func:`cohen_kappa_interval_from_table` of two raters' labels over the units both rated."""
    return cohen_kappa_interval_from_table(contingency_table(first, second, categories), weights=weights,
                                           level=level)


# ----------------------------------------------------------------------------------------------------------
# several raters, missing ratings: Fleiss' kappa and Gwet's AC1/AC2 with Gwet's variance


def _multirater(
    ratings: RatingsLike, categories: Sequence[Hashable], weights: WeightsLike, which: str, level: float
) -> AgreementInterval:
    level = _check_level(level)
    cats = _validate_categories(categories)
    q = len(cats)
    w = 1.0 - disagreement_weights(q, weights)  # agreement weights, 1 on the diagonal
    counts = category_counts(encode_ratings(ratings, cats), q)
    r = counts.sum(axis=1)
    counts, r = counts[r >= 1], r[r >= 1]  # irrCAC drops units nobody rated
    n = int(r.shape[0])
    has2 = r >= 2
    n2 = int(has2.sum())
    name, source = {"ac2": ("gwet_ac2", "gwet.ac1.raw"), "fleiss": ("fleiss_kappa", "fleiss.kappa.raw"),
                    "pa": ("percent_agreement", "pa.coeff.raw")}[which]
    method = f"Gwet (2014) linearisation variance (irrCAC {source}); t interval, n - 1 df, capped at 1"
    if n2 == 0:
        return _nan_interval(name, math.nan, math.nan, 0, level, method, _weights_name(weights))
    weighted = counts @ w.T  # r*_ik = sum_l w_kl r_il
    den = np.where(has2, r * (r - 1.0), 1.0)
    pa_i = np.where(has2, (counts * (weighted - 1.0)).sum(axis=1) / den, 0.0)
    pa = float(pa_i[has2].sum() / n2)
    pi = (counts / r[:, None]).mean(axis=0)
    if which == "pa":
        pe, pe_i = 0.0, np.zeros(n)
    elif which == "ac2":
        tw = float(w.sum())
        pe = tw * float((pi * (1.0 - pi)).sum()) / (q * (q - 1))
        pe_i = (tw / (q * (q - 1))) * (counts @ (1.0 - pi)) / r
    else:
        pe = float((w * np.outer(pi, pi)).sum())
        pibar = (w @ pi + w.T @ pi) / 2.0
        pe_i = (counts @ pibar) / r
    if pe >= 1.0 - 1e-12:
        return _nan_interval(name, pa, pe, n2, level, method, _weights_name(weights))
    coef = (pa - pe) / (1.0 - pe)
    c_i = (n / n2) * (pa_i - pe * has2) / (1.0 - pe)
    c_star = c_i - 2.0 * (1.0 - coef) * (pe_i - pe) / (1.0 - pe)
    if n < 2:
        return AgreementInterval(name, coef, math.nan, math.nan, math.nan, pa, pe, n2, level, method,
                                 _weights_name(weights))
    se = math.sqrt(float(((c_star - coef) ** 2).sum()) / (n * (n - 1.0)))
    tq = float(student_t.ppf(0.5 + level / 2.0, n - 1))
    return AgreementInterval(name, coef, se, coef - tq * se, min(1.0, coef + tq * se), pa, pe, n2, level, method,
                             _weights_name(weights))


def percent_agreement_interval(
    ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES, *, weights: WeightsLike = None,
    level: float = 0.95,
) -> AgreementInterval:
    """(Weighted) percent agreement ``pa`` among several raters with Gwet's (2014) SE (``pe = 0`` in the
    module docstring's variance; irrCAC ``pa.coeff.raw``)."""
    return _multirater(ratings, categories, weights, "pa", level)


def gwet_ac2(
    ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES, *, weights: WeightsLike = None,
    level: float = 0.95,
) -> AgreementInterval:
    """Gwet's AC2 (weighted AC1) among several raters, missing ratings allowed, with Gwet's (2014) SE.

    ``AC2 = (pa - pe) / (1 - pe)``, ``pa = (1/n2) sum_{i: r_i >= 2} sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))``,
    ``pe = (T_w / (q (q - 1))) sum_k pi_k (1 - pi_k)``, ``pi_k = (1/n) sum_i r_ik / r_i`` (Gwet 2014 [2], ch. 3;
    irrCAC ``gwet.ac1.raw``). ``weights=None`` gives AC1 (Gwet 2008 [3]). Variance and interval: module docstring.

    Args:
        ratings: ``(n_units, n_raters)`` labels, missing as None / NaN / "".
        categories: the declared categories, in scale order for linear / quadratic weights.
        weights: None, "linear", "quadratic" or a disagreement matrix (:func:`disagreement_weights`).
        level: interval level.
    """
    return _multirater(ratings, categories, weights, "ac2", level)


def fleiss_kappa_interval(
    ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES, *, weights: WeightsLike = None,
    level: float = 0.95,
) -> AgreementInterval:
    """Fleiss' kappa (Gwet's generalisation; weighted with ``weights``) with Gwet's (2014) SE and t interval.

    ``pe = sum_kl w_kl pi_k pi_l``; unweighted it equals :func:`harness.calibration.fleiss_kappa`.
    """
    return _multirater(ratings, categories, weights, "fleiss", level)


# ----------------------------------------------------------------------------------------------------------
# Krippendorff's alpha: bootstrap over units


def krippendorff_alpha_interval(
    ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES, *, level_of_measurement: str = "nominal",
    n_boot: int = 1000, level: float = 0.95, rng: RngLike = 0,
) -> AgreementInterval:
    """Krippendorff's alpha at a level of measurement with a percentile bootstrap interval over units.

    Each replicate resamples units with replacement (seeded ``rng``) and recomputes alpha from the summed
    per-unit coincidence matrices (:func:`harness.calibration.coincidences`, :func:`harness.stats.cluster_bootstrap`;
    Efron & Tibshirani 1993, §13.3). ``se`` = SD of the replicates. Krippendorff's own bootstrap (2011) resamples
    pairable values instead; this one keeps each unit's ratings together, like every other interval here.
    """
    level = _check_level(level)
    cats = _validate_categories(categories)
    values = alpha_values(cats, level_of_measurement)
    codes = encode_ratings(ratings, cats)
    if level_of_measurement == "interval":
        return _interval_alpha_interval(codes, values, n_boot=n_boot, level=level, rng=rng)
    point = krippendorff_alpha(ratings, cats, level_of_measurement=level_of_measurement)
    method = "percentile bootstrap over units (coincidence matrices resampled), seeded"
    per_unit = coincidences(codes, len(cats))[(codes != MISSING).sum(axis=1) >= 2]
    if not math.isfinite(point.estimate) or per_unit.shape[0] < 2:
        return _nan_interval("krippendorff_alpha", point.pa, point.pe, point.n_units, level, method,
                             level_of_measurement, point.estimate)
    q = len(cats)

    def statistic(totals: np.ndarray) -> np.ndarray:
        return alpha_from_coincidences(totals.reshape(totals.shape[0], q, q), values, level_of_measurement)[:, None]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        boot = cluster_bootstrap(per_unit.reshape(per_unit.shape[0], -1), statistic, n_boot=n_boot, level=level,
                                 rng=rng)
    return AgreementInterval("krippendorff_alpha", point.estimate, float(boot.se[0]), float(boot.ci_low[0]),
                             float(boot.ci_high[0]), point.pa, point.pe, point.n_units, level, method,
                             level_of_measurement)


def interval_alpha_features(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per pairable unit ``[O_u, m_u, sum x, sum x^2]`` for the interval alpha (additive; no ``q x q`` matrix).

    With ``m_u`` ratings ``x`` on unit ``u``: ``O_u = sum_{i != j} (x_i - x_j)^2 / (m_u - 1)`` (ordered pairs)
    ``= 2 (m_u sum x^2 - (sum x)^2) / (m_u - 1)``. Summed over units: ``N = sum m_u``,
    ``alpha = 1 - (N - 1) sum_u O_u / (2 (N sum x^2 - (sum x)^2))`` -- Krippendorff's (2011) interval alpha with
    ``delta = (v_c - v_k)^2`` written through sums, so continuous scores with many distinct values stay cheap.
    """
    x = np.where(codes != MISSING, values[np.where(codes != MISSING, codes, 0)], 0.0)
    m = (codes != MISSING).sum(axis=1).astype(float)
    keep = m >= 2
    x, m = x[keep], m[keep]
    s1 = x.sum(axis=1)
    s2 = (x * x).sum(axis=1)
    return np.column_stack([2.0 * (m * s2 - s1 * s1) / (m - 1.0), m, s1, s2])


def _alpha_from_interval_totals(totals: np.ndarray) -> np.ndarray:
    o, n, s1, s2 = (totals[:, i] for i in range(4))
    expected = 2.0 * (n * s2 - s1 * s1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (n >= 2) & (expected > 1e-12 * np.maximum(n * s2, 1e-300))
        return np.where(ok, 1.0 - (n - 1.0) * o / np.where(ok, expected, 1.0), np.nan)


def _interval_alpha_interval(codes: np.ndarray, values: np.ndarray, *, n_boot: int, level: float,
                             rng: RngLike) -> AgreementInterval:
    features = interval_alpha_features(codes, values)
    method = "percentile bootstrap over units (interval sums resampled), seeded"
    n_units = int(features.shape[0])
    totals = features.sum(axis=0)
    estimate = float(_alpha_from_interval_totals(totals[None])[0])
    if not math.isfinite(estimate):
        return _nan_interval("krippendorff_alpha", math.nan, math.nan, n_units, level, method, "interval")
    o, n, s1, s2 = (float(v) for v in totals)
    dmax = float((values.max() - values.min()) ** 2)
    pa = 1.0 - o / n / dmax
    pe = 1.0 - 2.0 * (n * s2 - s1 * s1) / (n * (n - 1.0)) / dmax
    if n_units < 2:
        return AgreementInterval("krippendorff_alpha", estimate, math.nan, math.nan, math.nan, pa, pe, n_units,
                                 level, method, "interval")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        boot = cluster_bootstrap(features, lambda t: _alpha_from_interval_totals(t)[:, None], n_boot=n_boot,
                                 level=level, rng=rng)
    return AgreementInterval("krippendorff_alpha", estimate, float(boot.se[0]), float(boot.ci_low[0]),
                             float(boot.ci_high[0]), pa, pe, n_units, level, method, "interval")
