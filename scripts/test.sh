#!/usr/bin/env bash
# The test suite, offline: set up, lint, type-check, then pytest (pass pytest arguments through).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/install-browser.sh   # Debian chromium + chromedriver for the report's browser tests
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ruff check .
mypy
python -m pytest -q "$@"
