"""Online Elo ratings, for comparison with the Bradley-Terry fit.

Each game between ``a`` and ``b`` with score ``S_a`` (1 = a won, 0.5 = tie, 0 = a lost) updates [1]::

    E_a = 1 / (1 + 10 ** ((R_b - R_a) / scale))
    R_a <- R_a + K (S_a - E_a),    R_b <- R_b - K (S_a - E_a)

Conventions: initial rating 1000 for every item, ``scale`` = 400, ``K`` = 4 (the small K used for LLM
arenas, e.g. Chatbot Arena's online Elo [2]; chess uses 16-32); games are processed *in the order given*, so
the result depends on that order (the leaderboard sorts head-to-heads by scenario, persona, candidate pair).
Ties score 0.5. Unlike Bradley-Terry this is not a consistent estimator; it is reported only as a familiar
cross-check.

References:
    [1] Elo, A. E. (1978). The Rating of Chessplayers, Past and Present. Arco.
    [2] Zheng, L. et al. (2023). Judging LLM-as-a-judge with MT-Bench and Chatbot Arena. NeurIPS Datasets and
        Benchmarks. arXiv:2306.05685.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from harness.stats._validate import _validate_count

DEFAULT_K: float = 4.0
DEFAULT_INITIAL: float = 1000.0
DEFAULT_SCALE: float = 400.0


@dataclass(frozen=True)
class EloRatings:
    """Final online Elo ratings."""

    items: tuple[str, ...]
    ratings: np.ndarray
    k: float
    initial: float
    scale: float
    n_games: int


def elo_expected_score(r_a: float, r_b: float, *, scale: float = DEFAULT_SCALE) -> float:
    """Expected score of ``r_a`` against ``r_b``: ``1 / (1 + 10**((r_b - r_a)/scale))`` (Elo 1978)."""
    if scale <= 0:
        raise ValueError(f"`scale` must be > 0; got {scale}")
    return float(1.0 / (1.0 + 10.0 ** ((r_b - r_a) / scale)))


def online_elo(
    item_a: Sequence[str],
    item_b: Sequence[str],
    score_a: ArrayLike,
    *,
    items: Sequence[str] | None = None,
    k: float = DEFAULT_K,
    initial: float = DEFAULT_INITIAL,
    scale: float = DEFAULT_SCALE,
) -> EloRatings:
    """Run online Elo over games in the given order.

    Formula per game: ``E_a = 1 / (1 + 10**((R_b - R_a)/scale))``, ``R_a += k (S_a - E_a)``,
    ``R_b -= k (S_a - E_a)`` (Elo 1978; Chatbot Arena's online variant, Zheng et al. 2023).

    Args:
        item_a, item_b: the two players of each game.
        score_a: score of ``item_a`` per game: 1, 0.5 (tie) or 0.
        items: rating order of the output (default: sorted names); must include every player.
        k, initial, scale: K-factor, starting rating, logistic scale.

    Returns:
        :class:`EloRatings`. No games: every item keeps ``initial``.

    Raises:
        ValueError: unequal lengths, scores outside [0, 1], a self-game, ``k`` < 0 or ``scale`` <= 0.
    """
    a = [str(x) for x in item_a]
    b = [str(x) for x in item_b]
    s = np.asarray(score_a, dtype=float).reshape(-1)
    if not len(a) == len(b) == len(s):
        raise ValueError(
            f"item_a, item_b and score_a must have equal lengths; got {len(a)}, {len(b)}, {len(s)}")
    if np.any((s < 0) | (s > 1)) or np.any(np.isnan(s)):
        raise ValueError(f"`score_a` must be in [0, 1] (1 win, 0.5 tie, 0 loss); got {np.unique(s)[:5]}")
    _validate_count(k, "k", allow_fraction=True)
    if scale <= 0:
        raise ValueError(f"`scale` must be > 0; got {scale}")
    names = tuple(sorted(set(a) | set(b))) if items is None else tuple(items)
    pos = {name: i for i, name in enumerate(names)}
    missing = (set(a) | set(b)) - set(pos)
    if missing:
        raise ValueError(f"`items` lacks player(s) {sorted(missing)}")
    ratings = np.full(len(names), float(initial))
    for x, y, score in zip(a, b, s, strict=True):  # sequential by definition: each game sees the last ratings
        i, j = pos[x], pos[y]
        if i == j:
            raise ValueError(f"a game of {x!r} against itself")
        expected = 1.0 / (1.0 + 10.0 ** ((ratings[j] - ratings[i]) / scale))
        delta = k * (score - expected)
        ratings[i] += delta
        ratings[j] -= delta
    return EloRatings(names, ratings, float(k), float(initial), float(scale), len(s))


@dataclass(frozen=True)
class EloPeriod:
    """Ratings after one rating period (every game scored against the ratings at the start of the period)."""

    items: tuple[str, ...]
    before: np.ndarray
    after: np.ndarray
    expected: np.ndarray
    """Expected total score of each item over the period, from the ratings before it."""
    actual: np.ndarray
    """Actual total score of each item over the period."""
    games: np.ndarray
    """Games each item played in the period."""
    k: float
    scale: float


def elo_rating_period(
    ratings: Mapping[str, float],
    item_a: Sequence[str],
    item_b: Sequence[str],
    score_a: ArrayLike,
    *,
    k: float = DEFAULT_K,
    scale: float = DEFAULT_SCALE,
) -> EloPeriod:
    """Update *given* ratings over one rating period: ``R' = R + K (S - E)`` (Elo 1978 [1], FIDE practice).

    Unlike :func:`online_elo`, every game's expected score uses the ratings at the *start* of the period, so
    the result does not depend on game order: for each item ``S = sum of its scores``, ``E = sum over its games
    of 1 / (1 + 10 ** ((R_opponent - R) / scale))``, ``R' = R + k (S - E)``. Items without a game keep their rating.

    Example (Wikipedia "Elo rating system", "Mathematical details"): a player rated 1613 meets 1609, 1477, 1388,
    1586, 1720 and scores loss, draw, win, win, loss: ``E = 2.867`` (0.506 + 0.686 + 0.785 + 0.539 + 0.351),
    ``S = 2.5``, and with ``K = 32`` the new rating is ``1613 + 32 (2.5 - 2.867) = 1601``.

    Args:
        ratings: item -> rating before the period (every player must have one).
        item_a, item_b, score_a: the games (score of ``item_a``: 1, 0.5 or 0).
        k, scale: K-factor (>= 0) and logistic scale (> 0).

    Raises:
        ValueError: unequal lengths, scores outside [0, 1], a self-game, a player without a rating, a
            non-finite rating, ``k`` < 0 or ``scale`` <= 0.
    """
    a = [str(x) for x in item_a]
    b = [str(x) for x in item_b]
    s = np.asarray(score_a, dtype=float).reshape(-1)
    if not len(a) == len(b) == len(s):
        raise ValueError(f"item_a, item_b and score_a must have equal lengths; got {len(a)}, {len(b)}, {len(s)}")
    if np.any((s < 0) | (s > 1)) or np.any(np.isnan(s)):
        raise ValueError(f"`score_a` must be in [0, 1] (1 win, 0.5 tie, 0 loss); got {np.unique(s)[:5]}")
    _validate_count(k, "k", allow_fraction=True)
    if scale <= 0:
        raise ValueError(f"`scale` must be > 0; got {scale}")
    names = tuple(str(x) for x in ratings)
    before = np.array([float(ratings[x]) for x in ratings])
    if not np.isfinite(before).all():
        raise ValueError("every rating must be a finite number")
    pos = {name: i for i, name in enumerate(names)}
    unrated = sorted((set(a) | set(b)) - set(pos))
    if unrated:
        raise ValueError(f"player(s) {unrated[:5]} have no rating; pass a rating for every player")
    expected = np.zeros(len(names))
    actual = np.zeros(len(names))
    games = np.zeros(len(names), dtype=np.int64)
    for x, y, score in zip(a, b, s, strict=True):
        i, j = pos[x], pos[y]
        if i == j:
            raise ValueError(f"a game of {x!r} against itself")
        e = 1.0 / (1.0 + 10.0 ** ((before[j] - before[i]) / scale))
        expected[i] += e
        expected[j] += 1.0 - e
        actual[i] += score
        actual[j] += 1.0 - score
        games[i] += 1
        games[j] += 1
    return EloPeriod(names, before, before + k * (actual - expected), expected, actual, games, float(k), float(scale))
