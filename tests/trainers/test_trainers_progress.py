"""Training progress lines (`trainers._progress`): steps, loss, rate, ETA, and a heartbeat during a long step."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from transformers import TrainerControl, TrainerState, TrainingArguments

from harness.core import HEARTBEAT_ENV
from trainers import TrainingSpec, run_training
from trainers._progress import TrainingProgress


def test_sft_prints_steps_loss_rate_and_eta(tiny_dir: Path, data_dir: Path, tmp_path: Path,
                                            cpu_args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    run_training(TrainingSpec(method="sft", base_model=tiny_dir, output_dir=tmp_path / "empathy-sft",
                              dataset=data_dir / "empathy.jsonl", args={**cpu_args, "max_steps": 3}))
    out = capsys.readouterr().out
    assert "train sft empathy-sft | started: 3 steps" in out
    line = r"train sft empathy-sft \| step [1-3]/3 \| loss \d+\.\d{4} \| \d+\.\d\d steps/s, ETA \S+"
    assert re.search(line, out), out
    assert re.search(r"train sft empathy-sft \| done: step 3/3 \| loss \d+\.\d{4} in \d+s", out), out


def test_heartbeat_names_the_running_step(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """No step ends while we wait: the heartbeat (every 0.1 s here) says which step runs and for how long."""
    monkeypatch.setenv(HEARTBEAT_ENV, "0.1")
    cb = TrainingProgress("dpo model-x")
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True)
    state = TrainerState(max_steps=10)
    cb.on_train_begin(args, state, TrainerControl())
    out, deadline = "", time.monotonic() + 30  # a deadline, not a timing assertion
    try:
        while "still working" not in out and time.monotonic() < deadline:
            time.sleep(0.05)
            out += capsys.readouterr().out
    finally:
        cb.on_train_end(args, state, TrainerControl())
    assert "train dpo model-x | started: 10 steps" in out
    assert re.search(r"train dpo model-x \| still working, \d+s elapsed, step 1/10 running for \d+s \| step 0/10 \| "
                     r"0\.00 steps/s, ETA \?", out), out
    after = capsys.readouterr().out
    time.sleep(0.3)
    assert "still working" not in capsys.readouterr().out  # stopped with the training
    assert "train dpo model-x | done: step 0/10" in after
