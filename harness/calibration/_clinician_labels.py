"""Per-item clinician labels for prediction-powered inference (``tables/clinician_labels``).

The agreement tables summarise clinicians *against* the judge; prediction-powered inference
(:func:`harness.stats.ppi_mean`, used by the leaderboard) needs the labels themselves, one row per packet item and
criterion, in the verdict table's candidate space. ``clinician_score`` is the mean over the clinicians who rated
the item of ``1`` (``candidate_a`` preferred), ``0.5`` (tie) and ``0`` (``candidate_b`` preferred): the average
clinician's preference, so the corrected win rates estimate what the average clinician of the panel would say.
"""

from __future__ import annotations

import pandas as pd

from harness.calibration._ratings import ITEM_KEY

CLINICIAN_LABEL_COLUMNS: tuple[str, ...] = (
    *ITEM_KEY, "criterion", "scenario_risk", "clinician_score", "n_raters",
)
"""Columns of ``tables/clinician_labels``: the item (``ITEM_KEY``), criterion, risk, mean score, raters."""
_SCORE = {"A": 1.0, "tie": 0.5, "B": 0.0}


def clinician_labels(ratings: pd.DataFrame) -> pd.DataFrame:
    """One row per rated item and criterion: the clinicians' mean score of ``candidate_a`` (1 / 0.5 / 0).

    Args:
        ratings: :func:`harness.calibration.load_ratings` output (``verdict`` in the verdict table's space).

    Returns:
        DataFrame with ``CLINICIAN_LABEL_COLUMNS``, sorted by criterion and item.
    """
    df = ratings.assign(_score=ratings["verdict"].map(_SCORE))
    df = df[df["_score"].notna()]
    out = df.groupby([*ITEM_KEY, "criterion"], sort=True, dropna=False).agg(
        scenario_risk=("scenario_risk", "first"), clinician_score=("_score", "mean"),
        n_raters=("rater_id", "nunique")).reset_index()
    out["persona_id"] = out["persona_id"].fillna("").astype(str)
    out = out[list(CLINICIAN_LABEL_COLUMNS)].sort_values(["criterion", *ITEM_KEY], kind="stable")
    return out.reset_index(drop=True)
