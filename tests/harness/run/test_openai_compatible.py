"""The OpenAI-compatible path (openai-api/<service>/<model>): candidates and judge on a loopback server."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.testing import fake_openai
from tests.support.run import run_ok, verdicts, write_config


def test_api_candidates_and_llm_judge_with_structured_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_API_KEY", "sk-test-not-a-secret")
    with fake_openai() as server:
        monkeypatch.setenv("FAKE_BASE_URL", server.url)
        cfg = write_config(tmp_path, judge="openai-api/fake/judge-longer", personas_per_scenario=1,
                           data='criteria_ids = ["empathy", "safety"]\n',
                           candidates={"short": "openai-api/fake/cand-short", "long": "openai-api/fake/cand-long"})
        run_ok("run", str(cfg), "--display", "none")
        n_first = len(server.calls)
        run_ok("run", str(cfg), "--display", "none")  # unchanged re-run: served from the run's cache
        assert len(server.calls) == n_first
    models = [c["model"] for c in server.calls]
    assert models.count("cand-short") == 3 and models.count("cand-long") == 3
    judge_calls = [c for c in server.calls if c["model"] == "judge-longer"]
    assert len(judge_calls) == 3 * 2 * 2  # 3 scenarios x 2 criteria x 2 orders
    # structured output is requested from an OpenAI-compatible judge, with the verdict enum
    fmt = judge_calls[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["properties"]["verdict"]["enum"] == ["A", "B", "tie"]
    assert judge_calls[0]["temperature"] == 0.0  # the role's own setting, not inherited from the task
    df = verdicts(tmp_path)
    assert (df[df.candidate_a == "short"].combined == "B").all()  # the longer candidate wins every comparison
