"""Win rates: the paper's definition, ties-as-half, and the Wilson score interval.

Definitions (per criterion; ``w``, ``t``, ``l`` = scored head-to-heads won, tied, lost against one opponent):

* paper win rate ``w / (w + t + l)``: ties stay in the denominator and earn nothing, so the two candidates'
  rates plus the tie rate sum to 1 (github.com/mehrabbz/MODPO-Therapeutic-AI README: "465/120/15 ties -> 77.5% vs
  20.0%");
* ties-as-half win rate ``(w + t/2) / (w + t + l)``: the two candidates' rates sum to 1;
* a candidate's leaderboard number is the *mean over opponents* of its pairwise rate (Beikzadeh et al. 2026,
arXiv:2602.16053, "each
  model's average win rate computed across all pairwise head-to-head comparisons"); opponents with no scored
  head-to-head are left out of the mean.

Unscored head-to-heads are excluded from every denominator and counted in ``n_unscored``.

References:
    [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA 22,
        209-212. https://doi.org/10.1080/01621459.1927.10502953
    [2] Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of seven
        methods. Statistics in Medicine 17, 857-872 (method 3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from harness.stats._table import candidate_view
from harness.stats._validate import _validate_choice, _validate_count, _validate_level

TiesAs = Literal["zero", "half"]
_RESULTS = ("win", "tie", "loss", "unscored")


class Interval(NamedTuple):
    """A two-sided confidence interval; both ends NaN when undefined (no data)."""

    low: float
    high: float


@dataclass(frozen=True)
class WinRate:
    """A win rate with its interval and the counts behind it."""

    estimate: float
    """Win rate in [0, 1]; NaN when ``n`` = 0."""
    ci_low: float
    ci_high: float
    wins: float
    ties: float
    losses: float
    n: float
    """Scored head-to-heads (wins + ties + losses): the denominator."""
    n_unscored: float
    """Head-to-heads left out because the judge's verdict was unscored."""
    ties_as: str
    """``"zero"`` (paper: a tie earns 0 and stays in the denominator) or ``"half"``."""
    level: float


def wilson_interval(successes: float, n: float, level: float = 0.95) -> Interval:
    """Wilson score interval for a binomial proportion ``successes / n``.

    Formula ([1], [2] of the module docstring), with ``p = successes/n``, ``z = Phi^-1(1 - (1-level)/2)``::

        (p + z^2/(2n) +- z * sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)

    Computed by ``statsmodels.stats.proportion.proportion_confint(method="wilson")`` (whose *default* method
    is the Wald interval, so the method is always passed). ``successes`` may be fractional (ties as half);
    the interval then treats the half-credits as a binomial count, an approximation.

    Degenerate case: ``n`` = 0 gives ``Interval(nan, nan)``.

    Raises:
        ValueError: negative or non-finite counts, ``successes > n``, or ``level`` outside (0, 1).
    """
    s = _validate_count(successes, "successes", allow_fraction=True)
    total = _validate_count(n, "n", allow_fraction=True)
    level = _validate_level(level)
    if s > total:
        raise ValueError(f"`successes` ({successes}) cannot exceed `n` ({n})")
    if total == 0:
        return Interval(math.nan, math.nan)
    low, high = proportion_confint(s, total, alpha=1.0 - level, method="wilson")
    return Interval(float(low), float(high))


def win_rate(
    wins: float, ties: float, losses: float, n_unscored: float = 0, *, ties_as: TiesAs = "zero",
    level: float = 0.95,
) -> WinRate:
    """Win rate of one candidate over a set of scored head-to-heads, with a Wilson interval.

    ``ties_as="zero"`` (the paper): ``wins / (wins + ties + losses)``, Wilson interval on ``wins``.
    ``ties_as="half"``: ``(wins + ties/2) / (wins + ties + losses)``, Wilson interval on ``wins + ties/2``
    (approximate; the leaderboard reports a scenario bootstrap interval for this rate instead).

    Degenerate case: no scored head-to-head (``wins + ties + losses`` = 0) gives NaN estimate and interval.

    References: the paper's definition (Beikzadeh et al. 2026, arXiv:2602.16053); Wilson (1927); Newcombe (1998).

    Example (the paper's code README, github.com/mehrabbz/MODPO-Therapeutic-AI): 465 wins, 15 ties, 120 losses -> 0.775.
    """
    w = _validate_count(wins, "wins", allow_fraction=True)
    t = _validate_count(ties, "ties", allow_fraction=True)
    lo = _validate_count(losses, "losses", allow_fraction=True)
    u = _validate_count(n_unscored, "n_unscored", allow_fraction=True)
    _validate_choice(ties_as, "ties_as", ("zero", "half"))
    n = w + t + lo
    credit = w if ties_as == "zero" else w + 0.5 * t
    interval = wilson_interval(credit, n, level)
    estimate = credit / n if n > 0 else math.nan
    return WinRate(estimate, interval.low, interval.high, w, t, lo, n, u, ties_as, level)


