"""Judge-bias diagnostics: position flips, first-position preference, unscored rates, length bias.

* Position-flip rate (arena-hard-auto's two-game check): among head-to-heads judged in both orders with both
  verdicts scored, the share whose candidate-space verdicts differ. A position-blind judge has 0.
* First-position rate: among order rows whose judge label is A or B, the share labelled A (the response shown
  first); 0.5 means no position preference, tested with the exact sign test.
* Unscored rates: unscored order rows / all order rows, and unscored head-to-heads / all head-to-heads.
* Length bias, AlpacaEval-style [1] (simplified): for a candidate's scored head-to-heads, regress the
  candidate-space outcome ``y`` (1 win, 0.5 tie, 0 loss) on the normalised length difference
  ``x = (len_self - len_opp) / sd(len_a - len_b)`` (sd over the criterion's scored head-to-heads, ddof = 1)
  with a logistic GLM: ``logit E[y] = b0 + b1 x``. The *length-controlled win rate* is the predicted win
  probability at zero length difference, ``expit(b0)``; ``b1`` is the candidate's length coefficient.
  Ties enter as ``y = 0.5`` (fractional-response logit, Papke & Wooldridge [2]), so the LC rate is on the
  ties-as-half scale. Unlike AlpacaEval there is no ``tanh`` squashing and no instruction-difficulty term.
* Judge-level length coefficient (:func:`length_bias_coefficient`): one GLM per criterion of candidate_a's
  outcome on Bradley-Terry difference coding of the two candidates plus ``x``, so the length effect is
  estimated net of candidate strength (as arena-hard-auto's style control).

Fits use ``statsmodels`` GLM (Binomial family, logit link).

References:
    [1] Dubois, Y. et al. (2024). Length-controlled AlpacaEval: a simple way to debias automatic evaluators.
        arXiv:2404.04475.
    [2] Papke, L. E. & Wooldridge, J. M. (1996). Econometric methods for fractional response variables.
        J. Applied Econometrics 11, 619-632.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import expit
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from harness.stats._mcnemar import sign_test
from harness.stats._table import candidate_view, head_to_heads, judge_ids
from harness.stats._validate import _validate_columns

_SCORE = {"win": 1.0, "tie": 0.5, "loss": 0.0}


@dataclass(frozen=True)
class LengthControlledWinRate:
    """Logistic fit of outcome on normalised length difference."""

    raw_win_rate: float
    """Weighted mean outcome (ties as half)."""
    lc_win_rate: float
    """``expit(intercept)``: predicted win probability at zero length difference."""
    intercept: float
    coef: float
    """Length coefficient (logits per unit of normalised length difference); NaN when not estimable."""
    coef_se: float
    pvalue: float
    n: int
    converged: bool


def length_controlled_win_rate(
    outcome: ArrayLike, length_diff: ArrayLike, weights: ArrayLike | None = None
) -> LengthControlledWinRate:
    """Length-controlled win rate from outcomes and (already normalised) length differences.

    Formula: fit ``logit E[y] = b0 + b1 x`` by maximum (quasi-)likelihood with ``statsmodels`` GLM (Binomial,
    logit link, frequency weights); ``lc_win_rate = expit(b0)``, the predicted win probability at ``x = 0``
    (AlpacaEval's length control [1], simplified; fractional ``y`` as in Papke & Wooldridge [2]).

    Args:
        outcome: per head-to-head outcome in [0, 1] (1 win, 0.5 tie, 0 loss) or a grouped proportion.
        length_diff: normalised length difference per head-to-head (0 = equal length).
        weights: frequency weights (group sizes for grouped data); default 1.

    Returns:
        :class:`LengthControlledWinRate`. Degenerate cases (documented): no rows -> all NaN; constant outcome
        or constant ``length_diff`` -> ``coef`` NaN and ``lc_win_rate`` = ``raw_win_rate``; a fit that hits
        (quasi-)separation is returned with ``converged = False``.

    Raises:
        ValueError: unequal lengths, NaN, or outcomes outside [0, 1].
    """
    y = np.asarray(outcome, dtype=float).reshape(-1)
    x = np.asarray(length_diff, dtype=float).reshape(-1)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if not len(y) == len(x) == len(w):
        raise ValueError(f"outcome, length_diff and weights must have equal lengths; got {len(y)}, {len(x)}, "
                         f"{len(w)}")
    if np.any(np.isnan(y)) or np.any(np.isnan(x)) or np.any(np.isnan(w)):
        raise ValueError("outcome, length_diff and weights must not contain NaN; drop those rows first")
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"`outcome` must be in [0, 1]; got values {np.unique(y[(y < 0) | (y > 1)])[:5]}")
    if len(y) == 0 or w.sum() <= 0:
        nan = math.nan
        return LengthControlledWinRate(nan, nan, nan, nan, nan, nan, 0, False)
    raw = float(np.average(y, weights=w))
    if np.ptp(y) == 0 or np.ptp(x) == 0:
        intercept = math.log(raw / (1 - raw)) if 0 < raw < 1 else math.copysign(math.inf, raw - 0.5)
        return LengthControlledWinRate(raw, raw, intercept, math.nan, math.nan, math.nan, len(y), True)
    design = np.column_stack([np.ones_like(x), x])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = GLM(y, design, family=families.Binomial(), freq_weights=w).fit()
    separated = any("separation" in str(c.message).lower() for c in caught)
    converged = bool(res.converged) and not separated
    b0, b1 = (float(v) for v in res.params)
    return LengthControlledWinRate(raw, float(expit(b0)), b0, b1, float(res.bse[1]), float(res.pvalues[1]),
                                   len(y), converged)


def _scored_lengths(h2h: pd.DataFrame) -> pd.DataFrame:
    df = h2h[(h2h["outcome"] != "unscored")]
    if "len_a" not in df.columns or "len_b" not in df.columns:
        return df.iloc[0:0].assign(len_a=np.nan, len_b=np.nan)
    return df[df["len_a"].notna() & df["len_b"].notna()]


def length_bias(h2h: pd.DataFrame) -> pd.DataFrame:
    """Per criterion and candidate: raw and length-controlled win rates and the length coefficient.

    Formula: for each candidate, :func:`length_controlled_win_rate` of its outcomes (1 / 0.5 / 0) on
    ``x = (len_self - len_opp) / sd(len_a - len_b)``, the sd taken over the criterion's scored head-to-heads
    with lengths (ddof = 1). Reference: Dubois et al. (2024) [1].

    Args:
        h2h: head-to-heads from :func:`head_to_heads` (``len_a``/``len_b`` in characters).

    Returns:
        DataFrame with ``criterion``, ``candidate``, ``n``, ``mean_len_diff`` (characters),
        ``raw_win_rate``, ``lc_win_rate``, ``length_coef``, ``length_coef_se``, ``length_p``, ``converged``,
        ``len_scale`` (the sd used to normalise). Empty when no head-to-head has lengths.
    """
    _validate_columns(h2h, ["criterion", "candidate_a", "candidate_b", "outcome"], "h2h")
    rows: list[dict[str, object]] = []
    scored = _scored_lengths(h2h)
    for criterion, part in scored.groupby("criterion", sort=True):
        diff = (part["len_a"] - part["len_b"]).astype(float)
        scale = float(diff.std(ddof=1)) if len(diff) > 1 else math.nan
        view = candidate_view(part)
        for candidate, mine in view.groupby("candidate", sort=True):
            y = mine["result"].map(_SCORE).to_numpy(dtype=float)
            d = (mine["len_self"] - mine["len_opp"]).to_numpy(dtype=float)
            x = d / scale if scale and math.isfinite(scale) and scale > 0 else np.zeros_like(d)
            fit = length_controlled_win_rate(y, x)
            rows.append({"criterion": criterion, "candidate": candidate, "n": fit.n,
                         "mean_len_diff": float(d.mean()) if len(d) else math.nan,
                         "raw_win_rate": fit.raw_win_rate, "lc_win_rate": fit.lc_win_rate,
                         "length_coef": fit.coef, "length_coef_se": fit.coef_se, "length_p": fit.pvalue,
                         "converged": fit.converged, "len_scale": scale})
    columns = ["criterion", "candidate", "n", "mean_len_diff", "raw_win_rate", "lc_win_rate", "length_coef",
               "length_coef_se", "length_p", "converged", "len_scale"]
    return pd.DataFrame(rows, columns=columns)


def length_bias_coefficient(h2h: pd.DataFrame) -> pd.DataFrame:
    """Per criterion: the judge's length coefficient net of candidate strength.

    Model (style-controlled Bradley-Terry, as arena-hard-auto [1]; here a statsmodels Binomial GLM):
    ``logit E[y_a] = theta_a - theta_b + beta * x`` (Bradley-Terry difference coding with the first
    candidate as reference, no intercept), ``y_a`` = candidate_a's outcome (1/0.5/0), ``x`` = normalised
    length difference ``(len_a - len_b) / sd``. ``beta > 0`` means the judge prefers the longer response
    beyond what candidate strength explains.

    Returns:
        DataFrame with ``criterion``, ``n``, ``length_coef``, ``length_coef_se``, ``length_p``, ``converged``.
        Criteria with fewer than 3 usable head-to-heads or no length variation get NaN.
    """
    _validate_columns(h2h, ["criterion", "candidate_a", "candidate_b", "outcome"], "h2h")
    rows: list[dict[str, object]] = []
    for criterion, part in _scored_lengths(h2h).groupby("criterion", sort=True):
        diff = (part["len_a"] - part["len_b"]).to_numpy(dtype=float)
        y = part["outcome"].map({"A": 1.0, "tie": 0.5, "B": 0.0}).to_numpy(dtype=float)
        row: dict[str, object] = {"criterion": criterion, "n": len(part), "length_coef": math.nan,
                                  "length_coef_se": math.nan, "length_p": math.nan, "converged": False}
        scale = float(np.std(diff, ddof=1)) if len(diff) > 1 else 0.0
        if len(part) >= 3 and scale > 0 and np.ptp(y) > 0:
            items = sorted(set(part["candidate_a"]) | set(part["candidate_b"]))
            pos = {c: i for i, c in enumerate(items)}
            design = np.zeros((len(part), len(items)))
            design[np.arange(len(part)), part["candidate_a"].map(pos).to_numpy(dtype=int)] += 1.0
            design[np.arange(len(part)), part["candidate_b"].map(pos).to_numpy(dtype=int)] -= 1.0
            design = np.column_stack([design[:, 1:], diff / scale])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = GLM(y, design, family=families.Binomial()).fit()
            separated = any("separation" in str(c.message).lower() for c in caught)
            row.update(length_coef=float(res.params[-1]), length_coef_se=float(res.bse[-1]),
                       length_p=float(res.pvalues[-1]), converged=bool(res.converged) and not separated)
        rows.append(row)
    return pd.DataFrame(rows, columns=["criterion", "n", "length_coef", "length_coef_se", "length_p",
                                       "converged"])


def position_bias(verdicts: pd.DataFrame, h2h: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per judge and criterion: position-flip rate, first-position rate and unscored rates.

    Formulas: ``flip_rate = position_flips / both_scored`` (head-to-heads with both orders scored);
    ``first_position_rate = #label A / (#label A + #label B)`` over order rows, tested against 0.5 with the
    exact sign test; ``unscored_row_rate = unscored rows / rows``; ``unscored_h2h_rate = unscored
    head-to-heads / head-to-heads``. Reference: Zheng et al. (2023), MT-Bench position bias and the swap
    test, arXiv:2306.05685.

    Args:
        verdicts: the long verdict table (one row per order).
        h2h: its head-to-heads, if already computed (else computed here).

    Returns:
        DataFrame with ``judge``, ``criterion``, ``rows``, ``unscored_rows``, ``unscored_row_rate``,
        ``n_h2h``, ``unscored_h2h``, ``unscored_h2h_rate``, ``both_scored``, ``position_flips``,
        ``flip_rate`` (NaN when no head-to-head has both orders scored), ``first_position_rate`` (share of
        A among A/B judge labels; NaN without a ``judge_label`` column or A/B labels),
        ``first_position_p`` (exact sign test of 0.5).
    """
    if h2h is None:
        h2h = head_to_heads(verdicts)
    v = verdicts.assign(judge=judge_ids(verdicts))
    label = v["judge_label"] if "judge_label" in v.columns else pd.Series("", index=v.index)
    v = v.assign(_unscored=(v["verdict"] == "unscored").astype(int), _la=(label == "A").astype(int),
                 _lb=(label == "B").astype(int))
    rows_part = v.groupby(["judge", "criterion"]).agg(
        rows=("verdict", "size"), unscored_rows=("_unscored", "sum"), label_a=("_la", "sum"),
        label_b=("_lb", "sum"))
    both = h2h["verdict_ab"].isin(["A", "B", "tie"]) & h2h["verdict_ba"].isin(["A", "B", "tie"])
    h = h2h.assign(_both=both.astype(int), _flip=h2h["position_flip"].astype(int),
                   _uns=(h2h["outcome"] == "unscored").astype(int))
    h_part = h.groupby(["judge", "criterion"]).agg(
        n_h2h=("outcome", "size"), unscored_h2h=("_uns", "sum"), both_scored=("_both", "sum"),
        position_flips=("_flip", "sum"))
    out = rows_part.join(h_part, how="outer").fillna(0).reset_index()
    out["unscored_row_rate"] = out["unscored_rows"] / out["rows"].where(out["rows"] > 0)
    out["unscored_h2h_rate"] = out["unscored_h2h"] / out["n_h2h"].where(out["n_h2h"] > 0)
    out["flip_rate"] = out["position_flips"] / out["both_scored"].where(out["both_scored"] > 0)
    labelled = out["label_a"] + out["label_b"]
    out["first_position_rate"] = out["label_a"] / labelled.where(labelled > 0)
    out["first_position_p"] = [
        sign_test(int(a), int(b)).pvalue if a + b > 0 else math.nan
        for a, b in zip(out["label_a"], out["label_b"], strict=True)
    ]
    int_cols = ["rows", "unscored_rows", "n_h2h", "unscored_h2h", "both_scored", "position_flips"]
    out[int_cols] = out[int_cols].astype(int)
    return out[["judge", "criterion", "rows", "unscored_rows", "unscored_row_rate", "n_h2h", "unscored_h2h",
                "unscored_h2h_rate", "both_scored", "position_flips", "flip_rate", "first_position_rate",
                "first_position_p"]]
