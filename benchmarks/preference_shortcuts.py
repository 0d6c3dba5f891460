"""How far surface shortcuts separate a pairs file's better and worse replies, beside MiniLM heads (issue 14).

For each pairs file (default: the bundled synthetic set, harness/reward_heads/data/preferences.jsonl) prints
`shortcut_audit`: longer / shorter / more-question-marks wins on every pair, the share of pairs where only one side
asks a question, the share with lengths within 25%, the commonest openings per side and the openings that mark a
side, and a bag-of-words logistic regression fitted on the train split and scored on the test split (one model
over all criteria, and one per criterion). With `--heads` it also fits MiniLM heads (`train_heads`, frozen encoder,
one Bradley-Terry head per criterion) on the train split and prints their pooled test accuracy beside the
stronger bag-of-words figure. Every figure is a fit to project-written data, not evidence of validity.

    python benchmarks/preference_shortcuts.py [PAIRS.jsonl ...] [--heads]
    git show <commit>:harness/reward_heads/data/preferences.jsonl > old.jsonl   # an earlier version of the set
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _bench import header

from harness.judge_validity import shortcut_audit
from harness.reward_heads import BUNDLED_PAIRS, load_pairs, train_heads


def heads_test_accuracy(path: Path) -> tuple[float, float]:
    """Pooled test-split accuracy of MiniLM heads fitted on the train split, and the seconds it took."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        metrics = train_heads(path, d, seed=0)
    n = sum(m.n_test for m in metrics.values())
    right = sum((m.test_accuracy or 0.0) * m.n_test for m in metrics.values())
    return right / n, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, default=[BUNDLED_PAIRS])
    ap.add_argument("--heads", action="store_true", help="also fit MiniLM heads on the train split (about 1-2 min)")
    args = ap.parse_args()
    header("Preference-set shortcuts (issue 14)")
    for path in args.files:
        audit = shortcut_audit(load_pairs(path))
        print(f"\n## {path}\n{audit.format()}")
        if args.heads:
            heads, seconds = heads_test_accuracy(path)
            bow = max(x for x in (audit.bow_test, audit.bow_test_per_criterion) if x is not None)
            print(f"MiniLM heads on the test split {heads:.3f} (fitted in {seconds:.0f} s); "
                  f"heads - best bag of words = {heads - bow:+.3f}")


if __name__ == "__main__":
    main()
