"""Preference collection: personas rank N candidate responses per scenario, on every criterion, in one call.

The paper's protocol (Beikzadeh et al. 2026, arXiv:2602.16053) without the bugs of its code
(github.com/mehrabbz/MODPO-Therapeutic-AI): the N responses are shown in
a seeded random order per (seed, scenario, persona), never a fixed one; the reply is checked criterion by
criterion and a ranking that is not a permutation of the shown labels is *invalid* (recorded with its
reason and counted, never repaired); the ranking is mapped back from labels to candidate names before it
is stored. Aggregation into DPO pairs (symmetrical voting) lives in `harness/preferences/_collect.py`.

    inspect eval tasks/preference.py@preference -T logs=$PWD/s1/a.eval,$PWD/s1/b.eval,$PWD/s1/c.eval \
        --model none --model-role judge=openai/gpt-4o-mini

`logs` are N >= 2 complete single-turn stage-1 logs over the same scenarios: N candidates, or N samples of
one policy (each its own stage-1 candidate), as in the paper. `judge=rm` ranks by reward-head score
instead (no model call; the heads do not role-play, so there is one sample per scenario, not per persona).
"""

from __future__ import annotations

import math
import random
import re
from typing import Any, Literal, NamedTuple

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import EvalSample
from inspect_ai.model import CachePolicy, GenerateConfig, ResponseSchema, get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, metric, scorer
from inspect_ai.solver import TaskState

from harness.core import InputError
from harness.inputs import CriteriaSet, Criterion, Persona, assign_personas, load_criteria, resolve_personas
from scorers import (
    CODE_FENCE,
    DATA_GUARD,
    Turn,
    ask_output,
    criterion_block,
    defuse,
    json_object,
    load_reward_judge,
    nonce,
    reward_judge_name,
)
from tasks.dialogue import cache_policy
from tasks.pairwise import passthrough, read_stage1, transcript

JudgeKind = Literal["llm", "rm"]


def label(i: int) -> str:
    """The label of the i-th shown response (0-based): R1, R2, ..."""
    return f"R{i + 1}"


def shown_order(candidates: list[str], seed: int, scenario_id: str, persona_id: str) -> list[str]:
    """The order the candidates' responses are shown in: a shuffle seeded by (seed, scenario, persona).

    It does not depend on the order the logs were given in (the candidates are sorted first), so the same
    inputs always give the same prompt (cacheable), and different personas of a scenario see different orders.
    """
    order = sorted(candidates)
    random.Random(f"{seed}:{scenario_id}:{persona_id}:shown-order").shuffle(order)
    return order


def render_responses(patient_message: str, responses: list[str]) -> str:
    """The patient's message and the responses, fenced as `RESPONSE_R1` ... with a nonce over all of them."""
    n = nonce([Turn("patient", patient_message)], [Turn("therapist", r) for r in responses])
    blocks = [f"<<<PATIENT_MESSAGE {n}>>>\n{defuse(patient_message)}\n<<<END_PATIENT_MESSAGE {n}>>>"]
    for i, text in enumerate(responses):
        blocks.append(f"<<<RESPONSE_{label(i)} {n}>>>\n{defuse(text)}\n<<<END_RESPONSE_{label(i)} {n}>>>")
    return "\n\n".join(blocks)


def ranking_prompt(rendered: str, criteria: list[Criterion], n: int) -> str:
    """User prompt asking the persona to rank all `n` shown responses on every criterion, in one reply."""
    labels = ", ".join(label(i) for i in range(n))
    blocks = "\n\n".join(criterion_block(c) for c in criteria)
    example = ", ".join(f'"{c.id}": ["R.", "R.", ...]' for c in criteria[:2])
    return (
        "Imagine you are the person who wrote the message below, in a therapy session. You received "
        f"{n} different responses from AI therapists. Rank them from your own point of view as this person.\n\n"
        f"{rendered}\n\n{DATA_GUARD}\n\n{blocks}\n\n"
        f"CRITERIA: {', '.join(c.id for c in criteria)}\n"
        f"RESPONSES: {labels}\n"
        f"For every criterion, rank all {n} responses from best to worst. Reply with one JSON object only, keyed "
        f"by criterion id; each value is a list of the labels {labels}, best first, every label exactly once; "
        f'add an "explanation" of one or two sentences. For example {{{example}, "explanation": "..."}}.'
    )


