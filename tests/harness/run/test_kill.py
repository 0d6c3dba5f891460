"""kill -9 during stage 1 and stage 2, then resume: nothing lost, nothing duplicated, no completed call repeated."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai.log import read_eval_log
from pandas.testing import assert_frame_equal

from harness.testing import FaultPlan, FaultServer
from tests.support.faults import (
    STAGE1_SERVER_CALLS,
    STAGE2_SERVER_CALLS,
    CleanRun,
    assert_complete,
    comparable,
    fault_config,
    leftovers,
    record,
    run_in_process,
    theraeval_exe,
)

GRACE_S = 1.5
"""Seconds between freezing the server and the kill: every answer sent before the freeze reaches the client."""


def _readable(run_dir: Path) -> None:
    """Whatever a killed run left must read back: tables, indexes, stage logs."""
    for table in run_dir.glob("*.parquet"):
        pd.read_parquet(table)
    for index in run_dir.glob("stage*/index.json"):
        json.loads(index.read_text())
    for log in run_dir.glob("stage*/*.eval"):
        read_eval_log(str(log), header_only=True)


def _kill_point(kill: int, rng: random.Random, reached: int) -> int:
    """The distinct-call count at which to kill: kill 0 in stage 1, kills 1 and 2 early and late in stage 2, and
    always a few calls past what earlier runs already reached (in-flight calls of a killed run count too)."""
    s1, s2 = STAGE1_SERVER_CALLS, STAGE2_SERVER_CALLS
    low, high = [(s1 // 4, 3 * s1 // 4), (s1 + 2, s1 + s2 // 2), (s1 + s2 // 2 + 2, s1 + s2 - 2)][kill]
    low = max(low, reached + 2)
    assert low <= high, (kill, reached)
    return rng.randint(low, high)


@pytest.mark.slow
def test_kill_9_then_resume_loses_nothing_and_repeats_only_in_flight_calls(
        fault_srv: FaultServer, clean_run: CleanRun, tmp_path: Path) -> None:
    fault_srv.reset(FaultPlan(latency_s=0.15))  # slow enough answers that a kill lands mid-stage
    cfg = fault_config(tmp_path)
    run_dir = tmp_path / "runs" / "r"
    rng = random.Random(20261122)
    env = dict(os.environ)
    kills: list[dict[str, object]] = []
    for gen in range(3):
        point = _kill_point(gen, rng, len(fault_srv.distinct()))
        fault_srv.generation = gen
        fault_srv.trip_at(point)
        proc = subprocess.Popen([theraeval_exe(), "run", str(cfg), "--display", "none"], env=env,
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while not fault_srv.tripped.wait(0.2):
                assert proc.poll() is None, f"kill {gen}: the run ended before {point} distinct calls"
                assert time.monotonic() < deadline, f"kill {gen}: {point} distinct calls not reached in 120 s"
            time.sleep(GRACE_S + rng.uniform(0.0, 0.5))
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            fault_srv.release(abort=True)
            assert fault_srv.wait_idle()
        assert proc.returncode == -signal.SIGKILL
        in_flight = [c for c in fault_srv.calls(gen) if c.fault == "frozen-aborted"]
        stage = 2 if any(c.model.startswith("judge-") for c in in_flight) else 1
        kills.append({"after_distinct_calls": point, "stage": stage, "in_flight": len(in_flight),
                      "answered": sum(c.delivered for c in fault_srv.calls(gen))})
        _readable(run_dir)
    assert [k["stage"] for k in kills] == [1, 2, 2], kills

    # resume: the same command finishes the run
    fault_srv.generation = len(kills)
    fault_srv.release(abort=False)
    resumed = subprocess.run([theraeval_exe(), "run", str(cfg), "--display", "none"], env=env, capture_output=True,
                             text=True, timeout=240, check=False)
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    # results identical to the uninterrupted run: every verdict once, none lost
    df = pd.read_parquet(run_dir / "verdicts.parquet")
    assert_complete(df)
    assert_frame_equal(comparable(df), comparable(clean_run.verdicts))
    assert_frame_equal(pd.read_parquet(run_dir / "transcripts.parquet"), clean_run.transcripts)

    # calls: the same distinct calls; an answered call is never made again, only calls in flight at a kill are
    calls = fault_srv.calls()
    assert {c.key for c in calls} == clean_run.keys
    for c in calls:
        if c.delivered:
            again = [d for d in calls if d.key == c.key and d.generation > c.generation]
            assert not again, f"{c.model} call answered in run {c.generation} was made again"
    repeated = len(calls) - len(clean_run.keys)
    aborted = {c.key for c in calls if c.fault == "frozen-aborted"}
    assert all(sum(d.key == k for d in calls) > 1 for k in aborted)  # every in-flight call was made again ...
    assert repeated == sum(c.fault == "frozen-aborted" for c in calls)  # ... and nothing else was

    # partial files: leftovers of killed writers never break a later read or a resume
    (run_dir / ".verdicts.parquet.tmp").write_bytes(b"PAR1 half a table")
    (run_dir / "stage2" / ".index.json.tmp").write_text('{"half": ')
    (run_dir / "stage2" / ".inspect_tmp_killed.writing").write_bytes(b"PK\x03\x04 half a log")
    n = len(calls)
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    assert len(fault_srv.calls()) == n  # nothing left to do: zero calls
    assert_frame_equal(comparable(pd.read_parquet(run_dir / "verdicts.parquet")), comparable(clean_run.verdicts))
    _readable(run_dir)
    record("kill_resume", kills=kills, requests=len(calls), distinct_calls=len(clean_run.keys),
           repeated_in_flight=repeated, leftovers=[str(p.relative_to(run_dir)) for p in leftovers(run_dir)])
