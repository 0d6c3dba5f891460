"""Stage 2 in worker processes (`[run] workers`, `--workers`): the same verdicts, every call once, the run's
connection limit kept, and no worker outliving a killed parent."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai.log import read_eval_log
from pandas.testing import assert_frame_equal

from harness.run import shard_ids, split_connections, stage2_logs
from harness.testing import Call, FaultPlan, FaultServer
from tests.support.faults import (
    STAGE1_SERVER_CALLS,
    STAGE2_SERVER_CALLS,
    CleanRun,
    assert_complete,
    comparable,
    fault_config,
    run_in_process,
    theraeval_exe,
)


def test_connections_split_without_exceeding_the_total() -> None:
    assert split_connections(32, 3) == [11, 11, 10]
    assert split_connections(8, 8) == [1] * 8
    for total in range(1, 40):
        for w in range(1, total + 1):
            parts = split_connections(total, w)
            assert sum(parts) == total and min(parts) >= 1 and max(parts) - min(parts) <= 1
    with pytest.raises(ValueError, match="3 connection"):
        split_connections(3, 4)


def test_shards_cover_every_sample_once_and_differ_by_at_most_one() -> None:
    ids = [f"s{i:03d}--p{i % 7}" for i in range(101)]
    for w in (1, 2, 3, 8):
        shards = [shard_ids(ids[::-1], k, w) for k in range(w)]  # input order does not matter
        assert sorted(x for s in shards for x in s) == sorted(ids)
        assert max(map(len, shards)) - min(map(len, shards)) <= 1


def _peak_judge_concurrency(calls: list[Call]) -> int:
    edges = sorted([(c.t_start, 1) for c in calls if c.model.startswith("judge-")] +
                   [(c.t_end, -1) for c in calls if c.model.startswith("judge-")])
    now = peak = 0
    for _, d in edges:
        now += d
        peak = max(peak, now)
    return peak


@pytest.mark.slow
def test_workers_give_the_same_table_with_every_call_once(fault_srv: FaultServer, clean_run: CleanRun,
                                                          tmp_path: Path) -> None:
    fault_srv.reset(FaultPlan(latency_s=0.05))  # answers overlap, so the connection split is exercised
    cfg = fault_config(tmp_path, extra_run="max_connections = 4\nworkers = 2\nlog_realtime = false\n")
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    run_dir = tmp_path / "runs" / "r"
    df = pd.read_parquet(run_dir / "verdicts.parquet")
    assert_complete(df)
    assert_frame_equal(comparable(df), comparable(clean_run.verdicts))
    calls = fault_srv.calls()
    assert sorted(c.key for c in calls) == sorted(clean_run.keys)  # every call exactly once
    assert 2 <= _peak_judge_concurrency(calls) <= 4  # both workers judged at once, within the run's 4
    logs = sorted(p.relative_to(run_dir / "stage2").parent.name for p in (run_dir / "stage2").rglob("*.eval"))
    assert logs == ["shard-0-of-2"] * 3 + ["shard-1-of-2"] * 3  # each of the 3 pairs split in two
    for log in (run_dir / "stage2").rglob("*.eval"):  # the run's settings reach every shard
        config = read_eval_log(str(log), header_only=True).eval.config
        assert config.log_realtime is False

    # another worker count re-shards the same units: answered from the run's cache, no call made
    assert run_in_process("stage2", str(cfg), "--display", "none", "--workers", "3") == 0
    assert len(fault_srv.calls()) == len(calls)
    assert_frame_equal(comparable(pd.read_parquet(run_dir / "verdicts.parquet")), comparable(clean_run.verdicts))


def test_more_workers_than_connections_is_refused_before_any_call(fault_srv: FaultServer, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fault_srv.reset(FaultPlan())
    cfg = fault_config(tmp_path, extra_run="max_connections = 2\n")
    assert run_in_process("run", str(cfg), "--display", "none", "--workers", "3") == 2
    err = capsys.readouterr().err
    assert "--workers" in err and "3" in err and "max_connections" in err
    assert fault_srv.calls() == [] and not (tmp_path / "runs").exists()


def _workers_of(session: int) -> list[int]:
    """Pids of live `harness.run._workers_main` processes in process session `session`."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if b"harness.run._workers_main" in cmd and state != "Z" and os.getsid(int(d.name)) == session:
                found.append(int(d.name))
        except (OSError, IndexError):  # the process ended while we looked
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds the workers through /proc")
@pytest.mark.slow
def test_killing_the_parent_stops_its_workers_and_the_run_resumes(fault_srv: FaultServer, clean_run: CleanRun,
                                                                  tmp_path: Path) -> None:
    fault_srv.reset(FaultPlan(latency_s=0.1))
    cfg = fault_config(tmp_path, extra_run="workers = 3\n")  # the run judges shard 0, 2 worker processes the rest
    fault_srv.trip_at(STAGE1_SERVER_CALLS + STAGE2_SERVER_CALLS // 2)  # freeze half-way through stage 2
    proc = subprocess.Popen([theraeval_exe(), "run", str(cfg), "--display", "none"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert fault_srv.tripped.wait(120), "stage 2 never got half-way"
        workers = _workers_of(proc.pid)
        assert 1 <= len(workers) <= 2, workers  # (a fast worker may already have finished its shard)
        time.sleep(1.5)  # every answer sent before the freeze reaches its cache entry (as in the kill -9 test)
        proc.kill()  # the parent only: SIGKILL leaves it no chance to stop its workers itself
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        while _workers_of(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _workers_of(proc.pid) == [], "a worker outlived its parent"
    finally:
        for pid in _workers_of(proc.pid):
            os.kill(pid, signal.SIGKILL)
        fault_srv.release(abort=True)
        assert fault_srv.wait_idle()
    assert proc.returncode == -signal.SIGKILL
    fault_srv.generation = 1
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    df = pd.read_parquet(tmp_path / "runs" / "r" / "verdicts.parquet")
    assert_frame_equal(comparable(df), comparable(clean_run.verdicts))
    calls = fault_srv.calls()
    aborted = [c for c in calls if c.fault == "frozen-aborted"]
    assert {c.key for c in calls} == clean_run.keys
    assert len(calls) - len(clean_run.keys) == len(aborted)  # only the calls in flight at the kill were repeated


def _round_logs(run_dir: Path) -> list[tuple[str, ...]]:
    """(round folder, [shard folder]) of every adaptive round log, sorted."""
    root = run_dir / "stage2" / "adaptive"
    return sorted(p.relative_to(root).parent.parts for p in root.rglob("*.eval"))


@pytest.mark.slow
def test_adaptive_rounds_shard_over_workers_with_every_call_once(fault_srv: FaultServer, clean_run: CleanRun,
                                                                 tmp_path: Path) -> None:
    """`--schedule adaptive --workers 2`: each round is split over the two processes, and the schedule (its rounds,
    their units) and the verdicts are those of the one-process adaptive run; an unchanged re-run makes no call."""
    runs = {}
    for workers in (1, 2):
        fault_srv.reset(FaultPlan(latency_s=0.02))
        (tmp_path / f"w{workers}").mkdir()
        cfg = fault_config(tmp_path / f"w{workers}", extra_run="max_connections = 4\n")
        assert run_in_process("run", str(cfg), "--display", "none", "--schedule", "adaptive",
                              "--workers", str(workers)) == 0
        calls = fault_srv.calls()
        assert sorted(c.key for c in calls) == sorted(clean_run.keys)  # every distinct call exactly once
        run_dir = tmp_path / f"w{workers}" / "runs" / "r"
        runs[workers] = (cfg, run_dir, pd.read_parquet(run_dir / "verdicts.parquet"), _round_logs(run_dir))
    _, _, df1, logs1 = runs[1]
    cfg2, run_dir2, df2, logs2 = runs[2]
    assert_frame_equal(comparable(df2), comparable(df1))  # the same judged units and verdicts
    assert_frame_equal(comparable(df2), comparable(clean_run.verdicts))  # (9 units: the schedule judges them all)
    rounds1 = sorted({parts[0] for parts in logs1})
    assert len(rounds1) >= 2 and all(len(parts) == 1 for parts in logs1)  # one process: logs in the round folder
    assert sorted({parts[0] for parts in logs2}) == rounds1  # same rounds: their names hash their units
    assert all(len(parts) == 2 and parts[1] in ("shard-0-of-2", "shard-1-of-2") for parts in logs2)
    assert {parts[1] for parts in logs2} == {"shard-0-of-2", "shard-1-of-2"}  # a round was split over both
    indexed = sorted(str(p.relative_to(run_dir2 / "stage2")) for p in stage2_logs(run_dir2))
    assert indexed == sorted(str(p.relative_to(run_dir2 / "stage2")) for p in (run_dir2 / "stage2").rglob("*.eval"))

    fault_srv.reset(FaultPlan())
    assert run_in_process("stage2", str(cfg2), "--display", "none", "--schedule", "adaptive", "--workers", "2") == 0
    assert fault_srv.calls() == []  # unchanged re-run: the same rounds, complete logs, no call
    assert _round_logs(run_dir2) == logs2
    assert_frame_equal(comparable(pd.read_parquet(run_dir2 / "verdicts.parquet")), comparable(df1))
