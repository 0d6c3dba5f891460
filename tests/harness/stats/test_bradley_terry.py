"""Bradley-Terry fit and online Elo (harness.stats._bradley_terry, ._elo)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from harness.stats import (
    ELO_SCALE,
    bradley_terry,
    bradley_terry_batch,
    bradley_terry_bootstrap,
    elo_expected_score,
    head_to_heads,
    online_elo,
    win_matrix,
)

# Agresti, A. (2002). Categorical Data Analysis, 2nd ed., Table 10.10 (p. 437): 1987 American League East,
# 13 games per pair; wins of the row team over the column team (the BradleyTerry2 R package's `baseball`
# data, home and away games summed).
TEAMS = ("Milwaukee", "Detroit", "Toronto", "New York", "Boston", "Cleveland", "Baltimore")
ROW_WINS = {
    ("Milwaukee", "Detroit"): 7, ("Milwaukee", "Toronto"): 9, ("Milwaukee", "New York"): 7,
    ("Milwaukee", "Boston"): 7, ("Milwaukee", "Cleveland"): 9, ("Milwaukee", "Baltimore"): 11,
    ("Detroit", "Toronto"): 7, ("Detroit", "New York"): 5, ("Detroit", "Boston"): 11,
    ("Detroit", "Cleveland"): 9, ("Detroit", "Baltimore"): 9, ("Toronto", "New York"): 7,
    ("Toronto", "Boston"): 7, ("Toronto", "Cleveland"): 8, ("Toronto", "Baltimore"): 12,
    ("New York", "Boston"): 6, ("New York", "Cleveland"): 7, ("New York", "Baltimore"): 10,
    ("Boston", "Cleveland"): 7, ("Boston", "Baltimore"): 12, ("Cleveland", "Baltimore"): 6,
}
# Agresti (2002) Table 10.11, column 3: ML estimates with Baltimore = 0 (also pinned, rounded to 2 decimals,
# in BradleyTerry2's tests/testthat/test-baseball.R).
AGRESTI_BETA = {"Milwaukee": 1.58, "Detroit": 1.44, "Toronto": 1.29, "New York": 1.25, "Boston": 1.11,
                "Cleveland": 0.68, "Baltimore": 0.0}


def _baseball() -> np.ndarray:
    w = np.zeros((7, 7))
    for (a, b), k in ROW_WINS.items():
        i, j = TEAMS.index(a), TEAMS.index(b)
        w[i, j], w[j, i] = k, 13 - k
    return w


def _glm_bt(w: np.ndarray) -> np.ndarray:
    """Second implementation: binomial GLM (logit) on difference coding, item 0 as reference, no intercept."""
    k = w.shape[0]
    rows, succ, tot = [], [], []
    for i in range(k):
        for j in range(i + 1, k):
            n = w[i, j] + w[j, i]
            if n == 0:
                continue
            x = np.zeros(k)
            x[i], x[j] = 1.0, -1.0
            rows.append(x[1:])
            succ.append(w[i, j] / n)
            tot.append(n)
    res = sm.GLM(np.array(succ), np.array(rows), family=sm.families.Binomial(),
                 var_weights=np.array(tot)).fit()
    theta = np.concatenate([[0.0], res.params])
    return theta - theta.mean()


def test_agresti_baseball_mle() -> None:
    fit = bradley_terry(_baseball(), TEAMS, l2=0.0)
    assert fit.converged
    relative = fit.theta - fit.theta[TEAMS.index("Baltimore")]
    for team, beta in AGRESTI_BETA.items():
        assert relative[TEAMS.index(team)] == pytest.approx(beta, abs=0.005), team
    assert fit.theta.mean() == pytest.approx(0.0, abs=1e-12)
    assert fit.elo == pytest.approx(fit.theta * 400 / math.log(10))


def test_mle_matches_statsmodels_glm() -> None:
    w = _baseball()
    assert bradley_terry(w, l2=0.0).theta == pytest.approx(_glm_bt(w), abs=1e-8)
    # fractional wins (ties as half) too
    w2 = w.copy()
    w2[0, 1] += 0.5
    w2[1, 0] += 0.5
    assert bradley_terry(w2, l2=0.0).theta == pytest.approx(_glm_bt(w2), abs=1e-8)


@pytest.mark.parametrize("l2", [0.1, 1.0])
def test_penalised_fit_matches_choix(l2: float) -> None:
    choix = pytest.importorskip("choix")
    w = _baseball()
    w[0, 6], w[6, 0] = 13, 0  # Milwaukee never lost to Baltimore: harmless, just less balanced
    data = [(i, j) for i in range(7) for j in range(7) for _ in range(int(w[i, j]))]
    # choix's penalty is alpha * sum(theta^2), ours (l2/2) * sum(theta^2)
    ref = choix.opt_pairwise(7, data, alpha=l2 / 2)
    assert bradley_terry(w, l2=l2).theta == pytest.approx(ref - ref.mean(), abs=1e-6)


def test_undefeated_candidate() -> None:
    w = np.array([[0, 5, 7], [0, 0, 3], [0, 2, 0]], dtype=float)  # item 0 never lost
    with pytest.raises(ValueError, match=r"undefeated: \[0\]"):
        bradley_terry(w, l2=0.0)
    fit = bradley_terry(w)  # default L2 keeps it finite
    assert np.all(np.isfinite(fit.theta)) and fit.converged
    assert fit.theta[0] > fit.theta[1] > fit.theta[2]
    assert fit.theta.mean() == pytest.approx(0.0, abs=1e-10)


def test_degenerate_inputs() -> None:
    one = bradley_terry(np.zeros((1, 1)), ["solo"])
    assert one.theta.tolist() == [0.0] and one.items == ("solo",)
    ties = np.full((3, 3), 2.5)
    np.fill_diagonal(ties, 0)
    assert bradley_terry(ties, l2=0.0).theta == pytest.approx(np.zeros(3), abs=1e-12)
    unplayed = bradley_terry(np.array([[0, 3, 0], [1, 0, 0], [0, 0, 0]], dtype=float))
    assert unplayed.theta[2] == pytest.approx(0.0, abs=1e-10)  # no games: stays at the prior mean
    with pytest.raises(ValueError, match="never compared"):
        bradley_terry(np.array([[0, 3, 0], [1, 0, 0], [0, 0, 0]], dtype=float), l2=0.0)
    with pytest.raises(ValueError, match="empty"):
        bradley_terry(np.zeros((0, 0)))
    with pytest.raises(ValueError, match="square"):
        bradley_terry(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="diagonal"):
        bradley_terry(np.eye(2))
    with pytest.raises(ValueError, match="names"):
        bradley_terry(np.zeros((2, 2)), ["a"])
    with pytest.raises(ValueError, match="l2"):
        bradley_terry(np.zeros((2, 2)), l2=-1.0)


def test_batch_equals_single_fits() -> None:
    rng = np.random.default_rng(0)
    mats = rng.integers(0, 9, size=(6, 5, 5)).astype(float)
    for m in mats:
        np.fill_diagonal(m, 0)
    theta = bradley_terry_batch(mats, l2=0.1)
    for b in range(6):
        assert theta[b] == pytest.approx(bradley_terry(mats[b], l2=0.1).theta, abs=1e-8)


def test_win_matrix_ties_as_half() -> None:
    rows = []
    for scen, (v, combined) in enumerate([("A", "A"), ("B", "B"), ("tie", "tie"), ("unscored", "unscored")]):
        for order in ("ab", "ba"):
            rows.append({"candidate_a": "X", "candidate_b": "Y", "scenario_id": f"s{scen}", "criterion": "c",
                         "order": order, "verdict": v, "combined": combined})
    items, w = win_matrix(head_to_heads(pd.DataFrame(rows)))
    assert items == ("X", "Y")
    assert w.tolist() == [[0.0, 1.5], [1.5, 0.0]]


def test_bootstrap_ci_reproducible() -> None:
    rng = np.random.default_rng(1)
    per = np.zeros((80, 3, 3))
    strength = np.array([0.8, 0.0, -0.8])
    for s in range(80):
        for i in range(3):
            for j in range(i + 1, 3):
                if rng.random() < 1 / (1 + np.exp(-(strength[i] - strength[j]))):
                    per[s, i, j] += 1
                else:
                    per[s, j, i] += 1
    a = bradley_terry_bootstrap(per, ["hi", "mid", "lo"], n_boot=200, rng=5)
    b = bradley_terry_bootstrap(per, ["hi", "mid", "lo"], n_boot=200, rng=5)
    assert np.array_equal(a.ci_low, b.ci_low)
    assert np.all(a.ci_low <= a.fit.theta) and np.all(a.fit.theta <= a.ci_high)
    assert a.ci_low[0] > a.ci_high[2]  # 1.6 logits apart over 80 scenarios: separated


# ----------------------------------------------------------------------------------------------------------
# Elo


def test_elo_expected_score_wikipedia_example() -> None:
    # Wikipedia, "Elo rating system", Mathematical details: a player rated 1613 meets players rated 1609,
    # 1477, 1388, 1586 and 1720; expected scores 0.51, 0.69, 0.79, 0.54, 0.35 (sum 2.88); scoring 2.5 with
    # K = 32 gives a new rating of 1613 + 32 * (2.5 - 2.88) = 1601.
    expected = [elo_expected_score(1613, r) for r in (1609, 1477, 1388, 1586, 1720)]
    rounded = [round(e, 2) for e in expected]
    assert rounded == [0.51, 0.69, 0.79, 0.54, 0.35]
    assert sum(rounded) == pytest.approx(2.88)  # the article adds the rounded values
    assert round(1613 + 32 * (2.5 - sum(expected))) == 1601  # 1601.3 unrounded


def _elo_reference(games: list[tuple[str, str, float]], k: float, initial: float) -> dict[str, float]:
    """Second implementation: dict-based loop straight from Elo's update rule."""
    r: dict[str, float] = {}
    for a, b, s in games:
        ra, rb = r.setdefault(a, initial), r.setdefault(b, initial)
        e = 1 / (1 + 10 ** ((rb - ra) / 400))
        r[a], r[b] = ra + k * (s - e), rb - k * (s - e)
    return r


