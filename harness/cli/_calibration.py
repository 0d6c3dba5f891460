"""Calibration commands: packets, agreement."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_packets(args: argparse.Namespace) -> int:
    from harness.calibration import packets_main

    paths = packets_main(Path(args.run_dir), n_items=args.n_items, seed=args.seed,
                         out_dir=Path(args.out_dir) if args.out_dir else None)
    print(f"Packet {paths.packet_id}: form {paths.form}, ratings template {paths.template}")
    print(f"Key (keep it away from raters; needed to unblind): {paths.key}")
    return 0


def cmd_judge_agreement(args: argparse.Namespace) -> int:
    from harness.calibration import judge_agreement_main

    print(judge_agreement_main(Path(args.run_dir)), end="")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from harness.calibration import agreement_main, long_agreement_main
    from harness.core import InputError

    if args.scale or args.scales:  # any long ratings file with declared scales (docs/agreement.md)
        if args.ratings is not None or args.key:
            raise InputError(None, "ratings", args.ratings or args.key, "with --scale/--scales give only the "
                             "ratings file", "run `theraeval agreement RATINGS --scale CRITERION=SCALE ...`")
        print(long_agreement_main(Path(args.run_dir), scales=list(args.scale), scales_toml=Path(args.scales)
                                  if args.scales else None, judge=args.judge, judge_file=Path(args.judge_file)
                                  if args.judge_file else None, out_dir=Path(args.out) if args.out else None,
                                  n_boot=args.n_boot, seed=args.seed))
        return 0
    if args.ratings is None or args.judge or args.judge_file or args.out:
        raise InputError(None, "ratings", args.ratings, "packet ratings need RUN_DIR RATINGS (and no --judge, "
                         "--judge-file, --out); any other ratings file needs --scale or --scales",
                         "run `theraeval agreement RUN_DIR RATINGS` or `theraeval agreement RATINGS --scale ...`")
    print(agreement_main(Path(args.run_dir), Path(args.ratings), Path(args.key) if args.key else None,
                         n_boot=args.n_boot, seed=args.seed))
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the calibration commands commands."""
    pk = sub.add_parser("packets", help="blinded clinician rating packet (HTML form, CSV template, separate key)")
    pk.add_argument("run_dir")
    pk.add_argument("--n-items", type=int, default=100)
    pk.add_argument("--seed", type=int, default=0)
    pk.add_argument("--out-dir", help="default <run>/packets")
    pk.set_defaults(fn=cmd_packets)
    ag = sub.add_parser("agreement", help="clinician ratings vs judge: reliability, agreement, judge gate")
    ag.add_argument("run_dir", help="the run of a packet; with --scale/--scales: any long ratings file")
    ag.add_argument("ratings", nargs="?", help="packet ratings CSV (item_id, rater_id, criterion, label) or a "
                    "folder of them")
    ag.add_argument("--scale", action="append", default=[], metavar="CRITERION=SCALE",
                    help="long ratings: e.g. empathy=ordinal:0-2, style=nominal:a,b,c, score=continuous[:0-10]")
    ag.add_argument("--scales", help="long ratings: TOML file declaring each criterion's scale")
    ag.add_argument("--judge", help="long ratings: rater_id of the judge's rows")
    ag.add_argument("--judge-file", help="long ratings: a separate file of the judge's ratings")
    ag.add_argument("--out", help="long ratings: folder for the tables (default <ratings folder>/agreement)")
    ag.add_argument("--key", help="packet key (default <run>/packets/key.csv)")
    ag.add_argument("--n-boot", type=int, default=1000)
    ag.add_argument("--seed", type=int, default=0)
    ag.set_defaults(fn=cmd_agreement)
    ja = sub.add_parser("judge-agreement", help="agreement between the judges of one verdict table (kappa, AC1)")
    ja.add_argument("run_dir", help="runs/<run name> whose verdict table holds two or more judges")
    ja.set_defaults(fn=cmd_judge_agreement)
