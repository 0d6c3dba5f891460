"""Reward heads: a frozen MiniLM sentence encoder plus a small Bradley-Terry head per criterion.

The offline default judge's model (the scorer that uses it is ``scorers.reward_pairwise_judge``).
``RewardHeads.load()`` reads the heads bundled in ``harness/reward_heads/data/rm_heads/``, trained on
``harness/reward_heads/data/preferences.jsonl`` (docs/preference-set.md); ``train_heads`` fits your own from a
pairs file or from ordinal labels (``pairs_from_ordinal``, ``load_epitome_pairs``).

Reads: pairs JSONL / EPITOME CSV, head folders. Writes: head folders (``train_heads``). May import:
``harness.core``, ``harness.inputs``, ``harness.stats``.
"""

from harness.reward_heads._encoder import (
    EMBEDDING_DIM,
    ENCODER_NAME,
    Embedder,
    PairEncoder,
    encoder_dir,
    get_encoder,
)
from harness.reward_heads._heads import (
    HeadMetrics,
    LinearHead,
    fit_bradley_terry,
    load_heads,
    train_heads,
)
from harness.reward_heads._pairs import (
    BUNDLED_PAIRS,
    RewardHeadPair,
    default_criteria,
    load_epitome_pairs,
    load_pairs,
    pairs_from_ordinal,
    save_pairs,
)
from harness.reward_heads._reward import BUNDLED_HEADS, RewardHeads, Verdict

__all__ = [
    "BUNDLED_HEADS",
    "BUNDLED_PAIRS",
    "EMBEDDING_DIM",
    "ENCODER_NAME",
    "Embedder",
    "HeadMetrics",
    "LinearHead",
    "PairEncoder",
    "RewardHeadPair",
    "RewardHeads",
    "Verdict",
    "default_criteria",
    "encoder_dir",
    "fit_bradley_terry",
    "get_encoder",
    "load_epitome_pairs",
    "load_heads",
    "load_pairs",
    "pairs_from_ordinal",
    "save_pairs",
    "train_heads",
]
