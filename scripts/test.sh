#!/usr/bin/env bash
# The test suite, offline: set up, lint, type-check, check the import contracts (.importlinter), then pytest.
#   scripts/test.sh [PYTEST ARGS...]          everything (what CI runs)
#   scripts/test.sh --fast [PYTEST ARGS...]   the same checks, then pytest -m "not slow" (a few minutes on 2 cores)
# Any further arguments go to pytest. The 15 slowest tests are listed at the end (the suite's time budget: ~15 min).
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
if [ "${1:-}" = "--fast" ]; then
  fast=1
  shift
fi
scripts/setup.sh
scripts/install-browser.sh   # Debian chromium + chromedriver for the report's browser tests
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ruff check .
mypy
lint-imports
if [ "$fast" = 1 ]; then
  python -m pytest -q --durations=15 -m "not slow" "$@"
else
  python -m pytest -q --durations=15 "$@"
fi
