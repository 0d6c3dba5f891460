"""The pairwise judge scorer: every criterion, in both presentation orders, concurrently."""

from __future__ import annotations

import math
from collections.abc import Awaitable
from typing import Any, Literal, NamedTuple, TypeVar, cast

import anyio
from inspect_ai.model import (
    CachePolicy,
    ChatMessage,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelOutput,
    ResponseSchema,
    get_model,
)
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, metric, scorer
from inspect_ai.solver import TaskState

from harness.inputs import CriteriaSet, structured_by_default
from scorers._combine import ORDERS, Verdict, as_value, combine, position_flip, to_candidate_space
from scorers._injection import injection_metadata
from scorers._parse import Parsed, parse_all_criteria, parse_verdict
from scorers._prompts import (
    CLINICAL_SYSTEM,
    Turn,
    all_criteria_prompt,
    per_criterion_prompt,
    render_pair,
    verdict_schema,
)

Granularity = Literal["per_criterion", "all"]
T = TypeVar("T")


class OrderResult(NamedTuple):
    """The judge's answer for one criterion in one presentation order."""

    label: str | None
    verdict: Verdict
    reason: str
    unscored_reason: str
    raw: str
    prob_a: float | None = None
    """Log-probability judges: P(candidate_a is better) in this order; None otherwise."""


@metric
def win_rate_a() -> Metric:
    """Per criterion: mean score of candidate_a (win 1, tie 0.5), unscored samples skipped."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        sums: dict[str, list[float]] = {}
        for s in scores:
            for k, v in dict(s.score.value).items():  # type: ignore[arg-type]
                if isinstance(v, int | float) and not math.isnan(v):
                    sums.setdefault(k, []).append(float(v))
                else:
                    sums.setdefault(k, [])
        return {k: (sum(v) / len(v) if v else float("nan")) for k, v in sums.items()}

    return compute


@metric
def unscored() -> Metric:
    """Per criterion: number of samples whose combined verdict is unscored."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in scores:
            for k, v in dict(s.score.value).items():  # type: ignore[arg-type]
                key = f"{k}_unscored"
                out[key] = out.get(key, 0.0) + float(not isinstance(v, int | float) or math.isnan(v))
        return out

    return compute


async def gather(*calls: Awaitable[T]) -> list[T]:
    """Run a sample's judge calls concurrently; their results in order. One failing cancels the others.

    As inspect's `collect` without its transcript span per call: the span events cost about a seventh of stage 2's
    CPU per judge call (benchmarks/README.md, *A lean stage-2 path*) and no table reads them."""
    results: list[T | None] = [None] * len(calls)

    async def run(i: int, call: Awaitable[T]) -> None:
        results[i] = await call

    async with anyio.create_task_group() as tg:
        for i, call in enumerate(calls):
            tg.start_soon(run, i, call)
    return cast(list[T], results)


def _turns(raw: list[list[str]]) -> list[Turn]:
    return [Turn(role, text) for role, text in raw]


async def ask_output(judge: Model, system: str, user: str, config: GenerateConfig,
                      cache: CachePolicy | None) -> ModelOutput:
    """One judge call (through the run's cache when given)."""
    messages: list[ChatMessage] = [ChatMessageSystem(content=system), ChatMessageUser(content=user)]
    if cache is not None:
        return await judge.generate(messages, config=config, cache=cache)
    return await judge.generate(messages, config=config)


async def _ask(judge: Model, system: str, user: str, config: GenerateConfig,
               cache: CachePolicy | None) -> tuple[str, str]:
    """One judge call; returns (completion, refusal reason or "")."""
    out = await ask_output(judge, system, user, config, cache)
    refused = out.stop_reason == "content_filter"
    return out.completion, ("refusal" if refused else "")


def _order_result(parsed: Parsed, order: str, raw: str, refusal: str) -> OrderResult:
    if refusal:
        return OrderResult(None, "unscored", parsed.reason, refusal, raw)
    return OrderResult(parsed.label, to_candidate_space(parsed.label, order), parsed.reason,
                       parsed.unscored_reason, raw)


def excluded_score(md: dict[str, Any], orders: tuple[str, ...], criteria: CriteriaSet, *, judge_model: str,
                   judge_kind: str, granularity: str) -> Score | None:
    """An all-unscored Score, with no judge call, when the sample is excluded (``md["excluded"]`` holds the reason:
    a simulated patient that broke role, with ``[judge] exclude_flagged``); None when it is not."""
    reason = str(md.get("excluded") or "")
    if not reason:
        return None
    by = {c: {o: OrderResult(None, "unscored", "", reason, "") for o in orders} for c in criteria.ids}
    return assemble_score(by, orders, criteria, judge_model=judge_model, judge_kind=judge_kind,
                          granularity=granularity)


