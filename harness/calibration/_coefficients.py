"""Chance-corrected agreement coefficients for nominal ratings (several raters, missing ratings allowed).

Data layout: a *ratings matrix* of shape ``(n_units, n_raters)`` (irrCAC's "raw" orientation: one row per rated
unit, one column per rater) whose entries are category labels or a missing marker (``None``, ``NaN`` or
``""``). The category set is always *declared* (``categories``, default ``("A", "B", "tie")``): it fixes the
chance term of Gwet's AC1 (``q`` categories) and the size of every contingency table, whether or not a
category was used (an undeclared, unused category would otherwise change the chance term).

Notation (Gwet 2014 [4]): ``r_ik`` raters put unit ``i`` in category ``k``, ``r_i = sum_k r_ik``;
``n`` units with ``r_i >= 1``; ``n2`` units with ``r_i >= 2`` (only those carry agreement information).

* observed agreement ``p_a = (1/n2) sum_{i: r_i >= 2} sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))`` (the share of
  agreeing rater pairs within a unit, averaged over units) -- :func:`percent_agreement`;
* category propensities ``pi_k = (1/n) sum_{i: r_i >= 1} r_ik / r_i``;
* Fleiss' kappa [1]: ``p_e = sum_k pi_k^2``, ``kappa = (p_a - p_e) / (1 - p_e)``; with every unit rated by
  the same number of raters this is exactly Fleiss (1971) and is computed by statsmodels; with missing ratings
  it is Gwet's generalisation ([4]; irrCAC ``fleiss.kappa.raw``), written here by hand;
* Gwet's AC1 [3]: ``p_e = (1/(q - 1)) sum_k pi_k (1 - pi_k)``, ``AC1 = (p_a - p_e) / (1 - p_e)``; robust to
  prevalence skew (one category dominating, e.g. 85% of clinicians preferring one model), where kappa
  collapses although raters agree;
* Krippendorff's alpha, nominal [5]: coincidences ``o_ck = sum_{i: r_i >= 2} (r_ic r_ik - [c = k] r_ic) /
  (r_i - 1)``, ``n_c = sum_k o_ck``, ``N = sum_c n_c``; ``alpha = 1 - (N - 1) (N - sum_c o_cc) /
  (N^2 - sum_c n_c^2)``;
* Krippendorff's alpha at the ordinal, interval and ratio levels [5]: the general form
  ``alpha = 1 - (N - 1) sum_ck o_ck delta_ck / sum_ck n_c n_k delta_ck`` with the metric ``delta`` of the level
  (:func:`alpha_delta`);
* Cohen's kappa [2] for two raters from their ``q x q`` contingency table (statsmodels ``cohens_kappa``), weighted
  (Cohen 1968) with linear / quadratic / matrix disagreement weights (:func:`disagreement_weights`).

Standard errors and intervals are in :mod:`harness.calibration._precision`; numeric scores (ICC, Kendall's W) in
:mod:`harness.calibration._scores`.

Degenerate cases (decided once, tested): no unit with two or more ratings gives NaN for every coefficient;
when every rating falls in one category the chance agreement of kappa and alpha is 1 and they are 0/0, so they
are NaN (the raters agree perfectly but the coefficient is undefined; percent agreement and AC1 stay defined).

Which code is whose: statsmodels provides Fleiss' kappa (complete data), Cohen's kappa and ``aggregate_raters``
(used only on complete, NaN-free rows, see its docstring). Gwet's AC1, Fleiss' kappa with missing ratings,
Krippendorff's alpha and the vectorised forms used by the bootstrap are written here: statsmodels, scipy and
sklearn do not implement the first three, and the bootstrap needs thousands of replicates evaluated at once.
The tests pin every hand-written formula to published worked examples and to irrCAC / krippendorff.

References:
    [1] Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological Bulletin 76(5),
        378-382. https://doi.org/10.1037/h0031619
    [2] Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and Psychological
        Measurement 20(1), 37-46. https://doi.org/10.1177/001316446002000104
    [3] Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of high
        agreement. British Journal of Mathematical and Statistical Psychology 61(1), 29-48.
        https://doi.org/10.1348/000711006X126600
    [4] Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics, LLC.
    [5] Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for Communication,
        University of Pennsylvania. https://repository.upenn.edu/asc_papers/43
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from itertools import combinations
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as _sm_fleiss_kappa

CATEGORIES: tuple[str, ...] = ("A", "B", "tie")
"""The declared category set of every pairwise preference rating (A = candidate_a preferred)."""
MISSING = -1
"""Integer code of a missing rating in an encoded ratings matrix."""
RatingsLike = ArrayLike | Sequence[Sequence[Any]]
"""A ``(n_units, n_raters)`` matrix of labels; missing ratings as None, NaN or ""."""


class Coefficient(NamedTuple):
    """One agreement coefficient with its observed and chance agreement."""

    estimate: float
    """The coefficient; NaN where undefined (see the module docstring)."""
    pa: float
    """Observed agreement."""
    pe: float
    """Chance agreement (0 for percent agreement)."""
    n_units: int
    """Units that entered the computation (for multi-rater coefficients: units with two or more ratings)."""


class PairwiseKappa(NamedTuple):
    """Cohen's kappa of every pair of raters: mean, minimum and maximum over the pairs where it is defined."""

    mean: float
    min: float
    max: float
    n_pairs: int
    """Pairs with a defined kappa (at least one commonly rated unit and chance agreement below 1)."""
    kappas: dict[tuple[int, int], float]
    """Column indices ``(j, l)`` of the pair -> kappa (NaN where undefined)."""


