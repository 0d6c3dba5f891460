"""Multi-turn dialogues with a patient role, required roles, imported responses, clinical judging."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai import eval as inspect_eval

from harness.cli import main
from tasks import dialogue
from tests.support.run import SCENARIOS, run_ok, verdicts, write_config


def test_multi_turn_dialogue_with_patient_and_stop_token(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, personas_per_scenario=1, candidates={
        "warm": "scripted/therapist-warm", "terse": "scripted/therapist-terse"},
        extra='\n[dialogue]\nturns = 3\n\n[patient]\nmodel = "scripted/patient"\n')
    run_ok("run", str(cfg), "--display", "none")
    tr = pd.read_parquet(tmp_path / "runs" / "t" / "transcripts.parquet")
    assert len(tr) == 2 * 3  # 2 candidates x 3 scenarios x 1 persona
    for turns in tr.turns.map(json.loads):
        roles = [r for r, _ in turns]
        # patient opens, therapist, patient, therapist, then the patient ends (its stop token is stripped)
        assert roles == ["patient", "therapist", "patient", "therapist", "patient"]
        assert "[END]" not in turns[-1][1] and turns[-1][1].startswith("Thanks")
    df = verdicts(tmp_path)
    assert (df.persona_id != "").all() and df.scenario_id.nunique() == 3
    assert len(df) == 1 * 3 * 1 * 7 * 2  # the dialogue's own persona judges it


def test_patient_role_is_required_never_the_candidate(tmp_path: Path) -> None:
    scen = tmp_path / "s.jsonl"
    scen.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS))
    task = dialogue(candidate="warm", scenarios=str(scen), turns=2)
    [log] = inspect_eval(task, model="scripted/therapist-warm", display="none", log_dir=str(tmp_path / "logs"))
    assert log.status == "error"
    assert "patient" in str(log.error.message) and "required" in str(log.error.message)
    # and the config refuses a multi-turn run without a [patient] model up front
    cfg = write_config(tmp_path, extra='\n[dialogue]\nturns = 2\n')
    assert main(["validate", str(cfg)]) == 2


def test_imported_responses_candidate_and_clinical_judge(tmp_path: Path) -> None:
    resp = tmp_path / "vendor.jsonl"
    resp.write_text("".join(json.dumps({"scenario_id": s["id"], "response": f"Vendor reply {i}: " + "x" * 400})
                            + "\n" for i, s in enumerate(SCENARIOS)))
    cfg = write_config(tmp_path, candidates={"warm": "scripted/therapist-warm"}, extra='mode = "clinical"')
    with cfg.open("a") as fh:
        fh.write('\n[[candidates]]\nname = "vendor"\nresponses = "vendor.jsonl"\n')
    run_ok("run", str(cfg), "--display", "none")
    df = verdicts(tmp_path)
    assert (df.persona_id == "").all() and (df.judge_mode == "clinical").all()
    assert len(df) == 3 * 7 * 2  # one clinical comparison per scenario
    assert (df.combined == "B").all()  # the longer vendor reply wins with the length judge
    tr = pd.read_parquet(tmp_path / "runs" / "t" / "transcripts.parquet")
    assert tr[tr.candidate == "vendor"].turns.map(lambda t: json.loads(t)[1][1]).str.startswith("Vendor reply").all()


def test_imported_responses_missing_a_scenario_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    resp = tmp_path / "vendor.jsonl"
    resp.write_text(json.dumps({"scenario_id": SCENARIOS[0]["id"], "response": "hi"}) + "\n")
    cfg = write_config(tmp_path, candidates={"warm": "scripted/therapist-warm"})
    with cfg.open("a") as fh:
        fh.write('\n[[candidates]]\nname = "vendor"\nresponses = "vendor.jsonl"\n')
    assert main(["run", str(cfg), "--display", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "vendor.jsonl" in err and "scenario_id" in err and "s-grief" in err
    assert not (tmp_path / "runs").exists()  # nothing written
