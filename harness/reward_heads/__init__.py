"""Reward heads: an encoder plus one linear head per criterion (the offline `rm` judge's model).

``RewardHeads.load()`` reads the bundled default judge, ``harness/reward_heads/data/evidence_judge/``: the evidence
encoder (``EvidenceEncoder``: sentence-level empathy evidence written from published definitions, and a therapist
behaviour classifier trained on AnnoMI) with heads set from definitions or fitted on AnnoMI (built by
``scripts/train_judge.py``; docs/judge-validity.md). ``heads_folder("builtin-finetuned")`` is its opt-in variant
whose behaviour features come from a LoRA-fine-tuned MiniLM cross-encoder (``FinetunedBehaviour``, trained by
``finetune_behaviour_encoder``; ``scripts/train_judge.py --finetune``). ``train_heads`` fits MiniLM heads (a
frozen sentence encoder; by default its context-aware features, ``ContextAwareEncoder``) from a pairs file or from
ordinal labels (``pairs_from_ordinal``, ``load_epitome_pairs``); the synthetic preference set
(docs/preference-set.md) is such a file and no longer trains the default judge.

Reads: pairs JSONL / EPITOME CSV, head folders. Writes: head folders (``train_heads``). May import:
``harness.core``, ``harness.inputs``, ``harness.stats``.
"""

from harness.reward_heads._behaviour import (
    BEHAVIOURS,
    EVIDENCE_ENCODER,
    FEATURES,
    FINETUNED_ENCODER,
    FINETUNED_FEATURES,
    BehaviourClassifier,
    EvidenceEncoder,
    behaviour_of,
    fit_behaviour_classifier,
)
from harness.reward_heads._encoder import (
    CONTEXT_AWARE_ENCODER,
    EMBEDDING_DIM,
    ENCODER_NAME,
    ContextAwareEncoder,
    Embedder,
    PairEncoder,
    encoder_dir,
    get_encoder,
)
from harness.reward_heads._finetuned import (
    ADAPTER_FILE,
    TALK_TYPES,
    FinetuneConfig,
    FinetunedBehaviour,
    TurnExample,
    finetune_behaviour_encoder,
)
from harness.reward_heads._heads import (
    HeadMetrics,
    LinearHead,
    fit_bradley_terry,
    load_heads,
    pooled_test_accuracy,
    train_heads,
    write_heads,
)
from harness.reward_heads._pairs import (
    BUNDLED_PAIRS,
    CONTEXT_MISMATCH,
    CONTRAST,
    MISMATCH_CRITERIA,
    RewardHeadPair,
    context_mismatch_pairs,
    default_criteria,
    load_epitome_pairs,
    load_pairs,
    pairs_from_ordinal,
    save_pairs,
)
from harness.reward_heads._reward import (
    BUILTIN_HEADS,
    BUNDLED_HEADS,
    FINETUNED_HEADS,
    RewardHeads,
    Verdict,
    heads_folder,
)

__all__ = [
    "ADAPTER_FILE",
    "TALK_TYPES",
    "FinetuneConfig",
    "FinetunedBehaviour",
    "TurnExample",
    "finetune_behaviour_encoder",
    "BEHAVIOURS",
    "BUILTIN_HEADS",
    "BUNDLED_HEADS",
    "BUNDLED_PAIRS",
    "CONTEXT_AWARE_ENCODER",
    "CONTEXT_MISMATCH",
    "CONTRAST",
    "ContextAwareEncoder",
    "MISMATCH_CRITERIA",
    "context_mismatch_pairs",
    "EMBEDDING_DIM",
    "ENCODER_NAME",
    "EVIDENCE_ENCODER",
    "FEATURES",
    "FINETUNED_ENCODER",
    "FINETUNED_FEATURES",
    "BehaviourClassifier",
    "Embedder",
    "EvidenceEncoder",
    "FINETUNED_HEADS",
    "HeadMetrics",
    "LinearHead",
    "PairEncoder",
    "RewardHeadPair",
    "RewardHeads",
    "Verdict",
    "behaviour_of",
    "default_criteria",
    "encoder_dir",
    "fit_behaviour_classifier",
    "fit_bradley_terry",
    "get_encoder",
    "heads_folder",
    "load_epitome_pairs",
    "load_heads",
    "load_pairs",
    "pairs_from_ordinal",
    "pooled_test_accuracy",
    "save_pairs",
    "train_heads",
    "write_heads",
]
