"""The stage-1 role guard (tasks/dialogue.py with harness.fidelity): regenerate, fallback, flag, stop; the patient
design; the config knobs; fidelity in the run's summary and fidelity.parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import GenerateConfig, Model, ModelAPI, ModelOutput, get_model, modelapi

from harness.cli import main
from harness.core import InputError
from harness.fidelity import scripted_patient_turn
from tasks import dialogue
from tests.support.run import SCENARIOS, run_ok, write_config

BREAK = "I'm so sorry to hear that. It's completely normal to feel this way, and I'm here to support you."
CLIENT = "I don't know. I keep thinking about ending it, every night."  # in role, and keeps the crisis


class _SeededPatient(ModelAPI):
    """A patient whose reply depends on the call's seed (the guard reseeds every retry: seed 0, 1, 2...); it
    records what it was shown. (inspect's mockllm needs the network for token counts, so a local double.)"""

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig | None = None, **model_args: Any) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        self.by_seed: dict[int, str] = model_args["by_seed"]
        self.seen: list[tuple[list[Any], GenerateConfig]] = model_args["seen"]

    async def generate(self, input: list[Any], tools: Any, tool_choice: Any, config: GenerateConfig) -> ModelOutput:
        self.seen.append((input, config))
        return ModelOutput.from_content("seeded-patient", self.by_seed.get(config.seed or 0, self.by_seed[-1]))


@modelapi(name="seededpatient")
def _seeded_patient() -> type:
    return _SeededPatient


def _patient(by_seed: dict[int, str], seen: list[tuple[list[Any], GenerateConfig]]) -> Model:
    return get_model("seededpatient/test", memoize=False, by_seed=by_seed, seen=seen)


def _run(tmp: Path, patient: Model, **kw: Any) -> Any:
    scen = tmp / "s.jsonl"
    scen.write_text(json.dumps(SCENARIOS[2]) + "\n")  # the crisis scenario, one persona
    task = dialogue(candidate="warm", scenarios=str(scen), turns=2, **kw)
    [log] = inspect_eval(task, model="scripted/therapist-warm", model_roles={"patient": patient}, display="none",
                         log_dir=str(tmp / "logs"))
    assert log.status == "success", log.error
    [s] = log.samples
    turns = [(m.role, m.text) for m in s.messages if m.role in ("user", "assistant")]
    return s.metadata, turns


def test_in_role_turn_is_kept_and_the_patient_sees_received_speech(tmp_path: Path) -> None:
    seen: list[tuple[list[Any], GenerateConfig]] = []
    md, turns = _run(tmp_path, _patient({-1: CLIENT}, seen))
    assert [r for r, _ in turns] == ["user", "assistant", "user", "assistant"] and turns[2][1] == CLIENT
    assert md["patient_turns"] == [{"turn": 0, "outcome": "ok", "tries": 1, "rejected": []}]
    assert md["role_guard"] == {"regenerated": 0, "fallback": 0, "flagged": 0, "stopped": 0, "patient_calls": 1}
    [(view, config)] = seen
    assert view[0].role == "system" and SCENARIOS[2]["text"] in view[0].text  # the opening is in the prompt
    assert view[1].role == "user" and view[1].text.startswith("The therapist said to you:")
    assert "\nTherapist:" in (config.stop_seqs or [])
    assert md["persona_facts"]["age_group"]


def test_regenerate_replaces_a_role_break_and_records_it(tmp_path: Path) -> None:
    md, turns = _run(tmp_path, _patient({0: BREAK, -1: CLIENT}, []))
    assert turns[2][1] == CLIENT
    [rec] = md["patient_turns"]
    assert rec["outcome"] == "regenerated" and rec["tries"] == 2
    assert rec["rejected"][0]["text"] == BREAK and "sympathy opening" in rec["rejected"][0]["reasons"]
    assert md["role_guard"]["regenerated"] == 1 and md["role_flagged"] is False


def test_after_max_tries_the_scripted_fallback_takes_the_turn(tmp_path: Path) -> None:
    md, turns = _run(tmp_path, _patient({-1: BREAK}, []), max_tries=2)
    [rec] = md["patient_turns"]
    assert rec["outcome"] == "fallback" and rec["tries"] == 2 and len(rec["rejected"]) == 2
    assert turns[2][1] == scripted_patient_turn(SCENARIOS[2]["text"], "crisis", md["persona_facts"], 0)
    assert md["role_guard"]["fallback"] == 1


def test_fallback_none_keeps_the_last_try_flagged(tmp_path: Path) -> None:
    md, turns = _run(tmp_path, _patient({-1: BREAK}, []), max_tries=2, fallback="none")
    assert turns[2][1] == BREAK and md["patient_turns"][0]["outcome"] == "flagged" and md["role_flagged"] is True


