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

from collections.abc import Sequence
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
