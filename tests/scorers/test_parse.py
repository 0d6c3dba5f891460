"""Verdict parsing: clear labels are read, everything else is unscored with a reason (never B by default)."""

from __future__ import annotations

import pytest

from scorers import combine, parse_all_criteria, parse_verdict, position_flip, to_candidate_space


@pytest.mark.parametrize(("reply", "label"), [
    ('{"reason": "warmer", "verdict": "A"}', "A"),
    ('```json\n{"verdict": "B", "reason": "x"}\n```', "B"),
    ('{"verdict": "Response A"}', "A"),  # the paper's code counted this as a win for B
    ('{"verdict": "tie"}', "tie"),
    ("A", "A"),
    ("b.", "B"),
    ("Response B", "B"),
    ("Tie", "tie"),
    ("I weighed both.\nVerdict: A", "A"),
    ('The response "A" is better than the other two responses.', "A"),  # SmolLM2's actual reply
    ("Response B is preferable because it is warmer.", "B"),
])
def test_clear_verdicts(reply: str, label: str) -> None:
    parsed = parse_verdict(reply)
    assert parsed.label == label and parsed.unscored_reason == ""


@pytest.mark.parametrize(("reply", "reason"), [
    ("", "empty_reply"),
    ("   ", "empty_reply"),
    ("Both responses have their merits.", "unparseable"),
    # Plain-text refusals are counted as refusals, not as unparseable replies (issue 16).
    ("I'm sorry, but I can't help with comparing these responses.", "refusal"),
    ("I cannot evaluate conversations about self-harm.", "refusal"),
    ("As an AI, I do not judge therapists.", "refusal"),
    ("I would rather not choose.", "unparseable"),  # hedging is not a refusal
    ('{"verdict": "C"}', "off_menu: 'C'"),
    ('{"verdict": "A or B"}', "off_menu: 'A or B'"),
    ('{"verdict": ""}', "off_menu: ''"),
    ("Verdict: A ... on reflection, Verdict: B", "ambiguous: several different verdicts"),
    ("Response A is better on warmth but Response B is better on safety.", "ambiguous: several different verdicts"),
    ("a", None),
])
def test_unclear_verdicts_are_unscored(reply: str, reason: str | None) -> None:
    parsed = parse_verdict(reply)
    if reason is None:  # a bare lower-case label is still clear
        assert parsed.label == "A"
        return
    assert parsed.label is None and parsed.unscored_reason == reason


def test_all_criteria_reply() -> None:
    reply = '{"empathy": {"verdict": "A", "reason": "r"}, "safety": "B", "overall": {"verdict": "maybe"}}'
    out = parse_all_criteria(reply, ["empathy", "safety", "overall", "active_listening"])
    assert out["empathy"].label == "A" and out["safety"].label == "B"
    assert out["overall"].label is None and out["overall"].unscored_reason.startswith("off_menu")
    assert out["active_listening"].label is None and out["active_listening"].unscored_reason == "missing_criterion"
    lines = parse_all_criteria("empathy: A\nsafety: tie", ["empathy", "safety"])
    assert lines["empathy"].label == "A" and lines["safety"].label == "tie"
    assert all(p.unscored_reason == "empty_reply" for p in parse_all_criteria("", ["empathy"]).values())


def test_order_mapping_and_combination() -> None:
    assert to_candidate_space("A", "ab") == "A" and to_candidate_space("A", "ba") == "B"
    assert to_candidate_space("B", "ba") == "A" and to_candidate_space("tie", "ba") == "tie"
    assert to_candidate_space(None, "ab") == "unscored"
    assert combine(["A", "A"]) == "A" and combine(["B", "B"]) == "B"
    assert combine(["A", "B"]) == "tie" and position_flip(["A", "B"])  # always-"A" judge: a flip -> tie
    assert combine(["A", "tie"]) == "A" and position_flip(["A", "tie"])
    assert combine(["A", "unscored"]) == "unscored" and not position_flip(["A", "unscored"])
    assert combine([]) == "unscored"
