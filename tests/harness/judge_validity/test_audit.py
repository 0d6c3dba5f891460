"""shortcut_audit on hand-derived examples (arithmetic in the comments); no encoder."""

from __future__ import annotations

from harness.judge_validity import shortcut_audit
from harness.judge_validity._audit import opening
from harness.reward_heads import CONTEXT_MISMATCH, CONTRAST, RewardHeadPair
from harness.reward_heads._pairs import Split


def _pair(n: int, chosen: str, rejected: str, split: Split = "train", kind: str = CONTRAST) -> RewardHeadPair:
    return RewardHeadPair(id=f"p{n}", context_id=f"c{n % 7}", context="I feel low.", criterion="empathy",
                          chosen=chosen, rejected=rejected, split=split, kind=kind)


def test_trivial_rules_question_marks_lengths_and_openings() -> None:
    pairs = [
        _pair(1, "What happened?", "Cheer up."),  # chosen longer (14 > 9 chars) and the only one with "?"
        _pair(2, "Ok.", "Why? Really?"),  # rejected longer (12 > 3) and has 2 "?"
        _pair(3, "Same length", "Same-length"),  # 11 = 11 chars, no "?": every rule ties (credit 0.5)
    ]
    a = shortcut_audit(pairs)
    # longer wins: pair 1 right (1), pair 2 wrong (0), pair 3 tie (0.5): 1.5 / 3 = 0.5; shorter wins mirrors it
    assert (a.longer_wins, a.shorter_wins) == (0.5, 0.5)
    # more "?" wins: 1 + 0 + 0.5 = 1.5 / 3
    assert a.more_questions_wins == 0.5
    assert (a.only_chosen_asks, a.only_rejected_asks) == (1 / 3, 1 / 3)
    # within 25%: 9/14 = 0.64 no, 3/12 = 0.25 no, 11/11 yes
    assert a.length_balanced == 1 / 3
    assert a.openings[1]["same"] == (1, 1)  # "Same-length" splits at the hyphen
    assert a.openings[2]["what happened"] == (1, 0)
    assert a.bow_test is None and a.bow_test_per_criterion is None  # fewer than 50 pairs: not fitted
    assert a.n_pairs == 3 and a.n_test == 0


def test_opening_normalises_case_apostrophes_and_punctuation() -> None:
    assert opening("I\u2019m SO sorry, truly.", 2) == "i'm so"
    assert opening("Hi", 2) == ""


def test_side_markers_flag_an_opening_used_by_one_side_only() -> None:
    stock = [_pair(i, f"Thank you for saying this {i}.", f"Try harder {i}.") for i in range(6)]
    even = [_pair(10 + i, f"You need rest {i}." if i % 2 else f"Look, {i}.", f"You need to stop {i}." if i % 2
                  else f"Well, {i}.") for i in range(6)]
    a = shortcut_audit(stock + even)
    flagged = {o for o, _, _ in a.side_markers()}
    # "thank you" opens 6 chosen and 0 rejected replies (6 >= 6 uses, share 1.0 > 0.75); "try harder" 0:6 likewise
    assert {"thank", "thank you", "try", "try harder"} <= flagged
    # "you need" opens 3 chosen and 3 rejected replies: balanced, not a marker
    assert a.openings[2]["you need"] == (3, 3)
    assert "you need" not in flagged
    assert "'thank you' 6:0" in a.format()


def test_bag_of_words_is_fitted_on_train_and_scored_on_test() -> None:
    # 40 train pairs where "gentle" marks the chosen reply; 20 test pairs where the marker is reversed.
    # A model fitted on train only must score 0 on this test split (1 if it had peeked at the test labels).
    train = [_pair(i, f"gentle reply number {i}", f"harsh reply number {i}") for i in range(40)]
    test = [_pair(100 + i, f"harsh answer {i}", f"gentle answer {i}", split="test") for i in range(20)]
    a = shortcut_audit(train + test)
    assert a.bow_test == 0.0
    assert a.bow_test_per_criterion == 0.0
    same = [_pair(100 + i, f"gentle answer {i}", f"harsh answer {i}", split="test") for i in range(20)]
    assert shortcut_audit(train + same).bow_test == 1.0


def test_bag_of_words_is_reported_per_pair_kind() -> None:
    # Train as above ("gentle" marks the chosen reply). Test: 10 contrast pairs that follow the marker (all right: 1.0)
    # and 10 mirrored pairs of another kind, "gentle i" over "harsh i" and then "harsh i" over "gentle i": each
    # mirror gets one right and one wrong, 5 / 10 = 0.5. Pooled: (10 + 5) / 20 = 0.75.
    train = [_pair(i, f"gentle reply number {i}", f"harsh reply number {i}") for i in range(40)]
    same = [_pair(100 + i, f"gentle answer {i}", f"harsh answer {i}", split="test") for i in range(10)]
    mirrored = [_pair(200 + 2 * i + k, *((f"gentle answer {i}", f"harsh answer {i}")[::1 - 2 * k]), split="test",
                      kind=CONTEXT_MISMATCH) for i in range(5) for k in (0, 1)]
    a = shortcut_audit(train + same + mirrored)
    assert a.bow_test_by_kind == {CONTRAST: (1.0, 1.0), CONTEXT_MISMATCH: (0.5, 0.5)}
    assert a.bow_test == a.bow_test_per_criterion == 0.75
    assert "on context_mismatch test pairs: one model 0.500" in a.format()
    assert len(shortcut_audit(train + same).bow_test_by_kind) == 1  # one kind: nothing more to report
