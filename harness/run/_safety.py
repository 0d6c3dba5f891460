"""Stage 2, absolute safety: the rubric task (`tasks/safety_rubric.py`) on each candidate's crisis dialogues.

Runs after the pairwise judging when the run config has `[safety]` (or `[gate] min_safe_rate`): one `eval_set`
task per candidate in `stage2/safety/`, through the run's call cache (scoped by the judge's spec hash), so a re-run
completes unfinished tasks and never sends a call twice. The rubric is snapshotted into `inputs/` under a content
hash (like the criteria), so an edited rubric means new tasks, never a stale log. `stage2/safety/index.json` maps
candidate -> log. Validation (`check_safety`) runs in `plan_run`, before any work.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
from inspect_ai import Task, eval_set
from inspect_ai.log import EvalLog

from harness.core import InputError, atomic_write_text, iter_log_samples, local_path
from harness.inputs import SafetySpec
from harness.run._local_models import build_model
from harness.run._plan import RunPlan, eval_options, finished, rel_to, use_run_cache
from harness.run._progress import track
from harness.stats import RUBRIC_AGREEMENT_COLUMNS
from scorers import BUNDLED_CASES, CHECK_ITEMS, RUBRIC_DIR, Rubric, load_rubric, load_rubric_cases
from tasks import safety_rubric


def _rubric_file(plan_cfg_path: Path, spec: str) -> Path:
    """The rubric file: a `.toml` path relative to the config's folder, or a builtin name in scorers/rubrics/."""
    return rel_to(plan_cfg_path, spec) if spec.endswith(".toml") else RUBRIC_DIR / f"{spec}.toml"


def plan_rubric(plan_cfg_path: Path, spec: str) -> Rubric:
    """The run's rubric: a builtin name, or a `.toml` path relative to the config's folder."""
    return load_rubric(rel_to(plan_cfg_path, spec) if spec.endswith(".toml") else spec)


def check_safety(plan: RunPlan) -> None:
    """Validate `[safety]`/`[gate]` before any work: the rubric loads, and the gate has scenarios to gate on."""
    spec = plan.cfg.safety_spec()
    if spec is None:
        return
    plan_rubric(plan.config_path, spec.rubric)
    scored = [s for s in plan.scenarios if s.risk in spec.risks]
    if not scored and plan.cfg.gate.min_safe_rate is not None:
        raise InputError(plan.config_path, "gate.min_safe_rate", plan.cfg.gate.min_safe_rate,
                         f"the absolute safety gate needs scenarios with risk in {spec.risks}, and the run has none",
                         "add crisis/elevated scenarios (data.scenarios, data.scenario_ids, data.scenario_limit) "
                         "or remove [gate] min_safe_rate")


def _rubric_snapshot(plan: RunPlan, rubric: Rubric, spec: str) -> Path:
    path = plan.run_dir / "inputs" / f"rubric-{rubric.hash}.toml"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, _rubric_file(plan.config_path, spec).read_text(encoding="utf-8"))
    return path


def _rubric_tasks(plan: RunPlan, spec: SafetySpec, rubric: Rubric) -> tuple[str, Callable[..., Task]]:
    """The scoring method and a `safety_rubric` task factory (call it with log= or cases=) with the run's judge
    settings: the rubric snapshotted into `inputs/`, calls cached under the judge's spec hash."""
    method = spec.resolved_method(plan.cfg.judge.kind)
    j = plan.cfg.judge
    return method, partial(safety_rubric, rubric=str(_rubric_snapshot(plan, rubric, spec.rubric)),
                           locale=spec.locale, method=method, risks=",".join(spec.risks),  # type: ignore[arg-type]
                           judge_temperature=j.temperature or 0.0, judge_seed=j.seed or 0,
                           judge_max_tokens=max(j.max_tokens or 1024, 1024), structured=j.structured,
                           cache_scope=j.spec_hash())


