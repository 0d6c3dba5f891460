"""McNemar, the sign test and multiple-comparison adjustment (harness.stats._mcnemar, ._multiple)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, binomtest, chi2
from statsmodels.stats.multitest import multipletests

from harness.stats import adjust_pvalues, mcnemar_test, sign_test

# ----------------------------------------------------------------------------------------------------------
# McNemar


def test_mcnemar_agresti_presidential_approval() -> None:
    # Agresti, A. Categorical Data Analysis (1990, p. 350; 2nd ed. 2002, Table 10.1): approval of the
    # President's performance in two surveys of the same 1600 people, 794 / 150 / 86 / 570, so the discordant
    # counts are b = 150, c = 86; Agresti's z = (86 - 150) / sqrt(86 + 150) = -4.17 (z^2 = 17.36, no
    # correction). The same table is the example of R's ?mcnemar.test ("Performance"), where
    # `mcnemar.test(Performance)` prints "McNemar's chi-squared = 16.818, df = 1, p-value = 4.115e-05"
    # (continuity corrected).
    r = mcnemar_test(150, 86, method="chi2_cc")
    assert r.statistic == pytest.approx(16.818, abs=5e-4)
    assert r.pvalue == pytest.approx(4.115e-05, rel=1e-3)
    u = mcnemar_test(150, 86, method="chi2")
    assert u.statistic == pytest.approx(17.36, abs=5e-3)
    assert np.sqrt(u.statistic) == pytest.approx(4.17, abs=5e-3)


def test_mcnemar_fagerland_2013_example() -> None:
    # Fagerland, Lydersen & Laake (2013), BMC Med. Res. Methodol. 13:91, Table 1 (Bentur et al. 2009):
    # airway hyper-responsiveness before/after stem-cell transplantation, 1 / 1 / 7 / 12, so b = 1, c = 7.
    # Reported: exact conditional p = 0.070, mid-p = 0.039, asymptotic (no correction) p = 0.034.
    r = mcnemar_test(1, 7)
    assert round(r.p_exact, 3) == 0.070
    assert round(r.p_midp, 3) == 0.039
    assert round(r.p_chi2, 3) == 0.034
    assert r.p_chi2_cc == pytest.approx(chi2.sf((abs(1 - 7) - 1) ** 2 / 8, 1))
    assert r.statistic == 1.0 and r.pvalue == r.p_exact  # default method is exact


@pytest.mark.parametrize(
    ("b", "c"), [(0, 1), (1, 7), (7, 1), (5, 5), (10, 3), (150, 86), (0, 40), (300, 290)])
def test_mcnemar_against_independent_formulas(b: int, c: int) -> None:
    r = mcnemar_test(b, c)
    n, k = b + c, min(b, c)
    # exact McNemar = exact binomial (sign) test: scipy.stats.binomtest as the second implementation
    assert r.p_exact == pytest.approx(binomtest(b, n, 0.5).pvalue, rel=1e-9)
    # mid-p by direct summation of binomial probabilities (Fagerland et al. 2013, supplementary eq. 2)
    if b == c:
        expected_mid = 1 - 0.5 * binom.pmf(k, n, 0.5)
    else:
        expected_mid = 2 * (sum(binom.pmf(i, n, 0.5) for i in range(k)) + 0.5 * binom.pmf(k, n, 0.5))
    assert r.p_midp == pytest.approx(expected_mid, rel=1e-9)
    assert r.p_chi2 == pytest.approx(chi2.sf((b - c) ** 2 / n, 1), rel=1e-9)
    assert r.p_chi2_cc == pytest.approx(chi2.sf((abs(b - c) - 1) ** 2 / n, 1), rel=1e-9)


@pytest.mark.parametrize("method", ["exact", "midp", "chi2", "chi2_cc"])
def test_mcnemar_no_discordant_pairs_is_p_one(method: str) -> None:
    # b + c = 0 (all ties): statsmodels' corrected chi-square would give p = 0; documented result: p = 1.
    r = mcnemar_test(0, 0, method=method)  # type: ignore[arg-type]
    assert r.pvalue == 1.0 and r.statistic == 0.0
    assert (r.p_exact, r.p_midp, r.p_chi2, r.p_chi2_cc) == (1.0, 1.0, 1.0, 1.0)


def test_mcnemar_invalid() -> None:
    with pytest.raises(ValueError, match="`b`"):
        mcnemar_test(-1, 3)
    with pytest.raises(ValueError, match="whole number"):
        mcnemar_test(1.5, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        mcnemar_test(1, 3, method="fisher")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------
# sign test


def test_sign_test_arbuthnot_1710() -> None:
    # Arbuthnot, J. (1710), Phil. Trans. 27:186-190: male christenings exceeded female ones in all 82 years
    # 1629-1710 -- the first published sign test; one-sided p = 0.5**82, two-sided 2 * 0.5**82.
    assert sign_test(82, 0).pvalue == pytest.approx(2.0**-81, rel=1e-12)
    assert sign_test(82, 0, alternative="greater").pvalue == pytest.approx(2.0**-82, rel=1e-12)


def test_sign_test_discards_ties_and_matches_exact_mcnemar() -> None:
    r = sign_test(7, 1, ties=100)
    assert r.ties_discarded == 100
    assert r.pvalue == sign_test(7, 1).pvalue == pytest.approx(mcnemar_test(7, 1).p_exact)
    assert r.pvalue == pytest.approx(binomtest(7, 8, 0.5).pvalue)


def test_sign_test_degenerate() -> None:
    assert sign_test(0, 0, ties=5).pvalue == 1.0
    with pytest.raises(ValueError, match="alternative"):
        sign_test(1, 2, alternative="both")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------
# multiple comparisons

# Benjamini & Hochberg (1995), JRSS B 57:289-300, section 4 example (Neuhaus et al. myocardial infarction
# trial): 15 p-values; at q = 0.05 the FDR procedure rejects the 4 smallest, while the Bonferroni-type
# procedures reject only the 3 smallest (threshold 0.05/15 = 0.0033).
BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719,
           0.6528, 0.7590, 1.000]


def test_bh_1995_example() -> None:
    bh = adjust_pvalues(BH_1995, method="bh")
    assert bh.reject.tolist() == [True] * 4 + [False] * 11
    holm = adjust_pvalues(BH_1995, method="holm")
    assert holm.reject.tolist() == [True] * 3 + [False] * 12
    assert adjust_pvalues(BH_1995, method="bonferroni").reject.sum() == 3


def test_holm_wikipedia_example() -> None:
    # Holm-Bonferroni method, Wikipedia "Example": four hypotheses with p = 0.01, 0.04, 0.03, 0.005 at
    # alpha = 0.05; Holm rejects H1 and H4 only. Adjusted p by hand: 4*0.005 = 0.02, 3*0.01 = 0.03,
    # max(0.03, 2*0.03) = 0.06, max(0.06, 1*0.04) = 0.06.
    r = adjust_pvalues([0.01, 0.04, 0.03, 0.005])
    assert r.reject.tolist() == [True, False, False, True]
    assert r.pvalues == pytest.approx([0.03, 0.06, 0.06, 0.02])


def _holm_by_hand(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        adj[i] = min(1.0, running)
    return adj


def _bh_by_hand(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)[::-1]
    m = len(p)
    adj = np.empty(m)
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k
        running = min(running, m * p[i] / rank)
        adj[i] = running
    return adj


def test_adjustments_match_step_formulas() -> None:
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 25)])
    assert adjust_pvalues(p, method="holm").pvalues == pytest.approx(_holm_by_hand(p), abs=1e-12)
    assert adjust_pvalues(p, method="bh").pvalues == pytest.approx(_bh_by_hand(p), abs=1e-12)
    assert adjust_pvalues(p, method="none").pvalues == pytest.approx(p)


def test_default_is_holm_not_statsmodels_holm_sidak() -> None:
    p = [0.01, 0.02, 0.03, 0.04, 0.05]
    ours = adjust_pvalues(p).pvalues
    assert ours == pytest.approx(multipletests(p, method="holm")[1])
    assert not np.allclose(ours, multipletests(p)[1])  # statsmodels' default is Holm-Sidak


def test_adjust_nan_empty_invalid() -> None:
    r = adjust_pvalues([0.01, float("nan"), 0.04])
    assert np.isnan(r.pvalues[1]) and not r.reject[1] and r.m == 2
    assert r.pvalues[[0, 2]] == pytest.approx([0.02, 0.04])
    empty = adjust_pvalues([])
    assert empty.pvalues.size == 0 and empty.m == 0
    with pytest.raises(ValueError, match="method"):
        adjust_pvalues([0.1], method="sidak")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_pvalues([1.2])