def _counts(h2h: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    view = candidate_view(h2h)
    missing = [c for c in by if c not in view.columns]
    if missing:
        extra = h2h[missing].reset_index(drop=True)
        view = pd.concat([view, pd.concat([extra, extra], ignore_index=True)], axis=1)
    keys = [*by, "criterion", "candidate", "opponent"]
    counts = pd.crosstab([view[k] for k in keys], view["result"])
    for r in _RESULTS:
        if r not in counts.columns:
            counts[r] = 0
    counts = counts[list(_RESULTS)].reset_index()
    counts.columns.name = None
    return counts.rename(columns={"win": "wins", "tie": "ties", "loss": "losses", "unscored": "n_unscored"})


def pairwise_win_rates(h2h: pd.DataFrame, *, level: float = 0.95, by: Sequence[str] = ()) -> pd.DataFrame:
    """Per criterion and ordered pair (candidate, opponent): counts, paper and ties-as-half win rates.

    Formulas: ``win_rate = w / (w + t + l)`` (Beikzadeh et al. 2026, arXiv:2602.16053),
    ``win_rate_half = (w + t/2) / (w + t + l)``, Wilson interval on ``w`` (Wilson 1927).

    Args:
        h2h: head-to-heads from :func:`head_to_heads` (one row per head-to-head).
        level: Wilson interval level.
        by: extra columns of ``h2h`` to split by (e.g. a persona attribute merged in).

    Returns:
        DataFrame with ``*by``, ``criterion``, ``candidate``, ``opponent``, ``wins``, ``ties``, ``losses``,
        ``n_unscored``, ``n`` (scored), ``win_rate`` (paper), ``win_rate_half``, ``wilson_low``,
        ``wilson_high`` (on the paper rate). Rates are NaN where ``n`` = 0. Empty input gives an empty frame.
    """
    level = _validate_level(level)
    if h2h.empty:
        return pd.DataFrame(columns=[*by, "criterion", "candidate", "opponent", "wins", "ties", "losses",
                                     "n_unscored", "n", "win_rate", "win_rate_half", "wilson_low",
                                     "wilson_high"])
    counts = _counts(h2h, by)
    n = counts["wins"] + counts["ties"] + counts["losses"]
    counts["n"] = n
    with np.errstate(invalid="ignore", divide="ignore"):
        counts["win_rate"] = np.where(n > 0, counts["wins"] / n.where(n > 0, 1), np.nan)
        counts["win_rate_half"] = np.where(n > 0, (counts["wins"] + 0.5 * counts["ties"]) / n.where(n > 0, 1),
                                           np.nan)
    intervals = [wilson_interval(float(w), float(k), level) for w, k in zip(counts["wins"], n, strict=True)]
    counts["wilson_low"] = [iv.low for iv in intervals]
    counts["wilson_high"] = [iv.high for iv in intervals]
    return counts


def average_win_rates(h2h: pd.DataFrame, *, level: float = 0.95, by: Sequence[str] = ()) -> pd.DataFrame:
    """Per criterion and candidate: the paper's leaderboard number (mean over opponents of the pairwise rate).

    ``win_rate`` = mean over opponents with >= 1 scored head-to-head of ``wins/n`` (paper);
    ``win_rate_half`` = the same mean of ``(wins + ties/2)/n``. The Wilson interval (``wilson_low``,
    ``wilson_high``) is computed on the pooled counts ``sum(wins) / sum(n)``; it equals the interval of
    ``win_rate`` when every opponent has the same number of scored head-to-heads (``balanced``), and like any
    binomial interval it ignores the clustering of head-to-heads within scenarios (the leaderboard's bootstrap
    interval does not).

    Returns:
        DataFrame with ``*by``, ``criterion``, ``candidate``, ``win_rate``, ``wilson_low``, ``wilson_high``,
        ``win_rate_half``, ``wins``, ``ties``, ``losses``, ``n``, ``n_unscored``, ``n_opponents``,
        ``balanced``. A candidate with no scored head-to-head has NaN rates.
    """
    pair = pairwise_win_rates(h2h, level=level, by=by)
    keys = [*by, "criterion", "candidate"]
    if pair.empty:
        return pd.DataFrame(columns=[*keys, "win_rate", "wilson_low", "wilson_high", "win_rate_half", "wins",
                                     "ties", "losses", "n", "n_unscored", "n_opponents", "balanced"])
    scored = pair[pair["n"] > 0]
    means = scored.groupby(keys)[["win_rate", "win_rate_half"]].mean()
    sums = pair.groupby(keys)[["wins", "ties", "losses", "n", "n_unscored"]].sum()
    spread = scored.groupby(keys)["n"].agg(["size", "min", "max"])
    out = sums.join(means).join(spread)
    out["n_opponents"] = out["size"].fillna(0).astype(int)
    out["balanced"] = (out["min"] == out["max"]) & (out["n_opponents"] > 0)
    intervals = [wilson_interval(float(w), float(k), level)
                 for w, k in zip(out["wins"], out["n"], strict=True)]
    out["wilson_low"] = [iv.low for iv in intervals]
    out["wilson_high"] = [iv.high for iv in intervals]
    out = out.reset_index()
    return out[[*keys, "win_rate", "wilson_low", "wilson_high", "win_rate_half", "wins", "ties", "losses",
                "n", "n_unscored", "n_opponents", "balanced"]]