# ----------------------------------------------------------------------------------------------------------
# validation and encoding


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating) and math.isnan(float(value)):
        return True
    return isinstance(value, str) and value.strip() == ""


def _validate_categories(categories: Sequence[Hashable]) -> tuple[Hashable, ...]:
    cats = tuple(categories)
    if len(cats) < 2:
        raise ValueError(f"`categories` must declare at least 2 categories; got {cats!r}")
    if len(set(cats)) != len(cats):
        raise ValueError(f"`categories` must not repeat a category; got {cats!r}")
    return cats


def encode_ratings(ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES) -> np.ndarray:
    """Encode a ratings matrix ``(n_units, n_raters)`` as int codes ``0..q-1`` (``MISSING`` = -1).

    Raises:
        ValueError: not two-dimensional, or a value outside ``categories`` (the message lists the first few).
    """
    cats = _validate_categories(categories)
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise ValueError(f"`ratings` must be 2-dimensional (units x raters); got shape {arr.shape}")
    index = {c: i for i, c in enumerate(cats)}
    codes = np.full(arr.shape, MISSING, dtype=np.int64)
    bad: list[Any] = []
    for pos, value in np.ndenumerate(arr):
        if _is_missing(value):
            continue
        key = value.item() if isinstance(value, np.generic) else value
        code = index.get(key)
        if code is None:
            bad.append(key)
            continue
        codes[pos] = code
    if bad:
        raise ValueError(f"`ratings` has value(s) {sorted(map(repr, set(bad)))[:5]} outside the declared "
                         f"categories {list(cats)}; declare them in `categories` or mark missing ratings as None")
    return codes


def category_counts(codes: np.ndarray, q: int) -> np.ndarray:
    """``r_ik``: per unit, how many raters chose each of the ``q`` categories (missing ratings ignored)."""
    return np.stack([(codes == k).sum(axis=1) for k in range(q)], axis=1).astype(float)


# ----------------------------------------------------------------------------------------------------------
# vectorised forms on additive per-unit statistics (used by the bootstrap; one row per replicate)

MULTI_FEATURES = 4
"""Per-unit additive statistics before the category blocks: ``[has2, agree, has1, diag]``."""


