"""Progress of the run's long steps, in every display: stage, full candidate or pair name, calls done / total,
rate, ETA, and a heartbeat line when nothing else was printed for `THERAEVAL_HEARTBEAT_S` (10) seconds.

A stage wraps its `eval_set` in :func:`track`; inspect tells us what happens through its hooks
(``inspect_ai.hooks``: task start/end, every completed model event, sample end), registered once at import and
enabled only while a tracker is active, so nothing changes for code that does not track. What is shown depends
on the display (`--display`, else ``$INSPECT_DISPLAY``, else `full` on a terminal and `plain` otherwise, so that
scripts and CI logs get lines instead of a live view that only renders at the end):

* `plain`: lines on stdout next to inspect's own (whose names are cut at 12 characters): one per task when it
  starts, at its first answered call, at most one every 5 s while it runs and one when it ends; and the
  heartbeat: elapsed time, how long ago the last call finished (so slow can be told from hung), what is
  running, the stage's calls, rate and ETA;
* `log`: the same lines on stderr, time-stamped;
* `full`, `rich`, `conversation`: inspect's live display shows elapsed time itself; the stage's calls, rate, ETA
  and the full names of the running tasks go into its footer counters (``inspect_ai.util.display_counter``);
* `none`: nothing.

Worker shards (`[run] workers`) run inspect with display `none`; :func:`worker_progress` hands them the line mode
through ``THERAEVAL_PROGRESS``, so each shard prints its own lines, labelled with its shard.

A call counts when its model event completes, answered by the model or read from the run's cache (shown as
"cached": a resumed run moves fast through them), or, for the direct judge client (which records no model event),
when it reports its answer (:func:`call_answered`). Totals are the dry run's upper bounds
(`harness.run._estimate`); a regenerated patient turn or a retried sample can add calls, and then the total
grows with the count. Samples a resumed task reuses from its previous log are not reported by inspect's hooks:
until such a task ends its ETA counts them as still to do (an upper bound).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from inspect_ai.event import ModelEvent
from inspect_ai.hooks import Hooks, SampleEnd, SampleEvent, TaskEnd, TaskStart, hooks
from inspect_ai.util import DisplayType

from harness.core import DISPLAYS, Heartbeat, LinePrinter, fmt_duration, fmt_rate_eta, heartbeat_seconds

PROGRESS_ENV = "THERAEVAL_PROGRESS"
"""Environment variable: the line mode (`plain`, `log`, `none`) of a worker process, whose inspect display is off."""
TASK_LINE_EVERY_S = 5.0
"""At most one progress line per task this often (inspect's plain display throttles the same way), or every
heartbeat when that is shorter."""
_COUNTER_EVERY_S = 1.0

Mode = Literal["plain", "log", "counter", "none"]
CallsPerSample = int | Callable[[Mapping[str, Any]], int]
"""Upper bound on the model calls of one sample: a number, or a function of the task's metadata."""


def default_display(display: str | None) -> DisplayType:
    """The display a command runs with: `display`, else `$INSPECT_DISPLAY`, else `full` on a terminal and
    `plain` when stdout is a pipe or a file (inspect's live display would show nothing there until the end)."""
    shown = display or os.environ.get("INSPECT_DISPLAY", "").strip().lower()
    if shown in DISPLAYS:
        return shown  # type: ignore[return-value]
    return "full" if sys.stdout.isatty() else "plain"


def _mode(display: str | None) -> Mode:
    shown = default_display(display)
    if shown == "none":
        worker = os.environ.get(PROGRESS_ENV, "none")
        return worker if worker in ("plain", "log") else "none"  # type: ignore[return-value]
    if shown == "plain" or shown == "log":
        return shown
    return "counter"


def task_name(metadata: Mapping[str, Any] | None, fallback: str) -> str:
    """The full name a task is shown under: its candidate, or `a vs b` for a pair."""
    md = metadata or {}
    if md.get("candidate_a") and md.get("candidate_b"):
        return f"{md['candidate_a']} vs {md['candidate_b']}"
    return str(md.get("candidate") or fallback)


@dataclass
class _Task:
    name: str
    samples: int
    calls_total: int
    started: float = field(default_factory=time.monotonic)
    samples_done: int = 0
    calls: int = 0
    cached: int = 0
    ended: bool = False
    last_line: float = 0.0
    seen: set[str] = field(default_factory=set)


class Tracker:
    """The progress of one stage's `eval_set` (see the module docstring); fed by :class:`ProgressHooks`."""

    def __init__(self, stage: str, mode: Mode, unit: str, calls_per_sample: CallsPerSample,
                 task_label: str | None = None) -> None:
        self.stage, self.mode, self.unit, self.task_label = stage, mode, unit, task_label
        self.calls_per_sample = calls_per_sample
        self.tasks: dict[str, _Task] = {}
        self.started = time.monotonic()
        self.last_call: float | None = None
        self.printer = LinePrinter(sys.stderr if mode == "log" else None, stamp=mode == "log")
        self._lock = threading.Lock()
        self._counter_at = 0.0
        self.line_every = min(TASK_LINE_EVERY_S, heartbeat_seconds())

    # ---- events (inspect's event loop) ----
    def task_start(self, eval_id: str, name: str, samples: int, metadata: Mapping[str, Any] | None) -> None:
        per = self.calls_per_sample(metadata or {}) if callable(self.calls_per_sample) else self.calls_per_sample
        with self._lock:
            t = self.tasks[eval_id] = _Task(name, samples, samples * per)
        calls = f", up to {t.calls_total} calls" if t.calls_total else ", no model calls"
        self._emit(f"{self.stage} | {name} | started: {samples} {self.unit}{calls}", t)

    def call_done(self, eval_id: str, key: str, cached: bool) -> None:
        t = self.tasks.get(eval_id)
        if t is None or key in t.seen:
            return
        with self._lock:
            t.seen.add(key)
            t.calls += 1
            t.cached += cached
            self.last_call = time.monotonic()
        self._progress(t)

    def sample_done(self, eval_id: str) -> None:
        t = self.tasks.get(eval_id)
        if t is None:
            return
        with self._lock:
            t.samples_done += 1
        self._progress(t)

    def task_end(self, eval_id: str, status: str) -> None:
        t = self.tasks.get(eval_id)
        if t is None:
            return
        with self._lock:
            t.ended = True
            if status == "success":
                t.samples_done = t.samples  # including samples reused from a previous attempt
            t.seen.clear()
        took = fmt_duration(time.monotonic() - t.started)
        self._emit(f"{self.stage} | {t.name} | {status}: {self._done(t)} in {took}", t)

    # ---- text ----
    def _done(self, t: _Task) -> str:
        samples = f"{self.unit} {t.samples_done}/{t.samples}"
        if not t.calls_total and not t.calls:
            return samples
        cached = f" ({t.cached} cached)" if t.cached else ""
        return f"calls {t.calls}/{max(t.calls_total, t.calls)}{cached} | {samples}"

    def task_line(self, t: _Task) -> str:
        elapsed = time.monotonic() - t.started
        if t.calls_total or t.calls:
            speed = fmt_rate_eta(t.calls, max(t.calls_total, t.calls), elapsed, "calls")
        else:
            speed = fmt_rate_eta(t.samples_done, t.samples, elapsed, self.unit)
        return f"{self.stage} | {t.name} | {self._done(t)} | {speed}"

    def totals(self) -> tuple[int, int, int, int, int]:
        """(calls, calls total, cached, samples done, samples) over the tasks started so far."""
        ts = list(self.tasks.values())
        return (sum(t.calls for t in ts), sum(max(t.calls_total, t.calls) for t in ts), sum(t.cached for t in ts),
                sum(t.samples_done for t in ts), sum(t.samples for t in ts))

    def overall(self) -> str:
        calls, total, cached, done, samples = self.totals()
        elapsed = time.monotonic() - self.started
        if total:
            cached_txt = f" ({cached} cached)" if cached else ""
            return (f"calls {calls}/{total}{cached_txt} | {self.unit} {done}/{samples} | "
                    f"{fmt_rate_eta(calls, total, elapsed, 'calls')}")
        return f"{self.unit} {done}/{samples} | {fmt_rate_eta(done, samples, elapsed, self.unit)}"

    def heartbeat_line(self) -> str:
        now = time.monotonic()
        running = [t.name for t in self.tasks.values() if not t.ended]
        last = "no call finished yet" if self.last_call is None else \
            f"last call finished {fmt_duration(now - self.last_call)} ago"
        what = f"running: {', '.join(running)}" if running else "preparing (models, inputs, logs)"
        head = f"{self.stage} | still working, {fmt_duration(now - self.started)} elapsed, {last} | {what}"
        return f"{head} | {self.overall()}" if self.tasks else head

    def summary_line(self) -> str:
        took = fmt_duration(time.monotonic() - self.started)
        if not self.tasks:
            return f"{self.stage} | nothing to run: every log is complete ({took})"
        calls, _, cached, done, _ = self.totals()
        n = len(self.tasks)
        cached_txt = f" ({cached} from the cache)" if cached else ""
        return f"{self.stage} | finished {n} task(s): {calls} calls{cached_txt}, {done} {self.unit} in {took}"


    # ---- output ----
    def _progress(self, t: _Task) -> None:
        now = time.monotonic()
        if self.mode == "counter":
            if now - self._counter_at >= _COUNTER_EVERY_S:
                self._counters()
        elif t.calls + t.samples_done == 1 or now - t.last_line >= self.line_every:
            self._emit(self.task_line(t), t)  # the first answer at once (a rate exists from then on), then throttled

    def _emit(self, line: str, t: _Task) -> None:
        if self.mode == "counter":
            self._counters()
        elif self.mode != "none":
            t.last_line = time.monotonic()
            self.printer(line)

    def _counters(self) -> None:
        from inspect_ai.util import display_counter

        self._counter_at = time.monotonic()
        running = [t.name for t in self.tasks.values() if not t.ended]
        display_counter(self.stage, self.overall())
        display_counter(f"{self.stage} running", ", ".join(running) or "-")

    def beat(self) -> None:
        self.printer(self.heartbeat_line())


_active: Tracker | None = None


@hooks(name="theraeval_progress", description="theraeval progress lines (enabled while a stage is tracked)")
class ProgressHooks(Hooks):
    """Feeds the active :class:`Tracker` (a no-op, and disabled, when none is)."""

    def enabled(self) -> bool:
        return _active is not None

    async def on_task_start(self, data: TaskStart) -> None:
        if _active is not None:
            _active.task_start(data.eval_id, task_name(data.spec.metadata, _active.task_label or data.spec.task),
                               int(data.spec.dataset.samples or 0), data.spec.metadata)

    async def on_sample_event(self, data: SampleEvent) -> None:
        ev = data.event
        if _active is not None and isinstance(ev, ModelEvent) and not ev.pending and ev.error is None:
            _active.call_done(data.eval_id, ev.uuid or str(id(ev)), ev.cache == "read")

    async def on_sample_end(self, data: SampleEnd) -> None:
        if _active is not None:
            _active.sample_done(data.eval_id)

    async def on_task_end(self, data: TaskEnd) -> None:
        if _active is not None:
            _active.task_end(data.eval_id, str(data.log.status))


def call_answered(key: str, cached: bool) -> None:
    """Count a call of the active sample that left no model event (the direct judge client, harness/run/
    _direct_judge.py): `key` identifies the call, `cached` whether it was answered without a request."""
    if _active is None:
        return
    from inspect_ai.log._samples import sample_active  # the sample (and so the task) the call belongs to

    sample = sample_active()
    if sample is not None:
        _active.call_done(sample.eval_id, key, cached)


@contextmanager
def track(stage: str, display: str | None, *, unit: str = "samples", calls_per_sample: CallsPerSample = 0,
          task_label: str | None = None) -> Iterator[Tracker]:
    """Report the progress of the `eval_set` run inside this block as `stage` (e.g. `stage 1 (dialogues)`).

    `unit` names the samples (`dialogues`, `comparisons`); `calls_per_sample` bounds each sample's model calls;
    a task is shown under its candidate (or pair) from its metadata, else `task_label`, else the task's name.
    One tracker is active at a time in a process (an inner one replaces an outer one for its block).
    """
    global _active
    tracker = Tracker(stage, _mode(display), unit, calls_per_sample, task_label)
    if tracker.mode == "none":  # nothing to show: the hooks stay disabled, and cost nothing
        yield tracker
        return
    outer, _active = _active, tracker
    beat = Heartbeat(tracker.printer, tracker.beat).start() if tracker.mode in ("plain", "log") else None
    ok = False
    try:
        yield tracker
        ok = True
    finally:
        if beat is not None:
            beat.stop()
        _active = outer
        if ok and tracker.mode in ("plain", "log"):
            tracker.printer(tracker.summary_line())


@contextmanager
def worker_progress(display: str | None) -> Iterator[None]:
    """Hand the line mode of `display` to worker processes (and to this process's own shard, which runs inspect
    with display `none`): `full`/`rich`/`conversation` become `plain` lines, since several processes share the
    terminal."""
    mode = _mode(display)
    saved = os.environ.get(PROGRESS_ENV)
    os.environ[PROGRESS_ENV] = "plain" if mode == "counter" else mode
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = saved
