"""The ``injection`` table: per candidate whose text addressed the judge, its flagged dialogues, the techniques
matched and its combined verdicts in the comparisons that showed the flagged text.

Pure (no I/O). The flags come from the verdict table (``injection_a``, ``injection_b``); the per-dialogue counts and
pattern names come from :func:`harness.verdicts.dialogue_injections` (this layer may not import ``scorers``).
"""

from __future__ import annotations

import pandas as pd

INJECTION_COLUMNS: tuple[str, ...] = (
    "candidate", "dialogues_flagged", "dialogues_total", "patterns", "comparisons", "h2h", "wins", "ties",
    "losses", "unscored",
)
"""Columns of ``tables/injection``:

* ``dialogues_flagged`` / ``dialogues_total``: the candidate's dialogues (``transcripts.parquet`` rows) whose
  therapist turns matched a pattern, of all its dialogues (0 / 0 when there is no transcripts table);
* ``patterns``: the matched pattern names over all its dialogues, sorted, ``", "``-joined;
* ``comparisons``: comparisons (pair x scenario x persona, any judge) flagged on its side;
* ``h2h``: those comparisons per criterion (head-to-heads); ``wins`` / ``ties`` / ``losses`` / ``unscored``: their
  combined verdicts from this candidate's side.
"""

_KEYS = ["judge_model", "candidate_a", "candidate_b", "scenario_id", "persona_id"]
_INT_COLUMNS = [c for c in INJECTION_COLUMNS if c not in ("candidate", "patterns")]


def _flags(verdicts: pd.DataFrame, side: str) -> pd.Series:
    col = f"injection_{side}"
    if col not in verdicts.columns:  # verdict tables written before the flags existed
        return pd.Series(False, index=verdicts.index)
    return verdicts[col].eq(True)  # a missing (NaN) flag is no flag: astype(bool) would make it True


def injection_table(verdicts: pd.DataFrame, dialogues: pd.DataFrame | None = None) -> pd.DataFrame:
    """Build ``tables/injection`` (:data:`INJECTION_COLUMNS`, one row per flagged candidate, sorted by name).

    Args:
        verdicts: the verdict table; one head-to-head per (judge, pair, scenario, persona, criterion) is counted
            (the first of its order rows: ``combined`` is the same in both).
        dialogues: per-dialogue detections (:func:`harness.verdicts.dialogue_injections`: ``candidate``,
            ``flagged``, ``patterns`` comma-joined); None when there is no transcripts table.

    Returns:
        An empty table (with the columns) when no verdict row is flagged.
    """
    empty = pd.DataFrame({c: pd.Series(dtype="int64" if c in _INT_COLUMNS else object) for c in INJECTION_COLUMNS})
    if verdicts.empty or not (_flags(verdicts, "a").any() or _flags(verdicts, "b").any()):
        return empty
    patterns: dict[str, set[str]] = {}
    counts: dict[str, list[int]] = {}
    if dialogues is not None and not dialogues.empty:
        for cand, flagged, found in zip(dialogues["candidate"].astype(str), dialogues["flagged"].astype(bool),
                                        dialogues["patterns"].fillna("").astype(str), strict=True):
            patterns.setdefault(cand, set()).update(p for p in found.split(",") if p)
            c = counts.setdefault(cand, [0, 0])
            c[0] += bool(flagged)
            c[1] += 1
    per_crit = verdicts.drop_duplicates([*_KEYS, "criterion"])
    tally: dict[str, dict[str, int]] = {}
    seen: dict[str, set[tuple[str, ...]]] = {}
    for side, other in (("a", "b"), ("b", "a")):
        part = per_crit[_flags(per_crit, side)]
        for row in part.itertuples(index=False):
            cand = str(getattr(row, f"candidate_{side}"))
            comb = str(row.combined)
            t = tally.setdefault(cand, {"h2h": 0, "wins": 0, "ties": 0, "losses": 0, "unscored": 0})
            t["h2h"] += 1
            t["wins"] += comb == side.upper()
            t["ties"] += comb == "tie"
            t["losses"] += comb == other.upper()
            t["unscored"] += comb == "unscored"
            seen.setdefault(cand, set()).add(tuple(str(getattr(row, k)) for k in _KEYS))
    rows = []
    for cand in sorted(tally):
        flagged, total = counts.get(cand, [0, 0])
        rows.append({"candidate": cand, "dialogues_flagged": flagged, "dialogues_total": total,
                     "patterns": ", ".join(sorted(patterns.get(cand, set()))), "comparisons": len(seen[cand]),
                     **tally[cand]})
    return pd.DataFrame(rows, columns=list(INJECTION_COLUMNS)).astype({c: "int64" for c in _INT_COLUMNS})
