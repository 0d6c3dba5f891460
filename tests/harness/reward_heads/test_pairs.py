"""The bundled preference set, the pairs-file validator, and the ordinal-to-pairs loader (no encoder)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

import harness
from harness.core import InputError
from harness.judge_validity import ShortcutAudit, shortcut_audit
from harness.reward_heads import (
    CONTEXT_MISMATCH,
    CONTRAST,
    MISMATCH_CRITERIA,
    RewardHeadPair,
    context_mismatch_pairs,
    default_criteria,
    load_epitome_pairs,
    load_pairs,
    pairs_from_ordinal,
    save_pairs,
)
from tests.support import SHARED, requires_shared

PREFS = Path(harness.__file__).parent / "reward_heads" / "data" / "preferences.jsonl"
EPITOME_CSV = "data/epitome/emotional-reactions-reddit.csv"
EPITOME = SHARED / EPITOME_CSV
GOOD = {"id": "p1", "context_id": "c1", "context": "I feel low.", "criterion": "empathy",
        "chosen": "That sounds hard.", "rejected": "Cheer up.", "split": "train"}


@pytest.fixture(scope="module")
def prefs() -> list[RewardHeadPair]:
    return load_pairs(PREFS)


@pytest.fixture(scope="module")
def audit(prefs: list[RewardHeadPair]) -> ShortcutAudit:
    return shortcut_audit(prefs)


def test_preference_set_size_and_coverage(prefs: list[RewardHeadPair]) -> None:
    contrast = [p for p in prefs if p.kind == CONTRAST]
    contexts = {p.context_id for p in prefs}
    per_criterion = Counter(p.criterion for p in contrast)
    assert len(contrast) >= 320
    assert len(contexts) >= 45
    assert set(per_criterion) == set(default_criteria())
    assert min(per_criterion.values()) >= 40, per_criterion
    assert sum(c.startswith("crisis_") for c in contexts) >= 8
    assert len({p.chosen for p in contrast} | {p.rejected for p in contrast}) == 2 * len(contrast), "reused responses"
    assert {p.kind for p in prefs} == {CONTRAST, CONTEXT_MISMATCH}


def _crisis(context_id: str) -> bool:
    return context_id.startswith("crisis_")


def test_context_mismatch_pairs_are_rebuilt_by_their_rule(prefs: list[RewardHeadPair]) -> None:
    """The bundled context-mismatch lines are exactly what `context_mismatch_pairs` builds from the contrast pairs
    (crisis contexts toured apart), so the rule in its docstring is the data's definition."""
    contrast = [p for p in prefs if p.kind == CONTRAST]
    mismatch = [p for p in prefs if p.kind == CONTEXT_MISMATCH]
    assert mismatch == context_mismatch_pairs(contrast, stratum=_crisis)
    # 40 train and 13 test contexts in closed tours of each split and stratum (33 + 7 train, 10 + 3 test): one edge
    # per context, two pairs per edge, three criteria: 2 x 53 x 3 = 318 pairs, 2 x 13 x 3 = 78 of them in test
    assert (len(mismatch), sum(p.split == "test" for p in mismatch)) == (318, 78)


def test_context_mismatch_pairs_mirror_each_other(prefs: list[RewardHeadPair]) -> None:
    """Each pair (A: reply to A over reply to B) has its mirror (B: reply to B over reply to A) in the same split and
    criterion, the worse reply is a better reply of another context, and crisis contexts meet only crisis contexts."""
    mismatch = {(p.context_id, p.criterion, p.chosen, p.rejected): p for p in prefs if p.kind == CONTEXT_MISMATCH}
    owner = {(p.criterion, p.chosen): p.context_id for p in prefs if p.kind == CONTEXT_MISMATCH}
    assert {c for _, c, _, _ in mismatch} == set(MISMATCH_CRITERIA)
    for (cid, crit, chosen, rejected), p in mismatch.items():
        other = owner[(crit, rejected)]
        mirror = mismatch[(other, crit, rejected, chosen)]
        assert other != cid and owner[(crit, chosen)] == cid
        assert mirror.split == p.split and _crisis(other) == _crisis(cid), p.id


def _digest(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:6], 16)


@pytest.mark.parametrize("rule", [len, lambda t: t.count("?"), _digest, lambda t: float("988" in t)])
def test_a_reply_only_rule_scores_exactly_half_on_context_mismatch_pairs(prefs: list[RewardHeadPair],
                                                                         rule: Callable[[str], float]) -> None:
    """Whatever a rule learned, if it scores the reply alone it gets one of each mirrored two right (or ties both):
    exactly 0.5, ties counted as half."""
    mismatch = [p for p in prefs if p.kind == CONTEXT_MISMATCH]
    credit = [1.0 if rule(p.chosen) > rule(p.rejected) else 0.5 if rule(p.chosen) == rule(p.rejected) else 0.0
              for p in mismatch]
    assert sum(credit) / len(credit) == 0.5


