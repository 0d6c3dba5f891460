"""Training commands: train, judges train (reward heads)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from harness.core import InputError


def train_builtins() -> dict[str, Callable[[], Path]]:
    """What `builtin/<name>` means in a training config: the embedded SmolLM2-135M-Instruct (converted once to a
    local folder) and the bundled preference set (harness/reward_heads/data/preferences.jsonl)."""
    from harness.reward_heads import BUNDLED_PAIRS
    from harness.run import ensure_smollm2

    return {"builtin/smollm2": ensure_smollm2, "builtin/preferences": lambda: BUNDLED_PAIRS}


def cmd_train(args: argparse.Namespace) -> int:
    import logging

    from trainers import format_summary, train_main

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")  # the run's warnings
    if args.config == "sweep":
        return _sweep(args)
    if args.weights is not None or args.sweep_config is not None:
        raise InputError(None, "train", args.sweep_config or args.weights, "--weights belongs to `train sweep`",
                         "run: theraeval train sweep CONFIG --weights 0.1,0.3,0.5,0.7,0.9")
    out = train_main(Path(args.config), builtins=train_builtins())
    if (out / "candidate.toml").is_file():
        print(f'Use it as a candidate: [[candidates]] from = "{out}" in a run config (or paste '
              f"{out / 'candidate.toml'}).")
    print(format_summary(out))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from trainers import parse_weights, sweep_main

    if args.sweep_config is None or args.weights is None:
        raise InputError(None, "train sweep", args.sweep_config, "needs a config and --weights",
                         "run: theraeval train sweep CONFIG --weights 0.1,0.3,0.5,0.7,0.9")
    path = sweep_main(Path(args.sweep_config), parse_weights(args.weights), builtins=train_builtins())
    print(f"Run config listing every weighting: {path}  (theraeval run {path})")
    return 0


def cmd_judges_train(args: argparse.Namespace) -> int:
    from harness.reward_heads import BUNDLED_PAIRS, pooled_test_accuracy, train_heads

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
    pooled = pooled_test_accuracy(metrics)
    if len(pooled) > 2:  # several pair kinds: each kind's test accuracy, pooled over criteria
        print("test accuracy by pair kind: " + ", ".join(f"{k} {a:.3f}" for k, a in pooled.items() if k != "all"))
    print(f"Heads written to {args.output}; use them with [judge] kind = \"rm\", heads = \"{args.output}\"")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the training commands commands."""
    tr = sub.add_parser("train", help="train a candidate (sft, dpo, modpo, joint_loss, reward_model, soup, ipo, ...); "
                                      "`train sweep CONFIG --weights ...`: one candidate per weighting")
    tr.add_argument("config", help="training config (.toml; see docs/training.md and trainers/presets/), or `sweep`")
    tr.add_argument("sweep_config", nargs="?", default=None, help="with `sweep`: a modpo / joint_loss / soup config")
    tr.add_argument("--weights", default=None,
                    help="with `sweep`: first objective's weights, e.g. 0.1,0.3,0.5,0.7,0.9 (the other gets 1 - w)")
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
