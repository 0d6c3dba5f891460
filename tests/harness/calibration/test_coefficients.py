"""Agreement coefficients against published worked examples and second implementations.

Published references used (values copied from the cited outputs, with the producing command):

* Fleiss (1971) psychiatric diagnoses, 30 patients x 6 psychiatrists x 5 diagnoses (the table in statsmodels'
  ``stats/tests/test_inter_rater.py``): ``irr::kappam.fleiss(diagnoses)`` -> 0.4302445 (Fleiss 1971 reports .430).
* Wikipedia "Fleiss' kappa" worked example, 10 subjects x 14 raters x 5 categories: kappa = 0.210
  (statsmodels ``test_fleiss_kappa``).
* irrCAC vignette "Calculating Chance-corrected Agreement Coefficients" (Gwet, R package irrCAC 1.0):
  ``cont3x3abstractors`` (2 abstractors, 100 pregnancies): kappa2.table -> 0.7964094, gwet.ac1.table ->
  0.8493305, krippen2.table -> 0.7972585, pa2.table -> 0.89;
  ``distrib.6raters`` (15 patients x 6 psychiatrists): gwet.ac1.dist -> 0.4448007, fleiss.kappa.dist ->
  0.4139265 (pe 0.2340741), krippen.alpha.dist -> 0.4204384;
  ``cac.raw4raters`` (12 units x 4 raters, missing ratings): pa.coeff.raw -> 0.8181818, gwet.ac1.raw -> 0.77544
  (pe 0.1903212), fleiss.kappa.raw -> 0.76117, krippen.alpha.raw -> 0.74342.
* Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", nominal example, 4 observers x 12 units with
  missing values (the same data as cac.raw4raters, transposed): alpha = 0.743.
* Cohen's kappa textbook example (Wikipedia "Cohen's kappa", 50 grant proposals, two readers, yes/no):
  [[20, 5], [10, 15]] -> p_o = 0.7, p_e = 0.5, kappa = 0.4; and the SAS PROC FREQ example pinned in statsmodels
  (``table10``): 0.4842.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from harness.calibration import (
    CATEGORIES,
    ac1_from_tables,
    category_counts,
    cohen_kappa,
    cohen_kappa_from_table,
    contingency_table,
    encode_ratings,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac1_from_table,
    kappa_from_tables,
    krippendorff_alpha,
    multirater_features,
    multirater_from_totals,
    pairwise_cohen_kappa,
    percent_agreement,
)

NAN = math.nan
FIVE = (1, 2, 3, 4, 5)

# Fleiss (1971), as in statsmodels' test_inter_rater.py (subjects x raters, diagnoses 1..5)
DIAGNOSES = np.array([
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
])
# Wikipedia "Fleiss' kappa" example: category counts of 10 subjects by 14 raters
WIKI_FLEISS_COUNTS = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
# irrCAC distrib.6raters: counts of 6 psychiatrists per patient over 5 diagnoses
DISTRIB_6RATERS = [[0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
                   [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
                   [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1]]
# irrCAC cac.raw4raters = Krippendorff (2011) nominal example, units x raters, NaN = missing
RAW_4RATERS: list[list[float]] = [
    [1, 1, NAN, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4], [4, 4, 4, 4],
    [1, 1, 2, 1], [2, 2, 2, 2], [NAN, 5, 5, 5], [NAN, NAN, 1, 1], [NAN, NAN, 3, NAN],
]
# irrCAC cont3x3abstractors (Ectopic, AIU, NIU)
ABSTRACTORS = np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]])


def _expand(counts: list[list[int]]) -> list[list[int]]:
    """Category counts per subject -> raw ratings (categories 1..q), one column per rating."""
    return [sum(([k + 1] * n for k, n in enumerate(row)), []) for row in counts]


def _table_to_raw(table: np.ndarray) -> tuple[list[int], list[int]]:
    first, second = [], []
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            first += [i] * int(table[i, j])
            second += [j] * int(table[i, j])
    return first, second


# ---------------------------------------------------------------------------------------------- published


def test_fleiss_1971_diagnoses() -> None:
    # R: irr::kappam.fleiss(diagnoses)$value = 0.4302445 (statsmodels pins the same); Fleiss (1971): .430
    assert fleiss_kappa(DIAGNOSES, FIVE).estimate == pytest.approx(0.4302445, abs=5e-8)
    assert sm_fleiss_kappa(aggregate_raters(DIAGNOSES - 1, n_cat=5)[0]) == pytest.approx(0.4302445, abs=5e-8)


def test_fleiss_wikipedia_example() -> None:
    # Wikipedia "Fleiss' kappa" worked example: P_bar = 0.378, P_e_bar = 0.213, kappa = 0.210
    res = fleiss_kappa(_expand(WIKI_FLEISS_COUNTS), FIVE)
    assert res.estimate == pytest.approx(0.210, abs=5e-4)
    assert res.pa == pytest.approx(0.378, abs=5e-4)
    assert res.pe == pytest.approx(0.213, abs=5e-4)


def test_irrcac_distrib_6raters() -> None:
    # R irrCAC vignette: gwet.ac1.dist / fleiss.kappa.dist / krippen.alpha.dist(distrib.6raters)
    raw = _expand(DISTRIB_6RATERS)
    assert gwet_ac1(raw, FIVE).estimate == pytest.approx(0.4448007, abs=5e-8)
    fk = fleiss_kappa(raw, FIVE)
    assert fk.estimate == pytest.approx(0.4139265, abs=5e-8)
    assert fk.pa == pytest.approx(0.5511111, abs=5e-8) and fk.pe == pytest.approx(0.2340741, abs=5e-8)
    assert krippendorff_alpha(raw, FIVE).estimate == pytest.approx(0.4204384, abs=5e-8)


def test_irrcac_raw4raters_with_missing_ratings() -> None:
    # R irrCAC vignette: pa.coeff.raw, gwet.ac1.raw, fleiss.kappa.raw, krippen.alpha.raw(cac.raw4raters)
    assert percent_agreement(RAW_4RATERS, FIVE).estimate == pytest.approx(0.8181818, abs=5e-8)
    ac1 = gwet_ac1(RAW_4RATERS, FIVE)
    assert ac1.estimate == pytest.approx(0.77544, abs=5e-6)
    assert ac1.pe == pytest.approx(0.1903212, abs=5e-8)
    assert fleiss_kappa(RAW_4RATERS, FIVE).estimate == pytest.approx(0.76117, abs=5e-6)  # Gwet's generalisation
    assert krippendorff_alpha(RAW_4RATERS, FIVE).estimate == pytest.approx(0.74342, abs=5e-6)


def test_krippendorff_2011_nominal_example() -> None:
    # Krippendorff (2011), the nominal example with 4 observers, 12 units and missing values: alpha = 0.743.
    # Reliability data as printed there: observers (rows) x 12 units, "." missing.
    observers = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
    units_by_raters = np.array(observers, dtype=float).T  # this API is units x raters (irrCAC orientation)
    assert round(krippendorff_alpha(units_by_raters, FIVE).estimate, 3) == 0.743


def test_cohen_textbook_and_sas_examples() -> None:
    # Wikipedia "Cohen's kappa", simple example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> 0.4
    res = cohen_kappa_from_table([[20, 5], [10, 15]])
    assert res.estimate == pytest.approx(0.4, abs=1e-12)
    assert res.pa == pytest.approx(0.7) and res.pe == pytest.approx(0.5)
    # SAS PROC FREQ printout pinned in statsmodels (table10): kappa 0.4842
    assert cohen_kappa_from_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]]).estimate == pytest.approx(0.4842, abs=5e-5)


def test_irrcac_abstractors_two_raters() -> None:
    # R irrCAC vignette: kappa2.table / gwet.ac1.table / krippen2.table / pa2.table(cont3x3abstractors)
    assert cohen_kappa_from_table(ABSTRACTORS).estimate == pytest.approx(0.7964094, abs=5e-8)
    ac1 = gwet_ac1_from_table(ABSTRACTORS)
    assert ac1.estimate == pytest.approx(0.8493305, abs=5e-8) and ac1.pa == pytest.approx(0.89)
    first, second = _table_to_raw(ABSTRACTORS)
    raw = np.column_stack([first, second])
    assert krippendorff_alpha(raw, (0, 1, 2)).estimate == pytest.approx(0.7972585, abs=5e-8)
    assert gwet_ac1(raw, (0, 1, 2)).estimate == pytest.approx(0.8493305, abs=5e-8)  # multi-rater form, 2 raters
    assert percent_agreement(raw, (0, 1, 2)).estimate == pytest.approx(0.89)


# ---------------------------------------------------------------------------------------------- second implementations


def _random_ratings(rng: np.random.Generator, n: int, m: int, missing: float) -> np.ndarray:
    truth = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    codes = np.where(rng.random((n, m)) < 0.7, truth[:, None], rng.integers(0, 3, (n, m)))
    out = np.array(CATEGORIES, dtype=object)[codes]
    out[rng.random((n, m)) < missing] = None
    return out


def test_cohen_matches_sklearn_and_statsmodels() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        r = _random_ratings(rng, 40, 2, 0.0)
        ours = cohen_kappa(r[:, 0], r[:, 1]).estimate
        assert ours == pytest.approx(cohen_kappa_score(r[:, 0], r[:, 1], labels=list(CATEGORIES)), abs=1e-12)
        table = contingency_table(r[:, 0], r[:, 1])
        assert ours == pytest.approx(cohens_kappa(table, return_results=False), abs=1e-12)
        assert kappa_from_tables(table) == pytest.approx(ours, abs=1e-12)


def test_fleiss_matches_statsmodels_on_complete_data() -> None:
    rng = np.random.default_rng(8)
    for _ in range(10):
        r = _random_ratings(rng, 30, 6, 0.0)
        codes = encode_ratings(r)
        expected = sm_fleiss_kappa(aggregate_raters(codes, n_cat=3)[0])
        assert fleiss_kappa(r).estimate == pytest.approx(expected, abs=1e-12)
        # the hand-written generalisation (used with missing ratings and by the bootstrap) is the same formula
        totals = multirater_features(category_counts(codes, 3)).sum(axis=0)[None, :]
        assert multirater_from_totals(totals, 3)[0, 1] == pytest.approx(expected, abs=1e-12)


def test_krippendorff_matches_package_with_missing() -> None:
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(9)
    for _ in range(10):
        r = _random_ratings(rng, 30, 5, 0.2)
        codes = encode_ratings(r).astype(float)
        codes[codes < 0] = np.nan
        # krippendorff.alpha: raters x units, and its default level is *interval*: pass nominal explicitly
        expected = krippendorff.alpha(reliability_data=codes.T, level_of_measurement="nominal",
                                      value_domain=[0, 1, 2])
        assert krippendorff_alpha(r).estimate == pytest.approx(expected, abs=1e-10)


def _gwet_raw_reference(ratings: Sequence[Sequence[object]], categories: Sequence[object]) -> tuple[float, float]:
    """Unweighted AC1 and Fleiss' kappa (Gwet's generalisation) of raw ratings with missing values, written out term
    by term from Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., ch. 2 (the formulas behind irrCAC's
    ``gwet.ac1.raw`` and ``fleiss.kappa.raw``): units nobody rated are dropped; p_a averages
    sum_k r_ik (r_ik - 1) / (r_i (r_i - 1)) over the units with at least two ratings; pi_k averages r_ik / r_i over
    all rated units; AC1's p_e = sum_k pi_k (1 - pi_k) / (q - 1), Fleiss' p_e = sum_k pi_k^2.
    Plain loops, no numpy and nothing from harness.calibration: a second implementation of the same published
    formulas, itself pinned to the irrCAC vignette's cac.raw4raters numbers in the test below."""
    rated = [[x for x in row if x is not None and x == x] for row in ratings]  # x == x drops NaN
    counts = [[row.count(k) for k in categories] for row in rated if row]
    multi = [c for c in counts if sum(c) >= 2]
    pa = sum(sum(r * (r - 1) for r in c) / (sum(c) * (sum(c) - 1)) for c in multi) / len(multi)
    pi = [sum(c[k] / sum(c) for c in counts) / len(counts) for k in range(len(categories))]
    pe_ac1 = sum(p * (1 - p) for p in pi) / (len(categories) - 1)
    pe_fleiss = sum(p * p for p in pi)
    return (pa - pe_ac1) / (1 - pe_ac1), (pa - pe_fleiss) / (1 - pe_fleiss)


