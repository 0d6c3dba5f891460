"""`batch = true`: the judge's calls go through the provider's batch API (inspect's OpenAI batcher against a loopback
server of the batch endpoints: file upload, batch create / retrieve, output and error files), with delayed
completion and a failed batch item, and the same guarantees as online calls: every comparison judged, no call
answered twice, a re-run answered from the run's cache."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main
from harness.testing import FakeBatchServer, fake_batch_server
from tests.support.faults import run_in_process
from tests.support.run import SCENARIOS, write_config

BATCH = '\nbatch = { send_delay = 0.2, tick = 0.1, size = 1000 }\ntemperature = 0.0\n'


@pytest.fixture(scope="module")
def batch_srv() -> Iterator[FakeBatchServer]:
    """One server for the module: inspect keeps one provider per model name in a process, bound to the base URL it
    first saw, so every in-process run must reach the same address (`reset` between tests)."""
    with fake_batch_server() as srv, pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_BASE_URL", srv.url)
        mp.setenv("OPENAI_API_KEY", "sk-fake-batch-not-secret")
        yield srv


def test_judge_in_batch_mode(batch_srv: FakeBatchServer, tmp_path: Path) -> None:
    batch_srv.reset(delay=0.5, fail_items=1)
    cfg = write_config(tmp_path, judge="openai/gpt-4o-mini", extra=BATCH, personas_per_scenario=1,
                       data='criteria_ids = ["empathy", "safety"]')
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    run = tmp_path / "runs" / "t"
    verdicts = pd.read_parquet(run / "verdicts.parquet")
    calls = 3 * len(SCENARIOS) * 2 * 2  # pairs x scenarios (1 persona) x criteria x orders
    assert len(verdicts) == calls and (verdicts["verdict"] != "unscored").all()
    assert batch_srv.online == []  # nothing went online
    answered = [str(b) for b in batch_srv.answered]
    assert len(answered) == len(set(answered)) == calls  # every call answered once, in batches
    assert len(batch_srv.failed) == 1 and str(batch_srv.failed[0]) in answered  # the failed item, retried
    assert len(batch_srv.batches) >= 2  # the retry went in a later batch
    # the logs say so: usage is the server's (10 in, 5 out per answered call)
    usage = pd.read_parquet(run / "usage.parquet")
    assert usage[usage["role"] == "judge"]["input_tokens"].sum() == 10 * calls

    # a re-run after the stage-2 logs are lost (a kill before they were written): every call from the cache
    shutil.rmtree(run / "stage2")
    assert main(["run", str(cfg), "--display", "none"]) == 0
    assert len(batch_srv.answered) == calls and batch_srv.online == []
    again = pd.read_parquet(run / "verdicts.parquet")
    cols = ["candidate_a", "candidate_b", "scenario_id", "criterion", "order", "verdict"]
    assert again[cols].equals(verdicts[cols])


def test_a_run_killed_with_batches_in_flight_collects_them_on_resume(batch_srv: FakeBatchServer,
                                                                     tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import time

    from tests.support.faults import theraeval_exe

    srv = batch_srv
    srv.reset(delay=4.0, fail_items=0)
    # the killed run is a subprocess (its own provider); the resume runs in this process
    cfg = write_config(tmp_path, judge="openai/gpt-4o-mini", extra=BATCH, personas_per_scenario=1,
                       data='criteria_ids = ["empathy", "safety"]')
    calls = 3 * len(SCENARIOS) * 2 * 2
    proc = subprocess.Popen([theraeval_exe(), "run", str(cfg), "--display", "none"], env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # every judge request submitted in a batch, none answered yet
            with srv.lock:
                submitted = sum(len(srv.files[b["input_file_id"]].splitlines()) for b in srv.batches.values())
            if submitted >= calls:
                break
            time.sleep(0.1)
        assert submitted == calls and srv.answered == []
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole run, mid-batch
        proc.wait()
    batches = len(srv.batches)
    assert (tmp_path / "runs" / "t" / "cache" / "theraeval-batches.jsonl").is_file()
    assert run_in_process("run", str(cfg), "--display", "none") == 0  # resume: waits for the old batches
    assert len(srv.batches) == batches  # no new batch: every request was in one the killed run submitted
    answered = [str(b) for b in srv.answered]
    assert len(answered) == len(set(answered)) == calls and srv.online == []
    assert len(pd.read_parquet(tmp_path / "runs" / "t" / "verdicts.parquet")) == calls
