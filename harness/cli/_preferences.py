"""Preference commands: preferences."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_preferences(args: argparse.Namespace) -> int:
    from harness.preferences import collect_preferences_main

    out = collect_preferences_main(Path(args.run_dir), Path(args.output), judge=args.judge,
                                   judge_model=args.judge_model, personas_per_scenario=args.personas_per_scenario,
                                   seed=args.seed, display=args.display)
    print(f"Preference datasets (one per criterion, plus joint/): {out}; see {out / 'summary.json'}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the preference commands commands."""
    pf = sub.add_parser("preferences", help="persona judges rank the candidates' responses -> DPO preference data")
    pf.add_argument("run_dir", help="a run whose stage 1 is done (single-turn); its candidates are the N responses")
    pf.add_argument("-o", "--output", required=True, help="folder for the per-criterion HF datasets")
    pf.add_argument("--judge", default="rm", choices=["rm", "llm"], help="rm (default) or the run's / given LLM judge")
    pf.add_argument("--judge-model", help="LLM judge model string (default: the run config's [judge] model)")
    pf.add_argument("--personas-per-scenario", type=int, default=5)
    pf.add_argument("--seed", type=int, default=42)
    pf.add_argument("--display", default="none")
    pf.set_defaults(fn=cmd_preferences)
