"""Session fixtures of the reliability tests: one fault server, and one fault-free reference run."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pytest
from reliability_helpers import STAGE1_SERVER_CALLS, CleanRun, fault_config, run_in_process

from harness.testing import FaultPlan, FaultServer, fault_server


@pytest.fixture(scope="session")
def fault_srv() -> Iterator[FaultServer]:
    """One server for the whole session: inspect keeps one provider per model name in a process, bound to the
    FAULT_BASE_URL it first saw, so every in-process run must reach the same address (`reset` between runs)."""
    with fault_server(FaultPlan()) as srv, pytest.MonkeyPatch.context() as mp:
        mp.setenv("FAULT_BASE_URL", srv.url)
        mp.setenv("FAULT_API_KEY", "sk-fault-session-not-secret")
        yield srv


@pytest.fixture(scope="session")
def clean_run(fault_srv: FaultServer, tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    """The reference: the reliability config run once without faults."""
    fault_srv.reset(FaultPlan())
    tmp = tmp_path_factory.mktemp("clean")
    t0 = time.monotonic()
    assert run_in_process("run", str(fault_config(tmp)), "--display", "none") == 0
    seconds = time.monotonic() - t0
    calls = fault_srv.calls()
    keys = [c.key for c in calls]
    assert len(keys) == len(set(keys)) and {c.fault for c in calls} == {"ok"}  # fault-free: every call once
    stage1 = frozenset(c.key for c in calls if not c.model.startswith("judge-"))
    assert len(stage1) == STAGE1_SERVER_CALLS
    run = tmp / "runs" / "r"
    return CleanRun(pd.read_parquet(run / "verdicts.parquet"), pd.read_parquet(run / "transcripts.parquet"),
                    frozenset(keys), stage1, seconds)

