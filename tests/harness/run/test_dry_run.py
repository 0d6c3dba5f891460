"""`theraeval run --dry-run`: the calls it announces are the calls a run makes, and it makes none itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.run import HARNESS_CPU_PER_CALL_S, dry_run, plan_run, stage2_seconds
from harness.testing import FaultPlan, FaultServer
from tests.support.faults import STAGE1_SERVER_CALLS, STAGE2_SERVER_CALLS, CleanRun, fault_config, run_in_process
from tests.support.run import SCENARIOS


def _calls(text: str) -> dict[str, int]:
    return {kind: int(n) for n, kind in re.findall(r"<= (\d+) (\w+) calls", text)}


def test_dry_run_announces_the_calls_of_the_run_and_makes_none(fault_srv: FaultServer, clean_run: CleanRun,
                                                               tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    fault_srv.reset(FaultPlan())
    cfg = fault_config(tmp_path)
    assert run_in_process("run", str(cfg), "--dry-run", "--assume-latency", "2") == 0
    out = capsys.readouterr().out
    assert fault_srv.calls() == [] and not (tmp_path / "runs").exists()
    calls = _calls(out)
    scripted = len(SCENARIOS) * 2  # the scripted candidate's turns: counted, but answered in-process
    assert calls["candidate"] - scripted + calls["patient"] == STAGE1_SERVER_CALLS  # what the clean run made
    assert calls["judge"] == STAGE2_SERVER_CALLS == len(clean_run.keys) - STAGE1_SERVER_CALLS
    assert "at 2 s per API call" in out


def test_dry_run_time_is_latency_bound_or_cpu_bound(fault_srv: FaultServer, tmp_path: Path) -> None:
    text = dry_run(plan_run(fault_config(tmp_path)), 1, 10.0)
    assert f"stage 2 >= {round(STAGE2_SERVER_CALLS * 10.0 / 8)} s" in text  # 8 connections, latency-bound
    # the shared patient's 3 candidates x 3 dialogues x 1 turn (more than a candidate's 3 x 2 turns) over 8
    # connections, then the last dialogue's 3 sequential calls (therapist, patient, therapist)
    assert f"stage 1 >= {round(9 * 10.0 / 8 + 3 * 10.0)} s" in text
    assert stage2_seconds(100_000, 0.01, 32, 1) == pytest.approx(100_000 * HARNESS_CPU_PER_CALL_S)  # CPU-bound
    assert stage2_seconds(100_000, 0.01, 32, 4) == pytest.approx(100_000 * HARNESS_CPU_PER_CALL_S / 4)
    assert stage2_seconds(100_000, 1.0, 32, 4) == pytest.approx(100_000 / 32)


def test_bad_assume_latency_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_in_process("run", str(fault_config(tmp_path)), "--dry-run", "--assume-latency", "0") == 2
    assert "--assume-latency = 0" in capsys.readouterr().err
