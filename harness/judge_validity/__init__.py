"""Judge validity: does a judge agree with human labels better than trivial rules do?

``theraeval judges validate`` scores any judge of a run config (reward heads directly; ``llm`` / ``logprob`` judges
through ``tasks.judge_validation`` in both orders) on human-labelled pairs: a pairwise JSONL file, a rated file
(pairs formed by a stated score-gap rule), or an adapter for a public set the user has (``epitome:<dir>``,
``annomi:<csv>``, ``csv:<file>``). Per criterion: accuracy (ties as half, and ties excluded) with a 95% bootstrap
interval clustered by context, unscored count, position-flip rate, trivial baselines on the same items (random,
longer wins, shorter wins, more question marks wins, a bag-of-words logistic regression), length-matched accuracy,
the human ceiling when there are several raters, and rank agreement for pointwise judges. The judge card
(``judge_card.json``) records the verdict per criterion. ``shortcut_audit`` measures the same baselines on a pairs
file itself (how far length, question marks, openings and a bag of words separate its better and worse replies).
``cross_fit_annomi`` measures the default judge's recipe on every AnnoMI session: rebuilt per fold of sessions
(``build_evidence_judge``), each fold scored by the judge built without it, the out-of-fold verdicts pooled.

Reads: the validation files and the run config. Writes: only what the caller asks (``--json``, the judge card,
inspect logs of generative judges in a work folder). May import: ``harness.verdicts``, ``harness.run``, ``tasks``,
``scorers``, ``harness.reward_heads``, ``harness.inputs``, ``harness.stats``, ``harness.core``.
"""

from harness.judge_validity._adapters import (
    ANNOMI_CODES,
    EPITOME_FILES,
    annomi_sessions,
    annomi_set,
    csv_set,
    epitome_items,
    epitome_set,
)
from harness.judge_validity._audit import ShortcutAudit, shortcut_audit
from harness.judge_validity._build import (
    BACKED_BY,
    FIXED_WEIGHTS,
    annomi_session_split,
    build_evidence_judge,
    held_out_for,
    train_epitome_judge,
    train_finetuned_encoder,
)
from harness.judge_validity._card import (
    BUNDLED_CARD,
    CARD_NAME,
    attach_judge_card,
    build_card,
    card_key,
    find_judge_card,
    write_card,
)
from harness.judge_validity._crossfit import (
    RECIPE_NOTE,
    CrossFit,
    OutOfFoldJudge,
    annomi_session_folds,
    check_cross_fit,
    cross_fit_annomi,
    format_cross_fit,
    is_recipe_judge,
)
from harness.judge_validity._judges import (
    FunctionJudge,
    InspectJudge,
    JudgedPair,
    PairJudge,
    RewardHeadJudge,
    judge_from_config,
)
from harness.judge_validity._metrics import (
    LENGTH_MATCH,
    Accuracy,
    Difference,
    RankAgreement,
    accuracy,
    bag_of_words_verdicts,
    credit,
    human_ceiling,
    length_matched,
    paired_difference,
    rank_agreement,
    trivial_verdicts,
)
from harness.judge_validity._sets import (
    MIN_PAIRS,
    RatedItem,
    ValidationPair,
    ValidationSet,
    load_pairwise,
    load_rated,
    majority,
    pairs_from_rated,
    rated_set,
)
from harness.judge_validity._validate import (
    BEATS,
    NOT_BETTER,
    NOT_VALIDATED,
    STATUSES,
    format_report,
    schema_json,
    validate,
    validate_criterion,
)

__all__ = [
    "ANNOMI_CODES",
    "BACKED_BY",
    "BEATS",
    "CARD_NAME",
    "EPITOME_FILES",
    "FIXED_WEIGHTS",
    "LENGTH_MATCH",
    "RECIPE_NOTE",
    "MIN_PAIRS",
    "NOT_BETTER",
    "NOT_VALIDATED",
    "STATUSES",
    "Accuracy",
    "CrossFit",
    "Difference",
    "FunctionJudge",
    "InspectJudge",
    "JudgedPair",
    "OutOfFoldJudge",
    "PairJudge",
    "RankAgreement",
    "RatedItem",
    "RewardHeadJudge",
    "ShortcutAudit",
    "ValidationPair",
    "ValidationSet",
    "accuracy",
    "annomi_session_folds",
    "annomi_session_split",
    "annomi_sessions",
    "annomi_set",
    "attach_judge_card",
    "bag_of_words_verdicts",
    "build_card",
    "build_evidence_judge",
    "check_cross_fit",
    "BUNDLED_CARD",
    "card_key",
    "credit",
    "cross_fit_annomi",
    "csv_set",
    "epitome_items",
    "epitome_set",
    "find_judge_card",
    "format_cross_fit",
    "format_report",
    "held_out_for",
    "human_ceiling",
    "is_recipe_judge",
    "judge_from_config",
    "length_matched",
    "load_pairwise",
    "load_rated",
    "majority",
    "paired_difference",
    "pairs_from_rated",
    "rank_agreement",
    "rated_set",
    "schema_json",
    "shortcut_audit",
    "train_epitome_judge",
    "train_finetuned_encoder",
    "trivial_verdicts",
    "validate",
    "validate_criterion",
    "write_card",
]
