"""Preference pairs: load and validate a pairs JSONL file, or build pairs from ordinal labels (EPITOME)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from harness.core import InputError, iter_jsonl

Split = Literal["train", "test"]
SPLITS: tuple[str, ...] = ("train", "test")
REQUIRED_KEYS: tuple[str, ...] = ("id", "context", "criterion", "chosen", "rejected")
"""Keys every line of a pairs file must have; `context_id`, `split` and `kind` are optional."""
CONTRAST = "contrast"
"""Default pair `kind`: two replies written for the same context, the worse one failing on the criterion."""
CONTEXT_MISMATCH = "context_mismatch"
"""Pair `kind` of :func:`context_mismatch_pairs`: the worse reply is a good reply written for another context."""
MISMATCH_CRITERIA: tuple[str, ...] = ("empathy", "active_listening", "overall")
"""Criteria on which a reply written for someone else is worse by definition (it reflects feelings and specifics
the person did not express); the bundled set has context-mismatch pairs for these."""
BUNDLED_PAIRS = Path(__file__).resolve().parent / "data" / "preferences.jsonl"
"""The synthetic preference set (docs/preference-set.md): the pairs format's example and the trainers' smoke-run
data. Project-written: no accuracy on it is evidence of validity (`shortcut_audit` measures its shortcuts)."""
EPITOME_COLUMNS: tuple[str, ...] = ("sp_id", "rp_id", "seeker_post", "response_post", "level")


@dataclass(frozen=True)
class RewardHeadPair:
    """One judgement: for `context`, `chosen` is a better response than `rejected` on `criterion`."""

    id: str
    context_id: str
    context: str
    criterion: str
    chosen: str
    rejected: str
    split: Split = "train"
    kind: str = CONTRAST
    """What kind of pair this is (free text; `CONTRAST` or `CONTEXT_MISMATCH` in the bundled set), so that
    accuracies can be reported per kind. Written to JSON only when it is not the default."""

    def to_json(self) -> str:
        row = asdict(self)
        if self.kind == CONTRAST:
            del row["kind"]
        return json.dumps(row, ensure_ascii=False)


def default_criteria() -> tuple[str, ...]:
    """Ids of the builtin `therapeutic` criteria set (what the bundled heads cover)."""
    from harness.inputs import load_criteria

    return tuple(load_criteria("therapeutic").ids)


def context_key(context: str) -> str:
    """Stable id for a context text (used when a pairs file has no `context_id`)."""
    return "ctx-" + hashlib.sha256(context.encode("utf-8")).hexdigest()[:12]


def _split_for(group: str, test_fraction: float) -> Split:
    """Deterministic split of a whole context group (sha256 of the group key, no RNG)."""
    h = int(hashlib.sha256(group.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < test_fraction else "train"


def _validated_pair(obj: Mapping[str, Any], where: str, file: str | Path,
                    known: Sequence[str]) -> RewardHeadPair:
    for key in REQUIRED_KEYS:
        if key not in obj:
            raise InputError(file, f"{where} {key}", None, f"missing key {key!r}",
                             f"give every line the keys {list(REQUIRED_KEYS)} (context_id, split, kind optional)")
    for key in (*REQUIRED_KEYS, "context_id", "split", "kind"):
        if key in obj and not isinstance(obj[key], str):
            raise InputError(file, f"{where} {key}", obj[key], "not a string",
                             f"write {key} as a JSON string")
    for key in ("id", "context", "chosen", "rejected"):
        if not obj[key].strip():
            raise InputError(file, f"{where} {key}", obj[key], "empty text", f"write a non-empty {key}")
    if obj["criterion"] not in known:
        raise InputError(file, f"{where} criterion", obj["criterion"], "unknown criterion",
                         f"use one of {list(known)}, or pass criteria=[...] naming your own")
    if obj["chosen"].strip() == obj["rejected"].strip():
        raise InputError(file, f"{where} rejected", obj["rejected"], "chosen and rejected are the same text",
                         "a pair needs two different responses; drop this line")
    split = obj.get("split", "train")
    if split not in SPLITS:
        raise InputError(file, f"{where} split", split, "unknown split", f"use one of {list(SPLITS)}")
    context_id = obj.get("context_id") or context_key(obj["context"])
    return RewardHeadPair(id=obj["id"], context_id=context_id, context=obj["context"],
                          criterion=obj["criterion"], chosen=obj["chosen"], rejected=obj["rejected"],
                          split=split, kind=obj.get("kind") or CONTRAST)


def load_pairs(path: str | Path, *, criteria: Iterable[str] | None = None) -> list[RewardHeadPair]:
    """Read and validate a pairs JSONL file (one object per line, see docs/preference-set.md).

    Every problem (bad JSON, missing key, non-string or empty text, unknown criterion or split, identical
    chosen/rejected, duplicate id, empty file) raises `InputError` naming the file, line, field and fix.
    `criteria` lists the allowed criterion ids (default: the builtin `therapeutic` set).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "path", str(p), "file not found", "point at an existing pairs .jsonl file")
    known = tuple(criteria) if criteria is not None else default_criteria()
    out: list[RewardHeadPair] = []
    seen: dict[str, str] = {}
    for where, obj in iter_jsonl(p):
        pair = _validated_pair(obj, where, p, known)
        if pair.id in seen:
            raise InputError(p, f"{where} id", pair.id, f"duplicate pair id (first at {seen[pair.id]})",
                             "give each pair a unique id")
        seen[pair.id] = where
        out.append(pair)
    if not out:
        raise InputError(p, "lines", 0, "no pairs found",
                         "add at least one JSON line with a (chosen, rejected) pair")
    return out