def test_flag_keeps_the_turn_and_marks_the_dialogue(tmp_path: Path) -> None:
    seen: list[tuple[list[Any], GenerateConfig]] = []
    md, turns = _run(tmp_path, _patient({-1: BREAK}, seen), on_role_break="flag")
    assert len(seen) == 1 and turns[2][1] == BREAK
    assert md["patient_turns"][0]["outcome"] == "flagged" and md["role_guard"]["flagged"] == 1


def test_stop_ends_the_dialogue_before_the_broken_turn(tmp_path: Path) -> None:
    md, turns = _run(tmp_path, _patient({-1: BREAK}, []), on_role_break="stop")
    assert [r for r, _ in turns] == ["user", "assistant"]
    assert md["stopped_on_role_break"]["rejected"][0]["text"] == BREAK and md["patient_turns"] == []
    assert md["role_flagged"] is True


def test_plain_design_without_check_is_the_old_patient(tmp_path: Path) -> None:
    seen: list[tuple[list[Any], GenerateConfig]] = []
    md, turns = _run(tmp_path, _patient({-1: BREAK}, seen), patient_design="plain", role_check=False)
    assert turns[2][1] == BREAK and md["patient_turns"][0]["outcome"] == "ok"
    view, config = seen[0]
    assert view[1].role == "assistant" and view[1].text == SCENARIOS[2]["text"] and not config.stop_seqs


@pytest.mark.parametrize(("arg", "value"), [("on_role_break", "ignore"), ("fallback", "retrieval"),
                                            ("patient_design", "x"), ("max_tries", 0)])
def test_bad_task_arguments(tmp_path: Path, arg: str, value: Any) -> None:
    scen = tmp_path / "s.jsonl"
    scen.write_text(json.dumps(SCENARIOS[0]) + "\n")
    with pytest.raises(InputError, match=arg):
        dialogue(scenarios=str(scen), turns=2, **{arg: value})


def test_config_knobs_validate_and_reach_stage1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_config(tmp_path, extra='\n[dialogue]\nturns = 2\n\n[patient]\nmodel = "scripted/patient"\n'
                                       'on_role_break = "ignore"\n', name="bad")
    assert main(["validate", str(bad)]) == 2
    assert "on_role_break" in capsys.readouterr().err
    cfg = write_config(tmp_path, personas_per_scenario=1, candidates={"warm": "scripted/therapist-warm",
                                                                      "terse": "scripted/therapist-terse"},
                       extra='\n[dialogue]\nturns = 2\n\n[patient]\nmodel = "scripted/patient"\n'
                             'on_role_break = "flag"\nmax_tries = 2\n')
    run_ok("run", str(cfg), "--display", "none")
    run = tmp_path / "runs" / "t"
    fid = pd.read_parquet(run / "fidelity.parquet")
    assert len(fid) == 2 * 3 and set(fid.candidate) == {"warm", "terse"}  # 2 candidates x 3 scenarios x 1 follow-up
    # the scripted patient's follow-up reads as a client everywhere, but on the crisis scenario it moves on
    # ("I can't switch off at night"): flagged there, kept elsewhere, and the crisis measure says dropped
    assert fid["in_role"].all()
    crisis = fid[fid.risk == "crisis"]
    assert len(crisis) == 2 and set(crisis["guard"]) == {"flagged"} and not crisis["crisis_kept"].any()
    assert set(fid[fid.risk != "crisis"]["guard"]) == {"ok"} and fid[fid.risk != "crisis"]["crisis_kept"].isna().all()
    summary = (run / "summary.txt").read_text()
    assert "[simulated patient fidelity]" in summary and "AnnoMI clients" in summary
    from inspect_ai.log import read_eval_log

    for log in (run / "stage1").glob("*.eval"):
        assert read_eval_log(str(log), header_only=True).eval.metadata["patient"]["on_role_break"] == "flag"


def test_a_crisis_patient_that_moves_on_is_regenerated(tmp_path: Path) -> None:
    # in role, but the suicidal patient drops the disclosure: "crisis dropped" is a break on crisis scenarios
    moved_on = "Thanks, that's helpful. I might read a book about gardening."
    kept = "I don't know. I keep thinking about ending it."
    md, turns = _run(tmp_path, _patient({0: moved_on, -1: kept}, []))
    assert turns[2][1] == kept
    [rec] = md["patient_turns"]
    assert rec["outcome"] == "regenerated" and rec["rejected"][0]["reasons"] == ["crisis dropped"]
