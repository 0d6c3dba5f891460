"""The tasks run unchanged with `inspect eval`, and their logs open in `inspect view`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai._util.error import PrerequisiteError
from inspect_ai.log import read_eval_log

from harness.core import InputError
from tasks import dialogue
from tests.support import REPO
from tests.support.run import SCENARIOS

ROOT = REPO
INSPECT = str(Path(sys.executable).parent / "inspect")


def _inspect(*args: str, cwd: Path) -> None:
    env = os.environ | {"INSPECT_DISPLAY": "none"}
    proc = subprocess.run([INSPECT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_inspect_eval_both_tasks_and_inspect_view(tmp_path: Path) -> None:
    scen = tmp_path / "s.jsonl"
    scen.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS))
    for cand in ("warm", "terse"):
        _inspect("eval", str(ROOT / "tasks/dialogue.py@dialogue"), "--model", f"scripted/therapist-{cand}",
                 "-T", f"candidate={cand}", "-T", f"scenarios={scen}", "--log-dir", str(tmp_path / "s1"), cwd=tmp_path)
    a, b = sorted((tmp_path / "s1").glob("*.eval"), key=lambda p: read_eval_log(str(p), header_only=True).eval.metadata
                  ["candidate"])  # type: ignore[index]
    _inspect("eval", str(ROOT / "tasks/pairwise.py@pairwise"), "-T", f"log_a={a}", "-T", f"log_b={b}",
             "-T", "personas_per_scenario=1", "--model", "none", "--model-role", "judge=scripted/judge-longer",
             "--log-dir", str(tmp_path / "s2"), cwd=tmp_path)
    [log2] = list((tmp_path / "s2").glob("*.eval"))
    log = read_eval_log(str(log2))
    assert log.status == "success" and log.samples and len(log.samples) == 3
    assert log.eval.model_roles and "judge" in log.eval.model_roles
    metrics = {s.name: s.metrics for s in log.results.scores} if log.results else {}
    assert metrics["pairwise_judge"]["empathy"].value == 0.0  # terse (a) loses every comparison to warm

    # The absolute safety rubric on a stage-1 log (only its crisis dialogue is scored).
    _inspect("eval", str(ROOT / "tasks/safety_rubric.py@safety_rubric"), "-T", f"log={b}", "--model", "none",
             "--model-role", "judge=scripted/judge-rubric-keywords", "--log-dir", str(tmp_path / "safety"),
             cwd=tmp_path)
    [slog] = [read_eval_log(str(p)) for p in (tmp_path / "safety").glob("*.eval")]
    assert slog.status == "success" and slog.samples and len(slog.samples) == 1
    assert slog.samples[0].metadata["risk"] == "crisis"
    assert slog.results and slog.results.scores[0].metrics["safe_rate"].value == 0.0  # warm gives no resource

    port = _free_port()
    view = subprocess.Popen([INSPECT, "view", "--log-dir", str(tmp_path / "s2"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, listing = time.monotonic() + 60, ""
        while time.monotonic() < deadline and log2.name not in listing:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/logs", timeout=5) as r:
                    listing = r.read().decode()
            except OSError:
                time.sleep(0.5)
        assert log2.name in listing
    finally:
        view.terminate()
        view.wait(timeout=10)


@pytest.mark.slow
def test_inspect_eval_imported_responses_scenario_ids_and_one_line_errors(tmp_path: Path) -> None:
    """`-T responses=` runs under `inspect eval` (no model: `--model none`), `-T scenario_ids=` picks scenarios in
    order, and a bad argument is one error line, not a traceback."""
    scen = tmp_path / "s.jsonl"
    scen.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS))
    responses = tmp_path / "vendor.jsonl"
    responses.write_text("".join(json.dumps({"scenario_id": s["id"], "response": f"vendor reply to {s['id']}"}) + "\n"
                                 for s in SCENARIOS))
    _inspect("eval", str(ROOT / "tasks/dialogue.py@dialogue"), "--model", "none", "-T", "candidate=vendor",
             "-T", f"scenarios={scen}", "-T", f"responses={responses}", "-T", "scenario_ids=s-grief,s-anx",
             "--log-dir", str(tmp_path / "s1"), cwd=tmp_path)
    [log] = [read_eval_log(str(p)) for p in (tmp_path / "s1").glob("*.eval")]
    assert log.status == "success" and log.samples
    assert {s.id for s in log.samples} == {"s-grief", "s-anx"}  # (the log sorts them; the dataset keeps the order)
    reply = {s.id: s.messages[-1].text for s in log.samples}  # the transcript stage 2 reads
    assert reply["s-grief"] == "vendor reply to s-grief"

    env = os.environ | {"INSPECT_DISPLAY": "plain"}  # (display `none` silences inspect's error line too)
    proc = subprocess.run([INSPECT, "eval", str(ROOT / "tasks/dialogue.py@dialogue"), "--model", "none",
                           "-T", f"scenarios={scen}", "-T", "responses=vendor.jsonl"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = " ".join((proc.stdout + proc.stderr).split())  # rich wraps the line at the terminal width
    assert proc.returncode != 0 and "Traceback" not in out
    assert "responses = 'vendor.jsonl': file not found" in out and "give an absolute path" in out


def test_task_input_errors_print_as_one_line_under_inspect(tmp_path: Path) -> None:
    """In process, what the slow test above checks through the CLI: imported responses evaluate with no model, and
    a bad argument is a prerequisite error to inspect: its message, no traceback."""
    scen = tmp_path / "s.jsonl"
    scen.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS))
    responses = tmp_path / "vendor.jsonl"
    responses.write_text("".join(json.dumps({"scenario_id": s["id"], "response": f"vendor reply to {s['id']}"}) + "\n"
                                 for s in SCENARIOS))
    [log] = inspect_eval(dialogue(candidate="vendor", scenarios=str(scen), responses=str(responses),
                                  scenario_ids="s-grief"), model="none", log_dir=str(tmp_path / "s1"), display="none")
    assert log.status == "success" and log.samples and log.samples[0].messages[-1].text == "vendor reply to s-grief"

    with pytest.raises(InputError) as caught:  # theraeval still sees an InputError (exit 2) ...
        dialogue(scenarios=str(scen), responses="vendor.jsonl")
    # ... and inspect's CLI prints a PrerequisiteError as its message alone (inspect_ai._util.error.exception_hook)
    assert isinstance(caught.value, PrerequisiteError)
    line = str(caught.value.message)
    assert "\n" not in line and line.startswith("error: ") and "responses = 'vendor.jsonl': file not found" in line
    assert "give an absolute path" in line


def test_dialogue_scenario_ids_keep_the_order_and_refuse_unknown_ids(tmp_path: Path) -> None:
    scen = tmp_path / "s.jsonl"
    scen.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS))
    task = dialogue(scenarios=str(scen), scenario_ids="s-crisis, s-anx")
    assert [s.id for s in task.dataset] == ["s-crisis", "s-anx"]
    assert [s.id for s in dialogue(scenarios=str(scen), scenario_ids=["s-grief"]).dataset] == ["s-grief"]
    with pytest.raises(InputError, match="scenario_ids = 's-nope': unknown scenario id"):
        dialogue(scenarios=str(scen), scenario_ids="s-anx,s-nope")
