"""The reward-model judge (`judge.kind = "rm"`): per criterion, sign of score(A) - score(B) with a tie margin.

No model call and no position bias by construction (the heads score each response on its own); both orders
are still judged and recorded so the verdict table proves the flip rate is zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState

from harness.core import InputError
from harness.inputs import CriteriaSet
from harness.reward_heads import BUILTIN_HEADS, RewardHeads, heads_folder
from scorers._combine import to_candidate_space
from scorers._injection import injection_metadata
from scorers._llm_judge import OrderResult, assemble_score, excluded_score, unscored, win_rate_a


def context_and_response(turns: list[list[str]]) -> tuple[str, str]:
    """What a head scores: the patient's opening message, and the candidate's therapist turns joined."""
    context = next((text for role, text in turns if role == "patient"), "")
    response = "\n\n".join(text for role, text in turns if role == "therapist")
    return context, response


def load_reward_judge(heads: str, criteria: CriteriaSet) -> RewardHeads:
    """Load heads (`builtin` or a folder from `theraeval judges train`) that cover every criterion judged."""
    judge = RewardHeads.load(heads_folder(heads))
    missing = [c for c in criteria.ids if c not in judge.criteria]
    if missing:
        raise InputError(heads, "criteria", missing[0], f"the reward heads have no head for {len(missing)} criteria",
                         f"judge only {list(judge.criteria)} with kind = \"rm\", train heads for the others "
                         "(`theraeval judges train`), or use an LLM judge")
    return judge


def reward_judge_name(heads: str, judge: RewardHeads) -> str:
    """`rm/<heads>@<data sha>`: names the heads and the data they were fitted on."""
    sha = str(judge.manifest.get("data", {}).get("sha256", ""))[:8]
    return f"rm/{heads if heads in BUILTIN_HEADS else Path(heads).name}@{sha}"


@scorer(metrics=[win_rate_a(), unscored()])
def reward_pairwise_judge(criteria: CriteriaSet, heads: str = "builtin", orders: tuple[str, ...] = ("ab", "ba"),
                          tie_margin: float | None = None) -> Scorer:
    """Compare candidate_a and candidate_b with one reward head per criterion, in every order."""
    judge = load_reward_judge(heads, criteria)
    name = reward_judge_name(heads, judge)

    async def score(state: TaskState, target: Target) -> Score:
        md = state.metadata
        skipped = excluded_score(md, orders, criteria, judge_model=name, judge_kind="rm", granularity="per_criterion")
        if skipped is not None:
            return skipped
        context, resp_a = context_and_response(md["transcript_a"])
        _, resp_b = context_and_response(md["transcript_b"])
        by: dict[str, dict[str, OrderResult]] = {c: {} for c in criteria.ids}
        for order in orders:
            first, second = (resp_a, resp_b) if order == "ab" else (resp_b, resp_a)
            for crit, label in judge.compare_all(context, first, second, criteria=criteria.ids,
                                                 tie_margin=tie_margin).items():
                by[crit][order] = OrderResult(label, to_candidate_space(label, order), "", "", label)
        return assemble_score(by, orders, criteria, judge_model=name, judge_kind="rm", granularity="per_criterion",
                              injection=injection_metadata(md["transcript_a"], md["transcript_b"]))

    return score


def reward_judge_info(heads_manifest: dict[str, Any]) -> dict[str, Any]:
    """What the summary and report say about reward heads: data, held-out accuracy per criterion."""
    crits = heads_manifest.get("criteria", {})
    return {
        "kind": "rm",
        "encoder": heads_manifest.get("encoder", {}).get("name"),
        "data_sha256": heads_manifest.get("data", {}).get("sha256"),
        "heldout_accuracy": {c: v["metrics"]["test_accuracy"] for c, v in crits.items()
                             if v.get("metrics", {}).get("test_accuracy") is not None},
        "n_test": sum(int(v.get("metrics", {}).get("n_test", 0)) for v in crits.values()),
    }