def test_online_elo_matches_reference_and_conserves_points() -> None:
    rng = np.random.default_rng(2)
    names = ["p", "q", "r", "s"]
    games = []
    for _ in range(300):
        a, b = rng.choice(names, 2, replace=False)
        games.append((str(a), str(b), float(rng.choice([0.0, 0.5, 1.0]))))
    ours = online_elo([g[0] for g in games], [g[1] for g in games], [g[2] for g in games], k=16)
    ref = _elo_reference(games, 16, 1000)
    assert dict(zip(ours.items, ours.ratings, strict=True)) == pytest.approx(ref)
    assert ours.ratings.mean() == pytest.approx(1000.0)  # zero-sum updates
    first = online_elo(["a"], ["b"], [1.0], k=32)
    assert first.ratings.tolist() == pytest.approx([1016.0, 984.0])  # E = 0.5 at equal ratings
    tie = online_elo(["a", "b"], ["b", "a"], [0.5, 0.5])
    assert tie.ratings.tolist() == pytest.approx([1000.0, 1000.0])


def test_online_elo_is_order_dependent_and_validates() -> None:
    a = online_elo(["x", "x"], ["y", "y"], [1.0, 0.0], k=32)
    b = online_elo(["x", "x"], ["y", "y"], [0.0, 1.0], k=32)
    assert not np.allclose(a.ratings, b.ratings)
    assert online_elo([], [], [], items=["x"]).ratings.tolist() == [1000.0]
    with pytest.raises(ValueError, match="equal lengths"):
        online_elo(["x"], ["y", "z"], [1.0])
    with pytest.raises(ValueError, match="score_a"):
        online_elo(["x"], ["y"], [2.0])
    with pytest.raises(ValueError, match="itself"):
        online_elo(["x"], ["x"], [1.0])
    with pytest.raises(ValueError, match="scale"):
        elo_expected_score(1000, 1000, scale=0)
    assert ELO_SCALE == pytest.approx(173.7178, abs=1e-4)
