"""Clinician-corrected leaderboard: prediction-powered win rates and Bradley-Terry from a few clinician labels.

Input: the run's head-to-heads (the judge's verdict on every one) and ``tables/clinician_labels`` (the
clinicians' mean score on the packet items, written by ``theraeval agreement``). Per criterion, the judge's
scores on all scored head-to-heads and the clinicians' scores on the labelled ones go through
:func:`harness.stats.ppi_mean` (per candidate: ties-as-half win rate pooled over its head-to-heads) and
:func:`harness.stats.ppi_bradley_terry` (strengths, then simultaneous rank sets from their covariance,
:func:`harness.stats.rank_sets_from_normal`).

Sampling: packets are drawn by balanced stratified sampling over (criterion, scenario risk, judge verdict)
(:func:`harness.calibration.stratified_items`), so each labelled item is weighted by its stratum's population
share over its labelled share (:func:`harness.stats.stratum_weights`, strata = risk x the judge's verdict on that
criterion). The judge's term of the estimator runs over *every* scored head-to-head (the population the packet
was drawn from, labelled ones included), the rectifier over the labelled ones, weighted: with the judge's verdict
among the strata this is the post-stratified (confusion-matrix) correction ``sum_h (N_h / N) mean_{labelled in h}
(Y)``, whatever the packet's over-sampling of rare verdicts. Using only the unlabelled head-to-heads for the
judge's term would be biased here, because the packet takes nearly all items of the rare strata. The intervals
are valid when, within a stratum, the labelled items are a random sample of its items; an item picked for another
criterion's stratum bends this slightly (docs/statistics.md). ``n_unlabeled`` in the table counts the scored
head-to-heads without a label.

Units: the packet's items. In a single-turn run with several judge personas the packet item is the scenario
(the personas' verdicts reduced by :func:`harness.stats.majority_vote`), so the head-to-heads are reduced the
same way before matching.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from harness.stats import (
    ELO_SCALE,
    RngLike,
    labels_for_width,
    majority_vote,
    ppi_bradley_terry,
    ppi_mean,
    rank_sets_from_normal,
    stratum_weights,
)

ITEM_COLUMNS: tuple[str, ...] = ("run", "candidate_a", "candidate_b", "scenario_id", "persona_id")
CLINICIAN_CORRECTED_COLUMNS: tuple[str, ...] = (
    "criterion", "candidate", "judge_only", "ppi", "ppi_low", "ppi_high", "lam", "clinician_only",
    "clinician_only_low", "clinician_only_high", "n_labeled", "n_unlabeled", "n_effective", "target_width",
    "labels_for_target", "more_labels_for_target", "bt_elo_judge_only", "bt_elo_ppi", "bt_elo_ppi_low",
    "bt_elo_ppi_high", "rank_ppi", "rank_ppi_best", "rank_ppi_worst",
)
"""Columns of the ``clinician_corrected`` table (win rates: ties as half, pooled over head-to-heads)."""
DEFAULT_TARGET_WIDTH: float = 0.10
"""Target full width of a win-rate interval (+-5 points) for the "labels needed" column."""
_SCORE = {"A": 1.0, "tie": 0.5, "B": 0.0}


def _units(h2h: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Scored head-to-heads at the packet's unit, with the clinician score where labelled."""
    per_persona = h2h["persona_id"].astype(str).ne("").any()
    if per_persona and labels["persona_id"].astype(str).eq("").all():
        h2h = majority_vote(h2h)
    scored = h2h[h2h["outcome"] != "unscored"].copy()
    scored["f"] = scored["outcome"].map(_SCORE).astype(float)
    lab = labels.assign(persona_id=labels["persona_id"].fillna("").astype(str))[
        [*ITEM_COLUMNS, "criterion", "clinician_score"]]
    for c in (*ITEM_COLUMNS, "criterion"):
        scored[c] = scored[c].astype(str)
        lab[c] = lab[c].astype(str)
    return scored.merge(lab, on=[*ITEM_COLUMNS, "criterion"], how="left")


def _rank_text(best: int, worst: int) -> str:
    return str(best) if best == worst else f"{best}\u2013{worst}"


