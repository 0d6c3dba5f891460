"""Weighted kappa, Krippendorff's alpha at every level, Gwet's AC2, standard errors and intervals.

Published references (values copied from the cited printouts):

* SAS PROC FREQ agreement example as pinned in statsmodels ``stats/tests/test_inter_rater.py`` (``table10`` =
  [[0, 4, 1], [0, 8, 0], [0, 1, 5]]): simple kappa 0.4842, ASE 0.1380, 95% CL 0.2137 .. 0.7547; weighted kappa
  (Cicchetti-Allison = linear weights) 0.4701, ASE 0.1457, 95% CL 0.1845 .. 0.7558.
* Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", the 4 observers x 12 units example with
  missing values (values 1..5): nominal .743, ordinal .815, interval .849, ratio .797.
* R irrCAC (Gwet) on ``cac.raw4raters`` (the same data, units x raters), outputs printed to 3 digits as pinned in
  the Python port's test suite (github.com/afergadis/irrCAC, test/unit/irrCAC/raw/test_gwet.py, test_fleiss.py):
  gwet.ac1.raw unweighted AC1 0.775, se 0.143, CI (0.461, 1); linear AC2 0.859, se 0.117, CI (0.600, 1), pa 0.939,
  pe 0.571; quadratic AC2 0.914, se 0.104, CI (0.685, 1), pa 0.975, pe 0.714; fleiss.kappa.raw unweighted 0.761,
  CI (0.424, 1), pe 0.239; linear 0.818, se 0.149, CI (0.491, 1); quadratic 0.865, se 0.146, CI (0.544, 1).

Second implementations: sklearn ``cohen_kappa_score(weights=)``, statsmodels ``cohens_kappa(wt=)`` and the
``krippendorff`` package on random designs with missing cells (plain seeded loops).
"""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa

from harness.calibration import (
    cohen_kappa,
    cohen_kappa_from_table,
    cohen_kappa_interval,
    cohen_kappa_interval_from_table,
    disagreement_weights,
    fleiss_kappa,
    fleiss_kappa_interval,
    gwet_ac1,
    gwet_ac2,
    krippendorff_alpha,
    krippendorff_alpha_interval,
)

NAN = math.nan
FIVE = (1, 2, 3, 4, 5)
TABLE10 = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
RAW_4RATERS: list[list[float]] = [
    [1, 1, NAN, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4], [4, 4, 4, 4],
    [1, 1, 2, 1], [2, 2, 2, 2], [NAN, 5, 5, 5], [NAN, NAN, 1, 1], [NAN, NAN, 3, NAN],
]


def _random_design(rng: np.random.Generator, n: int, m: int, q: int, missing: float) -> np.ndarray:
    """Units x raters of labels 0..q-1 correlated through a latent unit value, with missing cells (NaN)."""
    truth = rng.integers(0, q, size=n)
    noise = rng.integers(-1, 2, size=(n, m)) * (rng.random((n, m)) < 0.4)
    x = np.clip(truth[:, None] + noise, 0, q - 1).astype(float)
    x[rng.random((n, m)) < missing] = np.nan
    return x


# ---------------------------------------------------------------------------------------------- weights


def test_disagreement_weights_hand_derived() -> None:
    # q = 3, positions 0, 1, 2: linear |k - l| / 2, quadratic (k - l)^2 / 4
    assert disagreement_weights(3, "linear").tolist() == [[0, 0.5, 1], [0.5, 0, 0.5], [1, 0.5, 0]]
    assert disagreement_weights(3, "quadratic").tolist() == [[0, 0.25, 1], [0.25, 0, 0.25], [1, 0.25, 0]]
    assert disagreement_weights(2, None).tolist() == [[0, 1], [1, 0]]
    # a matrix is scaled to maximum 1 (kappa does not change)
    assert disagreement_weights(2, [[0, 4], [4, 0]]).tolist() == [[0, 1], [1, 0]]
    for bad in ("cubic", [[1, 1], [1, 0]], [[0, -1], [1, 0]], [[0, 1, 1], [1, 0, 1]]):
        with pytest.raises(ValueError, match="weights"):
            disagreement_weights(2, bad)