def test_gwet_ac1_and_fleiss_match_gwet_formulas_with_missing() -> None:
    # irrCAC itself is not installable next to this stack (it pins scipy==1.12), so the second implementation is
    # the reference above; first it must reproduce the published vignette output for cac.raw4raters
    # (gwet.ac1.raw -> 0.77544, pe 0.1903212; fleiss.kappa.raw -> 0.76117; irrCAC prints 5 digits) ...
    ref_ac1, ref_fleiss = _gwet_raw_reference(RAW_4RATERS, FIVE)
    assert ref_ac1 == pytest.approx(0.77544, abs=5e-6)
    assert ref_fleiss == pytest.approx(0.76117, abs=5e-6)
    # ... then ours must match it on random data with missing ratings (and units nobody rated), to rounding.
    rng = np.random.default_rng(10)
    for _ in range(20):
        r = np.vstack([_random_ratings(rng, 25, 4, 0.15), [None] * 4])  # the last unit: nobody rated it
        ref_ac1, ref_fleiss = _gwet_raw_reference(r.tolist(), CATEGORIES)
        assert gwet_ac1(r).estimate == pytest.approx(ref_ac1, abs=1e-12)
        assert fleiss_kappa(r).estimate == pytest.approx(ref_fleiss, abs=1e-12)


