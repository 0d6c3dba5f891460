"""Exact binomial test for any null proportion, the Clopper-Pearson interval, and the standard error of a win rate.

* :func:`binomial_test`: ``H0: p = p0`` for ``k`` successes in ``n`` trials, by ``scipy.stats.binomtest``. The
  two-sided p-value sums the probabilities of every outcome no more likely than the observed one (with a
  relative tolerance of 1e-7), the convention of R ``binom.test`` [1] that scipy follows; ``alternative="less"`` /
  ``"greater"`` are the one-sided tails. The interval is Clopper-Pearson [2] (``proportion_ci(method="exact")``):
  two-sided at ``level`` for a two-sided test, one-sided (``[0, u]`` / ``[l, 1]``) for a one-sided test, as
  R prints it.
* :func:`clopper_pearson_interval`: ``[B(a/2; k, n - k + 1), B(1 - a/2; k + 1, n - k)]`` with ``B`` the beta
  quantile, 0 at ``k = 0`` and 1 at ``k = n`` [2].
* :func:`win_rate_se`: the AlpacaEval convention [3]: every head-to-head scores 1 (win), 0.5 (tie; 0 with
  ``ties_as="zero"``) or 0 (loss); the win rate is their mean and its standard error the sample standard
  deviation (``ddof = 1``) over ``sqrt(n)`` (pandas ``sem``, as AlpacaEval's ``standard_error``); the interval is
  the normal ``estimate +- z se`` (not truncated, as AlpacaEval reports ``win_rate +- se``). It ignores the
  clustering of head-to-heads within scenarios; the leaderboard's scenario bootstrap does not.

Degenerate case ``n = 0``: no evidence, p-value 1.0 and NaN estimate / interval (as :func:`mcnemar_test`).

References:
    [1] R Core Team, ``binom.test`` (stats package) documentation; Clopper & Pearson via ``binom.test``'s
        ``conf.int``. https://stat.ethz.ch/R-manual/R-devel/library/stats/html/binom.test.html
    [2] Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in the case
        of the binomial. Biometrika 26(4), 404-413. https://doi.org/10.1093/biomet/26.4.404
    [3] Dubois, Y. et al. (2024). Length-controlled AlpacaEval. arXiv:2404.04475; github.com/tatsu-lab/alpaca_eval
        (``metrics.pairwise_to_winrate``: ``win_rate`` and ``standard_error``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy.stats import binomtest, norm

from harness.stats._validate import _validate_choice, _validate_count, _validate_level, _validate_probability
from harness.stats._winrate import Interval

Alternative = Literal["two-sided", "less", "greater"]
BINOMIAL_ALTERNATIVES: tuple[str, ...] = ("two-sided", "less", "greater")


@dataclass(frozen=True)
class BinomialTest:
    """An exact binomial test with its Clopper-Pearson interval."""

    successes: int
    n: int
    p0: float
    alternative: str
    estimate: float
    """``successes / n``; NaN when ``n = 0``."""
    pvalue: float
    ci_low: float
    ci_high: float
    level: float


@dataclass(frozen=True)
class WinRateSE:
    """A win rate with its standard error (AlpacaEval convention) and normal interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    wins: float
    ties: float
    losses: float
    n: float
    ties_as: str
    level: float


def _int_count(value: float, name: str) -> int:
    return int(_validate_count(value, name))


def binomial_test(
    successes: int, n: int, p0: float = 0.5, *, alternative: Alternative = "two-sided", level: float = 0.95
) -> BinomialTest:
    """Exact binomial test of ``H0: p = p0`` and the Clopper-Pearson interval (conventions: module docstring).

    Example (R ``?binom.test``, Mendel's peas): 682 of 925 with ``p0 = 3/4`` -> p = 0.3825, 95% interval
    [0.7076683, 0.7654066].

    Raises:
        ValueError: counts not whole numbers >= 0, ``successes > n``, ``p0`` outside [0, 1], an unknown
            alternative or ``level`` outside (0, 1).
    """
    k, total = _int_count(successes, "successes"), _int_count(n, "n")
    if k > total:
        raise ValueError(f"`successes` ({successes}) cannot exceed `n` ({n})")
    p = _validate_probability(p0, "p0")
    _validate_choice(alternative, "alternative", BINOMIAL_ALTERNATIVES)
    level = _validate_level(level)
    if total == 0:
        return BinomialTest(k, total, p, alternative, math.nan, 1.0, math.nan, math.nan, level)
    res = binomtest(k, total, p, alternative=alternative)
    ci = res.proportion_ci(confidence_level=level, method="exact")
    return BinomialTest(k, total, p, alternative, k / total, float(res.pvalue), float(ci.low), float(ci.high), level)


def clopper_pearson_interval(successes: int, n: int, level: float = 0.95) -> Interval:
    """Two-sided Clopper-Pearson ("exact") interval of ``successes / n`` [2]; ``Interval(nan, nan)`` when n = 0."""
    test = binomial_test(successes, n, 0.5, level=level)
    return Interval(test.ci_low, test.ci_high)


def win_rate_se(
    wins: float, ties: float, losses: float, *, ties_as: Literal["half", "zero"] = "half", level: float = 0.95
) -> WinRateSE:
    """Win rate, its standard error and a normal interval, AlpacaEval-style [3].

    With ``n = w + t + l`` and per-head-to-head scores ``x`` (1 / ``c`` / 0 with ``c`` = 0.5 or 0):
    ``p = (w + c t) / n``, ``se = sqrt((w (1 - p)^2 + t (c - p)^2 + l p^2) / (n - 1)) / sqrt(n)``,
    interval ``p +- z se``. ``n = 1`` has no SE (NaN); ``n = 0`` gives NaN throughout.

    Raises:
        ValueError: negative or non-whole counts, unknown ``ties_as``, ``level`` outside (0, 1).
    """
    w, t, lo = (_validate_count(v, name) for v, name in ((wins, "wins"), (ties, "ties"), (losses, "losses")))
    _validate_choice(ties_as, "ties_as", ("half", "zero"))
    level = _validate_level(level)
    n = w + t + lo
    if n == 0:
        return WinRateSE(math.nan, math.nan, math.nan, math.nan, w, t, lo, n, ties_as, level)
    c = 0.5 if ties_as == "half" else 0.0
    p = (w + c * t) / n
    if n < 2:
        return WinRateSE(p, math.nan, math.nan, math.nan, w, t, lo, n, ties_as, level)
    var = (w * (1 - p) ** 2 + t * (c - p) ** 2 + lo * p**2) / (n - 1)
    se = math.sqrt(var / n)
    z = float(norm.ppf(0.5 + level / 2))
    return WinRateSE(p, se, p - z * se, p + z * se, w, t, lo, n, ties_as, level)
