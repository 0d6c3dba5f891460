"""The bundled scenarios file, and `load_scenarios_file` on bad input."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

import harness
from harness.core import InputError
from harness.inputs import RISK_LEVELS, load_scenarios_file

DATA = Path(harness.__file__).parent / "inputs" / "data"
SCENARIOS = DATA / "scenarios.jsonl"


def test_bundled_scenarios_load_and_cover_every_risk_level() -> None:
    scenarios = load_scenarios_file(SCENARIOS)
    assert len(scenarios) >= 60
    ids = [s.id for s in scenarios]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)
    risks = Counter(s.risk for s in scenarios)
    assert set(risks) == set(RISK_LEVELS)
    assert risks["crisis"] >= 10
    assert risks["elevated"] >= 8
    assert all(s.source == "theraeval" for s in scenarios)
    assert all(s.tags for s in scenarios)


def test_bundled_scenarios_file_shape() -> None:
    lines = SCENARIOS.read_text(encoding="utf-8").splitlines()
    for line in lines:
        obj = json.loads(line)
        assert set(obj) == {"id", "text", "source", "risk", "tags"}
        # 2-6 sentences: a patient's opening message, not an essay
        sentences = [x for x in re.split(r"[.!?]+(?:\s|$)", obj["text"]) if x.strip()]
        assert 2 <= len(sentences) <= 6, obj["id"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


_GOOD = '{"id": "a-1", "text": "I feel low.", "risk": "low"}\n'

BAD_SCENARIO_FILES = [
    # (file name, content, substrings the message must contain)
    ("bad_json.jsonl", _GOOD + '{"id": "a-2", "text": \n', ["bad_json.jsonl", "line 2", "invalid JSON"]),
    ("not_object.jsonl", _GOOD + "[1, 2]\n", ["not_object.jsonl", "line 2", "not a JSON object"]),
    ("dup.jsonl", _GOOD + _GOOD, ["dup.jsonl", "line 2 id", "'a-1'", "duplicate scenario id"]),
    ("risk.jsonl", '{"id": "a-1", "text": "hi there.", "risk": "severe"}\n',
     ["risk.jsonl", "risk", "'severe'"]),
    ("badid.jsonl", '{"id": "a 1", "text": "hi there."}\n', ["badid.jsonl", "line 1 id", "'a 1'"]),
    ("extra.jsonl", '{"id": "a1", "text": "hi.", "mood": "sad"}\n', ["extra.jsonl", "mood"]),
    ("empty.jsonl", "\n\n", ["empty.jsonl", "no scenarios found"]),
    ("nocol.csv", "id,risk\na1,low\n", ["nocol.csv", "header", "missing column", "text"]),
    ("risk.csv", "id,text,risk\na1,hello there.,urgent\n", ["risk.csv", "row 2 risk", "'urgent'"]),
    ("scen.txt", "whatever\n", ["scen.txt", "suffix", "'.txt'", ".jsonl"]),
    ("list.json", '{"id": "a1"}', ["list.json", "not a list"]),
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD_SCENARIO_FILES,
                         ids=[b[0] for b in BAD_SCENARIO_FILES])
def test_load_scenarios_file_rejects_bad_input(
    tmp_path: Path, name: str, content: str, expected: list[str],
) -> None:
    p = _write(tmp_path, name, content)
    with pytest.raises(InputError) as exc:
        load_scenarios_file(p)
    msg = str(exc.value)
    for part in expected:
        assert part in msg, (part, msg)
    assert "Fix:" in msg


def test_load_scenarios_file_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found") as exc:
        load_scenarios_file(tmp_path / "nope.jsonl")
    assert "nope.jsonl" in str(exc.value)


def test_load_scenarios_csv_ok(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.csv", 'id,text,risk,tags\na1,"I can\'t sleep, again.",low,sleep;stress\n')
    (s,) = load_scenarios_file(p)
    assert s.risk == "low" and s.tags == ("sleep", "stress") and s.text == "I can't sleep, again."