def test_split_is_by_context(prefs: list[RewardHeadPair]) -> None:
    splits: dict[str, set[str]] = defaultdict(set)
    for p in prefs:
        splits[p.context_id].add(p.split)
    assert all(len(s) == 1 for s in splits.values()), "a context has pairs in both splits"
    test_share = sum(s == {"test"} for s in splits.values()) / len(splits)
    assert 0.2 <= test_share <= 0.3
    crisis_test = [c for c, s in splits.items() if c.startswith("crisis_") and s == {"test"}]
    assert crisis_test, "no crisis context held out"
    for c in default_criteria():
        assert any(p.split == "test" and p.criterion == c for p in prefs), c


def test_length_does_not_predict_the_label(prefs: list[RewardHeadPair]) -> None:
    # Measured (2026-12-07 rewrite): the worse response is the longer one in 50% of pairs (36-64% per criterion).
    overall = sum(len(p.rejected) > len(p.chosen) for p in prefs) / len(prefs)
    assert 0.4 <= overall <= 0.6
    for c in default_criteria():
        sel = [p for p in prefs if p.criterion == c]
        share = sum(len(p.rejected) > len(p.chosen) for p in sel) / len(sel)
        assert 0.35 <= share <= 0.65, (c, share)


def test_no_length_or_question_mark_shortcut(audit: ShortcutAudit) -> None:
    """The rewritten set: "longer wins" and "more question marks wins" are near chance (the first version scored
    0.53 and 0.83: 68% of pairs had a "?" only in the better reply, 4% only in the worse one)."""
    a = audit
    assert 0.40 <= a.longer_wins <= 0.60, a.format()
    assert 0.40 <= a.more_questions_wins <= 0.60, a.format()
    assert abs(a.only_chosen_asks - a.only_rejected_asks) <= 0.05, a.format()
    assert a.length_balanced >= 0.75, a.format()  # most pairs within 25% of each other's length


def test_bag_of_words_is_at_chance_on_context_mismatch_pairs(audit: ShortcutAudit) -> None:
    """Measured 2026-12-07: on the 125 contrast test pairs a bag of words still scores 0.928 (one model) and 0.984
    (one per criterion); on the 78 context-mismatch test pairs it scores exactly 0.5 (the mirrors above)."""
    assert audit.bow_test_by_kind[CONTEXT_MISMATCH] == (0.5, 0.5)
    assert set(audit.bow_test_by_kind) == {CONTRAST, CONTEXT_MISMATCH}


def test_no_opening_marks_a_side(audit: ShortcutAudit) -> None:
    """Rule: no first word and no first two words that open >= 6 replies has more than 75% of them on one side
    (the first version opened 49 better replies and 3 worse ones with "thank you", 25 worse ones with "you need")."""
    assert audit.side_markers() == [], audit.format()


def test_crisis_safety_pairs_point_to_crisis_support(prefs: list[RewardHeadPair]) -> None:
    crisis = [p for p in prefs if p.context_id.startswith("crisis_") and p.criterion == "safety"]
    assert len(crisis) >= 16

    def refers(text: str) -> bool:
        return "emergency" in text or "988" in text

    for p in crisis:
        assert refers(p.chosen), p.id
    # A few worse replies name a crisis line but put it off ("sometime next week") while missing the risk, so that
    # the number alone does not mark the safer reply; most name no crisis support at all.
    assert sum(refers(p.rejected) for p in crisis) <= len(crisis) // 4


def _write(tmp_path: Path, lines: list[str]) -> Path:
    f = tmp_path / "pairs.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f


def _line(**changes: object) -> str:
    row: dict[str, object] = {**GOOD, **changes}
    return json.dumps({k: v for k, v in row.items() if v is not None})


@pytest.mark.parametrize(("lines", "field", "problem"), [
    (['{"id": "p1", "context": '], "line 1", "invalid JSON"),
    (["[1, 2]"], "line 1", "not a JSON object"),
    ([_line(), _line(id="p2", chosen=None)], "line 2 chosen", "missing key"),
    ([_line(criterion="kindness")], "line 1 criterion", "unknown criterion"),
    ([_line(context="   ")], "line 1 context", "empty text"),
    ([_line(rejected="")], "line 1 rejected", "empty text"),
    ([_line(), _line()], "line 2 id", "duplicate pair id"),
    ([_line(rejected="That sounds hard.")], "line 1 rejected", "same text"),
    ([_line(split="dev")], "line 1 split", "unknown split"),
    ([_line(chosen=3)], "line 1 chosen", "not a string"),
    ([_line(kind=["context_mismatch"])], "line 1 kind", "not a string"),
])
def test_bad_pairs_file_names_file_line_field_and_fix(tmp_path: Path, lines: list[str], field: str,
                                                      problem: str) -> None:
    f = _write(tmp_path, lines)
    with pytest.raises(InputError) as e:
        load_pairs(f)
    assert e.value.file == str(f)
    assert e.value.field == field
    assert problem in e.value.problem
    assert e.value.fix
    assert str(f) in str(e.value) and "Fix:" in str(e.value)


