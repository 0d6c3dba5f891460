"""Keys planted in the environment (the provider's variable, a variable named by `api_key_env`, other providers') are
used for the API calls and never written anywhere a run, its report or its clinician packet writes (every file, every
`.eval` member decompressed, every parquet cell), nor printed. Keys planted in the config are refused before any work
(tests/harness/inputs/test_config_secrets.py)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from harness.testing import FaultPlan, FaultServer
from tests.support.faults import fault_config, file_texts, record, run_cli


@pytest.mark.slow
def test_planted_api_keys_never_reach_the_run_directory(fault_srv: FaultServer, tmp_path: Path) -> None:
    fault_key = f"sk-PLANTED-{uuid.uuid4().hex}"
    team_key = f"PLANTED-team-{uuid.uuid4().hex}"  # not key-shaped: found only if copied verbatim
    other_keys = {var: f"sk-PLANTED-{var}-{uuid.uuid4().hex[:12]}" for var in
                  ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN", "GOOGLE_API_KEY")}
    env = dict(os.environ, FAULT_API_KEY=fault_key, TEAM_FAULT_KEY=team_key, **other_keys)
    # faults too, so error and retry paths (which log messages) are exercised
    fault_srv.reset(FaultPlan.transient(0.3, seed=11, hang_s=3.0))
    cfg = fault_config(tmp_path, name="secret", extra_candidates='\n[[candidates]]\nname = "team"\nmodel = '
                       '"openai-api/fault/cand-short"\napi_key_env = "TEAM_FAULT_KEY"\nsystem_prompt = "Be brief."\n')
    run_dir = tmp_path / "runs" / "secret"
    outputs = []
    for args in (["run", str(cfg), "--display", "none"], ["leaderboard", str(run_dir), "--n-boot", "50"],
                 ["report", str(run_dir)], ["packets", str(run_dir), "--n-items", "4"]):
        done = run_cli(args, env)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        outputs.append(done.stdout + done.stderr)
    assert (run_dir / "report" / "index.html").is_file() and (run_dir / "tables").is_dir()
    assert (run_dir / "packets" / "key.csv").is_file()
    # the planted keys really were the ones sent to the server: the team candidate's from its api_key_env
    assert set(fault_srv.auth) == {f"Bearer {fault_key}", f"Bearer {team_key}"}
    assert sum(fault_srv.auth.values()) == len(fault_srv.calls()) and min(fault_srv.auth.values()) > 0

    secrets = [fault_key, team_key, *other_keys.values(), "PLANTED"]
    texts = list(file_texts(run_dir))
    leaks = [(where, s) for where, data in texts for s in secrets if s.encode() in data]
    # the scan sees inside compressed files: a candidate's words are found in .eval members and parquet cells
    marker = b"[cand-long turn 2]"
    assert any(".eval!samples/" in where and marker in data for where, data in texts)
    assert any("transcripts.parquet (decoded)" in where and marker in data for where, data in texts)
    assert not any(marker in data for where, data in texts if where.endswith(".eval"))  # compressed on disk
    leaks += [("stdout/stderr", s) for out in outputs for s in secrets if s in out]
    assert not leaks, leaks[:5]
    n_files = sum(1 for p in run_dir.rglob("*") if p.is_file())
    n_checked = len(texts)
    record("secrets", files=n_files, texts_checked=n_checked, requests=len(fault_srv.calls()))
