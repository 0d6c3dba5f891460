"""Symmetrical voting: persona rankings of N responses -> the best-vs-worst pair of a scenario and criterion.

Aggregation (the paper's "symmetrical weighted voting", Beikzadeh et al. 2026, arXiv:2602.16053, without the
bugs of its code):
for each scenario and criterion, every persona whose ranking of the N responses is VALID votes with weights
evenly spaced from +10 (best) to -10 (worst): `[10, 5, 0, -5, -10]` for N = 5 exactly, `[10, -10]` for N = 2,
`[10, 0, -10]` for N = 3, `[10, 10/3, -10/3, -10]` for N = 4 (in general `10 * (N - 1 - 2i) / (N - 1)` for
the i-th place, so the weights sum to 0). The candidate with the highest total is `chosen`, the lowest
`rejected`. There is NO pair (counted, with the reason) when

- no persona gave a valid ranking for that scenario and criterion (`no_valid_ranking`; the paper's code
  emitted response 1 vs response 5 here),
- two or more candidates tie exactly for best, or for worst (`tie`; never broken by position or name),
- the chosen and rejected texts are identical (`identical_responses`; nothing to learn).

Ties are exact: totals are summed in integer units (`N - 1 - 2i`) and only scaled afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

PAPER_WEIGHTS: tuple[float, ...] = (10.0, 5.0, 0.0, -5.0, -10.0)
NO_VALID = "no_valid_ranking"
TIE = "tie"
IDENTICAL = "identical_responses"


def _units(n: int) -> list[int]:
    if n < 2:
        raise ValueError(f"voting needs at least 2 responses, got {n}")
    return [n - 1 - 2 * i for i in range(n)]


def voting_weights(n: int) -> tuple[float, ...]:
    """Symmetrical voting weights for ranks 1..n: evenly spaced from +10 to -10 ([10, 5, 0, -5, -10] for n = 5)."""
    return tuple(10.0 * u / (n - 1) for u in _units(n))


def tally(rankings: Sequence[Sequence[str]], candidates: Sequence[str]) -> dict[str, float]:
    """Total votes per candidate over `rankings` (each a full ranking, best first) with `voting_weights`.

    Summed exactly in integer units and scaled once, so equal totals compare equal.
    """
    n = len(candidates)
    units = _units(n)
    total = dict.fromkeys(candidates, 0)
    for ranking in rankings:
        if sorted(ranking) != sorted(candidates):
            raise ValueError(f"ranking {list(ranking)} is not a permutation of {list(candidates)}")
        for place, name in enumerate(ranking):
            total[name] += units[place]
    return {c: 10.0 * v / (n - 1) for c, v in total.items()}


class Decision(NamedTuple):
    """Best vs worst of one scenario and criterion, or why there is no pair (`reason`, with `detail`)."""

    chosen: str | None
    rejected: str | None
    reason: str
    detail: str


def decide(totals: Mapping[str, float], n_votes: int) -> Decision:
    """The pair from vote totals: the unique best vs the unique worst; no pair without votes or on a tie."""
    if n_votes == 0 or not totals:
        return Decision(None, None, NO_VALID, "no persona gave a valid ranking")
    top, bottom = max(totals.values()), min(totals.values())
    best = sorted(c for c, v in totals.items() if v == top)
    worst = sorted(c for c, v in totals.items() if v == bottom)
    if len(best) > 1:
        return Decision(None, None, TIE, f"tie for best: {', '.join(best)} ({top:g})")
    if len(worst) > 1:
        return Decision(None, None, TIE, f"tie for worst: {', '.join(worst)} ({bottom:g})")
    return Decision(best[0], worst[0], "", "")
