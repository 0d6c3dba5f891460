"""Stage 2: the judge compares candidate pairs. One runner, whatever the schedule and the worker count.

:func:`judge_units` judges a set of units (candidate pair -> sample ids) into one log folder: in this process
(`workers = 1`: the folder holds one `.eval` per pair), or split over `workers` processes (each judges a
disjoint round-robin shard of every pair's sorted sample ids in `<folder>/shard-<k>-of-<W>/`, over its part of
`max_connections`; `harness.run._workers`). The schedules are callers of it:

* all pairs (`--schedule all`): every pair's samples, once, in `stage2/`;
* adaptive (`--schedule adaptive`, `harness.run._schedule`): each round's units in
  `stage2/adaptive/round-NNN-<hash of the units>/`.

Either way the logs written go into `stage2/index.json` through :func:`write_stage2_index`, the one writer of
the stage-2 index, so `build_verdicts` reads every mode the same way.
"""

from __future__ import annotations

import json
import logging
from itertools import combinations
from pathlib import Path
from typing import Any

from inspect_ai import Task
from inspect_ai.log import EvalLog

from harness.core import InputError, atomic_write_text, local_path
from harness.run._estimate import comparison_calls
from harness.run._local_models import build_model
from harness.run._plan import IndexEntry, Pair, RunPlan, Units, eval_options, use_run_cache, write_inputs
from harness.run._progress import track, worker_progress
from harness.run._stage1 import stage1_logs
from harness.run._workers import run_workers, shard_units, start_workers, stop_unused
from tasks import pairwise

logger = logging.getLogger(__name__)

BATCH_IN_FLIGHT = 10_000
"""Samples (and judge requests) in flight at once when the judge runs in provider batch mode: enough to fill
provider batches, which hold up to 50,000 requests and take minutes to hours."""



