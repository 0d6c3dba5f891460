"""Stage 1: the dialogues of every candidate (one `eval_set` task per candidate) and the stage-1 index."""

from __future__ import annotations

import json
from pathlib import Path

from inspect_ai import Task, eval_set
from inspect_ai.model import Model, get_model

from harness.core import InputError, atomic_write_text, local_path
from harness.inputs import BUILTIN_SMOLLM2, PatientSpec
from harness.run._estimate import dialogue_calls
from harness.run._local_models import build_model
from harness.run._plan import RunPlan, eval_options, finished, use_run_cache, write_inputs
from harness.run._progress import track
from tasks import DEFAULT_SYSTEM_PROMPT, dialogue


def stage1(plan: RunPlan, display: str | None = None) -> dict[str, Path]:
    """Dialogues of every candidate; returns candidate name -> stage-1 log path."""
    write_inputs(plan)
    use_run_cache(plan.run_dir)
    cfg = plan.cfg
    out_dir = plan.run_dir / "stage1"
    calls = {c.name: dialogue_calls(cfg) if c.model else 0 for c in cfg.candidates}
    with track("stage 1 (dialogues)", display, unit="dialogues", calls_per_sample=lambda md: calls[md["candidate"]]):
        tasks, roles = _dialogue_tasks(plan)  # local models load here: under the heartbeat already
        ok, logs = eval_set(tasks, log_dir=str(out_dir), model_roles=roles, **eval_options(plan, display))
    finished(ok, logs, "stage 1")
    index = {str(lg.eval.metadata["candidate"]): local_path(lg.location).name for lg in logs}  # type: ignore[index]
    atomic_write_text(out_dir / "index.json", json.dumps(index, indent=2, sort_keys=True))
    return {name: out_dir / rel for name, rel in index.items()}


def _dialogue_tasks(plan: RunPlan) -> tuple[list[Task], dict[str, Model] | None]:
    """The stage-1 task of every candidate (its model bound to it) and the patient role."""
    cfg, paths = plan.cfg, plan.inputs()
    tasks: list[Task] = []
    # no [patient] (single-turn): the schema's patient defaults, which are the task's (tests/tasks/test_defaults.py)
    patient = cfg.patient or PatientSpec(model=BUILTIN_SMOLLM2)
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
            patient_temperature=patient.temperature or 0.0,
            patient_seed=patient.seed or 0,
            patient_max_tokens=patient.max_tokens or 160,  # None only in Python; the schema default is 160
            cache_scope=c.spec_hash() if c.model else None,
            on_role_break=patient.on_role_break,
            max_tries=patient.max_tries,
            fallback=patient.fallback,
        )
        t.model = model
        tasks.append(t)
    roles = {"patient": build_model(cfg.patient)} if cfg.patient is not None and cfg.dialogue.turns > 1 else None
    return tasks, roles


def stage1_logs(run_dir: Path) -> dict[str, Path]:
    """The current stage-1 log of each candidate (from the stage index)."""
    index = run_dir / "stage1" / "index.json"
    if not index.is_file():
        raise InputError(index, "stage1", str(index), "no stage-1 results in this run", "run `theraeval stage1` first")
    return {k: run_dir / "stage1" / v for k, v in json.loads(index.read_text()).items()}