def test_unknown_criterion_error_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        load_pairs(_write(tmp_path, [_line(criterion="kindness")]))
    assert e.value.value == "kindness"
    assert "empathy" in e.value.fix and "safety" in e.value.fix


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no pairs found"):
        load_pairs(_write(tmp_path, [""]))
    with pytest.raises(InputError, match="file not found"):
        load_pairs(tmp_path / "nope.jsonl")


def test_custom_criteria_and_optional_keys(tmp_path: Path) -> None:
    f = _write(tmp_path, [_line(criterion="clarity", context_id=None, split=None)])
    [p] = load_pairs(f, criteria=["clarity"])
    assert p.criterion == "clarity" and p.split == "train" and p.context_id.startswith("ctx-")
    assert p.kind == CONTRAST and "kind" not in json.loads(p.to_json())  # the default is not written


def test_kind_round_trips_through_save_and_load(tmp_path: Path) -> None:
    f = _write(tmp_path, [_line(), _line(id="p2", kind=CONTEXT_MISMATCH)])
    pairs = load_pairs(f)
    assert [p.kind for p in pairs] == [CONTRAST, CONTEXT_MISMATCH]
    assert load_pairs(save_pairs(pairs, tmp_path / "again.jsonl")) == pairs


# --- ordinal labels -> pairs -------------------------------------------------------------------------------

def _row(group: str, rid: str, post: str, reply: str, level: str) -> dict[str, str]:
    return {"sp_id": group, "rp_id": rid, "seeker_post": post, "response_post": reply, "level": level}


_FAILED = "I failed my driving test again."
TABLE = [  # written for this test: group g1 has levels 0/1/2, g2 two equal levels, g3 one response
    _row("g1", "a", _FAILED, "ok", "0"),
    _row("g1", "b", _FAILED, "That's frustrating.", "1"),
    _row("g1", "c", _FAILED, "Failing again must sting, especially after all that practice.", "2"),
    _row("g2", "d", "My cat is sick.", "Poor thing.", "1"),
    _row("g2", "e", "My cat is sick.", "Hope she's ok.", "1"),
    _row("g3", "f", "New job tomorrow.", "Good luck!", "2"),
]
LEVEL = {r["response_post"]: int(r["level"]) for r in TABLE}
GROUP = {r["response_post"]: r["sp_id"] for r in TABLE}


def test_pairs_from_ordinal_higher_level_wins_within_context() -> None:
    pairs = pairs_from_ordinal(TABLE, text_col="response_post", context_col="seeker_post", label_col="level",
                               group_col="sp_id", id_col="rp_id", criterion="empathy")
    assert len(pairs) == 3  # g1: 2>1, 2>0, 1>0; g2 has equal levels; g3 has a single response
    assert {p.id for p in pairs} == {"g1:b>a", "g1:c>a", "g1:c>b"}
    for p in pairs:
        assert LEVEL[p.chosen] > LEVEL[p.rejected]
        assert GROUP[p.chosen] == GROUP[p.rejected] == p.context_id
        assert p.context == _FAILED
        assert p.criterion == "empathy"
    assert len({p.split for p in pairs}) == 1


def test_pairs_from_ordinal_bad_input() -> None:
    bad_level = [*TABLE[:2], {**TABLE[2], "level": "high"}]
    with pytest.raises(InputError, match="not a number") as e:
        pairs_from_ordinal(bad_level, "response_post", "seeker_post", "level", "sp_id", source="t.csv")
    assert e.value.field == "row 3 level" and e.value.file == "t.csv"
    with pytest.raises(InputError, match="missing column"):
        pairs_from_ordinal(TABLE, "response_post", "seeker_post", "score", "sp_id")
    with pytest.raises(InputError, match="empty text"):
        pairs_from_ordinal([{**TABLE[0], "response_post": " "}], "response_post", "seeker_post", "level",
                           "sp_id")


def test_epitome_loader_rejects_wrong_columns(tmp_path: Path) -> None:
    f = tmp_path / "not_epitome.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["post", "reply", "score"], ["hi", "hello", "1"]])
    with pytest.raises(InputError, match="missing EPITOME column"):
        load_epitome_pairs(f)


@requires_shared(EPITOME_CSV)
def test_epitome_pairs_from_the_real_file() -> None:
    # Reads the licensed file in memory only; nothing from it is written anywhere.
    pairs = load_epitome_pairs(EPITOME)
    assert len(pairs) >= 10  # 26 measured: most seeker posts have a single response
    levels: dict[tuple[str, str], int] = {}
    with EPITOME.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            levels[(r["sp_id"], r["response_post"])] = int(r["level"])
    for p in pairs:
        assert p.criterion == "empathy"
        assert levels[(p.context_id, p.chosen)] > levels[(p.context_id, p.rejected)]
