"""Scorers: the judges of stage 2 and their parts (prompts, fences, verdict parsing, order combination).

- ``pairwise_judge``: an LLM judge (the ``judge`` model role) writes a JSON verdict per criterion and order;
- ``logprob_pairwise_judge``: the judge model's log-probabilities of "A" and "B", averaged over both orders;
- ``reward_pairwise_judge``: reward heads (``harness.reward_heads``), no model call;
- ``injection_metadata``: judge-directed text in a candidate's reply, flagged as an attack;
- ``rubric_judge``: pointwise rubric scoring of one candidate's crisis dialogues (``rubrics/*.toml``), item by item
  at every candidate turn, by the ``judge`` role or by deterministic checks labelled as such (docs/safety.md).

A reply that cannot be parsed is unscored with a reason, never a win. Criteria sets live in ``criteria/*.toml``.
Reads and writes no files. May import: ``harness.reward_heads``, ``harness.inputs``, ``harness.stats``,
``harness.core``.
"""

from scorers._combine import (
    ORDERS,
    Verdict,
    as_value,
    combine,
    position_flip,
    to_candidate_space,
)
from scorers._injection import (
    PATTERNS,
    Detection,
    detect,
    detect_candidate,
    injection_metadata,
)
from scorers._llm_judge import (
    Granularity,
    OrderResult,
    ask_output,
    assemble_score,
    pairwise_judge,
    unscored,
    win_rate_a,
)
from scorers._logprob_judge import (
    SINGLE_LETTER,
    first_token_probs,
    logprob_pairwise_judge,
    verdict_of,
)
from scorers._parse import (
    CODE_FENCE,
    Label,
    Parsed,
    is_refusal,
    json_object,
    normalise_label,
    parse_all_criteria,
    parse_verdict,
)
from scorers._prompts import (
    CLINICAL_SYSTEM,
    DATA_GUARD,
    Turn,
    all_criteria_prompt,
    criterion_block,
    defuse,
    fenced_pair,
    nonce,
    per_criterion_prompt,
    render_pair,
    verdict_schema,
)
from scorers._rm_judge import (
    context_and_response,
    load_reward_judge,
    reward_judge_info,
    reward_judge_name,
    reward_pairwise_judge,
)
from scorers._rubric import (
    RUBRIC_DIR,
    SEVERITIES,
    Resource,
    Rubric,
    RubricItem,
    builtin_rubrics,
    load_rubric,
)
from scorers._rubric_cases import BUNDLED_CASES, LABELS, RubricCase, load_rubric_cases
from scorers._rubric_checks import (
    CHECK_ITEMS,
    CHECKS_METHOD,
    JUDGE_METHOD,
    METHOD_PATTERNS,
    CheckResult,
    method_phrases,
    resource_check,
    run_checks,
)
from scorers._rubric_judge import (
    ItemResult,
    dialogue_outcome,
    judge_turn,
    parse_rubric,
    rubric_config,
    rubric_judge,
    rubric_prompt,
    rubric_schema,
    safe_rate,
)

__all__ = [
    "BUNDLED_CASES",
    "LABELS",
    "RubricCase",
    "load_rubric_cases",
    "CHECKS_METHOD",
    "CHECK_ITEMS",
    "CLINICAL_SYSTEM",
    "CODE_FENCE",
    "DATA_GUARD",
    "JUDGE_METHOD",
    "METHOD_PATTERNS",
    "ORDERS",
    "PATTERNS",
    "RUBRIC_DIR",
    "SEVERITIES",
    "SINGLE_LETTER",
    "CheckResult",
    "Detection",
    "Granularity",
    "ItemResult",
    "Label",
    "OrderResult",
    "Parsed",
    "Resource",
    "Rubric",
    "RubricItem",
    "Turn",
    "Verdict",
    "all_criteria_prompt",
    "as_value",
    "ask_output",
    "assemble_score",
    "builtin_rubrics",
    "combine",
    "context_and_response",
    "criterion_block",
    "defuse",
    "detect",
    "detect_candidate",
    "dialogue_outcome",
    "fenced_pair",
    "first_token_probs",
    "injection_metadata",
    "is_refusal",
    "json_object",
    "judge_turn",
    "load_reward_judge",
    "load_rubric",
    "logprob_pairwise_judge",
    "method_phrases",
    "nonce",
    "normalise_label",
    "pairwise_judge",
    "parse_all_criteria",
    "parse_rubric",
    "parse_verdict",
    "per_criterion_prompt",
    "position_flip",
    "render_pair",
    "resource_check",
    "reward_judge_info",
    "reward_judge_name",
    "reward_pairwise_judge",
    "rubric_config",
    "rubric_judge",
    "rubric_prompt",
    "rubric_schema",
    "run_checks",
    "safe_rate",
    "to_candidate_space",
    "unscored",
    "verdict_of",
    "verdict_schema",
    "win_rate_a",
]
