"""Test-wide settings: everything offline, deterministic, and isolated from the user's caches.

Tests mirror the packages (``tests/harness/<package>/``, ``tests/scorers/``, ``tests/tasks/``, ``tests/trainers/``,
``tests/reports/``); shared helpers are ``tests.support.<area>`` and the shared fixtures ``tests.support.fixtures``.
Where the optional data outside the repo lives (``../shared``) is ``tests.support.SHARED``.
"""

from __future__ import annotations

import os

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("INSPECT_LOG_LEVEL", "warning")

pytest_plugins = ["tests.support.fixtures"]