def ranking_schema(criteria: list[str], n: int) -> dict[str, Any]:
    """JSON schema for structured output: per criterion an array of exactly `n` response labels."""
    one: dict[str, Any] = {"type": "array", "items": {"type": "string", "enum": [label(i) for i in range(n)]},
                              "minItems": n, "maxItems": n}
    props: dict[str, Any] = {c: one for c in criteria} | {"explanation": {"type": "string"}}
    return {"type": "object", "properties": props, "required": [*criteria, "explanation"],
            "additionalProperties": False}


class ParsedRanking(NamedTuple):
    """One criterion's ranking as parsed: `labels` best first, or None when `reason` says why it is invalid."""

    labels: list[str] | None
    reason: str
    given: Any
    """What the judge gave for this criterion (JSON value), for the record."""


_LABEL = re.compile(r"^\s*(?:response\s*)?r?\s*#?\s*(\d+)\s*$", re.IGNORECASE)


def normalise_rank_label(value: Any) -> str | None:
    """`"R3"`, `"r3"`, `"Response 3"`, `"3"` or 3 -> `"R3"`; anything else -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"R{value}"
    if isinstance(value, str):
        m = _LABEL.match(value)
        if m:
            return f"R{int(m.group(1))}"
    return None


def check_ranking(value: Any, labels: list[str]) -> ParsedRanking:
    """Validate one criterion's value: a list that is a permutation of the shown `labels` (after normalising)."""
    if isinstance(value, dict):
        value = value.get("ranking", value.get("order", value))
    if not isinstance(value, list):
        return ParsedRanking(None, f"not_a_list: {str(value)[:40]!r}", value)
    out: list[str] = []
    for item in value:
        norm = normalise_rank_label(item)
        if norm is None or norm not in labels:
            return ParsedRanking(None, f"unknown_label: {str(item)[:20]!r}", value)
        out.append(norm)
    dup = sorted({x for x in out if out.count(x) > 1}, key=labels.index)
    if dup:
        return ParsedRanking(None, f"not_a_permutation: duplicate {', '.join(dup)}", value)
    missing = [x for x in labels if x not in out]
    if missing:
        return ParsedRanking(None, f"not_a_permutation: missing {', '.join(missing)}", value)
    return ParsedRanking(out, "", value)


def parse_rankings(reply: str, criteria: list[str], labels: list[str]) -> tuple[dict[str, ParsedRanking], str]:
    """Parse a ranking reply `{criterion: [labels best first], "explanation": ...}`; returns (per criterion,
    explanation). `<criterion>_ranking` keys (the paper's format) are accepted too. A reply that is empty or
    has no JSON object makes every criterion invalid."""
    text = CODE_FENCE.sub("", reply.strip())
    if not text:
        return {c: ParsedRanking(None, "empty_reply", None) for c in criteria}, ""
    obj = json_object(text)
    if obj is None:
        return {c: ParsedRanking(None, "unparseable", None) for c in criteria}, ""
    out: dict[str, ParsedRanking] = {}
    for c in criteria:
        key = c if c in obj else f"{c}_ranking" if f"{c}_ranking" in obj else None
        out[c] = check_ranking(obj[key], labels) if key is not None else ParsedRanking(None, "missing_criterion", None)
    return out, str(obj.get("explanation", obj.get("reason", "")))


@metric
def valid_rate() -> Metric:
    """Per criterion: the share of judge calls whose ranking is valid."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        vals: dict[str, list[float]] = {}
        for s in scores:
            for k, v in dict(s.score.value).items():  # type: ignore[arg-type]
                vals.setdefault(k, []).append(float(v) if isinstance(v, int | float) else 0.0)
        return {k: (sum(v) / len(v) if v else math.nan) for k, v in vals.items()}

    return compute


@metric
def invalid() -> Metric:
    """Per criterion: the number of judge calls whose ranking is invalid (unparseable, not a permutation, ...)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in scores:
            for k, v in dict(s.score.value).items():  # type: ignore[arg-type]
                out[f"{k}_invalid"] = out.get(f"{k}_invalid", 0.0) + float(v != 1.0)
        return out

    return compute