def test_weighted_kappa_sas_printout() -> None:
    # SAS PROC FREQ (statsmodels table10): linear weighted kappa 0.4701, ASE 0.1457, CL 0.1845 .. 0.7558
    res = cohen_kappa_interval_from_table(TABLE10, weights="linear")
    assert res.estimate == pytest.approx(0.4701, abs=5e-5)
    assert res.se == pytest.approx(0.1457, abs=5e-5)
    assert (res.ci_low, res.ci_high) == (pytest.approx(0.1845, abs=5e-5), pytest.approx(0.7558, abs=5e-5))
    simple = cohen_kappa_interval_from_table(TABLE10)
    assert (simple.estimate, simple.se) == (pytest.approx(0.4842, abs=5e-5), pytest.approx(0.1380, abs=5e-5))
    assert (simple.ci_low, simple.ci_high) == (pytest.approx(0.2137, abs=5e-5), pytest.approx(0.7547, abs=5e-5))


def test_weighted_kappa_hand_derived() -> None:
    # two raters, 3 ordered categories, table [[2, 1, 0], [0, 2, 1], [0, 0, 2]] (N = 8)
    # linear d = [[0, .5, 1], [.5, 0, .5], [1, .5, 0]]: observed sum d p = (1 * .5 + 1 * .5) / 8 = 0.125
    # rows (3, 3, 2)/8, cols (2, 3, 3)/8: expected sum d p_k p_l = (3*3*.5 + 3*3*1 + 3*2*.5 + 3*3*.5 + 2*2*1
    #   + 2*3*.5) / 64 = (4.5 + 9 + 3 + 4.5 + 4 + 3) / 64 = 28 / 64 = 0.4375; kappa_w = 1 - 0.125 / 0.4375 = 5/7
    table = [[2, 1, 0], [0, 2, 1], [0, 0, 2]]
    assert cohen_kappa_from_table(table, "linear").estimate == pytest.approx(5 / 7)
    first = [0, 0, 0, 1, 1, 1, 2, 2]
    second = [0, 0, 1, 1, 1, 2, 2, 2]
    assert cohen_kappa(first, second, (0, 1, 2), weights="linear").estimate == pytest.approx(5 / 7)


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")  # statsmodels, perfect tables
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_weighted_kappa_matches_sklearn_and_statsmodels(weights: str | None) -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        q = int(rng.integers(2, 6))
        x = _random_design(rng, int(rng.integers(5, 40)), 2, q, 0.0).astype(int)
        ours = cohen_kappa(x[:, 0], x[:, 1], tuple(range(q)), weights=weights).estimate
        table = np.zeros((q, q))
        np.add.at(table, (x[:, 0], x[:, 1]), 1)
        if not math.isfinite(ours):
            continue
        assert ours == pytest.approx(cohen_kappa_score(x[:, 0], x[:, 1], labels=list(range(q)), weights=weights),
                                     abs=1e-10)
        sm = cohens_kappa(table, wt=weights, return_results=False) if weights else cohens_kappa(
            table, return_results=False)
        assert ours == pytest.approx(float(sm), abs=1e-10)
        if weights:
            assert cohen_kappa_interval_from_table(table, weights=weights).se == pytest.approx(
                math.sqrt(max(float(cohens_kappa(table, wt=weights)["var_kappa"]), 0.0)), abs=1e-10)


def test_weighted_kappa_recovers_published_gap() -> None:
    # ordinal ratings that are always within one step: unweighted kappa penalises every near miss as a full
    # disagreement, quadratic weighting does not (the "0.35 below the published values")
    a = [0, 1, 2, 3, 4] * 6
    b = [1, 1, 3, 3, 3] * 6
    unweighted = cohen_kappa(a, b, range(5)).estimate
    quadratic = cohen_kappa(a, b, range(5), weights="quadratic").estimate
    assert quadratic > unweighted + 0.3


# ---------------------------------------------------------------------------------------------- alpha


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849),
                                                  ("ratio", 0.797)])
def test_krippendorff_2011_example_every_level(level: str, published: float) -> None:
    result = krippendorff_alpha(RAW_4RATERS, FIVE, level_of_measurement=level)
    assert result.estimate == pytest.approx(published, abs=5e-4)
    assert result.estimate == pytest.approx((result.pa - result.pe) / (1 - result.pe))
    reference = krippendorff.alpha(reliability_data=np.array(RAW_4RATERS).T, level_of_measurement=level,
                                   value_domain=list(FIVE))
    assert result.estimate == pytest.approx(reference, abs=1e-10)