def test_two_rater_ac1_table_form_matches_multirater_form() -> None:
    rng = np.random.default_rng(11)
    r = _random_ratings(rng, 50, 2, 0.0)
    table = contingency_table(r[:, 0], r[:, 1])
    assert float(ac1_from_tables(table)) == pytest.approx(gwet_ac1(r).estimate, abs=1e-12)


# ---------------------------------------------------------------------------------------------- conventions


def test_declared_categories_matter_for_ac1() -> None:
    # no rater ever says "tie": AC1 with the declared set {A, B, tie} (q = 3) differs from q = 2
    r = [["A", "A"], ["A", "B"], ["B", "B"], ["A", "A"]]
    q3, q2 = gwet_ac1(r), gwet_ac1(r, ("A", "B"))
    assert q3.estimate != pytest.approx(q2.estimate)
    # by hand: pi_A = 5/8, pi_B = 3/8; pe(q=3) = (2 * 15/64) / 2 = 15/64; pa = 3/4
    assert q3.pe == pytest.approx(15 / 64) and q3.estimate == pytest.approx((0.75 - 15 / 64) / (1 - 15 / 64))
    # kappa and alpha do not depend on unused categories
    assert fleiss_kappa(r).estimate == pytest.approx(fleiss_kappa(r, ("A", "B")).estimate)
    assert krippendorff_alpha(r).estimate == pytest.approx(krippendorff_alpha(r, ("A", "B")).estimate)


