"""Judge commands: judges validate (a run config's judge against human labels; the judge card)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.core import DISPLAYS, InputError

_ADAPTERS = ("epitome:", "annomi:", "csv:")


def _sets(args: argparse.Namespace) -> list[Any]:
    """Every validation set named on the command line, each validated (nothing is judged before all pass)."""
    from harness.judge_validity import annomi_set, csv_set, epitome_set, load_pairwise, rated_set

    sets = [load_pairwise(p, criterion=args.criterion) for p in args.pairs or []]
    sets += [rated_set(p, criterion=args.criterion, min_gap=args.min_gap if args.min_gap is not None else 1.0,
                       across_contexts=args.across_contexts, seed=args.seed) for p in args.rated or []]
    for spec in [*args.sets, *(args.set or [])]:
        kind, _, where = spec.partition(":")
        if f"{kind}:" not in _ADAPTERS or not where:
            raise InputError(None, "set", spec, "unknown validation set",
                             "use --pairs FILE.jsonl, --rated FILE, epitome:<dir>, annomi:<csv> or csv:<file>")
        if kind == "epitome":
            sets.append(epitome_set(where, criterion=args.criterion or "empathy",
                                    min_gap=args.min_gap if args.min_gap is not None else 2.0, seed=args.seed))
        elif kind == "annomi":
            sets.append(annomi_set(where, seed=args.seed))
        else:
            missing = [f for f in ("context_col", "response_col", "score_col") if not getattr(args, f)]
            if missing:
                raise InputError(None, f"--{missing[0].replace('_', '-')}", None, "csv:<file> needs its columns named",
                                 "pass --context-col, --response-col and --score-col (votes work as a score)")
            sets.append(csv_set(where, context_col=args.context_col, response_col=args.response_col,
                                score_col=args.score_col, id_col=args.id_col, group_col=args.group_col,
                                criterion=args.criterion, min_gap=args.min_gap if args.min_gap is not None else 1.0,
                                across_contexts=args.across_contexts, seed=args.seed))
    if not sets:
        raise InputError(None, "sets", None, "no validation set given",
                         "pass --pairs FILE.jsonl, --rated FILE, epitome:<dir>, annomi:<csv> or csv:<file>")
    return sets


def cmd_judges_validate(args: argparse.Namespace) -> int:
    from harness.judge_validity import (
        build_card,
        card_key,
        format_report,
        held_out_for,
        judge_from_config,
        schema_json,
        validate,
        write_card,
    )

    if args.limit is not None and args.limit < 1:
        raise InputError(None, "--limit", args.limit, "must be at least 1", "e.g. --limit 200")
    if args.n_boot < 100:
        raise InputError(None, "--n-boot", args.n_boot, "too few bootstrap replicates", "use 1000 or more")
    sets = _sets(args)
    judge, plan = judge_from_config(args.config, log_dir=Path(args.log_dir) if args.log_dir else None,
                                    display=args.display)
    trained = getattr(getattr(judge, "heads", None), "manifest", None)
    recipe_csv = _cross_fit_source(args, trained, judge.name)
    sets = [held_out_for(s, trained, seed=args.seed).limited(args.limit, args.seed) for s in sets]
    only = [args.criterion] if args.criterion else None
    report = validate(sets, judge, criteria=only, n_boot=args.n_boot, seed=args.seed)
    if not report["criteria"]:
        raise InputError(None, "--criterion", args.criterion, "no set has pairs on this criterion",
                         "drop --criterion, or name a criterion the sets label")
    recipe = None
    if recipe_csv is not None:
        from harness.judge_validity import cross_fit_annomi

        l2 = float((trained or {})["head"]["l2"])
        recipe = cross_fit_annomi(recipe_csv, folds=args.cross_fit, seed=args.seed, l2=l2,
                                  criteria=only, n_boot=args.n_boot, limit=args.limit, name=judge.name,
                                  log=lambda m: print(m, file=sys.stderr, flush=True)).report
    print(format_report(report), end="")
    if recipe is not None:
        from harness.judge_validity import format_cross_fit

        print("\nThe figures above are the shipped judge's (held-out sessions). Below: its recipe, cross-fitted.\n")
        print(format_cross_fit(recipe), end="")
    if args.json:
        from harness.core import atomic_write_text

        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        doc = schema_json(report)
        if recipe is not None:
            doc["recipe_cross_fit"] = {**schema_json(recipe), "cross_fit": recipe["cross_fit"]}
        atomic_write_text(out, json.dumps(doc, indent=2, sort_keys=True) + "\n")
        print(f"JSON: {out}")
    if args.card:
        from harness.run import theraeval_home

        judged = getattr(judge, "heads", None)
        crits = [c for c in plan.criteria.ids if judged is None or c in judged.criteria]
        backed = {c: str(e["metrics"]["backed_by"]) for c, e in (trained or {}).get("criteria", {}).items()
                  if isinstance(e.get("metrics"), dict) and "backed_by" in e["metrics"]}
        card = build_card(report, spec_hash=card_key(plan.cfg.judge.spec_hash(), trained), judge_criteria=crits,
                          backed_by=backed)
        for p in write_card(card, plan.run_dir, theraeval_home()):
            print(f"judge card: {p}")
    for c in report["criteria"].values():
        if "warning" in c:
            print(f"warning: [{c['criterion']}@{c['set']}] {c['warning']}", file=sys.stderr)
    return 0


def _cross_fit_source(args: argparse.Namespace, manifest: dict[str, Any] | None, judge: str) -> str | None:
    """The AnnoMI file `--cross-fit` rebuilds the judge's recipe on (None without the option); every check before
    any judging: a recipe-built judge, an annomi:<csv> set, a fold count its strata allow."""
    if args.cross_fit is None:
        return None
    from harness.judge_validity import check_cross_fit, is_recipe_judge

    if not is_recipe_judge(manifest):
        raise InputError(args.config, "judge", judge, "--cross-fit retrains the bundled judge's recipe "
                         "(scripts/train_judge.py) per fold, and this judge was not built by it",
                         'drop --cross-fit, or validate a config with [judge] kind = "rm", heads = "builtin"')
    where = [s.partition(":")[2] for s in [*args.sets, *(args.set or [])] if s.startswith("annomi:")]
    if len(where) != 1:
        raise InputError(None, "--cross-fit", args.cross_fit, f"needs one annomi:<csv> set ({len(where)} given)",
                         "add annomi:<AnnoMI-full.csv>")
    check_cross_fit(where[0], args.cross_fit, seed=args.seed, criteria=[args.criterion] if args.criterion else None)
    return where[0]


def _judges_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse._SubParsersAction[Any]:
    """The `judges` group's sub-commands (the group is created by the training commands, ``_train``)."""
    judges = sub.choices["judges"]
    for action in judges._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise RuntimeError("the `judges` command group has no sub-commands")  # pragma: no cover - wiring error


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `judges validate` (after ``_train`` has created the `judges` group)."""
    jv = _judges_parser(sub).add_parser(
        "validate", help="measure a run config's judge against human labels, beside trivial baselines")
    jv.add_argument("config", help="run config (.toml) whose [judge] is validated (or a bundled name: quickstart)")
    jv.add_argument("--display", default=None, choices=DISPLAYS,
                    help="progress display of an LLM judge's calls (default: full on a terminal, plain otherwise)")
    jv.add_argument("sets", nargs="*", default=[],
                    help="adapters for public sets: epitome:<dir> (the three EPITOME CSVs), annomi:<AnnoMI-full.csv>, "
                         "csv:<file> (with --context-col/--response-col/--score-col)")
    jv.add_argument("--set", action="append", metavar="KIND:PATH",
                    help="an adapter set (as the positional SETS), usable after other options; repeatable")
    jv.add_argument("--pairs", action="append", metavar="FILE.jsonl",
                    help="pairwise JSONL: id, context, response_a, response_b, label A|B|tie (context_b, criterion, "
                         "rater_id, split optional); repeatable")
    jv.add_argument("--rated", action="append", metavar="FILE",
                    help="pointwise scores (.jsonl or .csv): id, context, response, score (criterion, rater_id "
                         "optional); pairs by score gap >= --min-gap; repeatable")
    jv.add_argument("--criterion", default=None,
                    help="criterion of lines without one (default overall; epitome: empathy), and the only one "
                         "measured")
    jv.add_argument("--min-gap", type=float, default=None,
                    help="pairs from scores: human score gap at least this (default 1; epitome: 2, summed level)")
    jv.add_argument("--across-contexts", action="store_true",
                    help="pairs from scores: match responses across contexts (each used once) instead of within one")
    jv.add_argument("--context-col", default=None, help="csv:<file>: the context column")
    jv.add_argument("--response-col", default=None, help="csv:<file>: the response column")
    jv.add_argument("--score-col", default=None, help="csv:<file>: the score (or votes) column")
    jv.add_argument("--id-col", default=None, help="csv:<file>: a response id column (optional)")
    jv.add_argument("--group-col", default=None, help="csv:<file>: rows with one value answer one context (optional)")
    jv.add_argument("--limit", type=int, default=None, help="at most this many pairs per criterion and set (seeded)")
    jv.add_argument("--seed", type=int, default=0, help="pair formation, A/B assignment, bootstrap and --limit")
    jv.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates")
    jv.add_argument("--json", default=None, metavar="OUT.json", help="write the figures as JSON")
    jv.add_argument("--card", action="store_true",
                    help="write judge_card.json to the config's run directory (and $THERAEVAL_HOME/judge_cards/)")
    jv.add_argument("--log-dir", default=None,
                    help="llm/logprob judges: keep inspect logs and the call cache here (default: a temporary folder)")
    jv.add_argument("--cross-fit", type=int, default=None, metavar="K",
                    help="also measure the bundled judge's RECIPE on annomi:<csv>: rebuilt K times, each fold of "
                         "sessions scored by a judge built on the others (every session measured; not the shipped "
                         "weights, whose figure stays the held-out one); rm judges built by scripts/train_judge.py")
    jv.set_defaults(fn=cmd_judges_validate)
