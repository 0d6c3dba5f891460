"""Training progress in lines: method and run name, step / total, loss, rate, ETA, and a heartbeat.

A ``transformers.TrainerCallback`` that every trainer built by ``trainers._common.trl_trainer`` gets (and any
other ``Trainer`` it is passed to). One CPU step can take minutes, so besides a line per logged loss (and at most
one per `THERAEVAL_HEARTBEAT_S`, default 10 s, between them) a heartbeat line says which step is running and for
how long: slow can be told from hung. The words and the rate/ETA arithmetic are the run stages' own
(``harness.core``); only the main process prints. ``THERAEVAL_PROGRESS=none`` silences it.
"""

from __future__ import annotations

import os
import time
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from harness.core import Heartbeat, LinePrinter, fmt_duration, fmt_rate_eta, heartbeat_seconds


class TrainingProgress(TrainerCallback):
    """Progress lines of one training run, shown as `train <label>` (e.g. `train sft smollm2-empathy`)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.printer = LinePrinter()
        self.silent = os.environ.get("THERAEVAL_PROGRESS", "") == "none"
        self.started = self.step_started = time.monotonic()
        self.step = self.max_steps = 0
        self.loss: float | None = None
        self._beat: Heartbeat | None = None
        self._last_line = 0.0

    def _print(self, text: str) -> None:
        if not self.silent:
            self.printer(f"train {self.label} | {text}")
            self._last_line = time.monotonic()

    def line(self) -> str:
        loss = f" | loss {self.loss:.4f}" if self.loss is not None else ""
        speed = fmt_rate_eta(self.step, self.max_steps, time.monotonic() - self.started, "steps")
        return f"step {self.step}/{self.max_steps}{loss} | {speed}"

    def heartbeat_line(self) -> str:
        now = time.monotonic()
        return (f"train {self.label} | still working, {fmt_duration(now - self.started)} elapsed, step "
                f"{self.step + 1}/{self.max_steps} running for {fmt_duration(now - self.step_started)} | {self.line()}")

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                       **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            self.silent = True
            return
        self.started = self.step_started = time.monotonic()
        self.max_steps = int(state.max_steps or 0)
        self._print(f"started: {self.max_steps} steps, {args.num_train_epochs:g} epoch(s)")
        if not self.silent:
            self._beat = Heartbeat(self.printer, lambda: self.printer(self.heartbeat_line())).start()

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                    **kwargs: Any) -> None:
        self.step, self.step_started = int(state.global_step), time.monotonic()
        if self.step == 1 or time.monotonic() - self._last_line >= min(5.0, heartbeat_seconds()):
            self._print(self.line())

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if logs and "loss" in logs:
            self.loss = float(logs["loss"])
            self._print(self.line())

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                     **kwargs: Any) -> None:
        if self._beat is not None:
            self._beat.stop()
            self._beat = None
        self._print(f"done: {self.line().split(' | ')[0]}{f' | loss {self.loss:.4f}' if self.loss is not None else ''}"
                    f" in {fmt_duration(time.monotonic() - self.started)}")
