"""`[judge] exclude_flagged`: comparisons whose simulated patient broke role are unscored, with no judge call
(issue 21); by default they are judged and marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.run import calls, run_ok, verdicts, write_config

PATIENT = '\n[dialogue]\nturns = 2\n\n[patient]\nmodel = "scripted/patient"\non_role_break = "flag"\nmax_tries = 2\n'
CANDS = {"warm": "scripted/therapist-warm", "terse": "scripted/therapist-terse"}


@pytest.mark.slow
@pytest.mark.parametrize("exclude", [False, True])
def test_flagged_dialogues_judged_or_excluded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exclude: bool) -> None:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("THERAEVAL_SCRIPTED_CALL_LOG", str(log))
    # The scripted patient moves on from the crisis disclosure: flagged on s-crisis only (tests/tasks).
    judge = "scripted/judge-longer"
    extra = ("exclude_flagged = true\n" if exclude else "") + PATIENT
    cfg = write_config(tmp_path, judge=judge, candidates=CANDS, personas_per_scenario=1, extra=extra)
    run_ok("run", str(cfg), "--display", "none")
    v = verdicts(tmp_path)
    crisis, other = v[v["scenario_id"] == "s-crisis"], v[v["scenario_id"] != "s-crisis"]
    judge_calls = [c for c in calls(log) if c["model"] == "judge-longer"]
    assert set(other["verdict"]) - {"unscored"} and not other["unscored_reason"].astype(bool).any()
    if exclude:
        assert set(crisis["verdict"]) == {"unscored"}
        reason = "role_flagged: a simulated patient broke role (judge.exclude_flagged)"
        assert set(crisis["unscored_reason"]) == {reason}
        # 2 non-crisis scenarios x 7 criteria x 2 orders: no call for the excluded comparison.
        assert len(judge_calls) == 2 * 7 * 2
    else:
        assert "unscored" not in set(crisis["verdict"]) and len(judge_calls) == 3 * 7 * 2
