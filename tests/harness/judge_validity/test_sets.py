"""Reading validation files: every bad input is one InputError naming file, line, field and fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core import InputError
from harness.judge_validity import load_pairwise, load_rated, majority, pairs_from_rated, rated_set
from tests.support.judge_validity import write_jsonl

ROW = {"id": "p1", "context": "I can't sleep.", "response_a": "That sounds exhausting.", "response_b": "Take a pill.",
       "label": "A"}
ROW_B = {**ROW, "id": "p2", "response_a": "Sleep is overrated.", "response_b": "What keeps you awake?", "label": "B"}


def _err(path: Path, **kw: object) -> InputError:
    with pytest.raises(InputError) as e:
        load_pairwise(path, **kw)  # type: ignore[arg-type]
    return e.value


def test_a_valid_file_with_defaults(tmp_path: Path) -> None:
    s = load_pairwise(write_jsonl(tmp_path / "v.jsonl", [ROW, ROW_B, {**ROW, "id": "p3", "label": "tie"}]))
    assert [p.label for p in s.pairs] == ["A", "B", "tie"] and s.criteria == ["overall"] and len(s.sha256) == 16
    s2 = load_pairwise(tmp_path / "v.jsonl", criterion="empathy")
    assert s2.criteria == ["empathy"]


@pytest.mark.parametrize(("rows", "field", "problem"), [
    ([{k: v for k, v in ROW.items() if k != "response_b"}, ROW_B], "line 1 response_b", "missing key"),
    ([ROW, {**ROW_B, "label": "C"}], "line 2 label", "unknown label"),
    ([ROW, {**ROW_B, "context": ""}], "line 2 context", "empty text"),
    ([ROW, {**ROW_B, "response_a": 3}], "line 2 response_a", "not a string"),
    ([ROW, {**ROW, "label": "B"}], "line 2 id", "conflicting labels and no rater_id"),
    ([ROW, dict(ROW)], "line 2 id", "duplicate id"),
    ([ROW, {**ROW_B, "label": "A"}], "line 1 label", "one class only"),
    ([{**ROW, "rater_id": "r1"}, {**ROW, "rater_id": "r1", "label": "B"}, ROW_B], "line 2 rater_id", "already"),
    ([{**ROW, "rater_id": "r1"}, {**ROW, "rater_id": "r2", "response_b": "x"}, ROW_B], "line 2 response_b", "differs"),
])
def test_bad_pairwise_lines(tmp_path: Path, rows: list[dict[str, object]], field: str, problem: str) -> None:
    e = _err(write_jsonl(tmp_path / "v.jsonl", rows))
    assert e.field == field and problem in e.problem and e.fix and str(tmp_path / "v.jsonl") in str(e)


def test_a_broken_line_and_an_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "v.jsonl"
    p.write_text(json.dumps(ROW) + "\n{not json\n")
    assert _err(p).field == "line 2"
    p.write_text("\n")
    assert "no pairs" in _err(p).problem
    assert _err(tmp_path / "missing.jsonl").problem == "file not found"


def test_several_raters_make_one_pair_with_a_majority_label(tmp_path: Path) -> None:
    rows = [{**ROW, "rater_id": r, "label": lab} for r, lab in (("r1", "A"), ("r2", "A"), ("r3", "B"))] + [ROW_B]
    s = load_pairwise(write_jsonl(tmp_path / "v.jsonl", rows))
    assert len(s.pairs) == 2 and s.pairs[0].label == "A" and len(s.pairs[0].ratings) == 3
    assert majority(["A", "B"]) == "tie" and majority(["tie", "tie", "A"]) == "tie" and majority(["B"]) == "B"


def test_rated_file_forms_pairs_by_score_gap(tmp_path: Path) -> None:
    rows = [{"id": f"r{i}", "context": "c1" if i < 3 else "c2", "response": f"reply {i}", "score": s}
            for i, s in enumerate([0, 1, 3, 0, 2])]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    items = load_rated(path)
    # c1 scores 0, 1, 3 -> gaps 1, 3, 2 -> with gap >= 2: (r0, r2) and (r1, r2); c2: 0 vs 2 -> (r3, r4)
    pairs, rule = pairs_from_rated(items, min_gap=2)
    assert sorted(tuple(sorted(p.id.split("|"))) for p in pairs) == [("r0", "r2"), ("r1", "r2"), ("r3", "r4")]
    assert "gap >= 2" in rule and all(p.context_b is None for p in pairs)
    for p in pairs:  # the label follows the scores, whichever side was drawn as A
        a, b = (int(x[1:]) for x in p.id.split("|"))
        assert p.label == ("A" if [0, 1, 3, 0, 2][a] > [0, 1, 3, 0, 2][b] else "B")


def test_rated_bad_input(tmp_path: Path) -> None:
    ok = {"id": "r1", "context": "c", "response": "x", "score": 1}
    with pytest.raises(InputError, match="score = 'high': not a number"):
        load_rated(write_jsonl(tmp_path / "r.jsonl", [{**ok, "score": "high"}]))
    with pytest.raises(InputError, match="already has a score from this rater"):
        load_rated(write_jsonl(tmp_path / "r.jsonl", [ok, ok]))
    with pytest.raises(InputError, match="no two responses differ"):
        rated_set(write_jsonl(tmp_path / "r.jsonl", [ok, {**ok, "id": "r2", "response": "y"}]))
    csv = tmp_path / "r.csv"
    csv.write_text("id,context,response\nr1,c,x\n")
    with pytest.raises(InputError, match="line 2 score"):
        load_rated(csv)