def multirater_features(counts: np.ndarray) -> np.ndarray:
    """Additive per-unit statistics of :func:`multirater_from_totals`: shape ``(n_units, 4 + 2q)``.

    Columns: ``1[r_i >= 2]``, the unit's pairwise agreement share, ``1[r_i >= 1]``, the coincidence diagonal
    ``sum_c r_ic (r_ic - 1) / (r_i - 1)``, then ``r_ik / r_i`` (q columns) and the pairable values
    ``r_ik 1[r_i >= 2]`` (q columns). Their sums over units determine p_a, pi_k, o_cc and n_c.
    """
    r = counts.sum(axis=1)
    has2 = r >= 2
    has1 = r >= 1
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = np.where(has2, (counts * (counts - 1)).sum(axis=1) / np.where(has2, r * (r - 1), 1.0), 0.0)
        prop = np.where(has1[:, None], counts / np.where(has1, r, 1.0)[:, None], 0.0)
        diag = np.where(has2, (counts * (counts - 1)).sum(axis=1) / np.where(has2, r - 1, 1.0), 0.0)
    pairable = counts * has2[:, None]
    return np.column_stack([has2, agree, has1, diag, prop, pairable]).astype(float)


def multirater_from_totals(totals: np.ndarray, q: int) -> np.ndarray:
    """``(batch, 4 + 2q)`` summed features -> ``(batch, 4)``: p_a, Fleiss' kappa, AC1, Krippendorff's alpha.

    Formulas in the module docstring (Gwet [4] for p_a, pi_k, Fleiss and AC1; Krippendorff [5] for alpha).
    """
    has2, agree, has1, diag = (totals[:, i] for i in range(MULTI_FEATURES))
    prop = totals[:, MULTI_FEATURES:MULTI_FEATURES + q]
    pairable = totals[:, MULTI_FEATURES + q:MULTI_FEATURES + 2 * q]
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = np.where(has2 > 0, agree / np.where(has2 > 0, has2, 1.0), np.nan)
        pi = prop / np.where(has1 > 0, has1, np.nan)[:, None]
        pe_fleiss = (pi * pi).sum(axis=1)  # see [1], [4]
        pe_ac1 = (pi * (1.0 - pi)).sum(axis=1) / (q - 1)  # see [3]
        fleiss = _chance_corrected(pa, pe_fleiss)
        ac1 = _chance_corrected(pa, pe_ac1)
        n = pairable.sum(axis=1)  # see [5]: N pairable values, n_c per category, diag = sum_c o_cc
        expected = n * n - (pairable * pairable).sum(axis=1)
        alpha = np.where((n > 1) & (expected > 0), 1.0 - (n - 1.0) * (n - diag) / np.where(expected > 0, expected,
                                                                                                1.0), np.nan)
    return np.stack([pa, fleiss, ac1, alpha], axis=1)


