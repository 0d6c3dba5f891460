"""Run orchestration: validate everything, snapshot the inputs, then stage 1 and stage 2 via `eval_set`.

Resumability comes from two mechanisms: `eval_set` skips tasks whose log is complete and retries
incomplete ones (reusing their finished samples), and every model call goes through inspect's cache
(never expiring, scoped by a hash of the model's spec, stored in `<run>/cache`), so a call that had
completed before an interruption is never made again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from inspect_ai import Task, eval_set
from inspect_ai.log import EvalLog
from inspect_ai.model import get_model

from harness.core import InputError, atomic_write_text, local_path
from harness.inputs import (
    CandidateSpec,
    CriteriaSet,
    Persona,
    RunConfig,
    Scenario,
    config_file,
    load_criteria,
    load_responses,
    load_run_config,
    resolve_personas,
    resolve_scenarios,
)
from harness.run._endpoints import check_endpoints
from harness.run._local_models import build_model
from tasks import DEFAULT_SYSTEM_PROMPT, dialogue, pairwise

logger = logging.getLogger(__name__)


class StageError(RuntimeError):
    """A stage did not complete (after retries); re-running the same command resumes it."""


@dataclass(frozen=True)
class RunPlan:
    """A validated run: config, resolved inputs, and where everything goes."""

    cfg: RunConfig
    config_path: Path
    run_dir: Path
    scenarios: list[Scenario]
    personas: list[Persona]
    criteria: CriteriaSet

    def inputs(self) -> dict[str, Path]:
        """Snapshot paths; their names carry a content hash so changed inputs mean new tasks."""
        d = self.run_dir / "inputs"
        return {
            "scenarios": d / f"scenarios-{_hash_jsonl(self.scenarios)}.jsonl",
            "personas": d / f"personas-{_hash_jsonl(self.personas)}.jsonl",
            "criteria": d / f"criteria-{self.criteria.hash}.toml",
        }

    def responses_path(self, c: CandidateSpec) -> Path:
        assert c.responses is not None
        p = Path(c.responses).expanduser()
        return p if p.is_absolute() else self.config_path.parent / p


def _jsonl(items: list[Any]) -> str:
    return "".join(json.dumps(x.model_dump(mode="json"), sort_keys=True, ensure_ascii=False) + "\n" for x in items)


def _hash_jsonl(items: list[Any]) -> str:
    return hashlib.sha256(_jsonl(items).encode()).hexdigest()[:12]


def plan_run(config_path: str | Path) -> RunPlan:
    """Load and validate the config and every file it points at; nothing is written."""
    path = config_file(config_path).resolve()
    cfg, _ = load_run_config(path)
    base = path.parent
    scenarios = resolve_scenarios(cfg.data.scenarios, base)
    if cfg.data.scenario_ids is not None:
        by_id = {s.id: s for s in scenarios}
        missing = [i for i in cfg.data.scenario_ids if i not in by_id]
        if missing:
            raise InputError(path, "data.scenario_ids", missing[0], "unknown scenario id",
                             f"use ids from {cfg.data.scenarios}")
        scenarios = [by_id[i] for i in cfg.data.scenario_ids]
    if cfg.data.scenario_limit is not None:
        scenarios = scenarios[: cfg.data.scenario_limit]
    personas = resolve_personas(cfg.data.personas, base)
    spec = cfg.data.criteria
    crit_path = base / spec if spec.endswith(".toml") and not Path(spec).is_absolute() else spec
    criteria = load_criteria(crit_path)
    if cfg.data.criteria_ids is not None:
        criteria = criteria.subset(cfg.data.criteria_ids, path)
    run_dir = (Path(cfg.run.output_dir).expanduser() / cfg.run.name).resolve()  # relative to the working directory
    plan = RunPlan(cfg, path, run_dir, scenarios, personas, criteria)
    for c in cfg.candidates:
        if c.responses is not None:
            load_responses(plan.responses_path(c), [s.id for s in scenarios])
    if cfg.judge.kind == "rm":
        from scorers import load_reward_judge

        load_reward_judge(str(_rel_to(path, cfg.judge.heads)) if cfg.judge.heads != "builtin" else "builtin", criteria)
    check_endpoints(cfg, path)
    return plan


def _rel_to(config_path: Path, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else config_path.parent / p


def write_inputs(plan: RunPlan) -> None:
    """Snapshot the validated inputs into `<run>/inputs` (atomic writes; content-addressed names)."""
    paths = plan.inputs()
    paths["scenarios"].parent.mkdir(parents=True, exist_ok=True)
    contents = {
        "scenarios": _jsonl(plan.scenarios),
        "personas": _jsonl(plan.personas),
        "criteria": _criteria_toml(plan.criteria),
    }
    for key, p in paths.items():
        if not p.exists():
            atomic_write_text(p, contents[key])
    # stable names for readers of the current run (leaderboard, report); tasks use the hashed names
    inputs = plan.run_dir / "inputs"
    atomic_write_text(inputs / "scenarios.jsonl", contents["scenarios"])
    atomic_write_text(inputs / "personas.jsonl", contents["personas"])
    atomic_write_text(inputs / "config.toml", plan.config_path.read_text(encoding="utf-8"))


def _criteria_toml(cs: CriteriaSet) -> str:
    def q(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string

    lines = [f"name = {q(cs.name)}", f"version = {q(cs.version)}", f"description = {q(cs.description)}", ""]
    for c in cs.criteria:
        lines.append("[[criteria]]")
        lines += [f"{k} = {q(v)}" for k, v in c.model_dump().items()]
        lines.append("")
    return "\n".join(lines)


def _eval_options(plan: RunPlan, display: str | None) -> dict[str, Any]:
    run = plan.cfg.run
    opts: dict[str, Any] = dict(
        max_connections=run.max_connections,
        retry_attempts=3,
        retry_wait=1,
        # A call error inspect does not retry itself (a 200 whose body is not JSON) errors its sample: retry that
        # sample in place, instead of failing the task, which cancels every in-flight call of the task (paid
        # again on the retry) and spends one of eval_set's 3 task retries (docs/guarantees.md).
        retry_on_error=3,
        log_dir_allow_dirty=True,  # logs of removed candidates/inputs stay; the stage index says what is current
        display=display,
        log_level="warning",
        log_realtime=run.log_realtime,
    )
    if run.attempt_timeout is not None:
        opts["attempt_timeout"] = run.attempt_timeout
    if run.max_retries is not None:
        opts["max_retries"] = run.max_retries
    return opts


def use_run_cache(run_dir: Path) -> None:
    """Point inspect's call cache at `<run_dir>/cache` (inspect reads INSPECT_CACHE_DIR on every cache access;
    the run owns its cache, so a resumed or re-run command never repeats a call)."""
    os.environ["INSPECT_CACHE_DIR"] = str(run_dir / "cache")


def _finished(ok: bool, logs: list[EvalLog], stage: str) -> None:
    bad = [lg for lg in logs if lg.status != "success"]
    if not ok or bad:
        detail = "; ".join(f"{lg.eval.task} ({lg.status}): {lg.error.message if lg.error else ''}" for lg in bad)
        raise StageError(f"{stage} did not complete: {detail or 'see the logs'}. Re-run to resume.")


def stage1(plan: RunPlan, display: str | None = None) -> dict[str, Path]:
    """Dialogues of every candidate; returns candidate name -> stage-1 log path."""
    write_inputs(plan)
    use_run_cache(plan.run_dir)
    cfg, paths = plan.cfg, plan.inputs()
    tasks: list[Task] = []
    for c in cfg.candidates:
        model = build_model(c.as_model()) if c.model else get_model("none")
        t = dialogue(
            candidate=c.name,
            scenarios=str(paths["scenarios"]),
            personas=str(paths["personas"]),
            personas_per_scenario=cfg.data.personas_per_scenario,
            seed=cfg.run.seed,
            turns=cfg.dialogue.turns,
            system_prompt=c.system_prompt or cfg.dialogue.system_prompt or DEFAULT_SYSTEM_PROMPT,
            responses=str(plan.responses_path(c)) if c.responses else None,
            stop_token=cfg.dialogue.stop_token,
            patient_temperature=cfg.patient.temperature if cfg.patient and cfg.patient.temperature else 0.0,
            patient_seed=cfg.patient.seed if cfg.patient and cfg.patient.seed is not None else 0,
            patient_max_tokens=cfg.patient.max_tokens if cfg.patient and cfg.patient.max_tokens else 160,
            cache_scope=c.spec_hash() if c.model else None,
        )
        t.model = model
        tasks.append(t)
    roles = {"patient": build_model(cfg.patient)} if cfg.patient is not None and cfg.dialogue.turns > 1 else None
    out_dir = plan.run_dir / "stage1"
    ok, logs = eval_set(tasks, log_dir=str(out_dir), model_roles=roles, **_eval_options(plan, display))
    _finished(ok, logs, "stage 1")
    index = {str(lg.eval.metadata["candidate"]): local_path(lg.location).name for lg in logs}  # type: ignore[index]
    atomic_write_text(out_dir / "index.json", json.dumps(index, indent=2, sort_keys=True))
    return {name: out_dir / rel for name, rel in index.items()}


def stage1_logs(run_dir: Path) -> dict[str, Path]:
    """The current stage-1 log of each candidate (from the stage index)."""
    index = run_dir / "stage1" / "index.json"
    if not index.is_file():
        raise InputError(index, "stage1", str(index), "no stage-1 results in this run", "run `theraeval stage1` first")
    return {k: run_dir / "stage1" / v for k, v in json.loads(index.read_text()).items()}


def _pair_task(plan: RunPlan, logs1: dict[str, Path], a: str, b: str) -> Task:
    """The stage-2 task judging candidates `a` and `b` (a earlier in the config)."""
    cfg, paths, j = plan.cfg, plan.inputs(), plan.cfg.judge
    heads = str(_rel_to(plan.config_path, j.heads)) if j.heads != "builtin" else "builtin"
    return pairwise(
        log_a=str(logs1[a]), log_b=str(logs1[b]), criteria=str(paths["criteria"]), mode=j.mode,
        personas=str(paths["personas"]), personas_per_scenario=cfg.data.personas_per_scenario,
        seed=cfg.run.seed, granularity=j.granularity, orders=j.orders,
        judge_temperature=j.temperature or 0.0, judge_seed=j.seed or 0, judge_max_tokens=j.max_tokens or 512,
        structured=j.use_structured(), cache_scope=j.spec_hash(), judge=j.kind, rm_heads=heads,
        logprob_margin=j.logprob_margin,
    )


def _judge_roles(plan: RunPlan) -> dict[str, Any] | None:
    return {"judge": build_model(plan.cfg.judge)} if plan.cfg.judge.kind != "rm" else None


def _index_entries(logs: list[EvalLog], out_dir: Path) -> list[dict[str, str]]:
    return [{"candidate_a": str(lg.eval.metadata["candidate_a"]),  # type: ignore[index]
             "candidate_b": str(lg.eval.metadata["candidate_b"]),  # type: ignore[index]
             "log": str(local_path(lg.location).relative_to(out_dir.resolve()))} for lg in logs]


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
    `workers` (default `[run] workers`) > 1 splits the all-pairs judging over that many processes
    (`harness.run._workers`).
    """
    logs1 = stage1_logs(plan.run_dir)  # before writing anything: stage 1 must have run
    cfg = plan.cfg
    missing = [c.name for c in cfg.candidates if c.name not in logs1]
    if missing:
        raise InputError(plan.config_path, "candidates", missing[0], "candidate has no stage-1 dialogues",
                         "run `theraeval stage1` (or `theraeval run`) first")
    if schedule == "adaptive" and cfg.judge.kind == "rm":
        raise InputError(plan.config_path, "judge.kind", "rm", "adaptive scheduling saves judge calls, and reward "
                         "heads make none", "drop --schedule adaptive, or use an LLM judge")
    workers = stage2_workers(plan, workers)
    write_inputs(plan)
    use_run_cache(plan.run_dir)
    out_dir = plan.run_dir / "stage2"
    names = [c.name for c in cfg.candidates]
    if schedule == "adaptive":
        from harness.run._schedule import ScheduleConfig, adaptive_schedule, inspect_batch_judge, sample_ids

        if workers > 1:
            logger.warning("adaptive schedule: its rounds run in one process (workers = %d ignored)", workers)
        judge = inspect_batch_judge(lambda i, k: _pair_task(plan, logs1, names[i], names[k]), out_dir / "adaptive",
                                    model="none", model_roles=_judge_roles(plan), **_eval_options(plan, display))
        n_pairs = len(names) * (len(names) - 1) // 2
        result = adaptive_schedule(names, sample_ids(_pair_task(plan, logs1, names[0], names[1])), judge,
                                   ScheduleConfig(batch_size=max(2 * n_pairs, 32), budget=budget, seed=cfg.run.seed))
        logger.warning("adaptive schedule: %s after %d of %d units (%.0f%%); ranking %s", result.stopped,
                       len(result.judged), result.total_units, 100 * result.fraction, ", ".join(result.ranking))
        index = _index_entries(judge.logs, out_dir)
    elif workers > 1:
        from harness.run._workers import run_workers

        index = run_workers(plan, workers)
    else:
        ok, logs = eval_set([_pair_task(plan, logs1, a, b) for a, b in combinations(names, 2)],
                            log_dir=str(out_dir), model="none", model_roles=_judge_roles(plan),
                            **_eval_options(plan, display))
        _finished(ok, logs, "stage 2")
        index = _index_entries(logs, out_dir)
    atomic_write_text(out_dir / "index.json", json.dumps(index, indent=2, sort_keys=True))
    return [out_dir / str(x["log"]) for x in index]


