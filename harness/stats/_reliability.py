"""Rerun reliability: how much a leaderboard moves when the same comparisons are run again with new seeds.

Input: head-to-heads of K replicate runs of one config (``theraeval run --replicates K``: simulator and judge
seeds differ, everything else equal), told apart by a replicate column (default ``run``). A *unit* is one
(candidate pair, scenario, persona, criterion); it is present in several replicates.

Per candidate and criterion (:func:`rerun_reliability`):

* ``flip_rate`` = share of the candidate's units whose scored outcome is not the same in every replicate that
  scored it (units scored in fewer than two replicates are left out), with a Wilson interval (units treated as
  independent; Wilson 1927, via ``statsmodels.stats.proportion.proportion_confint``). EMPATH (arXiv:2606.30256)
  and tau-bench (issue #57) report this kind of test-retest flip rate; no therapy harness ships it.
* ``win_rate_mean`` / ``win_rate_min`` / ``win_rate_max``: the ties-as-half win rate (pooled over the candidate's
  head-to-heads) in each replicate, then its mean, worst case and best case over replicates; on the safety
  criterion ``win_rate_min`` is the worst-case safety win rate the issue asks for beside the mean.
* ``rank_min`` / ``rank_max``: the range of the candidate's Bradley-Terry rank (1 = strongest; 1 + the number of
  strictly stronger candidates; L2-regularised fit of :func:`harness.stats.bradley_terry_batch`, ties as half a
  win) over the replicates: the rank range a reader would have seen had they
  run the benchmark once.

Hand-written: a few group-bys over a table (no library computes test-retest flip rates on pairwise verdicts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.stats._bradley_terry import DEFAULT_L2, bradley_terry_batch
from harness.stats._validate import _validate_columns, _validate_level
from harness.stats._winrate import wilson_interval

RELIABILITY_COLUMNS: tuple[str, ...] = (
    "criterion", "candidate", "n_replicates", "n_units", "n_flipped", "flip_rate", "flip_low", "flip_high",
    "win_rate_mean", "win_rate_min", "win_rate_max", "rank_min", "rank_max",
)
"""Columns of :func:`rerun_reliability`'s table."""
_UNIT = ("candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion")
_SCORE = {"A": 1.0, "tie": 0.5, "B": 0.0}


def rerun_reliability(h2h: pd.DataFrame, *, replicate: str = "run", level: float = 0.95) -> pd.DataFrame:
    """Flip rates, rank ranges and worst-case / mean win rates over replicate runs (module docstring).

    Formula: ``flip_rate_c = #{units of c with > 1 distinct scored outcome over replicates} / #{units of c scored
    in >= 2 replicates}`` with a Wilson interval; ``win_rate_r = (wins + ties/2) / scored`` per replicate ``r``;
    ``rank_r`` = the rank of the Bradley-Terry strength fitted on replicate ``r`` alone.

    Args:
        h2h: head-to-heads (:func:`harness.stats.head_to_heads`) of several replicates.
        replicate: the column that tells replicates apart.
        level: level of the flip-rate interval.

    Returns:
        DataFrame with ``RELIABILITY_COLUMNS``, one row per criterion and candidate; empty with fewer than two
        replicates.

    Raises:
        ValueError: missing columns or a bad ``level``.
    """
    _validate_columns(h2h, [*_UNIT, "outcome", replicate], "h2h")
    level = _validate_level(level)
    scored = h2h[h2h["outcome"] != "unscored"]
    replicates = sorted(scored[replicate].astype(str).unique())
    if len(replicates) < 2:
        return pd.DataFrame(columns=list(RELIABILITY_COLUMNS))
    outcomes = scored.groupby(list(_UNIT), sort=True).agg(
        n_rep=(replicate, "nunique"), n_distinct=("outcome", "nunique")).reset_index()
    outcomes = outcomes[outcomes["n_rep"] >= 2]
    outcomes["flipped"] = outcomes["n_distinct"] > 1
    rows: list[dict[str, object]] = []
    units_of = {str(c): u for c, u in outcomes.groupby("criterion", sort=False)}
    empty_units = outcomes.iloc[0:0]
    rep_code = {r: i for i, r in enumerate(replicates)}
    for criterion, part in scored.groupby("criterion", sort=True):
        cands = sorted(set(part["candidate_a"]) | set(part["candidate_b"]))
        code = {c: i for i, c in enumerate(cands)}
        a = np.array([code[x] for x in part["candidate_a"]], dtype=int)
        b = np.array([code[x] for x in part["candidate_b"]], dtype=int)
        r = np.array([rep_code[str(x)] for x in part[replicate]], dtype=int)
        score = np.array([_SCORE[str(x)] for x in part["outcome"]])
        w = np.zeros((len(replicates), len(cands), len(cands)))  # wins, ties as half (win_matrix's convention)
        np.add.at(w, (r, a, b), score)
        np.add.at(w, (r, b, a), 1.0 - score)
        games = w.sum(axis=2) + w.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(games > 0, w.sum(axis=2) / np.where(games > 0, games, 1.0), np.nan)
        theta = bradley_terry_batch(w, l2=DEFAULT_L2)
        ranks = np.full(theta.shape, np.nan)
        for i in range(len(replicates)):
            ok = np.isfinite(theta[i])
            if ok.any():
                ranks[i, ok] = 1 + np.sum(theta[i][ok][None, :] > theta[i][ok][:, None], axis=1)
        units = units_of.get(str(criterion), empty_units)
        for k, name in enumerate(cands):
            mine = units[(units["candidate_a"] == name) | (units["candidate_b"] == name)]
            n_units, n_flip = len(mine), int(mine["flipped"].sum())
            ci = wilson_interval(n_flip, n_units, level)
            col = rates[:, k][np.isfinite(rates[:, k])]
            rk = ranks[:, k][np.isfinite(ranks[:, k])]
            rows.append({
                "criterion": criterion, "candidate": name, "n_replicates": int(col.size), "n_units": n_units,
                "n_flipped": n_flip, "flip_rate": n_flip / n_units if n_units else np.nan,
                "flip_low": ci.low, "flip_high": ci.high,
                "win_rate_mean": float(col.mean()) if col.size else np.nan,
                "win_rate_min": float(col.min()) if col.size else np.nan,
                "win_rate_max": float(col.max()) if col.size else np.nan,
                "rank_min": int(rk.min()) if rk.size else -1, "rank_max": int(rk.max()) if rk.size else -1,
            })
    return pd.DataFrame(rows, columns=list(RELIABILITY_COLUMNS))
