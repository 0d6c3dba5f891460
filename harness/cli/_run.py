"""Run commands: run, stage1, stage2, validate, verdicts."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness.core import DISPLAYS, RESUME_HINT, InputError, on_interrupt, still_working

if TYPE_CHECKING:
    from harness.run import RunPlan


def with_config(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
                fn: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
    """A command that takes a run config (and inspect's progress display)."""
    p = sub.add_parser(name, help=help)
    p.add_argument("config", help="run config (.toml)")
    p.add_argument("--display", default=None, choices=DISPLAYS,
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
    from harness.judge_validity import attach_judge_card, card_key
    from harness.run import theraeval_home

    heads = None
    if plan.cfg.judge.kind == "rm":
        from harness.reward_heads import heads_folder, load_heads

        heads = load_heads(heads_folder(plan.heads()))[1]
    attach_judge_card(plan.run_dir, card_key(plan.cfg.judge.spec_hash(), heads), theraeval_home())


def _plan(args: argparse.Namespace) -> RunPlan:
    """The validated plan; its run directory is the first line a command prints."""
    from harness.run import plan_run

    plan = plan_run(args.config)
    print(f"Run directory: {plan.run_dir}", flush=True)
    return plan


@interruptible
def cmd_run(args: argparse.Namespace) -> int:
    from harness.run import dry_run, stage1, stage2, stage2_workers
    from harness.verdicts import write_verdicts

    plan = _plan(args)
    workers = stage2_workers(plan, args.workers)  # checked before any call
    if args.replicates != 1:
        from harness.run import replicate_plans

        replicate_plans(plan, args.replicates)  # a bad --replicates is one line, exit 2, before any call
    if not args.assume_latency > 0:
        raise InputError(None, "--assume-latency", args.assume_latency, "must be positive", "e.g. --assume-latency 2")
    if args.dry_run:
        if not 0 < args.reply_fraction <= 1:
            raise InputError(None, "--reply-fraction", args.reply_fraction, "must be in (0, 1]",
                             "e.g. --reply-fraction 0.5 (typical replies at half of max_tokens)")
        if args.replicates == 1:
            print(dry_run(plan, workers, args.assume_latency, args.reply_fraction), end="")
            return 0
        from harness.run import replicate_plans

        reps = replicate_plans(plan, args.replicates)  # each replicate has its own seeds and cache: estimated alone
        print(f"--replicates {args.replicates}: {args.replicates} runs with new simulator and judge seeds, each "
              "estimated below against its own cache (the whole run is their sum)")
        for rep in reps:
            print(f"\nreplicate {rep.cfg.run.name}:")
            text = dry_run(rep, workers, args.assume_latency, args.reply_fraction)
            print("".join(f"  {line}\n" for line in text.splitlines()), end="")
        return 0
    if args.replicates != 1:  # K runs with new simulator and judge seeds, combined (docs/statistics.md)
        from harness.run import replicate_plans
        from harness.verdicts import combine_replicates

        plans = replicate_plans(plan, args.replicates)
        for rep in plans:
            stage1(rep, display=args.display)
            stage2(rep, display=args.display, schedule=args.schedule, budget=args.budget, workers=workers)
            _attach_judge_card(rep)
            with still_working("verdicts"):
                write_verdicts(rep.run_dir)
        print(combine_replicates(plan.run_dir, [rep.run_dir for rep in plans]))
        print(f"Run directory: {plan.run_dir}")
        return 0
    stage1(plan, display=args.display)
    stage2(plan, display=args.display, schedule=args.schedule, budget=args.budget, workers=workers)
    _attach_judge_card(plan)
    with still_working("verdicts"):
        verdicts_text = write_verdicts(plan.run_dir)
    print(verdicts_text)
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
    with still_working("verdicts"):
        verdicts_text = write_verdicts(plan.run_dir)
    print(verdicts_text)
    return 0


def cmd_verdicts(args: argparse.Namespace) -> int:
    from harness.verdicts import write_verdicts

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise InputError(run_dir, "run_dir", str(run_dir), "not a run directory", "pass runs/<run name>")
    with still_working("verdicts"):
        verdicts_text = write_verdicts(run_dir)
    print(verdicts_text)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    plan = _plan(args)
    if args.check_endpoints:
        from harness.run import probe_endpoints

        for line in probe_endpoints(plan.cfg, plan.config_path, timeout=args.endpoint_timeout):
            print(line)
    print(f"OK: {len(plan.cfg.candidates)} candidates, {len(plan.scenarios)} scenarios, {len(plan.personas)} "
          f"personas, criteria {plan.criteria.name} [{plan.criteria.hash}] {plan.criteria.ids}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the run commands commands."""
    run = with_config(sub, "run", cmd_run, "stage 1 + stage 2 + verdict table + summary")
    run.add_argument("--dry-run", action="store_true",
                     help="print the model calls, the time, the tokens and the cost a run would take (calls already "
                          "answered in the run's logs subtracted), and stop")
    run.add_argument("--replicates", type=int, default=1, metavar="K",
                     help="run K times with new simulator and judge seeds (replicate r adds r to [patient] and "
                          "[judge] seed), each in <run>/replicates/, cached per replicate; the verdict tables are "
                          "combined and the leaderboard adds rerun reliability")
    run.add_argument("--assume-latency", type=float, default=1.0, metavar="SECONDS",
                     help="--dry-run: seconds per API call for the time estimate (default 1.0)")
    run.add_argument("--reply-fraction", type=float, default=0.5, metavar="F",
                     help="--dry-run: typical candidate / patient reply length as a fraction of max_tokens, for the "
                          "token and cost estimate (default 0.5; the upper bound uses max_tokens)")
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
    val = with_config(sub, "validate", cmd_validate, "validate a config and every file it names (the run directory "
                      "writable, every server reachable); run nothing")
    val.add_argument("--check-endpoints", action="store_true",
                     help="also ask every model server the run names for its models (GET <base_url>/models, with "
                          "the provider's key from the environment): a wrong URL or a refused key shows now")
    val.add_argument("--endpoint-timeout", type=float, default=5.0, metavar="SECONDS",
                     help="--check-endpoints: seconds to wait for each server (default 5)")

    v = sub.add_parser("verdicts", help="rebuild verdicts.parquet and summary.txt from a run's stage-2 logs")
    v.add_argument("run_dir")
    v.set_defaults(fn=cmd_verdicts)
