"""Judge-directed text per candidate dialogue, detected on the transcripts table (``scorers.detect_candidate``).

The verdict table flags each comparison (``injection_a``, ``injection_b``); this adds what the flags cannot say:
how many of a candidate's dialogues matched and which techniques. ``harness.leaderboard`` (which may not import
``scorers``) turns it into ``tables/injection``.
"""

from __future__ import annotations

import json

import pandas as pd

from scorers import detect_candidate

DIALOGUE_INJECTION_COLUMNS: tuple[str, ...] = ("candidate", "sample_id", "flagged", "patterns")
"""One row per dialogue of ``transcripts.parquet``: ``patterns`` is the comma-joined names of the matched
``scorers.PATTERNS`` ("" when clean)."""


def dialogue_injections(transcripts: pd.DataFrame | None) -> pd.DataFrame:
    """Check every candidate dialogue of a transcripts table (``TRANSCRIPT_COLUMNS``) for judge-directed text.

    Only the candidate's own (therapist) turns count. A row whose ``turns`` cannot be read counts as a clean
    dialogue. None or an empty table gives an empty frame with :data:`DIALOGUE_INJECTION_COLUMNS`.
    """
    rows: list[dict[str, object]] = []
    if transcripts is not None and not transcripts.empty:
        ids = transcripts["sample_id"] if "sample_id" in transcripts.columns else pd.Series([""] * len(transcripts))
        for cand, sid, turns in zip(transcripts["candidate"].astype(str), ids.astype(str), transcripts["turns"],
                                    strict=True):
            try:
                found = detect_candidate(json.loads(turns) if isinstance(turns, str) else turns).patterns
            except (TypeError, ValueError):
                found = ()
            rows.append({"candidate": cand, "sample_id": sid, "flagged": bool(found), "patterns": ",".join(found)})
    return pd.DataFrame(rows, columns=list(DIALOGUE_INJECTION_COLUMNS)).astype({"flagged": bool})
