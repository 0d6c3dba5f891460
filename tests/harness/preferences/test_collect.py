"""`collect_preferences_main`: a run directory's stage 1 -> <run>/preferences logs -> datasets; resumable, cached."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from datasets import load_from_disk

from harness.core import InputError
from harness.preferences import collect_preferences_main
from tests.support.preferences import CRITERIA, SCENARIOS, Stage1Run
from tests.support.run import calls


def _copy_run(stage1_run: Stage1Run, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(stage1_run.run_dir, run)
    return run


def test_llm_collection_writes_datasets_and_reruns_without_calls(stage1_run: Stage1Run, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    run = _copy_run(stage1_run, tmp_path)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("THERAEVAL_SCRIPTED_CALL_LOG", str(log))
    out = collect_preferences_main(run, tmp_path / "prefs", judge="llm", judge_model="scripted/judge-rank-selective",
                                   personas_per_scenario=2, seed=3)
    n_calls = len(SCENARIOS) * 2
    assert len(calls(log)) == n_calls  # one call per scenario x persona, all criteria at once
    summary = json.loads((out / "summary.json").read_text())
    assert summary["criteria"] == CRITERIA and summary["calls"] == n_calls and summary["failed_calls"] == 2
    assert summary["judge_models"] == ["scripted/judge-rank-selective"] and summary["run_dir"] == str(run)
    assert {c: summary["per_criterion"][c]["pairs"] for c in CRITERIA} == {c: len(SCENARIOS) - 1 for c in CRITERIA}
    index = json.loads((run / "preferences" / "index.json").read_text())
    assert (run / "preferences" / index["log"]).is_file() and index["judge"] == "llm"
    assert (run / "cache").is_dir()
    first = {c: load_from_disk(str(out / c)).to_list() for c in [*CRITERIA, "joint"]}
    # unchanged re-run: eval_set finds the complete log, the cache holds every call: zero model calls
    collect_preferences_main(run, tmp_path / "prefs", judge="llm", judge_model="scripted/judge-rank-selective",
                             personas_per_scenario=2, seed=3)
    assert len(calls(log)) == n_calls
    assert {c: load_from_disk(str(out / c)).to_list() for c in [*CRITERIA, "joint"]} == first
    # another persona draw: only the new (scenario, persona) calls are made, the rest come from the cache
    collect_preferences_main(run, tmp_path / "prefs3", judge="llm", judge_model="scripted/judge-rank-selective",
                             personas_per_scenario=3, seed=3)
    assert n_calls < len(calls(log)) <= n_calls + len(SCENARIOS)


def test_rm_collection_makes_no_model_call(stage1_run: Stage1Run, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    run = _copy_run(stage1_run, tmp_path)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("THERAEVAL_SCRIPTED_CALL_LOG", str(log))
    out = collect_preferences_main(run, tmp_path / "prefs")  # judge = "rm" by default
    assert calls(log) == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["judge_kind"] == "rm" and summary["calls"] == len(SCENARIOS)
    assert all(summary["per_criterion"][c]["invalid_rankings"] == 0 for c in CRITERIA)
    assert len(load_from_disk(str(out / "safety"))) + summary["per_criterion"]["safety"]["no_pair"] == len(SCENARIOS)


def test_collection_input_errors(stage1_run: Stage1Run, tmp_path: Path) -> None:
    run = _copy_run(stage1_run, tmp_path)
    with pytest.raises(InputError, match="unknown preference judge"):
        collect_preferences_main(run, tmp_path / "p", judge="logprob")
    with pytest.raises(InputError, match="needs a model"):  # the run's judge is reward heads, no LLM to reuse
        collect_preferences_main(run, tmp_path / "p", judge="llm")
    with pytest.raises(InputError, match="judge_model"):
        collect_preferences_main(run, tmp_path / "p", judge="llm", judge_model="not-a-model")
    with pytest.raises(InputError, match="stage 1|stage1"):
        collect_preferences_main(tmp_path / "empty-run", tmp_path / "p")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a preferences folder"):
        collect_preferences_main(run, busy)
    assert (busy / "x.txt").read_text() == "keep me"
