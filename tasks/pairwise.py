"""Stage 2: the `judge` role compares two candidates' stage-1 transcripts, per criterion, in both orders.

    inspect eval tasks/pairwise.py@pairwise -T log_a=runs/x/stage1/a.eval -T log_b=runs/x/stage1/b.eval \
        --model none --model-role judge=openai/gpt-4o-mini

Persona mode (the paper's protocol): the judge role-plays a persona (each single-turn scenario is judged
by the personas assigned to it; a multi-turn dialogue by the persona who had it). Clinical mode: the
judge is a clinician, one comparison per dialogue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import EvalSample, read_eval_log
from inspect_ai.solver import Generate, Solver, TaskState, solver

from harness.core import InputError, iter_log_samples
from harness.inputs import assign_personas, load_criteria, resolve_personas
from scorers import (
    ORDERS,
    load_reward_judge,
    logprob_pairwise_judge,
    pairwise_judge,
    reward_judge_info,
    reward_pairwise_judge,
)
from tasks._errors import one_line_errors
from tasks.dialogue import cache_policy


def transcript(sample: EvalSample) -> list[list[str]]:
    """[role, text] turns of a stage-1 dialogue (system prompt dropped; patient = user, therapist = assistant)."""
    roles = {"user": "patient", "assistant": "therapist"}
    return [[roles[m.role], m.text] for m in sample.messages if m.role in roles]


def candidate_length(turns: list[list[str]]) -> int:
    """Characters written by the candidate (its therapist turns)."""
    return sum(len(text) for role, text in turns if role == "therapist")


STAGE1_UNREAD = frozenset({"events", "attachments", "store"})
"""Fields of a stage-1 sample that the tasks reading stage-1 logs never use (:func:`read_stage1` skips them)."""


def read_stage1(log: str) -> tuple[str, dict[str, EvalSample]]:
    path = Path(log)
    if not path.exists():
        raise InputError(path, "log", str(path), "stage-1 log not found", "run stage 1 first (theraeval stage1)")
    header = read_eval_log(str(path), header_only=True)
    if header.status != "success":
        raise InputError(path, "status", header.status, "stage-1 log is not complete",
                         "finish stage 1 (re-run `theraeval stage1`, it resumes) before judging")
    name = (header.eval.metadata or {}).get("candidate") or header.eval.model
    # a few samples per opening of the log (harness.core.iter_log_samples), without their events: a dialogue's
    # transcript is its messages, and the events were ~80% of what the stage-1 samples held (benchmarks/README.md,
    # *Stage-2 memory by phase*)
    read = iter_log_samples(path, exclude_fields=set(STAGE1_UNREAD), header=header)
    samples = {str(s.id): s for s in read if s.epoch == 1}
    errored = [sid for sid, s in samples.items() if s.error is not None]
    if errored:
        raise InputError(path, "sample", errored[0], f"{len(errored)} stage-1 sample(s) errored",
                         "re-run stage 1 so every dialogue completes")
    return str(name), samples


@solver
def passthrough() -> Solver:
    """Stage 2 generates nothing itself: the judge runs in the scorer."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        return state

    return solve


