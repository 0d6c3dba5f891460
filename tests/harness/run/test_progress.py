"""Progress lines (`harness.run._progress`): full names, calls done / total, rate and ETA in `--display plain`
(worker shards and a resume included), a heartbeat while a call is slow, and the rate and ETA arithmetic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.core import HEARTBEAT_ENV, fmt_duration, fmt_rate_eta, rate_eta
from harness.run import Tracker, default_display
from harness.testing import bench_server
from tests.support.run import run_ok, write_config

WARM = "therapist_warm_with_a_name_longer_than_twelve"
TERSE = "therapist_terse_with_a_name_longer_than_twelve"


def test_plain_run_shows_full_names_calls_rate_and_eta(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HEARTBEAT_ENV, "0.5")  # progress lines at most every 0.5 s instead of 5
    cfg = write_config(tmp_path, personas_per_scenario=1, extra='granularity = "all"\n\n[safety]\nmethod = "checks"',
                       candidates={WARM: "scripted/therapist-warm", TERSE: "scripted/therapist-terse"})
    run_ok("run", str(cfg), "--display", "plain")
    out = capfd.readouterr().out
    # stage 1: 3 scenarios, single turn: 1 call per dialogue
    assert f"stage 1 (dialogues) | {WARM} | started: 3 dialogues, up to 3 calls" in out
    assert re.search(rf"stage 1 \(dialogues\) \| {TERSE} \| calls [1-3]/3 \| dialogues [0-3]/3 \| "
                     r"\d+\.\d\d calls/s, ETA (\d+s|\?)", out), out
    assert f"stage 1 (dialogues) | {WARM} | success: calls 3/3 | dialogues 3/3 in" in out
    # stage 2: one pair, 3 comparisons x 2 orders x 1 call for all criteria = 6 calls
    pair = f"{WARM} vs {TERSE}"
    assert f"stage 2 | {pair} | started: 3 comparisons, up to 6 calls" in out
    assert re.search(rf"stage 2 \| {pair} \| calls [1-6]/6 \| comparisons [0-3]/3 \| \d+\.\d\d calls/s, ETA ", out)
    assert f"stage 2 | {pair} | success: calls 6/6 | comparisons 3/3 in" in out
    assert "stage 2 | finished 1 task(s): 6 calls, 3 comparisons in" in out
    # the safety rubric on the one crisis dialogue, by deterministic checks: no model call
    assert f"stage 2 (safety rubric) | {TERSE} | started: 1 dialogues, no model calls" in out
    assert f"stage 2 (safety rubric) | {TERSE} | success: dialogues 1/1 in" in out
    assert not [line for line in out.splitlines() if line.startswith("stage ") and "..." in line]  # nothing cut

    run_ok("run", str(cfg), "--display", "plain")  # resumed: nothing left, and it says so
    again = capfd.readouterr().out
    assert "stage 1 (dialogues) | nothing to run: every log is complete" in again
    assert "stage 2 | nothing to run: every log is complete" in again

    # `--workers 2`: inspect's display is off in every shard, so each shard prints its own lines, labelled (the
    # second shard's process on stderr). New shard logs, the same calls: all read from the run's cache.
    run_ok("stage2", str(cfg), "--display", "plain", "--workers", "2")
    both = "".join(capfd.readouterr())
    for k in (1, 2):  # 3 comparisons: shard 1 judges 2 of them (4 calls), shard 2 the third (2 calls)
        assert f"stage 2 (shard {k} of 2) | {pair} | started: " in both, both
        assert re.search(rf"stage 2 \(shard {k} of 2\) \| {pair} \| success: calls (\d)/\1 \(\1 cached\) \| "
                         "comparisons", both), both


def test_heartbeat_while_a_call_is_slow(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A 2 s call against a heartbeat every 0.2 s: the silence is filled with heartbeat lines naming what runs."""
    monkeypatch.setenv(HEARTBEAT_ENV, "0.2")
    name = "slow_candidate_with_a_long_full_name"
    with bench_server(latency=2.0, idle_exit=120):
        cfg = write_config(tmp_path, data="scenario_limit = 1", judge="scripted/judge-longer",
                           candidates={name: "openai-api/bench/cand-slow", "quick": "scripted/therapist-warm"})
        run_ok("stage1", str(cfg), "--display", "plain")
    out = capsys.readouterr().out
    beats = [line for line in out.splitlines() if "still working" in line]
    running = [b.split(" | running: ")[1] for b in beats if " | running: " in b]
    assert any(name in r.split(" | ")[0].split(", ") for r in running), out  # the full name, while its call waits
    assert f"stage 1 (dialogues) | {name} | success: calls 1/1" in out


