"""How far surface shortcuts separate a pairs file's better and worse replies, beside MiniLM heads (issue 14).

For each pairs file (default: the bundled synthetic set, harness/reward_heads/data/preferences.jsonl) prints
`shortcut_audit`: longer / shorter / more-question-marks wins on every pair, the share of pairs where only one side
asks a question, the share with lengths within 25%, the commonest openings per side and the openings that mark a
side, and a bag-of-words logistic regression fitted on the train split and scored on the test split (one model
over all criteria, and one per criterion; also per pair kind when a file has several). With `--heads` it also fits
MiniLM heads (`train_heads`, frozen encoder, one Bradley-Terry head per criterion; `--features pair` for the
pair-embedding-only heads of heads.json version 1) on the train split and prints their test accuracy, pooled and per
pair kind, beside the bag of words. Every figure is a fit to project-written data, not evidence of validity.

    python benchmarks/preference_shortcuts.py [PAIRS.jsonl ...] [--heads] [--features context-aware|pair]
    git show <commit>:harness/reward_heads/data/preferences.jsonl > old.jsonl   # an earlier version of the set
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _bench import header

from harness.judge_validity import shortcut_audit
from harness.reward_heads import (
    BUNDLED_PAIRS,
    ContextAwareEncoder,
    Embedder,
    get_encoder,
    load_pairs,
    pooled_test_accuracy,
    train_heads,
)


def heads_test_accuracy(path: Path, encoder: Embedder) -> tuple[dict[str, float], float]:
    """Test-split accuracy of MiniLM heads fitted on the train split (key "all", and one per pair kind), and the
    seconds it took."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        metrics = train_heads(path, d, seed=0, encoder=encoder)
    return pooled_test_accuracy(metrics), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, default=[BUNDLED_PAIRS])
    ap.add_argument("--heads", action="store_true", help="also fit MiniLM heads on the train split (minutes)")
    ap.add_argument("--features", choices=("context-aware", "pair"), default="context-aware",
                    help="head features: ContextAwareEncoder (train_heads' default) or the pair embedding alone")
    args = ap.parse_args()
    header("Preference-set shortcuts (issue 14)")
    for path in args.files:
        audit = shortcut_audit(load_pairs(path))
        print(f"\n## {path}\n{audit.format()}")
        if args.heads:
            encoder = ContextAwareEncoder() if args.features == "context-aware" else get_encoder()
            heads, seconds = heads_test_accuracy(path, encoder)
            bow = max(x for x in (audit.bow_test, audit.bow_test_per_criterion) if x is not None)
            print(f"MiniLM heads ({args.features}) on the test split {heads['all']:.3f} (fitted in {seconds:.0f} s); "
                  f"heads - best bag of words = {heads['all'] - bow:+.3f}")
            if len(heads) > 2:
                for kind, acc in heads.items():
                    if kind != "all":
                        print(f"  on {kind} test pairs: heads {acc:.3f}")


if __name__ == "__main__":
    main()
