"""What every progress line shares: the rate and ETA arithmetic, durations, and the heartbeat thread.

The stages' progress (``harness.run``, through inspect's hooks) and the trainers' (``trainers``, through a
transformers callback) print the same words with these, so a user reads one format whatever the step.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

DISPLAYS = ("full", "conversation", "rich", "plain", "log", "none")
"""inspect's progress displays (`--display`)."""
HEARTBEAT_ENV = "THERAEVAL_HEARTBEAT_S"
"""Environment variable: seconds between heartbeat lines (default 10; the tests set a fraction of a second)."""
DEFAULT_HEARTBEAT_S = 10.0


def heartbeat_seconds() -> float:
    """Seconds without a progress line after which a heartbeat line is printed (`THERAEVAL_HEARTBEAT_S`, else 10)."""
    raw = os.environ.get(HEARTBEAT_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_HEARTBEAT_S
    return value if value > 0 else DEFAULT_HEARTBEAT_S


def fmt_duration(seconds: float) -> str:
    """`42s`, `3m05s`, `2h07m` (whole seconds; `?` when unknown)."""
    if not seconds >= 0 or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def rate_eta(done: float, total: float, elapsed: float) -> tuple[float, float]:
    """(rate per second, seconds left) from `done` of `total` after `elapsed` seconds: the mean rate so far, and
    the rest at that rate (nan while nothing is done: no rate yet, no honest ETA)."""
    if done <= 0 or elapsed <= 0:
        return 0.0, float("nan")
    rate = done / elapsed
    return rate, max(total - done, 0) / rate


def fmt_rate_eta(done: float, total: float, elapsed: float, unit: str) -> str:
    """`0.41 calls/s, ETA 1m28s` (`ETA ?` until the first unit is done)."""
    rate, left = rate_eta(done, total, elapsed)
    return f"{rate:.2f} {unit}/s, ETA {fmt_duration(left)}"


class LinePrinter:
    """Whole lines to a stream from several threads (one write per line, flushed, under a lock)."""

    def __init__(self, stream: TextIO | None = None, stamp: bool = False) -> None:
        self.stream = stream
        self.stamp = stamp
        self.last = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        stream = self.stream or sys.stdout  # looked up at print time: tests and workers redirect stdout
        if self.stamp:
            line = f"{time.strftime('%H:%M:%S')} {line}"
        with self._lock:
            stream.write(line + "\n")
            stream.flush()
            self.last = time.monotonic()


class Heartbeat:
    """A daemon thread that calls `beat()` (which prints one line) whenever `printer` has been silent for
    `interval` seconds, until `stop()`. It never raises into the work it watches."""

    def __init__(self, printer: LinePrinter, beat: Callable[[], None], interval: float | None = None) -> None:
        self.printer = printer
        self.beat = beat
        self.interval = interval if interval is not None else heartbeat_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="theraeval-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(min(self.interval, 1.0) / 2):
            if time.monotonic() - self.printer.last >= self.interval:
                try:
                    self.beat()
                except Exception:  # a progress line must never break a run
                    self.printer.last = time.monotonic()


@contextmanager
def still_working(label: str, interval: float | None = None) -> Iterator[None]:
    """Heartbeat lines (``verdicts | still working, 1m10s elapsed``) on stdout while a step without progress
    of its own runs (building verdict or leaderboard tables, rendering a report): silent when it ends within
    `interval` seconds (`THERAEVAL_HEARTBEAT_S`, default 10), so slow can be told from hung at any scale."""
    printer = LinePrinter()
    start = time.monotonic()
    beat = Heartbeat(printer, lambda: printer(f"{label} | still working, {fmt_duration(time.monotonic() - start)} "
                                              "elapsed"), interval).start()
    try:
        yield
    finally:
        beat.stop()
