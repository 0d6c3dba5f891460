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


def cmd_agreement(args: argparse.Namespace) -> int:
    from harness.calibration import agreement_main

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
    ag.add_argument("run_dir")
    ag.add_argument("ratings", help="ratings CSV (item_id, rater_id, criterion, label) or a folder of them")
    ag.add_argument("--key", help="packet key (default <run>/packets/key.csv)")
    ag.add_argument("--n-boot", type=int, default=1000)
    ag.add_argument("--seed", type=int, default=0)
    ag.set_defaults(fn=cmd_agreement)
