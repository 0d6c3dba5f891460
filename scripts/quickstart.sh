#!/usr/bin/env bash
# The main job, offline: set up, then the quickstart leaderboard on the embedded SmolLM2 (runs/quickstart/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
theraeval run quickstart --display plain "$@"
