"""`python -m harness.cli` is the `theraeval` command."""

import sys

from harness.cli import main

sys.exit(main())