def test_default_display_is_plain_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSPECT_DISPLAY", raising=False)
    assert default_display(None) == "plain"  # pytest captures stdout: not a terminal
    assert default_display("rich") == "rich"
    monkeypatch.setenv("INSPECT_DISPLAY", "log")
    assert default_display(None) == "log" and default_display("none") == "none"


def test_rate_and_eta_arithmetic() -> None:
    # 30 of 120 calls in 60 s: 30 / 60 = 0.5 calls/s; (120 - 30) / 0.5 = 180 s left = 3m00s
    rate, left = rate_eta(30, 120, 60.0)
    assert rate == 0.5 and left == 180.0
    assert fmt_rate_eta(30, 120, 60.0, "calls") == "0.50 calls/s, ETA 3m00s"
    assert fmt_rate_eta(0, 120, 60.0, "calls") == "0.00 calls/s, ETA ?"  # nothing done: no honest ETA
    assert [fmt_duration(s) for s in (0, 59.4, 61, 3600, 7322)] == ["0s", "59s", "1m01s", "1h00m", "2h02m"]


def test_tracker_counts_each_call_once_and_feeds_the_live_display(monkeypatch: pytest.MonkeyPatch) -> None:
    """`full`/`rich`: the stage's totals and the running tasks' full names go to inspect's footer counters."""
    import inspect_ai.util

    import harness.run._progress as progress

    monkeypatch.setattr(progress, "_COUNTER_EVERY_S", 0.0)  # update on every event (live: at most once a second)
    shown: dict[str, str] = {}
    monkeypatch.setattr(inspect_ai.util, "display_counter", lambda caption, value: shown.__setitem__(caption, value))
    t = Tracker("stage 1 (dialogues)", "counter", "dialogues", lambda md: 3 if md["candidate"] == WARM else 0)
    t.task_start("e1", WARM, 2, {"candidate": WARM})  # 2 dialogues x 3 calls
    t.task_start("e2", "imported", 2, {"candidate": "imported"})  # imported responses: no calls
    for key in ("c1", "c1", "c2"):  # an event seen twice (updated after completion) counts once
        t.call_done("e1", key, cached=key == "c2")
    assert t.totals() == (2, 6, 1, 0, 4)  # calls, calls total, cached, samples done, samples
    assert shown["stage 1 (dialogues) running"] == f"{WARM}, imported"
    assert shown["stage 1 (dialogues)"].startswith("calls 2/6 (1 cached) | dialogues 0/4 | ")
    for key in ("c3", "c4", "c5", "c6", "c7"):  # a regenerated patient turn: more calls than the bound
        t.call_done("e1", key, cached=False)
    t.task_end("e1", "success")
    assert t.totals()[:2] == (7, 7) and t.tasks["e1"].samples_done == 2  # the total grows with the count


def test_judges_validate_reports_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.judge_validity import pair_rows, synthetic_pairs, write_jsonl

    monkeypatch.setenv("THERAEVAL_HOME", str(tmp_path / "home"))
    pairs = write_jsonl(tmp_path / "pairs.jsonl", pair_rows(synthetic_pairs(6, seed=3, contexts=3)))
    cfg = write_config(tmp_path, judge="scripted/judge-longer")
    run_ok("judges", "validate", str(cfg), "--pairs", str(pairs), "--n-boot", "200", "--display", "plain")
    out = capsys.readouterr().out
    # 6 pairs x 2 orders, one criterion: 12 calls
    assert "judges validate (empathy) | llm/scripted/judge-longer | started: 6 pairs, up to 12 calls" in out
    assert "judges validate (empathy) | llm/scripted/judge-longer | success: calls 12/12 | pairs 6/6 in" in out
