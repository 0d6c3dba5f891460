"""`still_working`: a step without progress of its own (verdict and leaderboard tables, the report) prints a
heartbeat line when it runs longer than the interval, and nothing when it ends sooner."""

from __future__ import annotations

import threading

import pytest

from harness.core import still_working


def test_a_long_step_prints_heartbeats_and_a_short_one_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    done = threading.Event()
    with still_working("leaderboard", interval=0.05):
        done.wait(0.5)  # a "long" step: ten intervals
    out = capsys.readouterr().out.splitlines()
    assert out and all(line.startswith("leaderboard | still working, ") and line.endswith(" elapsed") for line in out)

    with still_working("report", interval=60):
        pass  # ends long before its first heartbeat is due
    assert capsys.readouterr().out == ""


def test_the_heartbeat_stops_with_the_step_even_when_it_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), still_working("verdicts", interval=0.05):
        threading.Event().wait(0.2)
        raise RuntimeError("boom")
    capsys.readouterr()
    threading.Event().wait(0.3)  # a thread left running would print again here
    assert capsys.readouterr().out == ""