def test_prevalence_paradox_and_degenerate_cases() -> None:
    # everybody always says A: perfect agreement, kappa/alpha undefined (0/0 -> NaN), AC1 = 1
    same = [["A"] * 4] * 10
    assert percent_agreement(same).estimate == 1.0
    assert math.isnan(fleiss_kappa(same).estimate) and math.isnan(krippendorff_alpha(same).estimate)
    assert gwet_ac1(same).estimate == 1.0
    assert math.isnan(cohen_kappa([r[0] for r in same], [r[1] for r in same]).estimate)
    # skewed: 18 of 20 agree on A, two disagreements -> kappa near 0, AC1 high (Gwet 2008's motivation)
    skew = [["A", "A"]] * 18 + [["A", "B"], ["B", "A"]]
    assert cohen_kappa([r[0] for r in skew], [r[1] for r in skew]).estimate < 0
    assert gwet_ac1(skew).estimate > 0.85
    # no unit with two ratings
    lonely = [["A", None], [None, "B"]]
    assert math.isnan(percent_agreement(lonely).estimate) and math.isnan(gwet_ac1(lonely).estimate)
    assert math.isnan(cohen_kappa_from_table(np.zeros((3, 3))).estimate)


def test_pairwise_cohen_summary() -> None:
    r = np.array([["A", "A", "B"], ["B", "B", "B"], ["A", "A", "A"], ["tie", "A", "tie"]], dtype=object)
    pk = pairwise_cohen_kappa(r)
    expected = [cohen_kappa(r[:, j], r[:, k]).estimate for j, k in ((0, 1), (0, 2), (1, 2))]
    assert pk.n_pairs == 3
    assert pk.mean == pytest.approx(np.mean(expected))
    assert pk.min == pytest.approx(min(expected)) and pk.max == pytest.approx(max(expected))