def _chance_corrected(pa: np.ndarray, pe: np.ndarray) -> np.ndarray:
    """``(pa - pe) / (1 - pe)``, NaN where ``pe`` is 1 (0/0, see the module docstring) or either is NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = 1.0 - pe
        ok = np.isfinite(pa) & np.isfinite(pe) & (np.abs(denom) > 1e-12)
        return np.where(ok, (pa - pe) / np.where(ok, denom, 1.0), np.nan)


def kappa_from_tables(tables: np.ndarray) -> np.ndarray:
    """Cohen's kappa of ``(..., q, q)`` contingency tables, vectorised (same formula as statsmodels; see [2]).

    ``p_o = trace / N``, ``p_e = sum_k row_k col_k / N^2``; NaN where ``N = 0`` or ``p_e = 1``.
    """
    t = np.asarray(tables, dtype=float)
    total = t.sum(axis=(-1, -2))
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(total > 0, total, np.nan)
        po = np.trace(t, axis1=-2, axis2=-1) / safe
        pe = (t.sum(axis=-1) * t.sum(axis=-2)).sum(axis=-1) / (safe * safe)
    return _chance_corrected(po, pe)


def ac1_from_tables(tables: np.ndarray) -> np.ndarray:
    """Gwet's AC1 of two raters from ``(..., q, q)`` contingency tables (Gwet 2008, see [3]).

    ``pi_k = (row_k + col_k) / (2N)``, ``p_e = (1/(q-1)) sum_k pi_k (1 - pi_k)``; NaN where ``N = 0``.
    """
    t = np.asarray(tables, dtype=float)
    q = t.shape[-1]
    total = t.sum(axis=(-1, -2))
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(total > 0, total, np.nan)
        po = np.trace(t, axis1=-2, axis2=-1) / safe
        pi = (t.sum(axis=-1) + t.sum(axis=-2)) / (2.0 * safe[..., None])
        pe = (pi * (1.0 - pi)).sum(axis=-1) / (q - 1)
    return _chance_corrected(po, pe)


def accuracy_from_tables(tables: np.ndarray) -> np.ndarray:
    """Share of the diagonal of ``(..., q, q)`` tables (NaN where empty)."""
    t = np.asarray(tables, dtype=float)
    total = t.sum(axis=(-1, -2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.trace(t, axis1=-2, axis2=-1) / np.where(total > 0, total, 1.0), np.nan)


# ----------------------------------------------------------------------------------------------------------
# public coefficients


def _coefficient(totals: np.ndarray, q: int, n_units: int, which: str) -> Coefficient:
    """One coefficient with its ``pa``/``pe`` from summed :func:`multirater_features`."""
    est = multirater_from_totals(totals[None, :], q)[0]
    pa = float(est[0])
    if which == "pa":
        return Coefficient(pa, pa, 0.0, n_units)
    has1 = float(totals[2])
    pi = totals[MULTI_FEATURES:MULTI_FEATURES + q] / has1 if has1 > 0 else np.full(q, np.nan)
    if which == "fleiss":
        return Coefficient(float(est[1]), pa, float((pi * pi).sum()), n_units)
    if which == "ac1":
        return Coefficient(float(est[2]), pa, float((pi * (1 - pi)).sum() / (q - 1)), n_units)
    pairable = totals[MULTI_FEATURES + q:MULTI_FEATURES + 2 * q]
    n = float(pairable.sum())
    if n < 2:
        return Coefficient(math.nan, math.nan, math.nan, n_units)
    # alpha = (pa - pe) / (1 - pe) with pa = sum_c o_cc / N and pe = sum_c n_c (n_c - 1) / (N (N - 1)) [5]
    pe = float((pairable * (pairable - 1)).sum() / (n * (n - 1)))
    return Coefficient(float(est[3]), float(totals[3] / n), pe, n_units)


def _prepare(ratings: RatingsLike, categories: Sequence[Hashable]) -> tuple[np.ndarray, np.ndarray, int, int]:
    cats = _validate_categories(categories)
    codes = encode_ratings(ratings, cats)
    counts = category_counts(codes, len(cats))
    totals = multirater_features(counts).sum(axis=0)
    n2 = int((counts.sum(axis=1) >= 2).sum())
    return codes, totals, len(cats), n2


def percent_agreement(ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES) -> Coefficient:
    """Observed agreement ``p_a`` among several raters (share of agreeing rater pairs, averaged over units).

    ``p_a = (1/n2) sum_{i: r_i >= 2} sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))`` (Gwet [4]); for two
    raters it is the share of units on which they agree. Units with fewer than two ratings are skipped.

    Args:
        ratings: ``(n_units, n_raters)`` labels, missing as None / NaN / "".
        categories: the declared category set.

    Returns:
        :class:`Coefficient` with ``pe = 0``; NaN when no unit has two ratings.
    """
    _, totals, q, n2 = _prepare(ratings, categories)
    return _coefficient(totals, q, n2, "pa")


def fleiss_kappa(ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES) -> Coefficient:
    """Fleiss' kappa [1]; with missing ratings Gwet's generalisation ([4], irrCAC ``fleiss.kappa.raw``).

    ``kappa = (p_a - p_e) / (1 - p_e)``, ``p_e = sum_k pi_k^2``. When no cell is missing (every rater rated
    every unit, two or more raters) the value comes from ``statsmodels.stats.inter_rater.fleiss_kappa`` on the
    ``aggregate_raters`` count table (``n_cat`` = the declared categories, so unused ones keep a zero column);
    otherwise the generalisation is computed here (statsmodels asserts complete data). On complete data the
    two are the same formula.

    Returns:
        :class:`Coefficient`; NaN when no unit has two ratings or every rating is in one category.
    """
    codes, totals, q, n2 = _prepare(ratings, categories)
    result = _coefficient(totals, q, n2, "fleiss")
    # statsmodels only on complete data: a constant count per unit is not enough, because a rotating design
    # (every unit rated by 2 of 3 raters) has one MISSING code per row, which aggregate_raters cannot count
    if codes.size > 0 and codes.shape[1] >= 2 and not (codes == MISSING).any():
        table, _ = aggregate_raters(codes, n_cat=q)  # complete rows only: no NaN reaches aggregate_raters
        if result.pe < 1.0 - 1e-12:
            estimate = float(_sm_fleiss_kappa(table, method="fleiss"))
        else:
            estimate = math.nan  # statsmodels would divide 0 by 0
        return result._replace(estimate=estimate)
    return result


def gwet_ac1(ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES) -> Coefficient:
    """Gwet's AC1 among several raters, missing ratings allowed (Gwet 2008 [3], 2014 [4]; written by hand).

    ``AC1 = (p_a - p_e) / (1 - p_e)``, ``p_e = (1/(q-1)) sum_k pi_k (1 - pi_k)`` with
    ``pi_k = (1/n) sum_{i: r_i >= 1} r_ik / r_i`` and ``q`` = the number of *declared* categories.

    Returns:
        :class:`Coefficient`; NaN when no unit has two ratings.
    """
    _, totals, q, n2 = _prepare(ratings, categories)
    return _coefficient(totals, q, n2, "ac1")


ALPHA_LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
"""Krippendorff's levels of measurement (metric of the disagreement ``delta``)."""


