"""Run commands: run, stage1, stage2, validate, verdicts."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness.core import RESUME_HINT, InputError, on_interrupt

if TYPE_CHECKING:
    from harness.run import RunPlan


def with_config(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
                fn: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
    """A command that takes a run config (and inspect's progress display)."""
    p = sub.add_parser(name, help=help)
    p.add_argument("config", help="run config (.toml)")
    p.add_argument("--display", default=None, choices=["full", "conversation", "rich", "plain", "log", "none"],
                   help="inspect progress display")
    p.set_defaults(fn=fn)
    return p


def interruptible(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A command that SIGINT / SIGTERM stop cleanly: the write in progress finishes (harness.core._interrupt), then
    it prints the resume hint and exits 130 / 143, whatever inspect made of the interrupt on its way out."""

    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        with on_interrupt() as state:
            try:
                return fn(args)
            except BaseException:
                if state.signum is None:
                    raise
                exc_code = 128 + state.signum
        print(RESUME_HINT, file=sys.stderr)
        return exc_code

    return run


def _attach_judge_card(plan: RunPlan) -> None:
    """The judge card of this judge spec (`theraeval judges validate --card`) into the run directory, for the
    summary."""
    from harness.judge_validity import attach_judge_card
    from harness.run import theraeval_home

    attach_judge_card(plan.run_dir, plan.cfg.judge.spec_hash(), theraeval_home())


def _plan(args: argparse.Namespace) -> RunPlan:
    from harness.run import plan_run

    return plan_run(args.config)


@interruptible
def cmd_run(args: argparse.Namespace) -> int:
    from harness.run import dry_run, stage1, stage2, stage2_workers
    from harness.verdicts import write_verdicts

    plan = _plan(args)
    workers = stage2_workers(plan, args.workers)  # checked before any call
    if not args.assume_latency > 0:
        raise InputError(None, "--assume-latency", args.assume_latency, "must be positive", "e.g. --assume-latency 2")
    if args.dry_run:
        print(dry_run(plan, workers, args.assume_latency))
        return 0
    stage1(plan, display=args.display)
    stage2(plan, display=args.display, schedule=args.schedule, budget=args.budget, workers=workers)
    _attach_judge_card(plan)
    print(write_verdicts(plan.run_dir))
    print(f"Run directory: {plan.run_dir}")
    return 0


@interruptible
def cmd_stage1(args: argparse.Namespace) -> int:
    from harness.run import stage1

    logs = stage1(_plan(args), display=args.display)
    for name, path in logs.items():
        print(f"{name}: {path}")
    return 0


@interruptible
def cmd_stage2(args: argparse.Namespace) -> int:
    from harness.run import stage2
    from harness.verdicts import write_verdicts

    plan = _plan(args)
    stage2(plan, display=args.display, schedule=args.schedule, budget=args.budget, workers=args.workers)
    _attach_judge_card(plan)
    print(write_verdicts(plan.run_dir))
    return 0


def cmd_verdicts(args: argparse.Namespace) -> int:
    from harness.verdicts import write_verdicts

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise InputError(run_dir, "run_dir", str(run_dir), "not a run directory", "pass runs/<run name>")
    print(write_verdicts(run_dir))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    plan = _plan(args)
    print(f"OK: {len(plan.cfg.candidates)} candidates, {len(plan.scenarios)} scenarios, {len(plan.personas)} "
          f"personas, criteria {plan.criteria.name} [{plan.criteria.hash}] {plan.criteria.ids}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the run commands commands."""
    run = with_config(sub, "run", cmd_run, "stage 1 + stage 2 + verdict table + summary")
    run.add_argument("--dry-run", action="store_true",
                     help="print the number of model calls and the time they take, and stop")
    run.add_argument("--assume-latency", type=float, default=1.0, metavar="SECONDS",
                     help="--dry-run: seconds per API call for the time estimate (default 1.0)")
    with_config(sub, "stage1", cmd_stage1, "stage 1 only: dialogues of every candidate")
    s2 = with_config(sub, "stage2", cmd_stage2, "stage 2 only: judge every candidate pair (needs stage 1)")
    for p in (run, s2):
        p.add_argument("--schedule", choices=["all", "adaptive"], default="all",
                       help="all pairs (default), or adaptive: judge the pairs whose order is uncertain first "
                            "and stop when the Bradley-Terry ranking settles (LLM judges)")
        p.add_argument("--budget", type=int, default=None, help="adaptive: at most this many (pair, dialogue) units")
        p.add_argument("--workers", type=int, default=None,
                       help="stage-2 processes sharing max_connections (default [run] workers, 1); about one per "
                            "free core pays off for API judges at 32+ connections")
    with_config(sub, "validate", cmd_validate, "validate a config and every file it names; run nothing")

    v = sub.add_parser("verdicts", help="rebuild verdicts.parquet and summary.txt from a run's stage-2 logs")
    v.add_argument("run_dir")
    v.set_defaults(fn=cmd_verdicts)
