"""Adapters for public human-labelled sets a user may have: EPITOME, AnnoMI, and a generic CSV.

Each reads the user's copy and returns a :class:`ValidationSet` (nothing is copied anywhere). EPITOME is licensed
for non-commercial academic research (measure with it; ship nothing derived from it). AnnoMI carries a
public-domain statement (see its SOURCE.md).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from harness.core import InputError
from harness.judge_validity._sets import (
    DEFAULT_CRITERION,
    RatedItem,
    ValidationPair,
    ValidationSet,
    _check_classes,
    _pair_of,
    context_key,
    file_sha256,
    pairs_from_rated,
)

EPITOME_FILES: tuple[str, ...] = ("emotional-reactions-reddit.csv", "interpretations-reddit.csv",
                                  "explorations-reddit.csv")
"""The three EPITOME mechanisms (Sharma et al. 2020, EMNLP, doi:10.18653/v1/2020.emnlp-main.425): emotional
reactions (ER), interpretations (IP), explorations (EX), each 0/1/2 per (seeker post, response post)."""
EPITOME_COLUMNS: tuple[str, ...] = ("sp_id", "rp_id", "seeker_post", "response_post", "level")
ANNOMI_COLUMNS: tuple[str, ...] = ("mi_quality", "transcript_id", "topic", "utterance_id", "interlocutor",
                                   "utterance_text", "main_therapist_behaviour", "reflection_subtype",
                                   "question_subtype", "therapist_input_subtype", "client_talk_type")


def _read_csv(p: Path, needed: tuple[str, ...], fix: str) -> list[dict[str, str]]:
    if not p.is_file():
        raise InputError(p, "path", str(p), "file not found", fix)
    with p.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(p, "columns", reader.fieldnames, f"missing column(s) {missing}",
                             f"use a file with the columns {list(needed)}")
        return list(reader)


def _level(raw: str, p: Path, line: int) -> int:
    try:
        level = int(raw)
    except ValueError:
        raise InputError(p, f"line {line} level", raw, "not an integer level", "EPITOME levels are 0, 1 or 2") from None
    if level not in (0, 1, 2):
        raise InputError(p, f"line {line} level", raw, "not 0, 1 or 2", "EPITOME levels are 0, 1 or 2")
    return level


def epitome_items(folder: str | Path, criterion: str = "empathy") -> tuple[list[RatedItem], list[Path]]:
    """One item per (seeker post, response post) present in all three files; score = ER + IP + EX (0-6).

    A (sp_id, rp_id) key repeated within one file keeps its first row (the public files repeat some).
    """
    d = Path(folder)
    if not d.is_dir():
        raise InputError(d, "path", str(d), "not a folder",
                         f"point epitome:<dir> at a folder holding {list(EPITOME_FILES)}")
    paths = [d / f for f in EPITOME_FILES]
    levels: list[dict[tuple[str, str], int]] = []
    texts: dict[tuple[str, str], tuple[str, str]] = {}
    for p in paths:
        rows = _read_csv(p, EPITOME_COLUMNS, f"put the three EPITOME files {list(EPITOME_FILES)} in the folder")
        got: dict[tuple[str, str], int] = {}
        for n, row in enumerate(rows, start=2):
            key = (row["sp_id"], row["rp_id"])
            if key in got:
                continue
            got[key] = _level(row["level"], p, n)
            texts.setdefault(key, (row["seeker_post"], row["response_post"]))
        levels.append(got)
    keys = [k for k in levels[0] if all(k in lv for lv in levels[1:])]
    items = []
    for k in keys:
        seeker, response = texts[k]
        if not seeker.strip() or not response.strip():
            continue
        total = float(sum(lv[k] for lv in levels))
        items.append(RatedItem(id=f"{k[0]}/{k[1]}", criterion=criterion, context=seeker, response=response,
                               score=total, by_rater={"epitome": total}, cluster=f"sp-{k[0]}"))
    return items, paths


def epitome_set(folder: str | Path, *, criterion: str = "empathy", min_gap: float = 2.0,
                seed: int = 0) -> ValidationSet:
    """EPITOME cross-post pairs: responses matched at random across seeker posts (each at most once), kept when the
    summed level ER+IP+EX differs by >= `min_gap` (default 2). Criterion: `empathy`."""
    items, paths = epitome_items(folder, criterion)
    pairs, rule = pairs_from_rated(items, min_gap=min_gap, across_contexts=True, seed=seed)
    _check_classes(pairs, paths[0], {})
    return ValidationSet("epitome", str(Path(folder)), file_sha256(*paths), tuple(pairs), tuple(items),
                         f"EPITOME summed level ER+IP+EX (0-6); {rule}")


_Pred = Callable[[Mapping[str, str]], bool]
ANNOMI_CODES: dict[str, tuple[_Pred, _Pred, str]] = {
    # criterion: (better therapist utterance, worse therapist utterance, the rule in words)
    "active_listening": (
        lambda r: r["reflection_subtype"] == "complex",
        lambda r: r["question_subtype"] == "closed" or r["therapist_input_subtype"] in ("information", "advice"),
        "a complex reflection beats a closed question or information/advice"),
    "patient_autonomy": (
        lambda r: r["question_subtype"] == "open" or r["main_therapist_behaviour"] == "reflection",
        lambda r: r["therapist_input_subtype"] == "advice",
        "an open question or a reflection beats advice"),
    "self_motivated_change": (
        lambda r: r.get("_next_client") == "change",
        lambda r: r.get("_next_client") == "sustain",
        "a therapist turn followed by client change talk beats one followed by sustain talk"),
}
"""Behaviour-code proxies (AnnoMI's expert MI codes mapped onto the therapeutic criteria by this project: a
proxy label, not a human preference judgement)."""


def annomi_set(path: str | Path, *, seed: int = 0, per_session: int = 10, sessions_per_low: int = 5,
               criteria: tuple[str, ...] | None = None, sessions: Collection[str] | None = None) -> ValidationSet:
    """AnnoMI (Wu et al. 2022/2023): session quality and therapist behaviour codes.

    - `overall`: whole sessions (therapist and client turns) of high vs low MI quality; each low-quality session is
      paired with `sessions_per_low` high-quality ones drawn with the seed; cluster = the low-quality session.
    - behaviour codes (:data:`ANNOMI_CODES`): within one session, a therapist utterance coded better vs one coded
      worse, each shown after the client utterance before it; up to `per_session` pairs per session; cluster = the
      session.
    - `sessions`: only these transcript ids (e.g. the sessions a judge was not trained on); None = all.
    """
    p = Path(path)
    rows = _read_csv(p, ANNOMI_COLUMNS, "point annomi:<csv> at AnnoMI-full.csv (github.com/uccollab/AnnoMI)")
    by_id: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if sessions is None or row["transcript_id"] in sessions:
            by_id.setdefault(row["transcript_id"], []).append(row)
    for s in by_id.values():
        s.sort(key=lambda r: int(r["utterance_id"]) if r["utterance_id"].isdigit() else 0)
    rng = np.random.default_rng(seed)
    wanted = criteria or (DEFAULT_CRITERION, *ANNOMI_CODES)
    pairs: list[ValidationPair] = []
    if DEFAULT_CRITERION in wanted:
        pairs += _session_pairs(by_id, rng, sessions_per_low)
    for crit, (better, worse, _) in ANNOMI_CODES.items():
        if crit in wanted:
            pairs += _code_pairs(by_id, crit, better, worse, rng, per_session)
    if not pairs:
        raise InputError(p, "rows", len(rows), "no pairs could be formed", "use the full AnnoMI file (AnnoMI-full.csv)")
    rule = ("AnnoMI: overall = high vs low MI-quality sessions; " +
            "; ".join(f"{c} = {r}" for c, (_, _, r) in ANNOMI_CODES.items() if c in wanted))
    return ValidationSet("annomi", str(p), file_sha256(p), tuple(pairs), (), rule)


def annomi_sessions(pair: ValidationPair) -> set[str]:
    """The AnnoMI transcript ids a pair of :func:`annomi_set` shows (from its id: ``session-<id>`` per whole
    session, ``<id>/<utterance id>`` per therapist turn)."""
    return {part.removeprefix("session-").split("/")[0] for part in pair.id.split("|")}


def _session_text(rows: list[dict[str, str]]) -> str:
    return "\n".join(f"{r['interlocutor'].upper()}: {r['utterance_text']}" for r in rows)


def _session_pairs(sessions: dict[str, list[dict[str, str]]], rng: np.random.Generator,
                   per_low: int) -> list[ValidationPair]:
    high = sorted(k for k, s in sessions.items() if s[0]["mi_quality"] == "high")
    low = sorted(k for k, s in sessions.items() if s[0]["mi_quality"] == "low")
    out = []
    for lo in low:
        for hi in rng.choice(high, size=min(per_low, len(high)), replace=False).tolist() if high else []:
            a = RatedItem(f"session-{hi}", DEFAULT_CRITERION, _topic(sessions[hi]), _session_text(sessions[hi]), 1.0,
                          {}, f"session-{hi}")
            b = RatedItem(f"session-{lo}", DEFAULT_CRITERION, _topic(sessions[lo]), _session_text(sessions[lo]), 0.0,
                          {}, f"session-{lo}")
            pair = _pair_of(a, b, rng)
            out.append(replace(pair, cluster=f"session-{lo}"))
    return out


def _topic(rows: list[dict[str, str]]) -> str:
    return f"A motivational-interviewing counselling session about {rows[0]['topic'].strip()}."



def _code_pairs(sessions: dict[str, list[dict[str, str]]], crit: str, better: _Pred, worse: _Pred,
                rng: np.random.Generator, per_session: int) -> list[ValidationPair]:
    out: list[ValidationPair] = []
    for sid in sorted(sessions, key=lambda s: int(s) if s.isdigit() else 0):
        rows = sessions[sid]
        good: list[RatedItem] = []
        bad: list[RatedItem] = []
        for i, r in enumerate(rows):
            if r["interlocutor"] != "therapist" or i == 0 or rows[i - 1]["interlocutor"] != "client":
                continue
            nxt = rows[i + 1] if i + 1 < len(rows) and rows[i + 1]["interlocutor"] == "client" else None
            coded = {**r, "_next_client": nxt["client_talk_type"] if nxt else ""}
            context = f"CLIENT: {rows[i - 1]['utterance_text']}"
            item = RatedItem(f"{sid}/{r['utterance_id']}", crit, context, r["utterance_text"], 0.0, {},
                             f"session-{sid}")
            if better(coded):
                good.append(replace(item, score=1.0))
            elif worse(coded):
                bad.append(replace(item, score=0.0))
        cand = [(g, b) for g in good for b in bad if g.response.strip() != b.response.strip()]
        if len(cand) > per_session:
            cand = [cand[k] for k in sorted(rng.choice(len(cand), size=per_session, replace=False).tolist())]
        out += [replace(_pair_of(g, b, rng), cluster=f"session-{sid}") for g, b in cand]
    return out



def csv_set(path: str | Path, *, context_col: str, response_col: str, score_col: str, id_col: str | None = None,
            group_col: str | None = None, criterion: str | None = None, min_gap: float = 1.0,
            across_contexts: bool = False, seed: int = 0) -> ValidationSet:
    """A generic CSV of scored (or voted) responses: pairs of responses to one context (rows with the same
    `group_col`, else the same context text) whose scores differ by >= `min_gap`."""
    p = Path(path)
    needed = tuple(c for c in (context_col, response_col, score_col, id_col, group_col) if c)
    rows = _read_csv(p, needed, "point csv:<file> at a CSV and name its columns with --context-col, "
                     "--response-col and --score-col")
    items: list[RatedItem] = []
    crit = criterion or DEFAULT_CRITERION
    for n, row in enumerate(rows, start=2):
        try:
            score = float(row[score_col])
        except (TypeError, ValueError):
            raise InputError(p, f"line {n} {score_col}", row[score_col], "not a number",
                             "give every row a numeric score or vote count") from None
        context, response = row[context_col] or "", row[response_col] or ""
        if not context.strip() or not response.strip():
            raise InputError(p, f"line {n} {context_col if not context.strip() else response_col}", "", "empty text",
                             "fill in the text or drop the row")
        group = row[group_col] if group_col else context
        rid = row[id_col] if id_col else f"row{n}"
        items.append(RatedItem(rid, crit, context, response, score, {},
                               context_key(group)))
    if group_col:  # same group = same context, whatever the text says
        by_group: dict[str, str] = {}
        items = [replace(i, context=by_group.setdefault(i.cluster, i.context)) for i in items]
    pairs, rule = pairs_from_rated(items, min_gap=min_gap, across_contexts=across_contexts, seed=seed)
    if not pairs:
        raise InputError(p, score_col, None, f"no two responses differ by >= {min_gap:g} ({rule})",
                         "lower --min-gap, or pass --across-contexts")
    _check_classes(pairs, p, {})
    return ValidationSet(p.stem, str(p), file_sha256(p), tuple(pairs), tuple(items), f"CSV {score_col}: {rule}")