def coincidences(codes: np.ndarray, q: int) -> np.ndarray:
    """Per-unit coincidence matrices ``o_i[c, k] = (r_ic r_ik - [c = k] r_ic) / (r_i - 1)``: shape ``(n, q, q)``.

    Krippendorff (2011) [5], coincidences within units; units with fewer than two ratings give zeros. Their sum
    over units is the coincidence matrix; it is additive, so a bootstrap replicate is a weighted sum.
    """
    counts = category_counts(codes, q)
    r = counts.sum(axis=1)
    pairable = r >= 2
    outer = counts[:, :, None] * counts[:, None, :] - counts[:, :, None] * np.eye(q)[None, :, :]
    return np.where(pairable[:, None, None], outer / np.where(pairable, r - 1.0, 1.0)[:, None, None], 0.0)


def alpha_values(categories: Sequence[Hashable], level: str) -> np.ndarray:
    """The values the metric of ``level`` uses: positions ``0..q-1`` (nominal, ordinal) or the numbers themselves.

    Raises:
        ValueError: an unknown level; interval or ratio with non-numeric (ratio: negative) categories.
    """
    if level not in ALPHA_LEVELS:
        raise ValueError(f"`level_of_measurement` must be one of {list(ALPHA_LEVELS)}; got {level!r}")
    if level in ("nominal", "ordinal"):
        return np.arange(len(categories), dtype=float)
    try:
        values = np.array([float(c) for c in categories])  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"the {level} metric needs numeric categories; got {list(categories)[:5]!r}") from None
    if not np.isfinite(values).all() or (level == "ratio" and (values < 0).any()):
        raise ValueError(f"the {level} metric needs finite{' non-negative' if level == 'ratio' else ''} values; "
                         f"got {list(categories)[:5]!r}")
    return values


