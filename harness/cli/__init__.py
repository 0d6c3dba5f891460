"""The `theraeval` command line. Bad input ends with one line naming file, field, value and fix (exit 2).

Argument parsing only: each command group is one module (``_run``, ``_analysis``, ``_calibration``,
``_preferences``, ``_train``, ``_judges``, ``_inputs``, ``_safety``) whose handlers call the stage packages'
facades, imported when the command runs (so ``theraeval --help`` stays fast). May import every other package.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from harness.cli import _analysis, _calibration, _inputs, _judges, _preferences, _run, _safety, _train
from harness.core import InputError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The `theraeval` argument parser: every command group's commands."""
    parser = argparse.ArgumentParser(prog="theraeval", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (_run, _analysis, _calibration, _preferences, _train, _judges, _inputs, _safety):
        group.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    from harness.run import StageError

    try:
        return int(args.fn(args))
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except StageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
