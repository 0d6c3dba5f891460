"""`collect_preferences_main`: rank a run's stage-1 responses with persona judges, vote, write the datasets."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from inspect_ai.log import read_eval_log

from harness.core import InputError, atomic_write_text, local_path
from harness.preferences._datasets import check_out_dir, write_preference_datasets
from harness.preferences._records import aggregate_preferences

logger = logging.getLogger(__name__)


def _current_criteria(run_dir: Path) -> Path:
    """The run's criteria snapshot: the only `inputs/criteria-*.toml`, else the one stage 2 used, else the newest."""
    found = sorted((run_dir / "inputs").glob("criteria-*.toml"))
    if not found:
        raise InputError(run_dir / "inputs", "criteria", "criteria-*.toml", "no criteria snapshot in this run",
                         "run `theraeval stage1` first, or pass criteria=<set or .toml>")
    if len(found) == 1:
        return found[0]
    index = run_dir / "stage2" / "index.json"
    if index.is_file():
        for entry in json.loads(index.read_text(encoding="utf-8")):
            log = run_dir / "stage2" / str(entry.get("log", ""))
            if log.is_file():
                h = (read_eval_log(str(log), header_only=True).eval.metadata or {}).get("criteria_hash")
                match = [p for p in found if p.stem == f"criteria-{h}"]
                if match:
                    return match[0]
    return max(found, key=lambda p: p.stat().st_mtime)


def _run_config(run_dir: Path) -> Any:
    """The run's config snapshot (`inputs/config.toml`), or None when it is missing or no longer loads."""
    from harness.inputs import load_run_config

    path = run_dir / "inputs" / "config.toml"
    if not path.is_file():
        return None
    try:
        return load_run_config(path)[0]
    except InputError:
        return None


def collect_preferences_main(run_dir: Path, out_dir: Path, *, judge: str = "rm", judge_model: str | None = None,
                             personas_per_scenario: int = 5, seed: int = 42, display: str | None = "none",
                             criteria: str | None = None, heads: str = "builtin") -> Path:
    """Rank the run's stage-1 responses per scenario, aggregate, and write the preference datasets to `out_dir`.

    `run_dir` must have finished stage 1 (`stage1/index.json`) with single-turn dialogues of >= 2 candidates.
    The preference task runs through `inspect_ai.eval_set` into `<run>/preferences/` (resumable; judge calls
    cached forever in `<run>/cache`, scoped by the judge's full spec, so an unchanged re-run makes no call).
    `judge = "llm"` uses `judge_model` (any inspect model string), or the run config's LLM judge when None;
    `judge = "rm"` ranks by reward-head score (`heads`: `builtin` or a folder), no model call. `criteria`
    defaults to the run's criteria snapshot. Returns `out_dir`.

    Raises:
        InputError: no stage 1, fewer than 2 candidates, multi-turn dialogues, a bad judge or output folder.
        harness.run.StageError: the collection did not complete (re-run to resume).
    """
    from inspect_ai import eval_set
    from pydantic import ValidationError

    from harness.inputs import JudgeSpec
    from harness.run import build_model, finished, stage1_logs, use_run_cache
    from tasks import preference

    run_dir = Path(run_dir).resolve()
    out_dir = Path(out_dir).resolve()
    if judge not in ("llm", "rm"):
        raise InputError(None, "judge", judge, "unknown preference judge", 'use "rm" (reward heads) or "llm"')
    logs1 = stage1_logs(run_dir)
    if len(logs1) < 2:
        raise InputError(run_dir / "stage1" / "index.json", "candidates", len(logs1),
                         "preference collection needs at least 2 candidates", "add candidates and run stage 1")
    personas = run_dir / "inputs" / "personas.jsonl"
    if judge == "llm" and not personas.is_file():
        raise InputError(personas, "personas", str(personas), "no personas snapshot in this run",
                         "run `theraeval stage1` first")
    crit = criteria if criteria is not None else str(_current_criteria(run_dir))
    check_out_dir(out_dir)
    cfg = _run_config(run_dir)
    roles = None
    scope: str | None = None
    spec: JudgeSpec | None = None
    if judge == "llm":
        if judge_model is not None:
            try:
                spec = JudgeSpec(model=judge_model, kind="llm", max_tokens=1024)
            except ValidationError as e:
                raise InputError(None, "judge_model", judge_model, e.errors()[0]["msg"].removeprefix("Value error, "),
                                 "use an inspect model string '<provider>/<name>'") from None
        elif cfg is not None and cfg.judge.kind == "llm":
            spec = cfg.judge
        else:
            raise InputError(None, "judge_model", None, "an LLM judge needs a model and the run config has none",
                             'pass judge_model="<provider>/<name>", or use judge="rm"')
        assert spec is not None
        roles = {"judge": build_model(spec)}
        scope = f"preference:{spec.spec_hash()}"
    task = preference(
        logs=",".join(str(logs1[name]) for name in sorted(logs1)), criteria=crit, personas=str(personas),
        personas_per_scenario=personas_per_scenario, seed=seed, judge="llm" if judge == "llm" else "rm",
        rm_heads=heads,
        judge_temperature=(spec.temperature or 0.0) if spec is not None else 0.0,
        judge_seed=(spec.seed or 0) if spec is not None else 0,
        judge_max_tokens=max(spec.max_tokens or 0, 1024) if spec is not None else 1024,
        structured=spec.use_structured() if spec is not None else False,
        cache_scope=scope,
    )
    use_run_cache(run_dir)
    opts: dict[str, Any] = {"max_connections": cfg.run.max_connections if cfg is not None else 10,
                            "display": display}
    if cfg is not None and cfg.run.attempt_timeout is not None:
        opts["attempt_timeout"] = cfg.run.attempt_timeout
    if cfg is not None and cfg.run.max_retries is not None:
        opts["max_retries"] = cfg.run.max_retries
    log_dir = run_dir / "preferences"
    ok, logs = eval_set([task], log_dir=str(log_dir), model="none", model_roles=roles, retry_attempts=3,
                        retry_wait=1, log_dir_allow_dirty=True, log_level="warning", **opts)
    finished(ok and bool(logs), logs, "preference collection")
    log = local_path(logs[0].location)
    index = {"log": log.name, "judge": judge, "judge_model": spec.model if spec is not None else f"rm/{heads}",
             "criteria": Path(crit).name, "seed": seed, "personas_per_scenario": personas_per_scenario,
             "out_dir": str(out_dir)}
    atomic_write_text(log_dir / "index.json", json.dumps(index, indent=2, sort_keys=True))
    result = aggregate_preferences(log)
    result.extra["run_dir"] = str(run_dir)
    logger.info("preferences: %s", {c: len(p) for c, p in result.pairs.items()})
    return write_preference_datasets(result, out_dir)
