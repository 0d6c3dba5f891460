"""Map positional judge labels to candidates and combine the two presentation orders."""

from __future__ import annotations

from typing import Literal

from harness.stats import combine_orders

Verdict = Literal["A", "B", "tie", "unscored"]
ORDERS: tuple[str, ...] = ("ab", "ba")


def to_candidate_space(label: str | None, order: str) -> Verdict:
    """`label` is what the judge said about the responses as shown; the result names candidate_a as "A".

    In order `ab` candidate_a is shown as Response A; in `ba` it is shown as Response B.
    """
    if label is None:
        return "unscored"
    if order == "ab" or label == "tie":
        return label  # type: ignore[return-value]
    return "B" if label == "A" else "A"


def combine(verdicts: list[Verdict]) -> Verdict:
    """Combine candidate-space verdicts of the orders judged (`harness.stats.combine_orders` holds the rule).

    Any unscored order makes the combination unscored (never a silent win); agreement keeps the verdict,
    A + tie leans A, and A vs B (a position flip) is a tie, so a judge that always answers "A" yields ties.
    """
    if not verdicts:
        return "unscored"
    return combine_orders(verdicts[0], verdicts[1] if len(verdicts) > 1 else None)  # type: ignore[return-value]


def position_flip(verdicts: list[Verdict]) -> bool:
    """True when two scored orders disagree in candidate space (the judge followed the position)."""
    scored = [v for v in verdicts if v != "unscored"]
    return len(scored) == 2 and scored[0] != scored[1]


def as_value(v: Verdict) -> float:
    """Numeric score of candidate_a: 1 win, 0.5 tie, 0 loss, NaN unscored (skipped by metrics)."""
    return {"A": 1.0, "tie": 0.5, "B": 0.0}.get(v, float("nan"))
