"""Scorers: the judges of stage 2 and their parts (prompts, fences, verdict parsing, order combination).

- ``pairwise_judge``: an LLM judge (the ``judge`` model role) writes a JSON verdict per criterion and order;
- ``logprob_pairwise_judge``: the judge model's log-probabilities of "A" and "B", averaged over both orders;
- ``reward_pairwise_judge``: reward heads (``harness.reward_heads``), no model call;
- ``injection_metadata``: judge-directed text in a candidate's reply, flagged as an attack.

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

__all__ = [
    "CLINICAL_SYSTEM",
    "CODE_FENCE",
    "DATA_GUARD",
    "ORDERS",
    "PATTERNS",
    "SINGLE_LETTER",
    "Detection",
    "Granularity",
    "Label",
    "OrderResult",
    "Parsed",
    "Turn",
    "Verdict",
    "all_criteria_prompt",
    "as_value",
    "ask_output",
    "assemble_score",
    "combine",
    "context_and_response",
    "criterion_block",
    "defuse",
    "detect",
    "detect_candidate",
    "fenced_pair",
    "first_token_probs",
    "injection_metadata",
    "json_object",
    "load_reward_judge",
    "logprob_pairwise_judge",
    "nonce",
    "normalise_label",
    "pairwise_judge",
    "parse_all_criteria",
    "parse_verdict",
    "per_criterion_prompt",
    "position_flip",
    "render_pair",
    "reward_judge_info",
    "reward_judge_name",
    "reward_pairwise_judge",
    "to_candidate_space",
    "unscored",
    "verdict_of",
    "verdict_schema",
    "win_rate_a",
]