def save_pairs(pairs: Iterable[RewardHeadPair], path: str | Path) -> Path:
    """Write pairs as JSONL (the format `load_pairs` reads). Keep third-party text out of the repository."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(pair.to_json() + "\n" for pair in pairs), encoding="utf-8")
    return p


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def _neighbour_edges(ids: Sequence[str], texts: Mapping[str, str]) -> list[tuple[str, str]]:
    """Edges of a closed nearest-neighbour tour through `ids` (start at the first; next = the unvisited context with
    the highest word Jaccard similarity, ties to the earlier one); 2 contexts give one edge, fewer none."""
    if len(ids) < 2:
        return []
    order, left = [ids[0]], list(ids[1:])
    while left:
        here = _words(texts[order[-1]])
        best = max(left, key=lambda c: (len(here & _words(texts[c])) / max(1, len(here | _words(texts[c]))),
                                        -left.index(c)))
        order.append(best)
        left.remove(best)
    edges = list(zip(order, order[1:], strict=False))
    return edges + [(order[-1], order[0])] if len(order) > 2 else edges


def context_mismatch_pairs(pairs: Sequence[RewardHeadPair], criteria: Iterable[str] = MISMATCH_CRITERIA, *,
                           stratum: Callable[[str], object] | None = None) -> list[RewardHeadPair]:
    """Pairs whose worse reply is a good reply written for another context (kind `CONTEXT_MISMATCH`).

    For each criterion, each context's reply is the `chosen` reply of its first pair on that criterion. Within each
    split (and each `stratum` of context ids, e.g. crisis contexts apart), the contexts are joined in a closed
    nearest-neighbour tour by the word overlap of their messages (:func:`_neighbour_edges`), so the other reply
    answers the most similar situation available. Every edge (A, B) gives two pairs: for A, A's reply over B's; for
    B, B's reply over A's. Any judge that scores a reply without its context therefore scores exactly 0.5 on these
    pairs (one of each two right, or both tied), whatever it learned; a judge must read the context to separate them.
    Ids: `<context_id>.<criterion>.reply-to-<other context_id>`.
    """
    texts: dict[str, str] = {}
    split_of: dict[str, Split] = {}
    for p in pairs:
        texts.setdefault(p.context_id, p.context)
        split_of.setdefault(p.context_id, p.split)
    out: list[RewardHeadPair] = []
    for criterion in criteria:
        reply: dict[str, str] = {}
        for p in pairs:
            if p.criterion == criterion and p.kind == CONTRAST:
                reply.setdefault(p.context_id, p.chosen)
        groups: dict[tuple[Split, object], list[str]] = {}
        for cid in texts:
            if cid in reply:
                groups.setdefault((split_of[cid], stratum(cid) if stratum else None), []).append(cid)
        for (split, _), ids in groups.items():
            for a, b in _neighbour_edges(ids, texts):
                for x, y in ((a, b), (b, a)):
                    if reply[x].strip() == reply[y].strip():
                        continue
                    out.append(RewardHeadPair(id=f"{x}.{criterion}.reply-to-{y}", context_id=x, context=texts[x],
                                              criterion=criterion, chosen=reply[x], rejected=reply[y],
                                              split=split, kind=CONTEXT_MISMATCH))
    return out


def pairs_from_ordinal(rows: Iterable[Mapping[str, Any]], text_col: str, context_col: str, label_col: str,
                       group_col: str, *, criterion: str = "empathy", id_col: str | None = None,
                       test_fraction: float = 0.25, source: str | Path | None = None) -> list[RewardHeadPair]:
    """Turn ordinally labelled responses into (chosen, rejected) pairs.

    Rows are grouped by `group_col` (one group = responses to the same context). Within a group every two
    responses with different levels give one pair, the higher level chosen; equal levels give no pair, and
    no pair ever crosses groups. Each group lands wholly in `train` or `test` (a sha256 of the group key,
    about `test_fraction` of groups in test), so held-out accuracy measures new contexts.
    """
    if not 0.0 <= test_fraction <= 1.0:
        raise InputError(source, "test_fraction", test_fraction, "not between 0 and 1", "use e.g. 0.25")
    groups: dict[str, list[tuple[str, str, float, str]]] = {}
    needed = [c for c in (text_col, context_col, label_col, group_col, id_col) if c is not None]
    for n, row in enumerate(rows, start=1):
        for col in needed:
            if col not in row:
                raise InputError(source, f"row {n} {col}", None, f"missing column {col!r}",
                                 f"give every row the columns {needed}")
        text, context, group = str(row[text_col]), str(row[context_col]), str(row[group_col])
        raw = row[label_col]
        try:
            level = float(raw)
        except (TypeError, ValueError):
            raise InputError(source, f"row {n} {label_col}", raw, "not a number",
                             "use numeric ordinal levels (e.g. 0, 1, 2)") from None
        if level != level:  # NaN
            raise InputError(source, f"row {n} {label_col}", raw, "not a number", "fill in the missing level")
        for col, value in ((text_col, text), (context_col, context), (group_col, group)):
            if not value.strip():
                raise InputError(source, f"row {n} {col}", value, "empty text",
                                 f"fill in {col} or drop the row")
        rid = str(row[id_col]) if id_col is not None else f"r{n}"
        groups.setdefault(group, []).append((rid, text, level, context))
    out: list[RewardHeadPair] = []
    for group, members in groups.items():
        split = _split_for(group, test_fraction)
        context = members[0][3]
        for rid_a, text_a, level_a, _ in members:
            for rid_b, text_b, level_b, _ in members:
                if level_a > level_b and text_a.strip() != text_b.strip():
                    out.append(RewardHeadPair(id=f"{group}:{rid_a}>{rid_b}", context_id=str(group),
                                              context=context, criterion=criterion, chosen=text_a,
                                              rejected=text_b, split=split))
    return out


def load_epitome_pairs(csv_path: str | Path, criterion: str = "empathy", *,
                       test_fraction: float = 0.25) -> list[RewardHeadPair]:
    """Pairs from an EPITOME CSV (sp_id, rp_id, seeker_post, response_post, level 0/1/2).

    Only seeker posts with two or more differently-labelled responses yield pairs; in the public Reddit
    files most posts have a single response, so expect few pairs (26 from emotional-reactions-reddit.csv).
    EPITOME is licensed for non-commercial academic research: keep its text out of this repository.
    """
    p = Path(csv_path)
    if not p.is_file():
        raise InputError(p, "path", str(p), "file not found", "point at an EPITOME *-reddit.csv file")
    with p.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in EPITOME_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(p, "columns", reader.fieldnames, f"missing EPITOME column(s) {missing}",
                             f"use a file with the columns {list(EPITOME_COLUMNS)}")
        rows = list(reader)
    return pairs_from_ordinal(rows, text_col="response_post", context_col="seeker_post", label_col="level",
                              group_col="sp_id", criterion=criterion, id_col="rp_id",
                              test_fraction=test_fraction, source=p)
