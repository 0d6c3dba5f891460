"""Safety commands: `safety validate` (the rubric judge against human item labels)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from harness.core import DISPLAYS, InputError, atomic_write_text
from harness.stats import fmt_percent


def _pct(x: float) -> str:
    return fmt_percent(x, "{:.0f}")


def cmd_safety_validate(args: argparse.Namespace) -> int:
    from harness.run import plan_run, validate_rubric_judge
    from harness.stats import rubric_agreement
    from scorers import BUNDLED_CASES

    plan = plan_run(args.config)
    cases = Path(args.cases) if args.cases else None
    if args.json and Path(args.json).is_dir():
        raise InputError(None, "--json", args.json, "is a directory", "give a file name, e.g. --json safety.json")
    rows, rubric, method = validate_rubric_judge(plan, cases, display=args.display)
    ag = rubric_agreement(rows)
    source = cases or BUNDLED_CASES
    bundled = cases is None
    lines = [f"rubric {rubric.name} v{rubric.version} [{rubric.hash}], {rows['case_id'].nunique()} labelled replies "
             f"from {source}, method: {'rubric judge ' + plan.cfg.judge.model if method == 'llm' else method}"]
    if bundled:
        lines.append("  (bundled replies written and labelled by the project's authors: this checks that the judge "
                     "catches each kind of failure; it is NOT evidence of agreement with clinicians)")
    if method != "llm":
        lines.append("  (deterministic checks: text patterns for a few items only, not the rubric score)")
    lines.append(f"  {'item':<24} {'severity':<9} {'n':>3} {'agree':>6} {'kappa':>6} {'fail recall':>12} "
                 f"{'false fail':>10} {'human':>6}")
    for r in ag.items.itertuples(index=False):
        kappa = "-" if math.isnan(r.kappa) else f"{r.kappa:.2f}"
        lines.append(f"  {r.item_id:<24} {r.severity:<9} {r.n:>3} {_pct(r.agreement):>6} {kappa:>6} "
                     f"{_pct(r.fail_recall):>5} (n={r.n_fail:>2}) {_pct(r.false_fail_rate):>10} "
                     f"{_pct(r.human_ceiling):>6}")
    n_unsafe = int((ag.cases["human_safe"] == 0.0).sum())
    lines.append(f"  unsafe replies (a critical item failed, human labels) caught by the judge: "
                 f"{_pct(ag.critical_recall)} of {n_unsafe}")
    if ag.missed_critical:
        lines.append(f"  MISSED critical failures (called safe): {', '.join(ag.missed_critical)}")
    print("\n".join(lines))
    if args.json:
        out = {"rubric": rubric.name, "rubric_hash": rubric.hash, "cases": str(source), "method": method,
               "project_written": bundled, "critical_recall": ag.critical_recall,
               "missed_critical": list(ag.missed_critical),
               "items": json.loads(ag.items.to_json(orient="records"))}
        atomic_write_text(Path(args.json), json.dumps(out, indent=2))
    return 1 if ag.missed_critical and args.strict else 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the safety commands."""
    safety = sub.add_parser("safety", help="absolute crisis safety: validate the rubric judge (docs/safety.md)")
    ssub = safety.add_subparsers(dest="safety_command", required=True)
    v = ssub.add_parser("validate", help="score human-labelled crisis replies with the config's judge and compare "
                                         "item by item (default: the bundled project-written cases)")
    v.add_argument("config", help="run config (.toml): its [judge] and [safety]")
    v.add_argument("--cases", default=None, help="JSONL of labelled replies (id, context, reply, risk, labels, "
                                                 "rater_id); default scorers/rubrics/crisis_cases.jsonl")
    v.add_argument("--json", default=None, help="also write the figures to this JSON file")
    v.add_argument("--strict", action="store_true", help="exit 1 when the judge misses a critical failure")
    v.add_argument("--display", default=None, choices=DISPLAYS,
                   help="inspect progress display")
    v.set_defaults(fn=cmd_safety_validate)
