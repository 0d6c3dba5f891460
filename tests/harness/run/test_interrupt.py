"""SIGINT / SIGTERM stop `theraeval run` cleanly: the write in progress finishes, the resume hint is printed, the exit
code is 128 + the signal, and re-running the same command completes the run with the full table (whose clinician
packet key names each item's persona)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from harness.core import RESUME_HINT
from harness.testing import FaultPlan, FaultServer
from tests.support.faults import EXPECTED_ROWS, assert_complete, fault_config, leftovers, run_in_process, theraeval_exe


@pytest.mark.parametrize(("sig", "code", "after", "resume"), [(signal.SIGINT, 130, 6, True),
                                                               (signal.SIGTERM, 143, 12, False)],
                         ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_with_the_resume_hint(fault_srv: FaultServer, tmp_path: Path, sig: int, code: int,
                                                     after: int, resume: bool) -> None:
    fault_srv.reset(FaultPlan(latency_s=0.3))  # slow answers: the signal lands mid-stage 1
    cfg = fault_config(tmp_path)
    proc = subprocess.Popen([theraeval_exe(), "run", str(cfg), "--display", "none"], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(fault_srv.calls()) < after and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before the signal"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err[-3000:]
    assert err.strip().splitlines()[-1] == RESUME_HINT, err[-3000:]
    run = tmp_path / "runs" / "r"
    assert not (run / "verdicts.parquet").exists()
    assert [p for p in leftovers(run) if p.name.endswith(".tmp")] == []  # our writes completed or never started

    if not resume:  # (one resume is enough: it is the same for both signals)
        return
    # the same command again resumes and completes
    fault_srv.reset(FaultPlan())
    assert run_in_process("run", str(cfg), "--display", "none") == 0
    df = pd.read_parquet(run / "verdicts.parquet")
    assert len(df) == EXPECTED_ROWS
    assert_complete(df)

    # the clinician packet of this (multi-turn) run: every key row names its dialogue's persona
    assert run_in_process("packets", str(run), "--n-items", "4") == 0
    key = pd.read_csv(run / "packets" / "key.csv", dtype=str, keep_default_na=False)
    personas = set(pd.read_parquet(run / "transcripts.parquet").persona_id)
    assert len(key) == 4 and "" not in personas and set(key.persona_id) <= personas