@task
@one_line_errors
def pairwise(
    log_a: str,
    log_b: str,
    criteria: str = "therapeutic",
    mode: Literal["persona", "clinical"] = "persona",
    personas: str = "builtin",
    personas_per_scenario: int = 1,
    seed: int = 42,
    granularity: Literal["per_criterion", "all"] = "per_criterion",
    orders: Literal["both", "ab"] = "both",
    judge_temperature: float = 0.0,
    judge_seed: int = 0,
    judge_max_tokens: int = 512,
    structured: bool | None = None,
    cache_scope: str | None = None,
    judge: Literal["llm", "rm", "logprob"] = "llm",
    rm_heads: str = "builtin",
    logprob_margin: float = 0.05,
    exclude_flagged: bool = False,
) -> Task:
    """Pairwise judging of two stage-1 logs.

    Args:
        log_a: Stage-1 log of candidate A.
        log_b: Stage-1 log of candidate B.
        criteria: Criteria set: a builtin name (therapeutic, survey4, gricean) or a TOML path.
        mode: `persona` (the judge role-plays a persona) or `clinical`.
        personas: `builtin` or a personas `.jsonl`.
        personas_per_scenario: Judge personas per single-turn scenario (0 = all), as in stage 1.
        seed: Seed of the persona assignment (must match stage 1 for multi-turn runs).
        granularity: `per_criterion` (one call per criterion) or `all` (one call for all, the paper's).
        orders: `both` (A/B and B/A, default) or `ab` only.
        judge_temperature: Judge temperature (role models do not inherit the task's config).
        judge_seed: Judge seed.
        judge_max_tokens: Judge reply limit.
        structured: Ask for JSON-schema structured output; None (default, as `theraeval run`): when the judge's
            provider supports it (OpenAI, OpenAI-compatible servers, vLLM, Google, Mistral, SGLang).
        cache_scope: Cache judge calls forever under this scope (set by `theraeval run`).
        judge: `llm` (the `judge` role's written verdict), `logprob` (its log-probabilities of A and B, averaged
            over both orders) or `rm` (reward-model heads, no model call; the offline default).
        rm_heads: Reward heads for `judge=rm`: `builtin` or a folder written by `theraeval judges train`.
        logprob_margin: `judge=logprob`: tie when the averaged P(candidate_a better) is within this of 0.5.
        exclude_flagged: Do not judge a comparison where either dialogue's simulated patient broke role and was
            flagged or stopped (`[patient] on_role_break`): it is unscored with that reason, no judge call.
            Default: judge it; the flag is kept in the sample metadata either way.
    """
    crit = load_criteria(criteria)
    name_a, sa = read_stage1(log_a)
    name_b, sb = read_stage1(log_b)
    if name_a == name_b:
        raise InputError(log_b, "candidate", name_b, "both logs are the same candidate", "pick two candidates")
    if sa.keys() != sb.keys():
        only = sorted(sa.keys() ^ sb.keys())
        raise InputError(log_b, "sample ids", only[0], f"{len(only)} dialogue(s) exist in only one log",
                         "run stage 1 of both candidates on the same scenarios and personas")
    pers = {p.id: p for p in resolve_personas(personas)} if mode == "persona" else {}
    single_turn = all(not s.metadata.get("persona_id") for s in sa.values())
    plan = (assign_personas(sorted({str(s.metadata["scenario_id"]) for s in sa.values()}), list(pers),
                            personas_per_scenario, seed) if single_turn and mode == "persona" else {})
    prompts: dict[str, str] = {}

    def judge_prompt(pid: str) -> str:  # once per persona, not per sample (a run has thousands of samples)
        if pid not in prompts:
            prompts[pid] = pers[pid].judge_prompt()
        return prompts[pid]

    samples: list[Sample] = []
    for sid in sorted(sa):
        a, b = sa[sid], sb[sid]
        scenario_id = str(a.metadata["scenario_id"])
        judge_personas = plan.get(scenario_id) or [str(a.metadata.get("persona_id", ""))]
        ta, tb = transcript(a), transcript(b)
        for pid in judge_personas if mode == "persona" else [str(a.metadata.get("persona_id", ""))]:
            if mode == "persona" and pid not in pers:
                raise InputError(personas, "persona_id", pid, "persona of a stage-1 dialogue is not in the personas",
                                 "judge with the personas file that stage 1 used")
            meta: dict[str, Any] = {
                "scenario_id": scenario_id, "risk": a.metadata.get("risk", "none"), "persona_id": pid,
                "candidate_a": name_a, "candidate_b": name_b, "transcript_a": ta, "transcript_b": tb,
                "len_a": candidate_length(ta), "len_b": candidate_length(tb),
                "judge_system": judge_prompt(pid) if mode == "persona" else "",
                "role_flagged_a": bool(a.metadata.get("role_flagged")),
                "role_flagged_b": bool(b.metadata.get("role_flagged")),
            }
            if exclude_flagged and (meta["role_flagged_a"] or meta["role_flagged_b"]):
                meta["excluded"] = "role_flagged: a simulated patient broke role (judge.exclude_flagged)"
            sample_id = f"{scenario_id}--{pid}" if pid else scenario_id
            samples.append(Sample(id=sample_id, input=str(a.input), metadata=meta))
    judged = ORDERS if orders == "both" else ("ab",)
    judge_info = None
    if judge == "rm":
        judge_info = reward_judge_info(load_reward_judge(rm_heads, crit).manifest)
    return Task(
        dataset=MemoryDataset(samples, name=f"{name_a}-vs-{name_b}"),
        solver=passthrough(),
        scorer=(reward_pairwise_judge(crit, rm_heads, judged) if judge == "rm" else
                logprob_pairwise_judge(crit, judged, logprob_margin, judge_seed, cache_policy(cache_scope))
                if judge == "logprob" else
                pairwise_judge(crit, granularity, judged, judge_temperature, judge_seed, judge_max_tokens,
                               structured, cache_policy(cache_scope))),
        name="pairwise",
        metadata={"candidate_a": name_a, "candidate_b": name_b, "criteria_set": crit.name,
                  "criteria_hash": crit.hash, "judge_mode": mode, "judge_kind": judge, "granularity": granularity,
                  "judge_info": judge_info, "stage": 2},
    )