def alpha_delta(nc: np.ndarray, values: np.ndarray, level: str) -> np.ndarray:
    """Metric differences ``delta_ck`` of [5] for marginals ``nc`` of shape ``(..., q)``: shape ``(..., q, q)``.

    nominal ``[c != k]``; ordinal ``(sum_{g=c..k} n_g - (n_c + n_k)/2)^2`` (ranks of the declared order; depends
    on the marginals); interval ``(v_c - v_k)^2``; ratio ``((v_c - v_k) / (v_c + v_k))^2`` (0 when both are 0).
    """
    q = nc.shape[-1]
    shape = (*nc.shape[:-1], q, q)
    if level == "nominal":
        return np.broadcast_to(1.0 - np.eye(q), shape)
    if level == "ordinal":
        cum = np.cumsum(nc, axis=-1)
        idx = np.arange(q)
        lo, hi = np.minimum.outer(idx, idx), np.maximum.outer(idx, idx)
        between = cum[..., hi] - cum[..., lo] + nc[..., lo]  # sum_{g = min..max} n_g
        return np.asarray((between - (nc[..., :, None] + nc[..., None, :]) / 2.0) ** 2)
    diff = values[:, None] - values[None, :]
    if level == "interval":
        return np.broadcast_to(diff**2, shape)
    total = values[:, None] + values[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total > 0, diff / np.where(total > 0, total, 1.0), 0.0)
    return np.broadcast_to(ratio**2, shape)


def alpha_from_coincidences(o: np.ndarray, values: np.ndarray, level: str) -> np.ndarray:
    """Krippendorff's alpha of ``(batch, q, q)`` coincidence matrices at a level of measurement (vectorised).

    ``alpha = 1 - D_o / D_e = 1 - (N - 1) sum_ck o_ck delta_ck / sum_ck n_c n_k delta_ck`` ([5], general form)
    with ``n_c = sum_k o_ck``, ``N = sum_c n_c`` and ``delta`` from :func:`alpha_delta`. NaN where ``N < 2`` or
    the expected disagreement is 0 (every pairable value the same).
    """
    o = np.asarray(o, dtype=float)
    nc = o.sum(axis=-1)
    n = nc.sum(axis=-1)
    delta = alpha_delta(nc, values, level)
    observed = (o * delta).sum(axis=(-1, -2))
    expected = (nc[..., :, None] * nc[..., None, :] * delta).sum(axis=(-1, -2))
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (n >= 2) & (expected > 1e-12 * np.maximum(n * n, 1.0) * np.maximum(delta.max(axis=(-1, -2)), 1e-300))
        return np.where(ok, 1.0 - (n - 1.0) * observed / np.where(ok, expected, 1.0), np.nan)


def krippendorff_alpha(
    ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES, *, level_of_measurement: str = "nominal",
) -> Coefficient:
    """Krippendorff's alpha with missing ratings at any level of measurement (Krippendorff 2011 [5]; by hand).

    Nominal: ``alpha = 1 - D_o / D_e = 1 - (N - 1) (N - sum_c o_cc) / (N^2 - sum_c n_c^2)`` over the coincidence
    matrix of pairable values (units with >= 2 ratings). Ordinal, interval, ratio: the general form of
    :func:`alpha_from_coincidences`. ``categories`` is the declared value set: its order gives the ordinal ranks;
    interval and ratio need numeric categories and use their values. Note the orientation: this function takes
    units x raters; the ``krippendorff`` package takes raters x units and defaults to the *interval* metric (its
    documented default, level_of_measurement="interval").

    Written by hand: statsmodels, scipy and sklearn have no alpha, and the bootstrap needs the vectorised form
    (the ``krippendorff`` package is the second implementation in the tests).

    Returns:
        :class:`Coefficient` with ``pa = 1 - D_o / delta_max`` and ``pe = 1 - D_e / delta_max`` (nominal:
        ``pa = sum_c o_cc / N``, ``pe = sum_c n_c (n_c - 1) / (N (N - 1))``), so ``alpha = (pa - pe) / (1 - pe)``;
        NaN when fewer than two pairable values or no expected disagreement.
    """
    if level_of_measurement == "nominal":
        _, totals, q, n2 = _prepare(ratings, categories)
        return _coefficient(totals, q, n2, "alpha")
    cats = _validate_categories(categories)
    values = alpha_values(cats, level_of_measurement)
    codes = encode_ratings(ratings, cats)
    n2 = int(((codes != MISSING).sum(axis=1) >= 2).sum())
    o = coincidences(codes, len(cats)).sum(axis=0)
    estimate = float(alpha_from_coincidences(o[None], values, level_of_measurement)[0])
    if not math.isfinite(estimate):
        return Coefficient(math.nan, math.nan, math.nan, n2)
    nc = o.sum(axis=1)
    n = float(nc.sum())
    delta = alpha_delta(nc, values, level_of_measurement)
    dmax = float(delta.max())
    d_o = float((o * delta).sum()) / n / dmax
    d_e = float((np.outer(nc, nc) * delta).sum()) / (n * (n - 1)) / dmax
    return Coefficient(estimate, 1.0 - d_o, 1.0 - d_e, n2)