def ranking_score(parsed: dict[str, ParsedRanking], order: list[str], criteria: CriteriaSet, *, raw: str,
                  explanation: str, judge_model: str, judge_kind: str,
                  scores: dict[str, dict[str, float]] | None = None) -> Score:
    """The sample's Score: value = 1 (valid) / 0 (invalid) per criterion; every ranking, mapped back to
    candidate names, its validity and reason, and the raw reply in metadata."""
    by_label = {label(i): name for i, name in enumerate(order)}
    detail: dict[str, Any] = {}
    for c in criteria.ids:
        p = parsed[c]
        detail[c] = {
            "valid": p.labels is not None,
            "ranking": [by_label[x] for x in p.labels] if p.labels is not None else None,
            "labels": p.labels,
            "reason": p.reason,
            "given": p.given,
        }
        if scores is not None:
            detail[c]["scores"] = scores[c]
    answer = "; ".join(f"{c}=" + (">".join(detail[c]["ranking"]) if detail[c]["valid"] else
                                  f"invalid ({detail[c]['reason']})") for c in criteria.ids)
    return Score(
        value={c: 1.0 if detail[c]["valid"] else 0.0 for c in criteria.ids},
        answer=answer,
        explanation=explanation,
        metadata={
            "judge_model": judge_model,
            "judge_kind": judge_kind,
            "criteria_set": criteria.name,
            "criteria_hash": criteria.hash,
            "shown_order": list(order),
            "labels": by_label,
            "rankings": detail,
            "raw": raw,
        },
    )


@scorer(metrics=[valid_rate(), invalid()])
def ranking_judge(criteria: CriteriaSet, temperature: float | None = 0.0, seed: int | None = 0,
                  max_tokens: int | None = 1024, structured: bool = False,
                  cache: CachePolicy | None = None) -> Scorer:
    """One `judge`-role call per sample: the persona ranks all shown responses on every criterion."""
    ids = criteria.ids

    async def score(state: TaskState, target: Target) -> Score:
        judge = get_model(role="judge", required=True)
        md = state.metadata
        order: list[str] = list(md["shown_order"])
        labels = [label(i) for i in range(len(order))]
        prompt = ranking_prompt(render_responses(md["patient_message"], [md["responses"][c] for c in order]),
                                list(criteria.criteria), len(order))
        schema = (ResponseSchema(name="ranking", json_schema=ranking_schema(ids, len(order)))  # type: ignore[arg-type]
                  if structured else None)
        config = GenerateConfig(temperature=temperature, seed=seed, max_tokens=max_tokens, response_schema=schema)
        out = await ask_output(judge, md["judge_system"], prompt, config, cache)
        raw = out.completion
        if out.stop_reason == "content_filter":
            parsed, explanation = {c: ParsedRanking(None, "refusal", None) for c in ids}, ""
        else:
            parsed, explanation = parse_rankings(raw, ids, labels)
        return ranking_score(parsed, order, criteria, raw=raw, explanation=explanation, judge_model=str(judge),
                             judge_kind="llm")

    return score


@scorer(metrics=[valid_rate(), invalid()])
def reward_ranking_judge(criteria: CriteriaSet, heads: str = "builtin") -> Scorer:
    """Rank the responses by reward-head score per criterion (no model call). Exactly equal scores (identical
    texts) keep the shown order, which is a seeded shuffle."""
    judge = load_reward_judge(heads, criteria)
    name = reward_judge_name(heads, judge)

    async def score(state: TaskState, target: Target) -> Score:
        md = state.metadata
        order: list[str] = list(md["shown_order"])
        texts = [md["responses"][c] for c in order]
        parsed: dict[str, ParsedRanking] = {}
        scores: dict[str, dict[str, float]] = {}
        for c in criteria.ids:
            s = [float(x) for x in judge.score(c, [md["patient_message"]] * len(texts), texts)]
            ranked = sorted(range(len(order)), key=lambda i: (-s[i], i))
            parsed[c] = ParsedRanking([label(i) for i in ranked], "", None)
            scores[c] = {order[i]: s[i] for i in range(len(order))}
        return ranking_score(parsed, order, criteria, raw="", explanation="", judge_model=name, judge_kind="rm",
                             scores=scores)

    return score


def _single_turn(log: str, sample: EvalSample) -> tuple[str, str]:
    turns = transcript(sample)
    if len(turns) != 2 or turns[0][0] != "patient" or turns[1][0] != "therapist" or sample.metadata.get("persona_id"):
        raise InputError(log, "sample", str(sample.id), "not a single-turn dialogue",
                         "collect preferences from single-turn stage-1 logs (dialogue.turns = 1)")
    return turns[0][1], turns[1][1]


def split_logs(logs: str | list[str]) -> list[str]:
    """`a.eval,b.eval` (or a list, as `inspect eval -T logs=a,b` passes it) -> paths."""
    items = logs if isinstance(logs, list) else str(logs).split(",")
    return [str(x).strip() for x in items if str(x).strip()]


