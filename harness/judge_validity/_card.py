"""The judge card: what is known about a judge's validity on human labels, per criterion.

``judge_card.json`` holds the judge's card key (:func:`card_key`: ``harness.inputs.JudgeSpec.spec_hash``, and for
reward heads the sha256 of their files), each validation set's name,
hash and size, the figures of :func:`harness.judge_validity.validate`, and per criterion one of
:data:`~harness.judge_validity.STATUSES`. A criterion the judge scores but no set measured is "not validated":
listed, never hidden. Written to the run directory and to ``$THERAEVAL_HOME/judge_cards/<spec hash>.json``, where
a later run with the same judge spec finds it (:func:`find_judge_card`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.core import atomic_write_text
from harness.judge_validity._validate import BEATS, NOT_BETTER, NOT_VALIDATED
from harness.reward_heads import BUILTIN_HEADS, BUNDLED_HEADS

CARD_NAME = "judge_card.json"
CARD_FORMAT = "theraeval-judge-card"

_FIGURES = ("set", "n", "accuracy", "ci", "unscored", "position_flip_rate", "baselines", "best_baseline",
            "vs_best_baseline", "length_matched", "human_ceiling", "pointwise", "warning")


def card_key(spec_hash: str, heads_manifest: Mapping[str, Any] | None = None) -> str:
    """The key a judge card is stored and attached under: the judge spec hash, and for reward heads also the
    sha256 of every head file, so a card never outlives the heads it measured (`heads = "builtin"` is the same
    spec before and after the bundled heads change)."""
    if not heads_manifest:
        return spec_hash
    files = sorted((c, str(e.get("sha256", ""))) for c, e in (heads_manifest.get("criteria") or {}).items())
    return hashlib.sha256(json.dumps([spec_hash, files]).encode()).hexdigest()[:16]


def build_card(report: dict[str, Any], *, spec_hash: str, judge_criteria: Sequence[str],
               backed_by: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A judge card from a validation report.

    Per criterion: :data:`BEATS` only when every set that measured it says so; :data:`NOT_BETTER` when any set
    measured it and one did not; :data:`NOT_VALIDATED` when no set measured it (every criterion in
    `judge_criteria` is listed). `backed_by` (from the judge's heads.json) says which real labels back each
    criterion's head, and is copied beside its status.
    """
    by_crit: dict[str, list[dict[str, Any]]] = {}
    for figures in report["criteria"].values():
        by_crit.setdefault(figures["criterion"], []).append(figures)
    criteria: dict[str, Any] = {}
    for c in dict.fromkeys([*judge_criteria, *by_crit]):
        measured = [f for f in by_crit.get(c, []) if f["status"] != NOT_VALIDATED]
        status = (NOT_VALIDATED if not measured else BEATS if all(f["status"] == BEATS for f in measured)
                  else NOT_BETTER)
        criteria[c] = {"status": status, "sets": [{k: f[k] for k in _FIGURES if k in f} for f in by_crit.get(c, [])]}
        if backed_by and c in backed_by:
            criteria[c]["backed_by"] = backed_by[c]
    return {
        "format": CARD_FORMAT, "format_version": 1,
        "judge": {**report["judge"], "spec_hash": spec_hash},
        "sets": [{"name": s["name"], "sha256": s["sha256"], "n": s["n"], "rule": s["rule"]} for s in report["sets"]],
        "criteria": criteria,
        "note": "accuracy against human labels on the sets named; baselines on the same items. Figures on "
                "project-written synthetic data are not evidence and never appear here.",
    }


def card_store(home: Path) -> Path:
    return home / "judge_cards"


def write_card(card: dict[str, Any], run_dir: Path, home: Path | None = None) -> list[Path]:
    """Write ``<run_dir>/judge_card.json`` (and the copy under `home`/judge_cards/ by spec hash); returns the paths."""
    text = json.dumps(card, indent=2, sort_keys=True) + "\n"
    paths = [run_dir / CARD_NAME]
    if home is not None:
        paths.append(card_store(home) / f"{card['judge']['spec_hash']}.json")
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(p, text)
    return paths


BUNDLED_CARD = BUNDLED_HEADS / CARD_NAME
"""The bundled judge's card, as measured for the quickstart's judge spec (`[judge] kind = "rm"`, clinical mode,
the bundled heads) on EPITOME and held-out AnnoMI sessions (benchmarks/README.md; figures only, no data). Rebuilt
with `theraeval judges validate quickstart epitome:<dir> annomi:<csv> --card` whenever the bundled heads change:
its key holds the heads' file hashes, so a stale card is never attached."""


def find_judge_card(spec_hash: str, home: Path) -> dict[str, Any] | None:
    """The stored card of a judge spec (`home`/judge_cards/<spec_hash>.json), else a bundled judge's card
    (:data:`BUNDLED_CARD`, or the card beside another bundled judge's heads) when it was measured for this very
    key, or None."""
    for p in (card_store(home) / f"{spec_hash}.json", BUNDLED_CARD,
              *(f / CARD_NAME for f in BUILTIN_HEADS.values() if f != BUNDLED_HEADS)):
        if not p.is_file():
            continue
        card: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
        if card.get("format") == CARD_FORMAT and card.get("judge", {}).get("spec_hash") == spec_hash:
            return card
    return None


def attach_judge_card(run_dir: Path, spec_hash: str, home: Path) -> dict[str, Any] | None:
    """Put the stored card of this judge spec into the run directory (`theraeval run` does, before the summary).

    A card already in the run directory for another spec (the judge was changed) is removed, so the summary never
    shows the validity of a different judge. Returns the card now in the run directory, or None.
    """
    card = find_judge_card(spec_hash, home)
    here = run_dir / CARD_NAME
    if card is not None:
        write_card(card, run_dir)
        return card
    if here.is_file():
        try:
            old = json.loads(here.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            old = {}
        if old.get("judge", {}).get("spec_hash") != spec_hash:
            here.unlink()
            return None
        return dict(old)
    return None
