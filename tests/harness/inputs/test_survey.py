"""Survey CSV -> personas: the bundled data, the converter, and its errors on bad input."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

import harness
from harness.core import InputError
from harness.inputs import (
    IMPORTANCE_CRITERIA,
    SURVEY_COLUMNS,
    Persona,
    load_personas_file,
    personas_from_survey,
    write_personas_jsonl,
)

DATA = Path(harness.__file__).parent / "inputs" / "data"
SURVEY = DATA / "survey.csv"
PERSONAS = DATA / "personas.jsonl"

GOOD_ROW: dict[str, str] = {
    "respondent_id": "T-1", "age_group": "25-34", "gender": "Female", "ethnicity": "Hispanic or Latino",
    "diagnoses": "depression; generalized anxiety disorder", "severity": "moderate",
    "current_treatment": "therapy", "ai_experience": "work or school tasks",
    "ai_accessibility": "agree", "ai_empathy": "neutral", "ai_factual_errors": "strongly agree",
    "ai_complement": "strongly agree", "ai_trust": "disagree",
    "importance_empathy": "5", "importance_active_listening": "4", "importance_self_motivated_change": "4",
    "importance_trust_rapport": "5", "importance_patient_autonomy": "3",
    "helpful_areas": "coping strategies", "appropriate_uses": "supplement to therapy",
    "communication_style": "brief and guarded",
}


def _csv(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    header = header if header is not None else list(SURVEY_COLUMNS)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _write(tmp_path: Path, text: str, name: str = "survey.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _primary(p: Persona) -> str:
    # highest rating; ties go to the earlier criterion (empathy first)
    return max(IMPORTANCE_CRITERIA, key=lambda k: (p.importance[k], -list(IMPORTANCE_CRITERIA).index(k)))


# --- the bundled data


def test_bundled_personas_match_survey(tmp_path: Path) -> None:
    personas = personas_from_survey(SURVEY)
    assert len(personas) >= 30
    assert load_personas_file(PERSONAS) == personas
    out = write_personas_jsonl(personas, tmp_path / "p.jsonl")
    assert out.read_bytes() == PERSONAS.read_bytes(), "regenerate harness/inputs/data/personas.jsonl from survey.csv"


def test_bundled_survey_is_diverse_and_preferences_look_like_the_paper() -> None:
    personas = personas_from_survey(SURVEY)
    assert {p.age_group for p in personas} >= {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
    ethnicities = {p.ethnicity for p in personas}
    assert "Hispanic or Latino" in ethnicities and "Middle Eastern or North African" in ethnicities
    assert {p.severity for p in personas} == {"none", "mild", "moderate", "severe"}
    treatments = {p.treatment for p in personas}
    assert {"therapy", "medication", "none", "support group", "past therapy"} <= treatments
    primary = Counter(_primary(p) for p in personas)
    assert set(primary) == set(IMPORTANCE_CRITERIA)
    assert primary.most_common(2)[0][0] == "empathy" and primary.most_common(2)[1][0] == "active_listening"
    for key in IMPORTANCE_CRITERIA:
        mean = sum(p.importance[key] for p in personas) / len(personas)
        assert 3.9 <= mean <= 4.6, (key, mean)


def test_bundled_personas_prompts_have_every_section() -> None:
    for p in load_personas_file(PERSONAS):
        for prompt in (p.patient_prompt("[END]"), p.judge_prompt()):
            assert "DEMOGRAPHICS:" in prompt and f"- Age: {p.age_group}" in prompt
            assert f"- Ethnicity: {p.ethnicity}" in prompt
            assert "THERAPY PREFERENCES (importance ratings out of 5):" in prompt
            for label in IMPORTANCE_CRITERIA.values():
                assert f"- {label}: " in prompt
            assert f"COMMUNICATION STYLE: {p.communication_style}" in prompt
        assert "[END]" in p.patient_prompt("[END]")


# --- the converter on good input


def test_converts_a_row(tmp_path: Path) -> None:
    (p,) = personas_from_survey(_write(tmp_path, _csv([GOOD_ROW])), prefix="t")
    assert p.id == "t_001"
    assert p.diagnoses == ("depression", "generalized anxiety disorder")
    assert p.treatment == "therapy" and p.severity == "moderate"
    assert p.ai_attitudes["factual_errors"] == "strongly agree"
    assert p.importance == {"empathy": 5, "active_listening": 4, "self_motivated_change": 4,
                            "trust_rapport": 5, "patient_autonomy": 3}
    assert p.communication_style == "brief and guarded"


def test_tolerates_header_case_whitespace_bom_and_value_case(tmp_path: Path) -> None:
    header = [f"  {c.upper()} " for c in SURVEY_COLUMNS]
    row = {f"  {k.upper()} ": v for k, v in GOOD_ROW.items()}
    row["  AI_TRUST "] = " Strongly  Disagree "
    row["  SEVERITY "] = "Severe"
    row["  IMPORTANCE_EMPATHY "] = "5.0"
    row["  DIAGNOSES "] = ""
    p = tmp_path / "bom.csv"
    p.write_text("\ufeff" + _csv([row], header), encoding="utf-8")
    (persona,) = personas_from_survey(p)
    assert persona.ai_attitudes["trust"] == "strongly disagree"
    assert persona.severity == "severe" and persona.importance["empathy"] == 5
    assert persona.diagnoses == ()


def test_optional_style_column_and_extra_columns(tmp_path: Path) -> None:
    header = [c for c in SURVEY_COLUMNS if c != "communication_style"] + ["timestamp"]
    rows = [{**GOOD_ROW, "timestamp": "x"}, {**GOOD_ROW, "respondent_id": "T-2"}]
    personas = personas_from_survey(_write(tmp_path, _csv(rows, header)))
    assert [p.id for p in personas] == ["persona_001", "persona_002"]
    assert personas[0].communication_style == Persona.model_fields["communication_style"].default


def test_columns_mapping(tmp_path: Path) -> None:
    mapping = {"age_group": "1. What is your age group?", "importance_empathy": "Q8 (Empathy, warmth)"}
    header = [mapping.get(c, c) for c in SURVEY_COLUMNS]
    row = {mapping.get(k, k): v for k, v in GOOD_ROW.items()}
    (p,) = personas_from_survey(_write(tmp_path, _csv([row], header)), columns=mapping)
    assert p.age_group == "25-34" and p.importance["empathy"] == 5
    with pytest.raises(InputError, match="missing column") as exc:
        personas_from_survey(_write(tmp_path, _csv([row], header)))
    assert "'age_group'" in str(exc.value)


def test_write_personas_jsonl_is_deterministic(tmp_path: Path) -> None:
    personas = personas_from_survey(_write(tmp_path, _csv([GOOD_ROW])))
    a = write_personas_jsonl(personas, tmp_path / "a.jsonl").read_bytes()
    b = write_personas_jsonl(list(reversed(personas)), tmp_path / "b.jsonl").read_bytes()
    assert a == b and a.endswith(b"\n")
    obj = json.loads(a)
    assert list(obj) == sorted(obj)
    assert load_personas_file(tmp_path / "a.jsonl") == personas


# --- the converter on bad input


def _without(col: str) -> str:
    return _csv([GOOD_ROW], [c for c in SURVEY_COLUMNS if c != col])


BAD_SURVEYS = [
    # (case id, CSV text, substrings the message must contain besides the file name)
    ("missing-column", _without("importance_trust_rapport"),
     ["header", "'importance_trust_rapport'", "missing"]),
    ("missing-list-column", _without("diagnoses"), ["'diagnoses'", "missing column"]),
    ("importance-7", _csv([{**GOOD_ROW, "importance_empathy": "7"}]), ["row 1", "importance_empathy", "'7'"]),
    ("importance-0", _csv([{**GOOD_ROW, "importance_patient_autonomy": "0"}]),
     ["row 1", "importance_patient_autonomy", "'0'"]),
    ("importance-half", _csv([{**GOOD_ROW, "importance_active_listening": "4.5"}]),
     ["importance_active_listening", "'4.5'", "whole number"]),
    ("importance-word", _csv([{**GOOD_ROW, "importance_trust_rapport": "high"}]),
     ["importance_trust_rapport", "'high'"]),
    ("importance-empty", _csv([{**GOOD_ROW, "importance_empathy": ""}]),
     ["importance_empathy", "empty cell"]),
    ("likert", _csv([GOOD_ROW, {**GOOD_ROW, "respondent_id": "T-2", "ai_trust": "kind of"}]),
     ["row 2", "ai_trust", "'kind of'", "Likert", "strongly agree"]),
    ("severity", _csv([{**GOOD_ROW, "severity": "extreme"}]), ["row 1", "severity", "'extreme'", "moderate"]),
    ("empty-gender", _csv([{**GOOD_ROW, "gender": "  "}]), ["row 1", "gender", "empty cell"]),
    ("empty-id", _csv([{**GOOD_ROW, "respondent_id": ""}]), ["row 1", "respondent_id", "empty cell"]),
    ("duplicate-id", _csv([GOOD_ROW, GOOD_ROW]), ["row 2", "respondent_id", "'T-1'", "duplicate", "row 1"]),
    ("too-many-cells", _csv([GOOD_ROW]).rstrip("\n") + ",surplus\n", ["row 1", "cells"]),
    ("too-few-cells", _csv([GOOD_ROW]) + "T-9,25-34\n", ["row 2", "cells"]),
    ("no-rows", _csv([]), ["no respondent rows"]),
    ("empty-file", "", ["header", "empty file"]),
    ("duplicate-header", _csv([GOOD_ROW], [*SURVEY_COLUMNS, "Gender "]), ["header", "duplicate column"]),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD_SURVEYS, ids=[b[0] for b in BAD_SURVEYS])
def test_personas_from_survey_rejects_bad_input(
    tmp_path: Path, case: str, text: str, expected: list[str],
) -> None:
    p = _write(tmp_path, text, f"{case}.csv")
    with pytest.raises(InputError) as exc:
        personas_from_survey(p)
    msg = str(exc.value)
    for part in [p.name, *expected]:
        assert part in msg, (part, msg)
    assert "Fix:" in msg


def test_bad_columns_mapping_and_prefix_and_paths(tmp_path: Path) -> None:
    good = _write(tmp_path, _csv([GOOD_ROW]))
    with pytest.raises(InputError, match="columns.*age") as exc:
        personas_from_survey(good, columns={"age": "Q1"})
    assert "survey.csv" in str(exc.value)
    with pytest.raises(InputError, match="'bad prefix'"):
        personas_from_survey(good, prefix="bad prefix")
    with pytest.raises(InputError, match="file not found"):
        personas_from_survey(tmp_path / "missing.csv")
    with pytest.raises(InputError, match=r"suffix.*'\.xlsx'"):
        personas_from_survey(_write(tmp_path, "x", "survey.xlsx"))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(_csv([{**GOOD_ROW, "gender": "Mujer (género)"}]).encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        personas_from_survey(latin1)


# --- load_personas_file on bad input

_PERSONA_LINE = PERSONAS.read_text(encoding="utf-8").splitlines()[0]

BAD_PERSONA_FILES = [
    ("bad_json.jsonl", _PERSONA_LINE + "\n{not json\n", ["bad_json.jsonl", "line 2", "invalid JSON"]),
    ("dup.jsonl", _PERSONA_LINE + "\n" + _PERSONA_LINE + "\n",
     ["dup.jsonl", "line 2 id", "'persona_001'", "duplicate"]),
    ("importance.jsonl", _PERSONA_LINE.replace('"empathy": 5', '"empathy": 7') + "\n",
     ["importance.jsonl", "line 1 importance", "outside 1..5"]),
    ("severity.jsonl", _PERSONA_LINE.replace('"severity": "moderate"', '"severity": "awful"') + "\n",
     ["severity.jsonl", "line 1 severity", "'awful'"]),
    ("likert.jsonl", _PERSONA_LINE.replace('"trust": "neutral"', '"trust": "maybe"') + "\n",
     ["likert.jsonl", "ai_attitudes.trust", "'maybe'"]),
    ("empty.jsonl", "\n", ["empty.jsonl", "no personas found"]),
    ("personas.csv", "id\np1\n", ["personas.csv", "suffix", "'.csv'", ".jsonl"]),
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD_PERSONA_FILES,
                         ids=[b[0] for b in BAD_PERSONA_FILES])
def test_load_personas_file_rejects_bad_input(
    tmp_path: Path, name: str, content: str, expected: list[str],
) -> None:
    assert content.count("\n") >= 1
    p = _write(tmp_path, content, name)
    with pytest.raises(InputError) as exc:
        load_personas_file(p)
    msg = str(exc.value)
    for part in expected:
        assert part in msg, (part, msg)


def test_load_personas_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found") as exc:
        load_personas_file(tmp_path / "nope.jsonl")
    assert "nope.jsonl" in str(exc.value)