class PairTasks:
    """The stage-2 tasks of a run, each built once (a task reads both stage-1 logs), and the judge role."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self._logs1: dict[str, Path] | None = None
        self._tasks: dict[Pair, Task] = {}
        self._roles: dict[str, Any] | None = None

    def task(self, a: str, b: str) -> Task:
        """The task judging candidates `a` and `b` (a earlier in the config) on all their samples."""
        if (a, b) not in self._tasks:
            if self._logs1 is None:
                self._logs1 = stage1_logs(self.plan.run_dir)
            self._tasks[(a, b)] = _pair_task(self.plan, self._logs1, a, b)
        return self._tasks[(a, b)]

    def roles(self) -> dict[str, Any] | None:
        """`model_roles` of the stage-2 tasks (None for the reward-head judge, which makes no model calls)."""
        if self._roles is None and self.plan.cfg.judge.kind != "rm":
            self._roles = {"judge": build_model(self.plan.cfg.judge)}
        return self._roles


def _pair_task(plan: RunPlan, logs1: dict[str, Path], a: str, b: str) -> Task:
    """The stage-2 task judging candidates `a` and `b` (a earlier in the config)."""
    cfg, paths, j = plan.cfg, plan.inputs(), plan.cfg.judge
    return pairwise(
        log_a=str(logs1[a]), log_b=str(logs1[b]), criteria=str(paths["criteria"]), mode=j.mode,
        personas=str(paths["personas"]), personas_per_scenario=cfg.data.personas_per_scenario,
        seed=cfg.run.seed, granularity=j.granularity, orders=j.orders,
        judge_temperature=j.temperature or 0.0, judge_seed=j.seed or 0, judge_max_tokens=j.max_tokens or 512,
        structured=j.structured, cache_scope=j.spec_hash(), judge=j.kind, rm_heads=plan.heads(),
        logprob_margin=j.logprob_margin, exclude_flagged=j.exclude_flagged,
    )


def index_entries(logs: list[EvalLog], out_dir: Path) -> list[IndexEntry]:
    """Stage-index entries of stage-2 logs, their paths relative to `out_dir` (the run's `stage2/`)."""
    return [{"candidate_a": str(lg.eval.metadata["candidate_a"]),  # type: ignore[index]
             "candidate_b": str(lg.eval.metadata["candidate_b"]),  # type: ignore[index]
             "log": str(local_path(lg.location).relative_to(out_dir.resolve()))} for lg in logs]


def judge_here(tasks: PairTasks, units: Units, folder: Path, connections: int, display: str | None,
               label: str) -> list[IndexEntry]:
    """Judge `units` in this process with one `eval_set` in `folder` (one log per pair); the index entries."""
    from harness.run._schedule import run_pair_tasks

    plan = tasks.plan
    use_run_cache(plan.run_dir)
    todo = [(tasks.task(a, b), ids) for (a, b), ids in units.items()]
    if not todo:
        return []
    opts = {**eval_options(plan, display), "max_connections": connections}
    if "log_realtime" not in plan.cfg.run.model_fields_set:
        # stage 2 does not need inspect's live sample buffer (a fifth of the CPU per judge call, benchmarks/README.md):
        # a resumed judge sample takes its calls from the run's cache. `[run] log_realtime = true` keeps it.
        opts["log_realtime"] = False
    if plan.cfg.judge.batch is not False:  # requests wait in provider batches, not on connections (docs/scale-out.md)
        opts |= {"max_connections": BATCH_IN_FLIGHT, "max_samples": BATCH_IN_FLIGHT}
    with track(label, display, unit="comparisons", calls_per_sample=comparison_calls(plan)):
        logs = run_pair_tasks(todo, folder, label, model="none", model_roles=tasks.roles(), **opts)
    return index_entries(logs, plan.run_dir / "stage2")


def judge_units(tasks: PairTasks, units: Units, folder: Path, *, workers: int = 1, display: str | None = None,
                label: str = "stage 2") -> list[IndexEntry]:
    """Judge `units` into `folder`, in this process (`workers = 1`) or over `workers` processes (shard k in
    `<folder>/shard-<k>-of-<workers>/`, `max_connections` split between them); returns the index entries of
    every log written. Raises `StageError` (after every shard ran to its end) when some unit was not judged."""
    conns = tasks.plan.cfg.run.max_connections
    if workers == 1:
        return judge_here(tasks, units, folder, conns, display, label)
    def judge_local(shard: dict[Pair, list[str]], where: Path, connections: int, name: str) -> list[IndexEntry]:
        return judge_here(tasks, shard, where, connections, "none", name)

    with worker_progress(display):  # each shard prints its own progress lines (a worker reads the mode at start)
        started = start_workers(workers - 1)  # their imports overlap this process building its tasks
        try:
            full = {(a, b): list(ids) if ids is not None else [str(s.id) for s in tasks.task(a, b).dataset]
                    for (a, b), ids in units.items()}
        except BaseException:
            stop_unused(started)
            raise
        return run_workers(tasks.plan, shard_units(full, workers), folder, judge_local, label, started=started)


def write_stage2_index(run_dir: Path, entries: list[IndexEntry]) -> list[Path]:
    """Write `stage2/index.json` (the current stage-2 logs, whatever the mode; atomic); returns the log paths."""
    out_dir = run_dir / "stage2"
    for e in entries:
        if set(e) - {"judge"} != {"candidate_a", "candidate_b", "log"} or Path(e["log"]).is_absolute():
            raise ValueError(f"not a stage-2 index entry: {e}")
    atomic_write_text(out_dir / "index.json", json.dumps(entries, indent=2, sort_keys=True))
    return [out_dir / e["log"] for e in entries]


def stage2_workers(plan: RunPlan, workers: int | None) -> int:
    """The stage-2 worker count: `workers` (a CLI override) or `[run] workers`, checked against the connections."""
    n, field = (workers, "--workers") if workers is not None else (plan.cfg.run.workers, "run.workers")
    conns = plan.cfg.run.max_connections
    if not 1 <= n <= conns:
        raise InputError(plan.config_path, field, n, f"need 1 to run.max_connections ({conns}) workers: each "
                         "worker holds at least one connection", f"use 1 to {conns} workers, or raise max_connections")
    return n


def stage2(plan: RunPlan, display: str | None = None, schedule: str = "all", budget: int | None = None,
           workers: int | None = None) -> list[Path]:
    """Judge the candidate pairs (a is the earlier candidate): all of them, or adaptively (`harness.run._schedule`).

    `schedule="adaptive"` judges (pair, dialogue) units in rounds chosen by Bradley-Terry uncertainty and stops
    when the ranking settles (or after `budget` units); every unit it judges is in exactly one round log.
    `workers` (default `[run] workers`) > 1 splits the judging (all pairs, or each adaptive round) over that many
    processes (`harness.run._workers`). Returns the logs listed in `stage2/index.json`.
    """
    logs1 = stage1_logs(plan.run_dir)  # before writing anything: stage 1 must have run
    cfg = plan.cfg
    missing = [c.name for c in cfg.candidates if c.name not in logs1]
    if missing:
        raise InputError(plan.config_path, "candidates", missing[0], "candidate has no stage-1 dialogues",
                         "run `theraeval stage1` (or `theraeval run`) first")
    judges = cfg.judge_specs()
    for i, (name, j) in enumerate(judges):
        if schedule == "adaptive" and j.kind == "rm":
            raise InputError(plan.config_path, "judge.kind" if name is None else f"judges[{i}](name={name}).kind",
                             "rm", "adaptive scheduling saves judge calls, and reward heads make none",
                             "drop --schedule adaptive, or use LLM judges only")
    workers = stage2_workers(plan, workers)
    write_inputs(plan)
    use_run_cache(plan.run_dir)
    out_dir = plan.run_dir / "stage2"
    names = [c.name for c in cfg.candidates]
    entries: list[IndexEntry] = []
    for name, _ in judges:  # an ensemble: every judge judges every comparison, in its own folder
        folder = out_dir if name is None else out_dir / judge_folder(name)
        label = "stage 2" if name is None else f"stage 2 (judge {name})"
        tasks = PairTasks(plan.for_judge(name))
        if schedule == "adaptive":
            got = _adaptive(tasks, names, folder, out_dir, workers, display, budget)
        else:
            got = judge_units(tasks, {pair: None for pair in combinations(names, 2)}, folder, workers=workers,
                              display=display, label=label)
        entries += got if name is None else [{**e, "judge": name} for e in got]
    written = write_stage2_index(plan.run_dir, entries)
    from harness.run._safety import safety_stage  # absolute safety rubric, when configured (docs/safety.md)

    safety_stage(plan, logs1, display)
    return written


def judge_folder(name: str) -> str:
    """The stage-2 folder of the `[[judges]]` entry `name`, under `stage2/` (a single `[judge]` writes `stage2/`)."""
    return f"judge-{name}"


def _adaptive(tasks: PairTasks, names: list[str], folder: Path, out_dir: Path, workers: int, display: str | None,
              budget: int | None) -> list[IndexEntry]:
    """The adaptive schedule, each round judged by :func:`judge_units` in `<folder>/adaptive/round-NNN-<hash>/`
    (`folder`: `stage2/`, or a judge's folder in it; `out_dir`: `stage2/`, which index paths are relative to)."""
    from harness.run._schedule import InspectBatchJudge, ScheduleConfig, adaptive_schedule, sample_ids

    entries: list[IndexEntry] = []

    def run_round(by_pair: dict[tuple[int, int], list[str]], round_dir: Path) -> list[tuple[tuple[int, int], Path]]:
        units = {(names[a], names[b]): ids for (a, b), ids in by_pair.items()}
        got = judge_units(tasks, units, round_dir, workers=workers, display=display,
                          label=f"stage 2 (adaptive {round_dir.name})")
        entries.extend(got)
        return [((names.index(e["candidate_a"]), names.index(e["candidate_b"])), out_dir / e["log"]) for e in got]

    judge = InspectBatchJudge(run_round, folder / "adaptive")
    n_pairs = len(names) * (len(names) - 1) // 2
    samples = sample_ids(tasks.task(names[0], names[1]))
    result = adaptive_schedule(names, samples, judge, ScheduleConfig(batch_size=max(2 * n_pairs, 32), budget=budget,
                                                                     seed=tasks.plan.cfg.run.seed))
    logger.warning("adaptive schedule: %s after %d of %d units (%.0f%%); ranking %s", result.stopped,
                   len(result.judged), result.total_units, 100 * result.fraction, ", ".join(result.ranking))
    return entries


def _stage2_index(run_dir: Path) -> list[IndexEntry]:
    index = run_dir / "stage2" / "index.json"
    if not index.is_file():
        raise InputError(index, "stage2", str(index), "no stage-2 results in this run", "run `theraeval stage2` first")
    return list(json.loads(index.read_text()))


def stage2_logs(run_dir: Path) -> list[Path]:
    """The current stage-2 logs (from the stage index)."""
    return [run_dir / "stage2" / x["log"] for x in _stage2_index(run_dir)]


def stage2_judges(run_dir: Path) -> list[str]:
    """The `[[judges]]` name of each of :func:`stage2_logs` (`""` for a single `[judge]`'s logs)."""
    return [str(x.get("judge", "")) for x in _stage2_index(run_dir)]
