"""The suite's shared fixtures, registered once for every test by ``pytest_plugins`` in tests/conftest.py.

Session fixtures defined here exist once per session wherever they are used (a fault server, a clean scripted
run through it, a single-turn stage 1 for preference collection, a real offline run for the report, the
Chromium driver, the bundled reward heads).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.cli import main
from harness.reward_heads import RewardHeads
from harness.run import stage1_logs
from harness.testing import FaultPlan, FaultServer, fault_server
from tests.support.faults import STAGE1_SERVER_CALLS, CleanRun, fault_config, run_in_process
from tests.support.preferences import CANDIDATES, CRITERIA, SCENARIOS, Stage1Run
from tests.support.reports import make_real_run
from tests.support.reward_heads import HashEncoder


# --- faults ----------------------------------------------------------------------------------------------
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
    # no faults, so no hang to cut short: a long attempt timeout keeps a loaded machine from resending a late answer
    assert run_in_process("run", str(fault_config(tmp, attempt_timeout=60)), "--display", "none") == 0
    seconds = time.monotonic() - t0
    calls = fault_srv.calls()
    keys = [c.key for c in calls]
    assert len(keys) == len(set(keys)) and {c.fault for c in calls} == {"ok"}  # fault-free: every call once
    stage1 = frozenset(c.key for c in calls if not c.model.startswith("judge-"))
    assert len(stage1) == STAGE1_SERVER_CALLS
    run = tmp / "runs" / "r"
    return CleanRun(pd.read_parquet(run / "verdicts.parquet"), pd.read_parquet(run / "transcripts.parquet"),
                    frozenset(keys), stage1, seconds, run)


# --- preferences -----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def stage1_run(tmp_path_factory: pytest.TempPathFactory) -> Stage1Run:
    """Single-turn stage 1 of the scripted candidates on 4 scenarios, criteria empathy + safety (~6 s, once)."""
    tmp = tmp_path_factory.mktemp("pref-stage1")
    scen = tmp / "scenarios.jsonl"
    scen.write_text("".join(json.dumps(s) + "\n" for s in SCENARIOS))
    cands = "".join(f'\n[[candidates]]\nname = "{n}"\nmodel = "{m}"\n' for n, m in CANDIDATES.items())
    cfg = tmp / "pref.toml"
    cfg.write_text(f'[run]\nname = "pref"\noutput_dir = "{tmp / "runs"}"\n\n'
                   f'[data]\nscenarios = "{scen}"\ncriteria_ids = {json.dumps(CRITERIA)}\n\n'
                   f'[judge]\nkind = "rm"\n{cands}')
    assert main(["stage1", str(cfg), "--display", "none"]) == 0
    run_dir = tmp / "runs" / "pref"
    (criteria,) = (run_dir / "inputs").glob("criteria-*.toml")
    return Stage1Run(run_dir, stage1_logs(run_dir), criteria, run_dir / "inputs" / "personas.jsonl")


# --- reports ---------------------------------------------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="session")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_real_run(tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    """Headless Chromium from the system (nothing downloaded); skipped only when it is not installed."""
    if not (CHROMIUM.exists() or shutil.which("chromium")) or not CHROMEDRIVER.exists():
        pytest.skip("chromium/chromedriver not found (/usr/bin/chromium, /usr/bin/chromedriver): "
                    "run scripts/install-browser.sh")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (dev extra)")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="theraeval-chrome-")
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}", "--window-size=1300,1000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


# --- reward_heads ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def judge() -> RewardHeads:
    """The bundled offline judge (evidence encoder + heads; loaded once, ~1 s)."""
    return RewardHeads.load()


@pytest.fixture
def hash_encoder() -> HashEncoder:
    return HashEncoder()
