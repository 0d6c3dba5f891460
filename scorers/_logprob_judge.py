"""Log-probability verdicts (`judge.kind = "logprob"`): P(A) vs P(B) from the judge's first answer token.

For judges whose provider returns token log-probabilities (hf, OpenAI-compatible servers, vLLM). Each
(criterion, order) is one call asking for a single letter; P(candidate_a better) is read from the top
log-probabilities of the first token, renormalised over the A/B tokens. Averaging it over both orders
cancels a constant position preference: a judge that always puts 0.8 on "A" gives 0.5 (a tie) for every
pair, while its measured position bias (mean P(first position) - 0.5) is recorded per criterion.
"""

from __future__ import annotations

import math

from inspect_ai.model import CachePolicy, GenerateConfig, Logprob, get_model
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState

from harness.inputs import CriteriaSet
from scorers._combine import Verdict
from scorers._llm_judge import (
    CLINICAL_SYSTEM,
    OrderResult,
    ask_output,
    assemble_score,
    excluded_score,
    gather,
    unscored,
    win_rate_a,
)
from scorers._prompts import Turn, per_criterion_prompt, render_pair

SINGLE_LETTER = "\n\nAnswer with a single letter, A or B, and nothing else."


def first_token_probs(first: Logprob) -> tuple[float, float] | None:
    """(P(A), P(B)) renormalised over the two, from the first generated token's top log-probabilities."""
    mass = {"A": 0.0, "B": 0.0}
    for top in first.top_logprobs or []:
        label = top.token.strip().strip("\"'*(").upper()
        if label in mass:
            mass[label] += math.exp(top.logprob)
    total = mass["A"] + mass["B"]
    return None if total <= 0 else (mass["A"] / total, mass["B"] / total)


def verdict_of(p_a: float, margin: float) -> Verdict:
    """A if P(candidate_a better) clears 0.5 by the margin, B if it falls below by it, else tie."""
    return "A" if p_a > 0.5 + margin else "B" if p_a < 0.5 - margin else "tie"


@scorer(metrics=[win_rate_a(), unscored()])
def logprob_pairwise_judge(criteria: CriteriaSet, orders: tuple[str, ...] = ("ab", "ba"), margin: float = 0.05,
                           seed: int | None = 0, cache: CachePolicy | None = None) -> Scorer:
    """Compare candidate_a and candidate_b by the judge's log-probabilities of "A" and "B", in both orders."""

    async def score(state: TaskState, target: Target) -> Score:
        judge = get_model(role="judge", required=True)
        md = state.metadata
        skipped = excluded_score(md, orders, criteria, judge_model=str(judge), judge_kind="logprob",
                                 granularity="per_criterion")
        if skipped is not None:
            return skipped
        ta = [Turn(r, t) for r, t in md["transcript_a"]]
        tb = [Turn(r, t) for r, t in md["transcript_b"]]
        persona_mode = bool(md.get("judge_system"))
        system = md["judge_system"] if persona_mode else CLINICAL_SYSTEM
        config = GenerateConfig(temperature=0.0, max_tokens=1, logprobs=True, top_logprobs=20, seed=seed)

        async def one(order: str, crit: str) -> tuple[str, str, OrderResult]:
            first, second = (ta, tb) if order == "ab" else (tb, ta)
            prompt = per_criterion_prompt(render_pair(first, second), criteria.get(crit), persona_mode)
            prompt = prompt[: prompt.rfind("Which response")] + f"Which response is better on {crit}?" + SINGLE_LETTER
            out = await ask_output(judge, system, prompt, config, cache)
            lp = out.choices[0].logprobs if out.choices else None
            probs = first_token_probs(lp.content[0]) if lp is not None and lp.content else None
            if probs is None:
                reason = "no_logprobs" if lp is None or not lp.content else "no_A_or_B_token_in_top_logprobs"
                return order, crit, OrderResult(None, "unscored", "", reason, out.completion)
            p_first = probs[0]
            p_a = p_first if order == "ab" else 1.0 - p_first  # candidate_a is shown second in "ba"
            return order, crit, OrderResult(verdict_of(p_first, margin), verdict_of(p_a, margin),
                                            f"P(Response A)={p_first:.3f}", "", out.completion, p_a)

        results = await gather(*[one(o, c) for o in orders for c in criteria.ids])
        by: dict[str, dict[str, OrderResult]] = {c: {} for c in criteria.ids}
        for order, crit, res in results:
            by[crit][order] = res
        combined: dict[str, Verdict] = {}
        for c in criteria.ids:
            probs = [by[c][o].prob_a for o in orders]
            combined[c] = ("unscored" if any(p is None for p in probs)
                           else verdict_of(sum(p for p in probs if p is not None) / len(probs), margin))
        return assemble_score(by, orders, criteria, judge_model=str(judge), judge_kind="logprob",
                              granularity="per_criterion", combined=combined)

    return score
