"""Shared fixture for the preference-collection tests: one stage-1 run (5 scripted candidates x 4 scenarios)."""

from __future__ import annotations

import json

import pytest
from preference_helpers import CANDIDATES, CRITERIA, SCENARIOS, Stage1Run

from harness.cli import main
from harness.run import stage1_logs


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
