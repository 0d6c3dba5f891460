"""The run plan: validate everything (nothing written), snapshot the inputs, and the options every stage's
`eval_set` runs with.

Resumability comes from two mechanisms: `eval_set` skips tasks whose log is complete and retries
incomplete ones (reusing their finished samples), and every model call goes through inspect's cache
(never expiring, scoped by a hash of the model's spec, stored in `<run>/cache`), so a call that had
completed before an interruption is never made again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog

from harness.core import InputError, atomic_write_text, dump_toml, read_toml
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
    select_scenarios,
)
from harness.run._endpoints import check_endpoints
from harness.run._preflight import check_api_keys, check_model_args, keep_local_models_offline
from harness.run._progress import default_display

Pair = tuple[str, str]
"""Two candidate names, the first one earlier in the config."""
Units = Mapping[Pair, Sequence[str] | None]
"""What to judge: pair -> its sample ids (None: all of the pair's samples, as the whole task)."""
IndexEntry = dict[str, str]
"""One line of `stage2/index.json`: `candidate_a`, `candidate_b` and `log` (relative to `stage2/`), and `judge` (its
name) when the run has `[[judges]]`."""


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
        """A candidate's imported-responses file, relative to the config's folder unless absolute."""
        assert c.responses is not None
        return rel_to(self.config_path, c.responses)

    def for_judge(self, name: str | None) -> RunPlan:
        """This plan with `[judge]` set to the `[[judges]]` entry `name` (None: the plan itself, the single judge)."""
        if name is None:
            return self
        spec = dict(self.cfg.judge_specs())[name]
        return replace(self, cfg=self.cfg.model_copy(update={"judge": spec}))

    def heads(self) -> str:
        """The reward heads as the judge tasks take them: a bundled name (`builtin`, `builtin-finetuned`), or the
        folder relative to the config's."""
        from harness.reward_heads import BUILTIN_HEADS

        heads = self.cfg.judge.heads
        return heads if heads in BUILTIN_HEADS else str(rel_to(self.config_path, heads))


def _jsonl(items: list[Any]) -> str:
    return "".join(json.dumps(x.model_dump(mode="json"), sort_keys=True, ensure_ascii=False) + "\n" for x in items)


def _hash_jsonl(items: list[Any]) -> str:
    return hashlib.sha256(_jsonl(items).encode()).hexdigest()[:12]


def plan_run(config_path: str | Path) -> RunPlan:
    """Load and validate the config and every file it points at; nothing is written."""
    path = config_file(config_path).resolve()
    cfg, _ = load_run_config(path)
    keep_local_models_offline(cfg)  # before anything loads transformers (harness/run/_preflight.py)
    base = path.parent
    scenarios = resolve_scenarios(cfg.data.scenarios, base)
    all_ids = [s.id for s in scenarios]
    if cfg.data.scenario_ids is not None:
        scenarios = select_scenarios(scenarios, cfg.data.scenario_ids, path, "data.scenario_ids", cfg.data.scenarios)
    if cfg.data.scenario_limit is not None:
        scenarios = scenarios[: cfg.data.scenario_limit]
    personas = resolve_personas(cfg.data.personas, base)
    spec = cfg.data.criteria
    crit_path = base / spec if spec.endswith(".toml") and not Path(spec).is_absolute() else spec
    criteria = load_criteria(crit_path)
    if cfg.data.criteria_ids is not None:
        criteria = criteria.subset(cfg.data.criteria_ids, path)
    run_dir = (output_root(path, cfg.run.output_dir) / cfg.run.name).resolve()
    check_writable(path, cfg.run.output_dir, run_dir)
    plan = RunPlan(cfg, path, run_dir, scenarios, personas, criteria)
    for c in cfg.candidates:
        if c.responses is not None:
            load_responses(plan.responses_path(c), [s.id for s in scenarios], all_ids)
    for name, judge in cfg.judge_specs():
        if judge.kind == "rm":
            from scorers import load_reward_judge

            load_reward_judge(plan.for_judge(name).heads(), criteria)
    from harness.run._safety import check_safety  # [safety] / [gate] min_safe_rate (docs/safety.md)

    check_safety(plan)
    check_model_args(cfg, path)
    check_api_keys(cfg, path)
    check_endpoints(cfg, path)
    return plan


PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The `harness` package: configs shipped inside it (`theraeval run quickstart`, the calibration demo) are bundled."""


def output_root(config_path: Path, output_dir: str) -> Path:
    """Where `run.output_dir` points: relative to the config's folder (like every other path in a config), except
    for a config shipped with theraeval (`theraeval run quickstart`), whose runs go under the current directory
    (`./runs/quickstart`, as the README shows) rather than inside the installed package. Absolute and `~` paths
    are taken as written."""
    p = Path(output_dir).expanduser()
    if p.is_absolute():
        return p
    bundled = config_path.resolve().is_relative_to(PACKAGE_DIR)
    return Path.cwd() / p if bundled else config_path.parent / p


def check_writable(config_path: Path, output_dir: str, run_dir: Path) -> None:
    """Raise InputError unless the run directory can be created and written (checked on the deepest folder that
    exists already; nothing is written)."""
    existing = run_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    problem = ""
    if not existing.is_dir():
        problem = f"{existing} is a file, not a folder"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"{existing} is not writable"
    if problem:
        raise InputError(config_path, "run.output_dir", output_dir, f"the run directory {run_dir} cannot be written: "
                         f"{problem}", "set run.output_dir to a writable folder (relative to the config's folder)")


def rel_to(config_path: Path, path: str) -> Path:
    """`path` (from the config) relative to the config's folder, unless absolute."""
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
    atomic_write_text(inputs / "config.as-written.toml", plan.config_path.read_text(encoding="utf-8"))
    atomic_write_text(inputs / "config.toml", portable_config(plan))


PATH_FIELDS: dict[str, tuple[str, ...]] = {"data": ("scenarios", "personas", "criteria"), "judge": ("heads",),
                                           "safety": ("rubric",), "candidates": ("responses", "from"),
                                           "judges": ("heads",)}
"""Config fields that may hold a path relative to the config's folder (a table's, or each array item's)."""


def portable_config(plan: RunPlan) -> str:
    """The run's config as TOML whose relative paths are made absolute (`run.output_dir` too), so the snapshot
    `<run>/inputs/config.toml` means the same files when it is read back from the run directory (preference
    collection, the leaderboard's gate, the cost table). A value is rewritten only where it names a file or
    folder that exists beside the config: builtin names stay as they are. Comments are not kept; the config as
    written is beside it (`config.as-written.toml`). Falls back to the text as written if it cannot be re-emitted."""
    raw = plan.config_path.read_text(encoding="utf-8")
    data = read_toml(plan.config_path)
    base = plan.config_path.parent

    def absolute(v: Any) -> Any:
        if not isinstance(v, str) or not v or Path(v).expanduser().is_absolute():
            return v
        p = base / Path(v).expanduser()
        return str(p.resolve()) if p.exists() else v

    for section, fields in PATH_FIELDS.items():
        items = data.get(section)
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, dict):
                for f in fields:
                    if f in item:
                        item[f] = absolute(item[f])
    if isinstance(data.get("run"), dict):
        data["run"]["output_dir"] = str(output_root(plan.config_path, data["run"].get("output_dir", "runs")))
    try:
        return dump_toml(data)
    except ValueError:
        return raw


def _criteria_toml(cs: CriteriaSet) -> str:
    def q(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string

    lines = [f"name = {q(cs.name)}", f"version = {q(cs.version)}", f"description = {q(cs.description)}", ""]
    for c in cs.criteria:
        lines.append("[[criteria]]")
        lines += [f"{k} = {q(v)}" for k, v in c.model_dump().items()]
        lines.append("")
    return "\n".join(lines)


def eval_options(plan: RunPlan, display: str | None) -> dict[str, Any]:
    """The `eval_set` options of the run's stages (connections, retries, logging)."""
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
        display=default_display(display),  # plain when stdout is not a terminal (harness.run._progress)
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


def finished(ok: bool, logs: list[EvalLog], stage: str) -> None:
    """Raise `StageError` unless `eval_set` finished every task."""
    bad = [lg for lg in logs if lg.status != "success"]
    if not ok or bad:
        detail = "; ".join(f"{lg.eval.task} ({lg.status}): {lg.error.message if lg.error else ''}" for lg in bad)
        raise StageError(f"{stage} did not complete: {detail or 'see the logs'}. Re-run to resume.")

