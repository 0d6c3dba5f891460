"""Input commands: personas, criteria, models."""

from __future__ import annotations

import argparse

from harness.core import InputError


def cmd_personas_from_survey(args: argparse.Namespace) -> int:
    from harness.inputs import personas_from_survey, write_personas_jsonl

    personas = personas_from_survey(args.survey, prefix=args.prefix)
    write_personas_jsonl(personas, args.output)
    print(f"wrote {len(personas)} personas to {args.output}")
    return 0


def cmd_personas_show(args: argparse.Namespace) -> int:
    from harness.inputs import resolve_personas

    by_id = {p.id: p for p in resolve_personas(args.personas)}
    if args.persona_id not in by_id:
        raise InputError(args.personas, "persona_id", args.persona_id, "unknown persona",
                         f"use one of {sorted(by_id)[:5]}...")
    p = by_id[args.persona_id]
    print(p.judge_prompt() if args.judge else p.patient_prompt("[END]"))
    return 0


def cmd_criteria(args: argparse.Namespace) -> int:
    from harness.inputs import builtin_criteria_sets, load_criteria

    for name in [args.set] if args.set else builtin_criteria_sets():
        cs = load_criteria(name)
        print(f"{cs.name} v{cs.version} [{cs.hash}]: {', '.join(cs.ids)}")
    return 0


def cmd_models_prepare(args: argparse.Namespace) -> int:
    from harness.run import ensure_smollm2

    print(ensure_smollm2())
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the input commands commands."""
    personas = sub.add_parser("personas", help="persona tools").add_subparsers(dest="personas_cmd", required=True)
    fs = personas.add_parser("from-survey", help="build personas (.jsonl) from a survey CSV")
    fs.add_argument("survey")
    fs.add_argument("-o", "--output", required=True)
    fs.add_argument("--prefix", default="persona")
    fs.set_defaults(fn=cmd_personas_from_survey)
    show = personas.add_parser("show", help="print a persona's patient (or --judge) prompt")
    show.add_argument("persona_id")
    show.add_argument("--personas", default="builtin")
    show.add_argument("--judge", action="store_true")
    show.set_defaults(fn=cmd_personas_show)

    crit = sub.add_parser("criteria", help="list criteria sets with their hashes")
    crit.add_argument("set", nargs="?")
    crit.set_defaults(fn=cmd_criteria)

    models = sub.add_parser("models", help="local model tools").add_subparsers(dest="models_cmd", required=True)
    prep = models.add_parser("prepare", help="convert the embedded SmolLM2 to safetensors (done on first use too)")
    prep.set_defaults(fn=cmd_models_prepare)
