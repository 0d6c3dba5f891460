"""Synthetic verdict tables for the statistics tests (deterministic, no model calls).

``phase1_pair_counts`` builds integer pairwise outcome counts whose per-model average win rates equal the
paper's Phase-1 table (Beikzadeh et al. 2026, arXiv:2602.16053); ``verdict_rows`` turns any pairwise counts into a
verdict table with the
columns the judge stage writes, both presentation orders per head-to-head.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

PHASE1_MODELS: tuple[str, ...] = (
    "Base", "GPT-4o", "SFT_Empathy", "DPO_Empathy", "DPO_Soup", "Joint-Loss", "MODPO_Empathy",
)
# Beikzadeh et al. 2026, arXiv:2602.16053, Phase-1 table (average pairwise win rate in %). GPT-4o is read off the
# paper's scatter
# plot only ("~23", "~33.5"): the table does not list it, so those two targets are approximate.
PHASE1_WIN_RATES: dict[str, dict[str, float]] = {
    "empathy": {"Base": 11.5, "GPT-4o": 23.0, "SFT_Empathy": 20.9, "DPO_Empathy": 93.6, "DPO_Soup": 52.5,
                "Joint-Loss": 70.8, "MODPO_Empathy": 77.6},
    "safety": {"Base": 39.6, "GPT-4o": 33.5, "SFT_Empathy": 44.8, "DPO_Empathy": 47.8, "DPO_Soup": 58.4,
               "Joint-Loss": 62.7, "MODPO_Empathy": 62.6},
}
N_SCENARIOS = 600


def _bt_strengths(targets: np.ndarray, games: np.ndarray) -> np.ndarray:
    """Solve the Bradley-Terry score equations sum_j n_ij sigma(t_i - t_j) = R_i by coordinate root-finding.

    Independent of harness.stats (scipy's brentq, Gauss-Seidel sweeps), so the fixture does not rely on the
    code under test.
    """
    k = len(targets)
    theta = np.zeros(k)
    for _ in range(500):
        old = theta.copy()
        for i in range(k):
            others = [j for j in range(k) if j != i]
            n_i, t_others = games[i, others], theta[others].copy()

            def excess(t: float, n_i: np.ndarray = n_i, t_others: np.ndarray = t_others, i: int = i) -> float:
                return float(np.sum(n_i * expit(t - t_others)) - targets[i])

            theta[i] = brentq(excess, -40.0, 40.0)
        theta -= theta.mean()
        if np.max(np.abs(theta - old)) < 1e-12:
            break
    return theta


def phase1_pair_counts(criterion: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer ``wins[i, j]`` (i beat j) and ``ties[i, j]`` out of 600 head-to-heads per pair.

    Each model's wins summed over its 6 opponents are ``round(36 * target)`` (average win rate in % times
    6 opponents x 600 / 100), so every average equals the paper's value within 0.5/36 = 0.014 points.
    The head-to-heads left over (the paper's ties: 12,600 - sum of wins) are spread one per pair; the wins of
    each pair follow a Bradley-Terry split, rounded and then repaired so every row sum is exact.
    """
    targets = PHASE1_WIN_RATES[criterion]
    k = len(PHASE1_MODELS)
    row_wins = np.array([round(36 * targets[m]) for m in PHASE1_MODELS], dtype=int)
    n_ties = N_SCENARIOS * k * (k - 1) // 2 - int(row_wins.sum())
    assert 0 <= n_ties <= k * (k - 1) // 2, n_ties
    ties = np.zeros((k, k), dtype=int)
    for (i, j) in list(itertools.combinations(range(k), 2))[:n_ties]:
        ties[i, j] = ties[j, i] = 1
    games = N_SCENARIOS - ties
    np.fill_diagonal(games, 0)
    theta = _bt_strengths(row_wins.astype(float), games.astype(float))
    wins = np.zeros((k, k), dtype=int)
    for i, j in itertools.combinations(range(k), 2):
        wins[i, j] = int(round(games[i, j] * float(expit(theta[i] - theta[j]))))
        wins[j, i] = games[i, j] - wins[i, j]
    for _ in range(1000):  # move single wins between pairs until every row sum is exact
        err = wins.sum(axis=1) - row_wins
        if not err.any():
            break
        i, j = int(np.argmax(err)), int(np.argmin(err))
        if wins[i, j] > 0:
            wins[i, j] -= 1
            wins[j, i] += 1
        else:  # route through a third model
            m = next(m for m in range(k) if m not in (i, j) and wins[i, m] > 0 and wins[m, j] > 0)
            wins[i, m] -= 1
            wins[m, i] += 1
            wins[m, j] -= 1
            wins[j, m] += 1
    assert not (wins.sum(axis=1) - row_wins).any()
    return wins, ties


def verdict_rows(
    models: tuple[str, ...],
    counts: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    n_scenarios: int = N_SCENARIOS,
    crisis: int = 60,
    flip_share: float = 0.5,
    extra_unscored: dict[str, int] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """A verdict table realising the given pairwise counts, both orders per head-to-head.

    Args:
        models: candidate names; pair (i, j), i < j, is judged with candidate_a = models[i].
        counts: criterion -> (wins, ties) integer matrices over ``n_scenarios`` head-to-heads per pair.
        crisis: the first ``crisis`` scenarios have ``scenario_risk = "crisis"``.
        flip_share: share of ties produced by a position flip (A in one order, B in the other) rather than
            two tie verdicts; wins get an order-level tie in one order for every 10th win (still a win).
        extra_unscored: model -> number of extra scenarios (ids after ``n_scenarios``) where every pair
            involving that model is unscored in one order (so combined = unscored).
        seed: shuffles which scenarios carry which outcome.
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    label_of = {("ab", "A"): "A", ("ab", "B"): "B", ("ba", "A"): "B", ("ba", "B"): "A"}

    def emit(a: str, b: str, scen: int, crit: str, v_ab: str, v_ba: str, combined: str) -> None:
        risk = "crisis" if scen < crisis else "none"
        flip = v_ab != "unscored" and v_ba != "unscored" and v_ab != v_ba
        for order, v in (("ab", v_ab), ("ba", v_ba)):
            rows.append({
                "run": "synthetic", "judge_model": "mock/judge", "judge_kind": "llm",
                "judge_mode": "clinical", "criteria_set": "paper", "criteria_hash": "h0", "candidate_a": a,
                "candidate_b": b,
                "scenario_id": f"s{scen:04d}", "scenario_risk": risk, "persona_id": "", "criterion": crit,
                "order": order, "judge_label": label_of.get((order, v), v), "verdict": v,
                "unscored_reason": "parse_failure" if v == "unscored" else "", "combined": combined,
                "position_flip": flip, "len_a": 400 + 7 * (scen % 13), "len_b": 380 + 11 * (scen % 7),
                "stage2_log": "", "stage2_sample": "",
            })

    for crit, (wins, ties) in counts.items():
        for i, j in itertools.combinations(range(len(models)), 2):
            a, b = models[i], models[j]
            w_a, w_b, t = int(wins[i, j]), int(wins[j, i]), int(ties[i, j])
            assert w_a + w_b + t == n_scenarios, (crit, a, b)
            outcomes = ["A"] * w_a + ["B"] * w_b + ["tie"] * t
            perm = rng.permutation(n_scenarios)
            n_flip_ties = int(round(flip_share * t))
            tie_seen = 0
            for k, scen in enumerate(perm):
                o = outcomes[k]
                if o == "tie":
                    if tie_seen < n_flip_ties:
                        emit(a, b, int(scen), crit, "A", "B", "tie")
                    else:
                        emit(a, b, int(scen), crit, "tie", "tie", "tie")
                    tie_seen += 1
                elif k % 10 == 0:
                    emit(a, b, int(scen), crit, o, "tie", o)
                else:
                    emit(a, b, int(scen), crit, o, o, o)
            for model, n_extra in (extra_unscored or {}).items():
                if model in (a, b):
                    for e in range(n_extra):
                        emit(a, b, n_scenarios + e, crit, "A", "unscored", "unscored")
    return pd.DataFrame(rows)
