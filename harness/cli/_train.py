"""Training commands: train, judges train (reward heads)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.core import InputError


def cmd_train(args: argparse.Namespace) -> int:
    from trainers import train_main

    out = train_main(Path(args.config))
    print(f"Model: {out}")
    print(f"Use it as a candidate: paste {out / 'candidate.toml'} into a run config's [[candidates]].")
    return 0


def cmd_judges_train(args: argparse.Namespace) -> int:
    from harness.reward_heads import BUNDLED_PAIRS, train_heads

    if args.pairs is not None and args.pairs.startswith("epitome:"):
        from harness.judge_validity import train_epitome_judge

        fig = train_epitome_judge(args.pairs.removeprefix("epitome:"), Path(args.output), seed=args.seed)
        print(f"empathy head refitted on {fig['n_train_pairs']} EPITOME cross-post pairs (summed level gap >= 2, 75% "
              f"of seeker posts); on the other 25% ({fig['n_test_pairs']} pairs): {fig['heldout_accuracy']:.3f}, the "
              f"bundled head {fig['bundled_heldout_accuracy']:.3f}, longer wins {fig['longer_wins']:.3f}")
        print(f"Judge written to {args.output} (EPITOME's academic licence: do not redistribute it); use it with "
              f"[judge] kind = \"rm\", heads = \"{args.output}\"")
        return 0
    if args.pairs is None:
        if args.epitome:
            raise InputError(None, "pairs", None, "--epitome reads an EPITOME CSV, and none was given",
                             "pass the CSV path, e.g. theraeval judges train emotional-reactions-reddit.csv --epitome")
        args.pairs = str(BUNDLED_PAIRS)
        print("note: the default pairs file is the project-written synthetic preference set, separable by surface "
              "shortcuts; its test-split accuracy is not evidence of validity (docs/preference-set.md). Measure "
              "heads on human labels with `theraeval judges validate`.", file=sys.stderr)
    if args.epitome:
        from harness.reward_heads import load_epitome_pairs

        pairs = load_epitome_pairs(args.pairs)
        metrics = train_heads(pairs, args.output, seed=args.seed)
    else:
        metrics = train_heads(args.pairs, args.output, seed=args.seed)
    print(f"{'criterion':<24} {'train n':>7} {'test n':>6} {'train acc':>9} {'cv acc':>7} {'test acc':>8}")
    for m in metrics.values():
        cv = f"{m.cv_accuracy:.3f}" if m.cv_accuracy is not None else "-"
        test = f"{m.test_accuracy:.3f}" if m.test_accuracy is not None else "-"
        print(f"{m.criterion:<24} {m.n_train:>7} {m.n_test:>6} {m.train_accuracy:>9.3f} {cv:>7} {test:>8}")
    print(f"Heads written to {args.output}; use them with [judge] kind = \"rm\", heads = \"{args.output}\"")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the training commands commands."""
    tr = sub.add_parser("train", help="train a candidate: sft, dpo, modpo, joint_loss, reward_model, soup")
    tr.add_argument("config", help="training config (.toml); see docs/training.md and trainers/presets/")
    tr.set_defaults(fn=cmd_train)

    judges = sub.add_parser("judges", help="offline reward-model judges").add_subparsers(dest="judges_cmd",
                                                                                        required=True)
    jt = judges.add_parser("train", help="fit reward heads: on a preference-pairs JSONL (MiniLM), or epitome:<dir>")
    jt.add_argument("pairs", nargs="?", default=None,
                    help="pairs JSONL (default: the synthetic preference set, "
                         "harness/reward_heads/data/preferences.jsonl: MiniLM heads); with --epitome, an EPITOME "
                         "CSV; epitome:<dir> (the three EPITOME CSVs): the bundled judge with its empathy head "
                         "refitted on your copy, measured on held-out seeker posts")
    jt.add_argument("-o", "--output", required=True, help="folder for the heads (heads.json + safetensors)")
    jt.add_argument("--epitome", action="store_true", help="read ordinal EPITOME empathy levels into pairs")
    jt.add_argument("--seed", type=int, default=0)
    jt.set_defaults(fn=cmd_judges_train)