def contingency_table(
    first: RatingsLike, second: RatingsLike, categories: Sequence[Hashable] = CATEGORIES
) -> np.ndarray:
    """``q x q`` table of two raters' labels over the units both rated (rows: ``first``)."""
    cats = _validate_categories(categories)
    a = np.asarray(first, dtype=object).reshape(-1)
    b = np.asarray(second, dtype=object).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"`first` and `second` must rate the same units; got lengths {a.size} and {b.size}")
    codes = encode_ratings(np.stack([a, b], axis=1), cats)
    both = (codes != MISSING).all(axis=1)
    table = np.zeros((len(cats), len(cats)))
    np.add.at(table, (codes[both, 0], codes[both, 1]), 1.0)
    return table


WEIGHTINGS: tuple[str, ...] = ("linear", "quadratic")
"""Named weightings of weighted kappa / AC2 (None = unweighted)."""
WeightsLike = str | ArrayLike | None
"""None (unweighted), "linear", "quadratic", or a q x q *disagreement* weight matrix (0 on the diagonal)."""


def disagreement_weights(q: int, weights: WeightsLike = None) -> np.ndarray:
    """The ``q x q`` disagreement weights ``d_kl`` (0 on the diagonal, maximum 1) of weighted kappa and AC2.

    Conventions of ``statsmodels.stats.inter_rater.cohens_kappa(wt=)`` and sklearn
    ``cohen_kappa_score(weights=)`` (Cohen 1968; Fleiss & Cohen 1973), with the categories at the equally spaced
    positions ``0..q-1`` of their declared order: None gives ``d_kl = 1[k != l]``, ``"linear"``
    ``|k - l| / (q - 1)`` (Cicchetti-Allison), ``"quadratic"`` ``(k - l)^2 / (q - 1)^2`` (Fleiss-Cohen). A matrix is
    taken as disagreement weights (statsmodels' "Wikipedia" convention, not SAS's agreement weights) and divided
    by its maximum (kappa is invariant to that scale; the variance formulas assume weights <= 1). The agreement
    weights of Gwet (2014) and irrCAC are ``w_kl = 1 - d_kl``.

    Raises:
        ValueError: an unknown name, or a matrix that is not ``q x q``, finite, >= 0 with a zero diagonal and a
            positive maximum.
    """
    if q < 2:
        raise ValueError(f"weights need at least 2 categories; got q = {q}")
    pos = np.arange(q, dtype=float)
    if weights is None:
        return 1.0 - np.eye(q)
    if isinstance(weights, str):
        if weights == "linear":
            return np.abs(pos[:, None] - pos[None, :]) / (q - 1)
        if weights == "quadratic":
            return (pos[:, None] - pos[None, :]) ** 2 / (q - 1) ** 2
        raise ValueError(f"`weights` must be None, one of {list(WEIGHTINGS)} or a q x q matrix; got {weights!r}")
    d = np.asarray(weights, dtype=float)
    if d.shape != (q, q) or not np.isfinite(d).all() or (d < 0).any() or np.any(np.diag(d) != 0) or d.max() <= 0:
        raise ValueError(f"a `weights` matrix must be {q} x {q} disagreement weights (finite, >= 0, zero diagonal, "
                         f"not all 0); got {d.tolist()!r}")
    return d / d.max()