def assemble_score(by: dict[str, dict[str, OrderResult]], orders: tuple[str, ...], criteria: CriteriaSet, *,
                   judge_model: str, judge_kind: str, granularity: str,
                   combined: dict[str, Verdict] | None = None,
                   injection: dict[str, list[str]] | None = None) -> Score:
    """The sample's Score: per criterion the combined value of candidate_a, and every order's verdict in metadata.

    `combined` overrides the sign rule of `combine` (log-probability judges average probabilities instead).
    `injection` (from `scorers._injection.injection_metadata`) flags judge-directed text of candidate a / b.
    """
    value: dict[str, float] = {}
    detail: dict[str, Any] = {}
    for c in criteria.ids:
        vs = [by[c][o].verdict for o in orders]
        comb = combined[c] if combined is not None else combine(vs)
        value[c] = as_value(comb)
        detail[c] = {o: by[c][o]._asdict() for o in orders} | {"combined": comb, "position_flip": position_flip(vs)}
    return Score(
        value=value,
        answer=", ".join(f"{c}={detail[c]['combined']}" for c in criteria.ids),
        metadata={
            "judge_model": judge_model,
            "judge_kind": judge_kind,
            "criteria_set": criteria.name,
            "criteria_hash": criteria.hash,
            "granularity": granularity,
            "orders": list(orders),
            "verdicts": detail,
        } | ({"injection": injection} if injection is not None else {}),
    )


@scorer(metrics=[win_rate_a(), unscored()])
def pairwise_judge(
    criteria: CriteriaSet,
    granularity: Granularity = "per_criterion",
    orders: tuple[str, ...] = ORDERS,
    temperature: float | None = 0.0,
    seed: int | None = 0,
    max_tokens: int | None = 512,
    structured: bool | None = None,
    cache: CachePolicy | None = None,
) -> Scorer:
    """Ask the `judge` role to compare candidate_a and candidate_b on every criterion.

    Each (criterion, order) is one call with `granularity="per_criterion"`, or each order is one call
    covering all criteria with `"all"` (the paper's protocol; cheaper, risks halo effects). All calls of
    a sample run concurrently. The sample's metadata supplies `transcript_a`, `transcript_b` (lists of
    [role, text]) and `judge_system` (the persona's judge prompt, or "" for the clinical judge).
    `structured=None` asks for JSON-schema output when the judge's provider supports it
    (`harness.inputs.structured_by_default`, the rule `theraeval run` applies to the config's judge).
    """
    ids = criteria.ids

    def config(schema_for: list[str] | None, use_schema: bool) -> GenerateConfig:
        schema = (ResponseSchema(name="verdict", json_schema=verdict_schema(schema_for))  # type: ignore[arg-type]
                  if use_schema else None)
        return GenerateConfig(temperature=temperature, seed=seed, max_tokens=max_tokens, response_schema=schema)

    configs: dict[str, tuple[GenerateConfig, GenerateConfig]] = {}  # per judge model: thousands of calls share them

    async def score(state: TaskState, target: Target) -> Score:
        judge = get_model(role="judge", required=True)
        if str(judge) not in configs:
            use = structured if structured is not None else structured_by_default(str(judge))
            configs[str(judge)] = (config(None, use), config(ids, use))
        one_config, all_config = configs[str(judge)]
        md = state.metadata
        skipped = excluded_score(md, orders, criteria, judge_model=str(judge), judge_kind="llm",
                                 granularity=granularity)
        if skipped is not None:
            return skipped
        ta, tb = _turns(md["transcript_a"]), _turns(md["transcript_b"])
        persona_mode = bool(md.get("judge_system"))
        system = md["judge_system"] if persona_mode else CLINICAL_SYSTEM

        pairs = {o: render_pair(*((ta, tb) if o == "ab" else (tb, ta))) for o in orders}  # once per order

        async def one(order: str, crit: str) -> tuple[str, str, OrderResult]:
            prompt = per_criterion_prompt(pairs[order], criteria.get(crit), persona_mode)
            raw, refusal = await _ask(judge, system, prompt, one_config, cache)
            return order, crit, _order_result(parse_verdict(raw), order, raw, refusal)

        async def every(order: str) -> list[tuple[str, str, OrderResult]]:
            prompt = all_criteria_prompt(pairs[order], list(criteria.criteria), persona_mode)
            raw, refusal = await _ask(judge, system, prompt, all_config, cache)
            parsed = parse_all_criteria(raw, ids)
            return [(order, c, _order_result(parsed[c], order, raw, refusal)) for c in ids]

        if granularity == "per_criterion":
            results = await gather(*[one(o, c) for o in orders for c in ids])
        else:
            results = [r for rs in await gather(*[every(o) for o in orders]) for r in rs]
        by: dict[str, dict[str, OrderResult]] = {c: {} for c in ids}
        for order, crit, res in results:
            by[crit][order] = res
        return assemble_score(by, orders, criteria, judge_model=str(judge), judge_kind="llm",
                              granularity=granularity,
                              injection=injection_metadata(md["transcript_a"], md["transcript_b"]))

    return score
