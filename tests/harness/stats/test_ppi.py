"""Prediction-powered inference: known-truth simulations (coverage, width, power) and hand-checked formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.stats import (
    labels_for_width,
    ppi_bradley_terry,
    ppi_mean,
    rank_sets_from_normal,
    stratum_weights,
)


def _judge(y: np.ndarray, rng: np.random.Generator, accuracy: float, bias: float) -> np.ndarray:
    """A judge that copies the truth with ``accuracy`` and otherwise says "win" with probability ``bias``."""
    keep = rng.random(y.shape) < accuracy
    return np.where(keep, y, (rng.random(y.shape) < bias).astype(float))


def test_hand_example_matches_the_formula() -> None:
    # y = (1, 0, 1, 1), f = (1, 0, 0, 1) labelled; f_unlabelled = (1, 1, 0, 1, 0, 1)
    # lam = 1: theta = mean(f_u) + mean(y - f) = 4/6 + 1/4 = 0.916667
    # Var = var(f_u, ddof 1)/6 + var(y - f, ddof 1)/4 = (0.266667)/6 + (0.25)/4 = 0.044444 + 0.0625
    m = ppi_mean([1, 0, 1, 1], [1, 0, 0, 1], [1, 1, 0, 1, 0, 1], lam=1.0)
    assert m.estimate == pytest.approx(4 / 6 + 1 / 4)
    assert m.se == pytest.approx(math.sqrt(0.26666667 / 6 + 0.25 / 4), rel=1e-6)
    assert m.classical == pytest.approx(0.75)
    assert m.judge_only == pytest.approx(6 / 10)
    # lam = 0 is the clinician-only estimate and its standard error
    c = ppi_mean([1, 0, 1, 1], [1, 0, 0, 1], [1, 1, 0, 1, 0, 1], lam=0.0)
    assert c.estimate == pytest.approx(0.75)
    assert c.se == pytest.approx(c.classical_se)


def test_tuned_lambda_is_the_ppi_plus_plus_closed_form() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(80) < 0.6).astype(float)
    f = _judge(y, rng, 0.7, 0.5)
    fu = _judge((rng.random(400) < 0.6).astype(float), rng, 0.7, 0.5)
    m = ppi_mean(y, f, fu)
    expected = np.cov(y, f)[0, 1] / ((1 + 80 / 400) * np.var(fu, ddof=1))  # PPI++ Example 6.1
    assert m.lam == pytest.approx(np.clip(expected, 0, 1))
    assert m.estimate == pytest.approx(m.lam * fu.mean() + np.mean(y - m.lam * f))


def test_coverage_and_width_by_simulation() -> None:
    """500 seeded datasets, true win rate 0.6, a judge biased towards "win": the PPI++ interval covers 93-97%,
    is narrower than the clinician-only one; the judge-only interval misses the truth."""
    rng = np.random.default_rng(20)
    n, big_n, truth, reps = 100, 1000, 0.6, 500
    hits = naive_hits = 0
    widths, classical = [], []
    for _ in range(reps):
        y = (rng.random(n + big_n) < truth).astype(float)
        f = _judge(y, rng, 0.75, 0.9)
        m = ppi_mean(y[:n], f[:n], f[n:])
        hits += m.ci_low <= truth <= m.ci_high
        naive_hits += abs(m.judge_only - truth) <= 1.96 * m.judge_only_se
        widths.append(m.ci_high - m.ci_low)
        classical.append(2 * 1.96 * m.classical_se)
    assert 0.93 <= hits / reps <= 0.97
    assert naive_hits / reps < 0.5
    assert np.mean(widths) < 0.9 * np.mean(classical)


def test_stratified_weights_keep_coverage() -> None:
    """A packet-like design: 400 items, labels on 60 of the judge's "win" and 60 of its "loss" items (far from
    proportional), the judge term over all 400: weighted PPI covers 93-97%; the unweighted one is biased."""
    rng = np.random.default_rng(5)
    truth, reps, hits, unweighted_hits = 0.3, 500, 0, 0
    for _ in range(reps):
        y = (rng.random(400) < truth).astype(float)
        f = _judge(y, rng, 0.7, 0.5)
        win, loss = np.flatnonzero(f == 1), np.flatnonzero(f == 0)
        lab = np.concatenate([rng.choice(win, min(60, win.size), replace=False),
                              rng.choice(loss, 60, replace=False)])
        m = ppi_mean(y[lab], f[lab], f, strata=(f[lab], f), lam=1.0)
        assert m.estimate == pytest.approx(ppi_mean(y[lab], f[lab], f, weights=stratum_weights(f[lab], f),
                                                    lam=1.0).estimate)
        hits += m.ci_low <= truth <= m.ci_high
        u = ppi_mean(y[lab], f[lab], f, lam=1.0)
        unweighted_hits += u.ci_low <= truth <= u.ci_high
    assert 0.93 <= hits / reps <= 0.97
    assert unweighted_hits / reps < 0.9  # 83% with this seed: the over-sampled "loss" stratum biases it


def test_stratum_weights_formula_and_errors() -> None:
    # population: 8 x "a", 2 x "b" (shares 0.8, 0.2); labelled: 2 x "a", 2 x "b" (shares 0.5, 0.5)
    w = stratum_weights(["a", "a", "b", "b"], ["a"] * 8 + ["b"] * 2)
    assert w.tolist() == pytest.approx([1.6, 1.6, 0.4, 0.4])
    with pytest.raises(ValueError, match="do not occur"):
        stratum_weights(["c"], ["a"])


def test_labels_for_width_reaches_the_target() -> None:
    """Plan n from a large pilot (so A and B are nearly the truth), then simulate with that n: the mean width
    lands on the target; the formula inverts ``width(n) = 2 z sqrt(A/N + B/n)``."""
    rng = np.random.default_rng(8)
    y = (rng.random(3000) < 0.5).astype(float)
    f = _judge(y, rng, 0.8, 0.5)
    pilot = ppi_mean(y[:2000], f[:2000], f[2000:], lam=1.0)
    target = 2.0 * (pilot.ci_high - pilot.ci_low)
    need = labels_for_width(pilot.var_imputed, pilot.var_rectifier, 1000, target)
    width = 2 * 1.959964 * math.sqrt(pilot.var_imputed / 1000 + pilot.var_rectifier / need)
    assert width <= target < 2 * 1.959964 * math.sqrt(pilot.var_imputed / 1000 + pilot.var_rectifier / (need - 1))
    assert 50 < need < 2000
    widths = []
    for _ in range(300):
        yy = (rng.random(int(need) + 1000) < 0.5).astype(float)
        ff = _judge(yy, rng, 0.8, 0.5)
        m = ppi_mean(yy[: int(need)], ff[: int(need)], ff[int(need):], lam=1.0)
        widths.append(m.ci_high - m.ci_low)
    assert np.mean(widths) == pytest.approx(target, rel=0.05)
    assert labels_for_width(1.0, 0.1, 10, 0.01) == math.inf  # the judge side alone is too wide
    with pytest.raises(ValueError, match="target_width"):
        labels_for_width(1.0, 0.1, 10, 0.0)


def test_input_errors() -> None:
    with pytest.raises(ValueError, match="same length"):
        ppi_mean([1, 0], [1], [1, 0])
    with pytest.raises(ValueError, match="lam"):
        ppi_mean([1, 0], [1, 0], [1, 0], lam=2.0)
    with pytest.raises(ValueError, match="distinct item"):
        ppi_bradley_terry([[0, 0]], [1], [1], [[0, 1]], [1], ["a", "b"])


def _bt_data(rng: np.random.Generator, theta: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = theta.shape[0]
    i = rng.integers(0, k, n)
    j = (i + rng.integers(1, k, n)) % k
    y = (rng.random(n) < 1 / (1 + np.exp(-(theta[i] - theta[j])))).astype(float)
    f = _judge(y, rng, 0.7, 0.5)
    f = np.where(i == 0, np.maximum(f, rng.random(n) < 0.4), f)  # the judge favours item 0
    return np.c_[i, j], y, f


def test_bradley_terry_coverage_by_simulation() -> None:
    """500 datasets, K = 3, a judge that favours item 0: each strength's interval covers 93-97%; the
    judge-only fit is biased for item 0; the rank sets from the PPI covariance cover the true ranking."""
    rng = np.random.default_rng(11)
    theta = np.array([0.0, 0.5, -0.5])
    truth = theta - theta.mean()
    reps, n, big_n = 500, 120, 600
    hits = np.zeros(3)
    judge_bias, rank_hits = [], 0
    for _ in range(reps):
        pairs, y, f = _bt_data(rng, theta, n + big_n)
        fit = ppi_bradley_terry(pairs[:n], y[:n], f[:n], pairs[n:], f[n:], ["a", "b", "c"])
        hits += (fit.ci_low <= truth) & (truth <= fit.ci_high)
        judge_bias.append(fit.judge_only[0] - truth[0])
        ranks = rank_sets_from_normal(fit.theta, fit.cov, level=0.95, n_draws=500, rng=rng)
        true_rank = np.array([2, 1, 3])
        rank_hits += bool(np.all((ranks.best <= true_rank) & (true_rank <= ranks.worst)))
    assert np.all((hits / reps >= 0.93) & (hits / reps <= 0.97)), hits / reps
    assert np.mean(judge_bias) > 0.15
    assert rank_hits / reps >= 0.93


def test_bradley_terry_lambda_zero_is_the_clinician_fit() -> None:
    rng = np.random.default_rng(2)
    pairs, y, f = _bt_data(rng, np.array([0.3, 0.0, -0.3]), 400)
    fit = ppi_bradley_terry(pairs[:100], y[:100], f[:100], pairs[100:], f[100:], ["a", "b", "c"], lam=0.0)
    np.testing.assert_allclose(fit.theta, fit.classical, atol=1e-6)
    np.testing.assert_allclose(fit.se, fit.classical_se, rtol=1e-6)
    assert fit.theta.sum() == pytest.approx(0.0, abs=1e-9)