def test_interval_alpha_hand_derived() -> None:
    # two units rated by two raters: (1, 2) and (3, 3). Coincidences: o_12 = o_21 = 1, o_33 = 2; n = (1, 1, 2),
    # N = 4. Interval delta (1-2)^2 = 1, (1-3)^2 = 4, (2-3)^2 = 1. Observed sum o delta = 2 * 1 = 2.
    # Expected sum n_c n_k delta = 2 * (1*1*1 + 1*2*4 + 1*2*1) = 22. alpha = 1 - (N - 1) * 2 / 22 = 1 - 6/22 = 8/11.
    result = krippendorff_alpha([[1, 2], [3, 3]], (1, 2, 3), level_of_measurement="interval")
    assert result.estimate == pytest.approx(8 / 11)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_krippendorff_package_on_random_designs(level: str) -> None:
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(30):
        q = int(rng.integers(2, 6))
        x = _random_design(rng, int(rng.integers(4, 30)), int(rng.integers(2, 6)), q, 0.3) + 1.0
        ours = krippendorff_alpha(x, tuple(float(v) for v in range(1, q + 1)), level_of_measurement=level).estimate
        if not math.isfinite(ours):
            continue
        ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level,
                                 value_domain=[float(v) for v in range(1, q + 1)])
        assert ours == pytest.approx(ref, abs=1e-9)
        checked += 1
    assert checked >= 20


def test_alpha_levels_reject_bad_categories() -> None:
    with pytest.raises(ValueError, match="numeric"):
        krippendorff_alpha([["A", "B"]], ("A", "B"), level_of_measurement="interval")
    with pytest.raises(ValueError, match="level_of_measurement"):
        krippendorff_alpha([[1, 2]], (1, 2), level_of_measurement="cardinal")


def test_alpha_bootstrap_interval_is_seeded_and_brackets_the_estimate() -> None:
    a = krippendorff_alpha_interval(RAW_4RATERS, FIVE, level_of_measurement="ordinal", n_boot=400, rng=5)
    b = krippendorff_alpha_interval(RAW_4RATERS, FIVE, level_of_measurement="ordinal", n_boot=400, rng=5)
    assert a == b
    assert a.estimate == pytest.approx(0.815, abs=5e-4)
    assert a.ci_low < a.estimate <= a.ci_high <= 1.0
    assert a.se > 0
    # a perfectly agreeing design with one disagreement: the interval is narrower with more units
    small = krippendorff_alpha_interval([[1, 1], [2, 2], [3, 3], [1, 2]] * 3, (1, 2, 3), n_boot=300, rng=1)
    large = krippendorff_alpha_interval([[1, 1], [2, 2], [3, 3], [1, 2]] * 30, (1, 2, 3), n_boot=300, rng=1)
    assert large.estimate == pytest.approx(small.estimate, abs=0.05)
    assert (large.ci_high - large.ci_low) < (small.ci_high - small.ci_low)


# ---------------------------------------------------------------------------------------------- Gwet AC2 / Fleiss


@pytest.mark.parametrize(("weights", "estimate", "se", "low", "pa", "pe"), [
    (None, 0.775, 0.143, 0.461, 0.818, 0.190),
    ("linear", 0.859, 0.117, 0.600, 0.939, 0.571),
    ("quadratic", 0.914, 0.104, 0.685, 0.975, 0.714),
])
def test_gwet_ac2_irrcac_raw4raters(weights: str | None, estimate: float, se: float, low: float, pa: float,
                                    pe: float) -> None:
    res = gwet_ac2(RAW_4RATERS, FIVE, weights=weights)
    assert (res.estimate, res.se, res.ci_low, res.ci_high) == (
        pytest.approx(estimate, abs=5e-4), pytest.approx(se, abs=5e-4), pytest.approx(low, abs=5e-4), 1.0)
    assert (res.pa, res.pe) == (pytest.approx(pa, abs=5e-4), pytest.approx(pe, abs=5e-4))


@pytest.mark.parametrize(("weights", "estimate", "se", "low"), [
    (None, 0.761, None, 0.424), ("linear", 0.818, 0.149, 0.491), ("quadratic", 0.865, 0.146, 0.544),
])
def test_fleiss_interval_irrcac_raw4raters(weights: str | None, estimate: float, se: float | None,
                                           low: float) -> None:
    res = fleiss_kappa_interval(RAW_4RATERS, FIVE, weights=weights)
    assert res.estimate == pytest.approx(estimate, abs=5e-4)
    assert res.ci_low == pytest.approx(low, abs=5e-4)
    assert res.ci_high == 1.0
    if se is not None:
        assert res.se == pytest.approx(se, abs=5e-4)


