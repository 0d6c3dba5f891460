"""Shared test helpers (one module per area, imported as ``tests.support.<area>``) and where things live.

``REPO`` is the repository root; ``SHARED`` the optional data outside the repo: the ``shared`` folder beside the
repo root (``<repo>/../shared``; set ``THERAEVAL_SHARED`` to point elsewhere). Nothing in it is shipped, so a
test that reads it uses ``requires_shared`` and is skipped, with the missing path as the reason, on a clean clone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: the ``shared`` folder beside the repo root (``/work/shared`` when the repo is ``/work/main``)
SHARED = Path(os.environ.get("THERAEVAL_SHARED") or REPO.parent / "shared").resolve()
#: the real human-labelled sets in it: EPITOME's folder of CSVs and AnnoMI's full CSV
EPITOME = SHARED / "data" / "epitome"
ANNOMI = SHARED / "data" / "annomi" / "AnnoMI-full.csv"


def requires_shared(subpath: str) -> pytest.MarkDecorator:
    """Skip marker for a test that needs ``SHARED / subpath`` (a file or a folder) and cannot run without it."""
    path = SHARED / subpath
    reason = f"needs {path} (../shared/{subpath}, not shipped with the repo)"
    return pytest.mark.skipif(not path.exists(), reason=reason)
