"""Reward-model judges: a frozen MiniLM sentence encoder plus a small Bradley-Terry head per criterion.

The offline default judge. `RewardJudge.load()` reads the heads bundled in `harness/data/rm_heads/`, trained
on `harness/data/preferences.jsonl` (docs/preference-set.md); `train_heads` fits your own from a pairs
file or from ordinal labels (`pairs_from_ordinal`, `load_epitome_pairs`).
"""

from harness.judges._encoder import (
    EMBEDDING_DIM,
    ENCODER_NAME,
    Embedder,
    PairEncoder,
    encoder_dir,
    get_encoder,
)
from harness.judges._heads import (
    HeadMetrics,
    LinearHead,
    fit_bradley_terry,
    load_heads,
    train_heads,
)
from harness.judges._pairs import (
    PreferencePair,
    load_epitome_pairs,
    load_pairs,
    pairs_from_ordinal,
    save_pairs,
)
from harness.judges._reward import BUNDLED_HEADS, RewardJudge, Verdict

__all__ = [
    "BUNDLED_HEADS",
    "EMBEDDING_DIM",
    "ENCODER_NAME",
    "Embedder",
    "HeadMetrics",
    "LinearHead",
    "PairEncoder",
    "PreferencePair",
    "RewardJudge",
    "Verdict",
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