@pytest.mark.parametrize(("ratings", "categories", "match"), [
    ([["A", "maybe"]], CATEGORIES, "maybe"),
    (["A", "B"], CATEGORIES, "2-dimensional"),
    ([["A", "B"]], ("A",), "at least 2"),
    ([["A", "B"]], ("A", "A", "B"), "repeat"),
])
def test_bad_input_names_the_value(ratings: object, categories: tuple[str, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gwet_ac1(ratings, categories)  # type: ignore[arg-type]


def test_cohen_table_validation() -> None:
    with pytest.raises(ValueError, match="square"):
        cohen_kappa_from_table([[1, 2, 3]])
    with pytest.raises(ValueError, match=">= 0"):
        cohen_kappa_from_table([[1, -1], [0, 2]])
    with pytest.raises(ValueError, match="same units"):
        contingency_table(["A"], ["A", "B"])


def test_fleiss_rotating_design_constant_count_with_missing_cells() -> None:
    # Regression (issue 15): every unit has two ratings but one of three cells is missing. statsmodels'
    # complete-data branch used to receive the MISSING code and raised "'list' argument must have no negative
    # elements". Gwet's generalisation by hand: unit 1 (A, B) agrees on 0 of 1 pair, unit 2 (A, A) on 1 of 1,
    # p_a = (0 + 1)/2 = 0.5; pi_A = (1/2 + 1)/2 = 0.75, pi_B = (1/2 + 0)/2 = 0.25, pi_tie = 0;
    # p_e = 0.75^2 + 0.25^2 = 0.625; kappa = (0.5 - 0.625)/(1 - 0.625) = -1/3.
    result = fleiss_kappa([["A", "B", None], [None, "A", "A"]])
    assert result.estimate == pytest.approx(-1 / 3)
    assert (result.pa, result.pe, result.n_units) == (pytest.approx(0.5), pytest.approx(0.625), 2)
    # a rotating design (each item rated by 2 of 3 raters) agrees with the same ratings packed into 2 columns
    rng = np.random.default_rng(3)
    rotating = np.full((30, 3), None, dtype=object)
    packed = np.empty((30, 2), dtype=object)
    for i in range(30):
        raters = [(0, 1), (1, 2), (0, 2)][i % 3]
        labels = rng.choice(["A", "B", "tie"], size=2)
        rotating[i, list(raters)] = labels
        packed[i] = labels
    assert fleiss_kappa(rotating).estimate == pytest.approx(fleiss_kappa(packed).estimate, abs=1e-12)