def _eval_rubric(plan: RunPlan, tasks: list[Task], method: str, out_dir: Path, display: str | None,
                 stage: str) -> list[EvalLog]:
    """Run rubric tasks with the run's cache and options (the judge role only for an LLM rubric judge)."""
    use_run_cache(plan.run_dir)
    roles = {"judge": build_model(plan.cfg.judge)} if method == "llm" else None
    turns = plan.cfg.dialogue.turns if method == "llm" else 0  # one judge call per candidate turn
    with track(stage, display, unit="dialogues", calls_per_sample=turns):
        ok, logs = eval_set(tasks, log_dir=str(out_dir), model="none", model_roles=roles,
                            **eval_options(plan, display))
    finished(ok, logs, stage)
    return logs


def safety_stage(plan: RunPlan, logs1: dict[str, Path], display: str | None = None) -> dict[str, Path]:
    """Score every candidate's crisis/elevated dialogues against the rubric; candidate -> log ({} when off)."""
    spec = plan.cfg.safety_spec()
    if spec is None or not any(s.risk in spec.risks for s in plan.scenarios):
        return {}
    method, task = _rubric_tasks(plan, spec, plan_rubric(plan.config_path, spec.rubric))
    out_dir = plan.run_dir / "stage2" / "safety"
    logs = _eval_rubric(plan, [task(log=str(logs1[c.name])) for c in plan.cfg.candidates], method, out_dir, display,
                        "stage 2 (safety rubric)")
    index = {str(lg.eval.metadata["candidate"]): local_path(lg.location).name for lg in logs}  # type: ignore[index]
    atomic_write_text(out_dir / "index.json", json.dumps(index, indent=2, sort_keys=True))
    return {name: out_dir / rel for name, rel in index.items()}


def safety_logs(run_dir: Path) -> dict[str, Path]:
    """The current safety-rubric log of each candidate ({} when the run has no safety stage)."""
    index = run_dir / "stage2" / "safety" / "index.json"
    if not index.is_file():
        return {}
    return {k: index.parent / v for k, v in json.loads(index.read_text()).items()}


def validate_rubric_judge(plan: RunPlan, cases_path: Path | None = None,
                          display: str | None = None) -> tuple[pd.DataFrame, Rubric, str]:
    """Score labelled replies (`cases_path`, default the bundled crisis cases) with the run's rubric method and
    judge; returns the long frame of :func:`harness.stats.rubric_agreement` (one row per case x rater x item), the
    rubric and the method (`llm` or `checks`).

    Calls go through the run's cache (scope: the judge's spec hash), so validating twice sends nothing twice. The
    logs go to `<run>/safety_validation/`.
    """
    spec = plan.cfg.safety_spec() or SafetySpec()
    path = Path(cases_path) if cases_path is not None else BUNDLED_CASES
    rubric = plan_rubric(plan.config_path, spec.rubric)
    cases = load_rubric_cases(path, rubric)  # validated before anything is written or sent
    method, task = _rubric_tasks(plan, spec, rubric)
    logs = _eval_rubric(plan, [task(cases=str(path))], method, plan.run_dir / "safety_validation", display,
                        "safety rubric validation")
    verdict: dict[tuple[str, str], str] = {}
    for s in iter_log_samples(local_path(logs[0].location), all_samples_required=True):
        score = next(iter((s.scores or {}).values()), None)
        items = (score.metadata or {}).get("items", {}) if score is not None else {}
        for item_id, v in items.items():
            verdict[str(s.id), item_id] = str(v["verdict"])
    rows = []
    for c in cases:
        for item_id, label in c.labels.items():
            if method == "llm":
                judged = verdict.get((c.id, item_id), "unscored")
            else:  # a check approximates an item: the item fails when any of its checks fails
                checks = [verdict.get((c.id, k), "not_applicable")
                          for k, (it, _) in CHECK_ITEMS.items() if it == item_id]
                if not checks:
                    continue  # no deterministic check for this item: not measured
                judged = "fail" if "fail" in checks else "pass" if "pass" in checks else "not_applicable"
            rows.append({"case_id": c.id, "rater_id": c.rater_id, "item_id": item_id,
                         "severity": rubric.get(item_id).severity, "human": label, "judge": judged})
    return pd.DataFrame(rows, columns=list(RUBRIC_AGREEMENT_COLUMNS)), rubric, method
