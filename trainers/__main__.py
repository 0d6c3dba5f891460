"""`python -m trainers <config.toml>`: the same as `theraeval train <config.toml>`.

Multi-GPU: `accelerate launch -m trainers <config.toml>` (one process per GPU; see docs/training.md).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    """Train from a TOML config; print the output directory. Exit 2 with a one-line message on bad input."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        sys.stderr.write("usage: python -m trainers <config.toml>   (see docs/training.md)\n")
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from harness.core import InputError
    from trainers import train_main

    try:
        out = train_main(Path(args[0]))
    except InputError as e:
        sys.stderr.write(f"{e}\n")
        return 2
    sys.stdout.write(f"{out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