@task
def preference(
    logs: str | list[str],
    criteria: str = "therapeutic",
    personas: str = "builtin",
    personas_per_scenario: int = 5,
    seed: int = 42,
    judge: JudgeKind = "llm",
    rm_heads: str = "builtin",
    judge_temperature: float = 0.0,
    judge_seed: int = 0,
    judge_max_tokens: int = 1024,
    structured: bool = False,
    cache_scope: str | None = None,
) -> Task:
    """Rank N candidates' single-turn responses per scenario, per criterion (preference collection).

    Args:
        logs: Comma-separated stage-1 logs (N >= 2 candidates, single-turn, same scenarios).
        criteria: Criteria set: a builtin name (therapeutic, survey4, gricean) or a TOML path.
        personas: `builtin` or a personas `.jsonl` (the judge role-plays each assigned persona).
        personas_per_scenario: Judge personas per scenario (0 = all), seeded by `seed` and the scenario id.
        seed: Seed of the persona assignment and of the order the responses are shown in.
        judge: `llm` (the `judge` role ranks, one call per scenario x persona) or `rm` (reward-head scores,
            no model call, one sample per scenario).
        rm_heads: Reward heads for `judge=rm`: `builtin` or a folder written by `theraeval judges train`.
        judge_temperature: Judge temperature (role models do not inherit the task's config).
        judge_seed: Judge seed.
        judge_max_tokens: Judge reply limit (one reply carries every criterion's ranking).
        structured: Ask for JSON-schema structured output (OpenAI-compatible providers, vLLM, Google, Mistral).
        cache_scope: Cache judge calls forever under this scope (set by `collect_preferences_main`).
    """
    if judge not in ("llm", "rm"):
        raise InputError(None, "judge", judge, "unknown preference judge", "use judge=llm or judge=rm")
    crit = load_criteria(criteria)
    paths = split_logs(logs)
    stage1: dict[str, dict[str, EvalSample]] = {}
    where: dict[str, str] = {}
    for path in paths:
        name, got = read_stage1(path)
        if name in stage1:
            raise InputError(path, "candidate", name, "two logs are the same candidate",
                             "give each candidate's (or each policy sample's) stage-1 log once")
        stage1[name], where[name] = got, path
    if len(stage1) < 2:
        raise InputError(None, "logs", logs, "preference collection needs at least 2 candidates' stage-1 logs",
                         "pass N >= 2 comma-separated stage-1 logs")
    candidates = sorted(stage1)
    ref = stage1[candidates[0]]
    for name in candidates[1:]:
        if stage1[name].keys() != ref.keys():
            only = sorted(stage1[name].keys() ^ ref.keys())
            raise InputError(where[name], "sample ids", only[0], f"{len(only)} dialogue(s) exist in only some logs",
                             "run stage 1 of every candidate on the same scenarios")
    texts: dict[str, tuple[str, dict[str, str], str]] = {}
    for sid in sorted(ref):
        message, _ = _single_turn(where[candidates[0]], ref[sid])
        responses: dict[str, str] = {}
        for name in candidates:
            other, responses[name] = _single_turn(where[name], stage1[name][sid])
            if other != message:
                raise InputError(where[name], "scenario", sid, "the logs show this scenario with different messages",
                                 "run stage 1 of every candidate from the same scenarios file")
        md = ref[sid].metadata
        texts[str(md.get("scenario_id", sid))] = (message, responses, str(md.get("risk", "none")))
    pers: dict[str, Persona] = {}
    if judge == "llm":
        pers = {p.id: p for p in resolve_personas(personas)}
        plan = assign_personas(sorted(texts), list(pers), personas_per_scenario, seed)
    else:
        plan = {s: [""] for s in texts}
    samples: list[Sample] = []
    for scenario_id in sorted(texts):
        message, responses, risk = texts[scenario_id]
        for pid in plan[scenario_id]:
            meta: dict[str, Any] = {
                "scenario_id": scenario_id, "risk": risk, "persona_id": pid, "patient_message": message,
                "candidates": candidates, "responses": responses,
                "shown_order": shown_order(candidates, seed, scenario_id, pid),
                "judge_system": pers[pid].judge_prompt() if judge == "llm" else "",
            }
            samples.append(Sample(id=f"{scenario_id}--{pid}" if pid else scenario_id, input=message, metadata=meta))
    return Task(
        dataset=MemoryDataset(samples, name=f"preference-{len(candidates)}-candidates"),
        solver=passthrough(),
        scorer=(reward_ranking_judge(crit, rm_heads) if judge == "rm" else
                ranking_judge(crit, judge_temperature, judge_seed, judge_max_tokens, structured,
                              cache_policy(cache_scope))),
        name="preference",
        metadata={"candidates": candidates, "criteria_set": crit.name, "criteria_hash": crit.hash,
                  "criteria": crit.ids, "judge_kind": judge, "seed": seed,
                  "personas_per_scenario": personas_per_scenario if judge == "llm" else 0,
                  "stage": "preference"},
    )