def cohen_kappa_from_table(table: ArrayLike, weights: WeightsLike = None) -> Coefficient:
    """Cohen's kappa [2] (weighted: Cohen 1968) of a ``q x q`` table, by ``statsmodels`` ``cohens_kappa``.

    Unweighted: ``kappa = (p_o - p_e) / (1 - p_e)``. Weighted (``weights``, see :func:`disagreement_weights`):
    ``kappa_w = 1 - sum_kl d_kl p_kl / sum_kl d_kl p_k. p_.l``, reported with ``pa = sum w_kl p_kl`` and
    ``pe = sum w_kl p_k. p_.l`` (``w = 1 - d``) so that ``kappa_w = (pa - pe) / (1 - pe)``; equal to sklearn
    ``cohen_kappa_score(weights=)`` and statsmodels ``cohens_kappa(wt=)``.

    Returns:
        :class:`Coefficient` (``n_units`` = the table total); NaN when the table is empty or ``p_e = 1``.
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError(f"`table` must be a square q x q contingency table; got shape {t.shape}")
    if (t < 0).any() or not np.isfinite(t).all():
        raise ValueError("`table` must hold finite counts >= 0")
    d = disagreement_weights(t.shape[0], weights) if weights is not None else None
    total = float(t.sum())
    if total == 0:
        return Coefficient(math.nan, math.nan, math.nan, 0)
    agree = np.eye(t.shape[0]) if d is None else 1.0 - d
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / total**2
    po = float((agree * t).sum() / total)
    pe = float((agree * expected).sum())
    if pe >= 1.0 - 1e-12:
        return Coefficient(math.nan, po, pe, int(total))  # 0/0: statsmodels would warn and return NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        estimate = float(cohens_kappa(t, return_results=False) if d is None
                         else cohens_kappa(t, weights=d, return_results=False))
    return Coefficient(estimate, po, pe, int(total))


def cohen_kappa(
    first: RatingsLike, second: RatingsLike, categories: Sequence[Hashable] = CATEGORIES, *,
    weights: WeightsLike = None,
) -> Coefficient:
    """Cohen's kappa (``weights``: weighted kappa) of two raters' labels over the units both rated.

    ``categories`` is the declared order used by linear / quadratic weights (see :func:`cohen_kappa_from_table`).
    """
    return cohen_kappa_from_table(contingency_table(first, second, categories), weights)


def gwet_ac1_from_table(table: ArrayLike) -> Coefficient:
    """Gwet's AC1 of two raters from a ``q x q`` table (Gwet 2008 [3]; irrCAC ``gwet.ac1.table``)."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1] or t.shape[0] < 2:
        raise ValueError(f"`table` must be a square q x q contingency table with q >= 2; got shape {t.shape}")
    total = float(t.sum())
    if total == 0:
        return Coefficient(math.nan, math.nan, math.nan, 0)
    pi = (t.sum(axis=1) + t.sum(axis=0)) / (2 * total)
    pe = float((pi * (1 - pi)).sum() / (t.shape[0] - 1))
    return Coefficient(float(ac1_from_tables(t)), float(np.trace(t) / total), pe, int(total))


def pairwise_cohen_kappa(ratings: RatingsLike, categories: Sequence[Hashable] = CATEGORIES) -> PairwiseKappa:
    """Cohen's kappa for every pair of raters (columns) on the units both rated; mean, min and max.

    Pairs with no common unit or an undefined kappa are NaN in ``kappas`` and left out of the summary; with
    no defined pair the summary is NaN.
    """
    cats = _validate_categories(categories)
    codes = encode_ratings(ratings, cats)
    kappas: dict[tuple[int, int], float] = {}
    for j, k in combinations(range(codes.shape[1]), 2):
        table = np.zeros((len(cats), len(cats)))
        both = (codes[:, j] != MISSING) & (codes[:, k] != MISSING)
        np.add.at(table, (codes[both, j], codes[both, k]), 1.0)
        kappas[(j, k)] = cohen_kappa_from_table(table).estimate
    defined = [v for v in kappas.values() if math.isfinite(v)]
    if not defined:
        return PairwiseKappa(math.nan, math.nan, math.nan, 0, kappas)
    return PairwiseKappa(float(np.mean(defined)), float(min(defined)), float(max(defined)), len(defined), kappas)