def stage2_shard(plan: RunPlan, shard: int, workers: int, connections: int) -> list[dict[str, str]]:
    """One worker's part of stage 2 (`harness.run._workers`): shard `shard` of every pair's samples, in
    `stage2/shard-<shard>-of-<workers>/`, over `connections` connections; returns its stage index entries."""
    from harness.run._schedule import task_subset
    from harness.run._workers import shard_ids

    logs1 = stage1_logs(plan.run_dir)
    use_run_cache(plan.run_dir)
    names = [c.name for c in plan.cfg.candidates]
    tasks = []
    for a, b in combinations(names, 2):
        task = _pair_task(plan, logs1, a, b)
        keep = shard_ids([str(s.id) for s in task.dataset], shard, workers)
        if keep:
            tasks.append(task_subset(task, keep))
    if not tasks:
        return []
    out_dir = plan.run_dir / "stage2"
    opts = {**_eval_options(plan, "none"), "max_connections": connections}
    ok, logs = eval_set(tasks, log_dir=str(out_dir / f"shard-{shard}-of-{workers}"), model="none",
                        model_roles=_judge_roles(plan), **opts)
    _finished(ok, logs, f"stage 2 (shard {shard + 1} of {workers})")
    return _index_entries(logs, out_dir)


def stage2_logs(run_dir: Path) -> list[Path]:
    """The current stage-2 logs (from the stage index)."""
    index = run_dir / "stage2" / "index.json"
    if not index.is_file():
        raise InputError(index, "stage2", str(index), "no stage-2 results in this run", "run `theraeval stage2` first")
    return [run_dir / "stage2" / x["log"] for x in json.loads(index.read_text())]