def clinician_corrected(
    h2h: pd.DataFrame, labels: pd.DataFrame, *, level: float = 0.95,
    target_width: float = DEFAULT_TARGET_WIDTH, rng: RngLike = 0,
) -> pd.DataFrame:
    """Prediction-powered (PPI++) win rates and Bradley-Terry per criterion and candidate (module docstring).

    Args:
        h2h: head-to-heads (:func:`harness.stats.head_to_heads`).
        labels: ``tables/clinician_labels`` (:data:`harness.calibration.CLINICIAN_LABEL_COLUMNS`).
        level: interval level; target_width: full interval width for ``labels_for_target``.
        rng: seed of the rank sets' Monte Carlo critical value.

    Returns:
        DataFrame with ``CLINICIAN_CORRECTED_COLUMNS``; criteria with fewer than two labelled and two unlabelled
        scored head-to-heads are left out; a candidate with fewer than two of either has NaN win-rate columns.
    """
    if labels.empty:
        return pd.DataFrame(columns=list(CLINICIAN_CORRECTED_COLUMNS))
    units = _units(h2h, labels)
    gen = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    rows: list[dict[str, Any]] = []
    for criterion, part in units.groupby("criterion", sort=True):
        labelled = part["clinician_score"].notna().to_numpy()
        if labelled.sum() < 2 or (~labelled).sum() < 1:
            continue
        strata = (part["scenario_risk"].astype(str) + "/" + part["outcome"].astype(str)).to_numpy()
        a, b = part["candidate_a"].to_numpy(dtype=object), part["candidate_b"].to_numpy(dtype=object)
        f = part["f"].to_numpy(dtype=float)
        y = part["clinician_score"].to_numpy(dtype=float)
        items = sorted(set(a) | set(b))
        idx = {c: i for i, c in enumerate(items)}
        pairs = np.c_[[idx[x] for x in a], [idx[x] for x in b]]
        w_all = stratum_weights(strata[labelled], strata)
        # the judge term runs over every scored head-to-head (the population the packet was drawn from), the
        # rectifier over the labelled ones with stratum weights (module docstring)
        bt = ppi_bradley_terry(pairs[labelled], y[labelled], f[labelled], pairs, f, items, weights=w_all,
                               level=level)
        ranks = rank_sets_from_normal(bt.theta, bt.cov, items, level=level, rng=gen)
        for k, name in enumerate(items):
            side = (a == name) | (b == name)
            sign_a = a == name
            yk = np.where(sign_a, y, 1.0 - y)[side]
            fk = np.where(sign_a, f, 1.0 - f)[side]
            lk = labelled[side]
            row: dict[str, Any] = {c: math.nan for c in CLINICIAN_CORRECTED_COLUMNS}
            row.update({"criterion": criterion, "candidate": name, "n_labeled": int(lk.sum()),
                        "n_unlabeled": int((~lk).sum()), "judge_only": float(fk.mean()),
                        "target_width": target_width,
                        "bt_elo_judge_only": float(bt.judge_only[k] * ELO_SCALE),
                        "bt_elo_ppi": float(bt.theta[k] * ELO_SCALE),
                        "bt_elo_ppi_low": float(bt.ci_low[k] * ELO_SCALE),
                        "bt_elo_ppi_high": float(bt.ci_high[k] * ELO_SCALE),
                        "rank_ppi": _rank_text(int(ranks.best[k]), int(ranks.worst[k])),
                        "rank_ppi_best": int(ranks.best[k]), "rank_ppi_worst": int(ranks.worst[k])})
            if lk.sum() >= 2 and (~lk).sum() >= 1:
                m = ppi_mean(yk[lk], fk[lk], fk, strata=(strata[side][lk], strata[side]), level=level)
                z_half = (m.ci_high - m.ci_low) / 2.0 / m.se if m.se > 0 else math.nan
                need = labels_for_width(m.var_imputed, m.var_rectifier, m.n_unlabeled, target_width, level=level)
                row.update({"ppi": m.estimate, "ppi_low": m.ci_low, "ppi_high": m.ci_high, "lam": m.lam,
                            "clinician_only": m.classical,
                            "clinician_only_low": m.classical - z_half * m.classical_se,
                            "clinician_only_high": m.classical + z_half * m.classical_se,
                            "n_effective": m.n_effective, "labels_for_target": need,
                            "more_labels_for_target": max(0.0, need - m.n_labeled) if math.isfinite(need) else need})
            rows.append(row)
    return pd.DataFrame(rows, columns=list(CLINICIAN_CORRECTED_COLUMNS))
