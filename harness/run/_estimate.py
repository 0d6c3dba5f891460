"""The dry-run estimate: upper bounds on a run's model calls, and the least time they take at a given latency."""

from __future__ import annotations

from math import comb

from harness.inputs import RunConfig, assign_personas
from harness.run._plan import RunPlan

HARNESS_CPU_PER_CALL_S = 0.008
"""CPU seconds one harness process spends per model call (6.6-9.5 ms measured; benchmarks/README.md)."""


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else \
        f"{seconds / 3600:.1f} h"


def stage2_seconds(calls: int, latency: float, connections: int, workers: int) -> float:
    """Least stage-2 time: the connections' limit (calls x latency / connections) or, when longer, the harness's
    CPU (calls x CPU per call / workers)."""
    return max(calls * latency / connections, calls * HARNESS_CPU_PER_CALL_S / workers)


def dialogue_calls(cfg: RunConfig) -> int:
    """Model calls of one stage-1 dialogue of a model candidate, when no patient turn is regenerated: its
    `turns` replies and, with a `[patient]` model, the patient's `turns - 1` follow-ups."""
    return cfg.dialogue.turns + (cfg.dialogue.turns - 1 if cfg.patient is not None else 0)


def comparison_calls(plan: RunPlan) -> int:
    """Judge calls of one stage-2 comparison: criteria (one call each, or one for all) x orders (0 for reward
    heads, which make no model call)."""
    j = plan.cfg.judge
    per_order = len(plan.criteria.ids) if j.granularity == "per_criterion" or j.kind == "logprob" else 1
    return per_order * (2 if j.orders == "both" else 1) if j.kind != "rm" else 0


def dry_run(plan: RunPlan, workers: int = 1, latency: float = 1.0) -> str:
    """Upper bounds on the model calls a run makes (before any cache hit), and the time they take at `latency`
    seconds per API call: calls x latency / max_connections, or the harness's CPU when that is longer."""
    cfg = plan.cfg
    turns = cfg.dialogue.turns
    k = cfg.data.personas_per_scenario
    per_scenario = len(next(iter(assign_personas(["x"], [p.id for p in plan.personas], k, 0).values())))
    dialogues = len(plan.scenarios) * (per_scenario if turns > 1 else 1)
    model_cands = sum(1 for c in cfg.candidates if c.model)
    cand_calls = model_cands * dialogues * turns
    # a follow-up out of role is generated again, up to max_tries times in all ([patient] on_role_break)
    tries = cfg.patient.max_tries if cfg.patient is not None and cfg.patient.on_role_break == "regenerate" else 1
    patient_first = model_cands * dialogues * (turns - 1)
    patient_calls = patient_first * tries
    pairs = comb(len(cfg.candidates), 2)
    judge_calls = 0
    lines: list[str] = []
    for name, judge in cfg.judge_specs():  # an ensemble: every judge judges every comparison
        judge_plan = plan.for_judge(name)
        judged = len(plan.scenarios) * (per_scenario if judge.mode == "persona" or turns > 1 else 1)
        per_sample = comparison_calls(judge_plan)
        judge_calls += pairs * judged * per_sample
        who = "" if name is None else f" (judge {name})"
        lines.append(f"stage 2{who}: {pairs} pairs x {judged} comparisons x {per_sample} calls: <= "
                     f"{pairs * judged * per_sample} judge calls" if judge.kind != "rm" else
                     f"stage 2{who}: {pairs} pairs x {judged} comparisons scored by reward heads locally: "
                     "0 model calls")
    if len(lines) > 1:
        lines.append(f"stage 2, all {len(lines)} judges: <= {judge_calls} judge calls")
    stage2 = "\n".join(lines)
    conns = cfg.run.max_connections
    # stage 1: every candidate and the (shared) patient have their own connections; a dialogue's turns are sequential
    t1 = max(dialogues * turns, patient_first) * latency / conns + (2 * turns - 1) * latency if cand_calls else 0.0
    t2 = stage2_seconds(judge_calls, latency, conns, workers)
    return (f"stage 1: {dialogues} dialogues x {len(cfg.candidates)} candidates: <= {cand_calls} candidate calls, "
            f"<= {patient_calls} patient calls\n{stage2}\n"
            f"time at {latency:g} s per API call (--assume-latency), {conns} connections per model, {workers} "
            f"stage-2 worker(s): stage 1 >= {_duration(t1)}, stage 2 >= {_duration(t2)} (local models: see "
            "benchmarks/README.md)\n"
            "(cached calls from earlier runs are free; only new candidates, pairs or inputs cost calls)")