def test_unweighted_forms_agree_with_the_point_estimates_on_random_designs() -> None:
    # property: over random designs with missing cells, AC2 without weights is AC1 and the weighted-Fleiss code
    # without weights is fleiss_kappa; the interval contains the estimate; SE >= 0
    rng = np.random.default_rng(21)
    for _ in range(60):
        q = int(rng.integers(2, 6))
        cats = tuple(float(v) for v in range(q))
        x = _random_design(rng, int(rng.integers(3, 40)), int(rng.integers(2, 6)), q, float(rng.uniform(0, 0.5)))
        ac2 = gwet_ac2(x, cats)
        ac1 = gwet_ac1(x, cats)
        fk = fleiss_kappa_interval(x, cats)
        if math.isfinite(ac1.estimate):
            assert ac2.estimate == pytest.approx(ac1.estimate, abs=1e-10)
        ref = fleiss_kappa(x, cats).estimate
        if math.isfinite(ref):
            assert fk.estimate == pytest.approx(ref, abs=1e-10)
        for res in (ac2, fk, gwet_ac2(x, cats, weights="quadratic")):
            if math.isfinite(res.se):
                assert res.se >= 0
                assert res.ci_low <= res.estimate <= res.ci_high + 1e-12


def test_two_raters_ac2_weighted_equals_unweighted_for_two_categories() -> None:
    # with q = 2 the linear and quadratic weights are both the identity: AC2 = AC1
    x = [[0, 0], [0, 1], [1, 1], [1, 1], [0, 0], [1, 0]]
    assert gwet_ac2(x, (0, 1), weights="quadratic").estimate == pytest.approx(gwet_ac2(x, (0, 1)).estimate)


def test_cohen_interval_from_labels_and_degenerate_cases() -> None:
    res = cohen_kappa_interval([0, 0, 1, 1], [0, 0, 1, 0], (0, 1))
    # p_o = 3/4, rows (2, 2)/4, cols (3, 1)/4, p_e = (2*3 + 2*1)/16 = 0.5, kappa = 0.5
    assert res.estimate == pytest.approx(0.5)
    assert res.ci_low < 0.5 < res.ci_high
    empty = cohen_kappa_interval([None], [None], (0, 1))
    assert math.isnan(empty.estimate) and math.isnan(empty.se)
    with pytest.raises(ValueError, match="level"):
        cohen_kappa_interval_from_table(TABLE10, level=1.5)


def test_interval_alpha_sums_path_equals_the_coincidence_path() -> None:
    # krippendorff_alpha_interval(level="interval") works from per-unit sums (no q x q matrix); on random designs
    # with missing cells its estimate must equal the coincidence form and the package, and its pa/pe the same
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = rng.normal(size=(int(rng.integers(3, 25)), 1)) + rng.normal(scale=0.7, size=(1, int(rng.integers(2, 5))))
        x = np.round(x + rng.normal(scale=0.5, size=x.shape), 1)
        x[rng.random(x.shape) < 0.25] = np.nan
        cats = tuple(sorted(set(x[np.isfinite(x)].tolist())))
        if len(cats) < 2:
            continue
        fast = krippendorff_alpha_interval(x, cats, level_of_measurement="interval", n_boot=20, rng=0)
        slow = krippendorff_alpha(x, cats, level_of_measurement="interval")
        if not math.isfinite(slow.estimate):
            assert math.isnan(fast.estimate)
            continue
        assert fast.estimate == pytest.approx(slow.estimate, abs=1e-10)
        assert (fast.pa, fast.pe) == (pytest.approx(slow.pa, abs=1e-10), pytest.approx(slow.pe, abs=1e-10))
        assert fast.estimate == pytest.approx(krippendorff.alpha(reliability_data=x.T,
                                                                 level_of_measurement="interval"), abs=1e-9)
    # many distinct continuous values: 3000 scores, no 3000 x 3000 coincidence matrix
    big = rng.normal(size=(1000, 1)) + rng.normal(size=(1000, 3))
    res = krippendorff_alpha_interval(big, tuple(np.unique(big).tolist()), level_of_measurement="interval",
                                      n_boot=200, rng=1)
    assert 0.3 < res.estimate < 0.7 and res.ci_low < res.estimate < res.ci_high
