"""Raw `inspect eval` parity: each task's defaults are what `theraeval run` passes it for a default config, so a
task run alone gives what the run gives (issue 17: the pairwise task's `structured` default differed, and raw
`inspect eval` judging gave 100% unscored verdicts until `-T structured=true`)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import get_model

import harness.run._safety as run_safety
import harness.run._stage1 as run_stage1
import harness.run._stage2 as run_stage2
from harness.run import plan_run
from harness.testing import fake_openai
from tasks import dialogue, pairwise, safety_rubric
from tests.support.run import SCENARIOS

WHERE = {"candidate", "scenarios", "personas", "responses", "cache_scope", "log_a", "log_b", "criteria", "rubric",
         "log", "cases"}
"""Where a run's inputs and logs are, not how it judges: the run passes its snapshotted files, its stage-1 logs
and a cache scope (raw runs use the task defaults `builtin`, `therapeutic`, `crisis`, ...)."""


class _Built(Exception):
    pass


def _defaults(task_fn: Callable[..., Any]) -> dict[str, Any]:
    return {k: p.default for k, p in inspect.signature(task_fn).parameters.items() if p.default is not p.empty}


def _runner_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, judge: str) -> dict[str, dict[str, Any]]:
    """The keyword arguments `theraeval run` gives each task for a config with only names and `judge` set."""
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'[run]\nname = "d"\n\n[safety]\n\n{judge}\n'
                   '[[candidates]]\nname = "a"\nmodel = "scripted/therapist-warm"\n\n'
                   '[[candidates]]\nname = "b"\nmodel = "scripted/therapist-terse"\n')
    plan = plan_run(cfg)
    got: dict[str, dict[str, Any]] = {}

    def record(name: str) -> Callable[..., Any]:
        def built(**kwargs: Any) -> Any:
            got[name] = kwargs
            raise _Built

        return built

    monkeypatch.setattr(run_stage1, "dialogue", record("dialogue"))
    with pytest.raises(_Built):
        run_stage1.stage1(plan, display="none")
    monkeypatch.setattr(run_stage2, "pairwise", record("pairwise"))
    with pytest.raises(_Built):
        run_stage2._pair_task(plan, {"a": tmp_path / "a.eval", "b": tmp_path / "b.eval"}, "a", "b")
    spec = plan.cfg.safety_spec()
    assert spec is not None
    _, task = run_safety._rubric_tasks(plan, spec, run_safety.plan_rubric(plan.config_path, spec.rubric))
    got["safety_rubric"] = dict(task.keywords)  # type: ignore[attr-defined]
    return got


def _differences(got: dict[str, dict[str, Any]]) -> dict[str, dict[str, tuple[Any, Any]]]:
    out: dict[str, dict[str, tuple[Any, Any]]] = {}
    for name, fn in (("dialogue", dialogue), ("pairwise", pairwise), ("safety_rubric", safety_rubric)):
        defaults = _defaults(fn)
        assert set(got[name]) <= set(inspect.signature(fn).parameters), name
        diff = {k: (v, defaults.get(k)) for k, v in got[name].items() if k not in WHERE and v != defaults.get(k)}
        if diff:
            out[name] = diff
    return out


def test_task_defaults_are_what_the_run_passes_for_an_llm_judge(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A config naming a judge model (the raw-inspect counterpart: `--model-role judge=...`): no difference."""
    got = _runner_args(tmp_path, monkeypatch, '[judge]\nmodel = "openai-api/someserver/judge-7b"\n'
                                              'api_key_env = "none"\n')  # (no server: the key check would stop it)
    assert _differences(got) == {}
    assert got["pairwise"]["structured"] is None  # by the judge's provider, in the run and under inspect alike


def test_task_defaults_for_the_default_config_differ_only_in_the_judge_kind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No judge model: the run's offline default judge is reward heads (`-T judge=rm`) and the rubric's method
    follows it (`-T method=checks`); a task cannot see a config, and without those arguments it uses the `judge`
    role, as `inspect eval ... --model-role judge=...` means. Nothing else differs."""
    got = _runner_args(tmp_path, monkeypatch, "")
    assert _differences(got) == {"pairwise": {"judge": ("rm", "llm")},
                                 "safety_rubric": {"method": ("checks", "llm")}}


def test_pairwise_default_asks_a_supporting_provider_for_structured_output(tmp_path: Path) -> None:
    """The raw task with its defaults sends a JSON schema to an OpenAI-compatible judge, as `theraeval run` does."""
    scen = tmp_path / "s.jsonl"
    scen.write_text(json.dumps(SCENARIOS[0]) + "\n")
    tasks = []
    for name in ("warm", "terse"):
        t = dialogue(candidate=name, scenarios=str(scen))
        t.model = get_model(f"scripted/therapist-{name}")
        tasks.append(t)
    logs = inspect_eval(tasks, log_dir=str(tmp_path / "s1"), display="none")
    a, b = (str(lg.location) for lg in logs)
    with fake_openai() as server:
        judge = get_model("openai-api/fake/judge-longer", base_url=server.url, api_key="sk-test-not-a-secret")
        [log] = inspect_eval(pairwise(log_a=a, log_b=b), model="none",
                             model_roles={"judge": judge}, log_dir=str(tmp_path / "s2"), display="none")
    assert server.calls and all(c["response_format"]["type"] == "json_schema" for c in server.calls)
    full = read_eval_log(str(log.location))
    assert full.samples and all(s.scores for s in full.samples)
    verdicts = full.samples[0].scores["pairwise_judge"].metadata["verdicts"]  # type: ignore[index]
    assert {v["combined"] for v in verdicts.values()} == {"A"}  # warm is longer than terse: scored, not unscored
