"""Human-labelled validation sets: pairwise JSONL files, pointwise rated files, and pairs formed from ratings.

Every problem in a user's file is an :class:`~harness.core.InputError` naming the file, the line, the field and
the fix, raised before any judging starts (nothing is written).
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from harness.core import InputError, iter_jsonl

Label = Literal["A", "B", "tie"]
LABELS: tuple[str, ...] = ("A", "B", "tie")
DEFAULT_CRITERION = "overall"
PAIR_KEYS: tuple[str, ...] = ("id", "context", "response_a", "response_b", "label")
"""Keys every line of a pairwise validation file must have (`context_b`, `criterion`, `rater_id`, `split`
optional)."""
RATED_KEYS: tuple[str, ...] = ("id", "context", "response", "score")
"""Keys every row of a rated file must have (`criterion`, `rater_id`, `split` optional)."""
MIN_PAIRS = 30
"""Fewer usable pairs than this in a criterion is a warning printed with the interval."""


@dataclass(frozen=True)
class ValidationPair:
    """One human judgement: on `criterion`, `label` says which of response_a / response_b is better.

    `context_b` is set when the two responses answer different contexts (each is shown with its own).
    `cluster` is the resampling unit of the bootstrap (the context). `ratings` holds each rater's label when
    several raters judged the pair (`label` is then their majority).
    """

    id: str
    criterion: str
    context: str
    response_a: str
    response_b: str
    label: Label
    context_b: str | None = None
    cluster: str = ""
    split: str | None = None
    ratings: tuple[tuple[str, Label], ...] = ()

    @property
    def context_of_b(self) -> str:
        return self.context if self.context_b is None else self.context_b


@dataclass(frozen=True)
class RatedItem:
    """One response with human scores (the mean over raters in `score`, each rater's in `by_rater`)."""

    id: str
    criterion: str
    context: str
    response: str
    score: float
    by_rater: Mapping[str, float] = field(default_factory=dict)
    cluster: str = ""
    split: str | None = None


@dataclass(frozen=True)
class ValidationSet:
    """A named set of human-labelled pairs (and, when it came from ratings, the rated items behind them)."""

    name: str
    source: str
    sha256: str
    pairs: tuple[ValidationPair, ...]
    items: tuple[RatedItem, ...] = ()
    rule: str = "pairwise labels as given"

    @property
    def criteria(self) -> list[str]:
        return list(dict.fromkeys(p.criterion for p in self.pairs))

    def of(self, criterion: str) -> list[ValidationPair]:
        return [p for p in self.pairs if p.criterion == criterion]

    def limited(self, limit: int | None, seed: int = 0) -> ValidationSet:
        """At most `limit` pairs and `limit` rated items per criterion (seeded samples, in the original order)."""
        if limit is None:
            return self
        rng = np.random.default_rng(seed)
        keep: list[ValidationPair] = []
        for c in self.criteria:
            ps = self.of(c)
            if len(ps) > limit:
                idx = sorted(rng.choice(len(ps), size=limit, replace=False).tolist())
                ps = [ps[i] for i in idx]
            keep += ps
        items: list[RatedItem] = []
        for c in dict.fromkeys(i.criterion for i in self.items):
            its = [i for i in self.items if i.criterion == c]
            if len(its) > limit:
                its = [its[k] for k in sorted(rng.choice(len(its), size=limit, replace=False).tolist())]
            items += its
        return ValidationSet(self.name, self.source, self.sha256, tuple(keep), tuple(items),
                             self.rule + f"; at most {limit} pairs and rated items per criterion (seed {seed})")


def context_key(text: str) -> str:
    """Stable cluster id of a context text."""
    return "ctx-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def file_sha256(*paths: Path) -> str:
    """sha256 (16 hex digits) of the files' bytes, in the order given."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _existing(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "path", str(p), "file not found", f"point at an existing {what}")
    return p


def _text(obj: Mapping[str, Any], key: str, file: Path, where: str, *, number_ok: bool = False) -> str:
    value = obj[key]
    if number_ok and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InputError(file, f"{where} {key}", value, "not a string", f"write {key} as a JSON string")
    if not value.strip():
        raise InputError(file, f"{where} {key}", value, "empty text", f"write a non-empty {key} or drop the line")
    return value


def _label(raw: Any, file: Path, where: str) -> Label:
    text = str(raw).strip() if isinstance(raw, str) else None
    norm = {"a": "A", "b": "B", "tie": "tie"}.get(text.lower()) if text else None
    if norm is None:
        raise InputError(file, f"{where} label", raw, "unknown label",
                         'use "A" (response_a is better), "B" or "tie"')
    return norm  # type: ignore[return-value]


def majority(labels: Sequence[Label]) -> Label:
    """The most frequent label; a tie between the top counts of A and B (or a majority of ties) is "tie"."""
    counts = Counter(labels)
    top = max(counts.values())
    best = [lab for lab, n in counts.items() if n == top]
    return best[0] if len(best) == 1 else "tie"


def _check_classes(pairs: Sequence[ValidationPair], file: Path | str, wheres: Mapping[str, str]) -> None:
    """Each criterion needs both "A" and "B" labels: one class only cannot tell a judge from a position habit."""
    for crit in dict.fromkeys(p.criterion for p in pairs):
        ps = [p for p in pairs if p.criterion == crit]
        labels = {p.label for p in ps} - {"tie"}
        if len(labels) < 2:
            only = sorted(labels)[0] if labels else "tie"
            first = ps[0]
            raise InputError(file, f"{wheres.get(first.id, 'line 1')} label", only,
                             f"criterion {crit!r} has one class only (every pair labelled {only!r})",
                             "show the preferred response as response_b in about half the lines (swap response_a "
                             "and response_b and the label), so a judge that prefers one position cannot score")


def load_pairwise(path: str | Path, *, criterion: str | None = None, name: str | None = None) -> ValidationSet:
    """Read and validate a pairwise JSONL file (one judgement per line, see the module docstring).

    Several lines with one `id` (and criterion) are several raters: each needs a distinct `rater_id` and the
    same texts; the pair's label is their majority (:func:`majority`). Missing or non-string fields, an unknown
    label, duplicate ids with no rater (or conflicting labels), a rater twice on one pair, a broken line, an empty
    file or a criterion with one class only raise `InputError`.
    """
    p = _existing(path, "pairwise .jsonl file")
    default_crit = criterion or DEFAULT_CRITERION
    groups: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for where, obj in iter_jsonl(p):
        for key in PAIR_KEYS:
            if key not in obj:
                raise InputError(p, f"{where} {key}", None, f"missing key {key!r}",
                                 f"give every line the keys {list(PAIR_KEYS)} (context_b, criterion, rater_id, "
                                 "split optional)")
        row = {k: _text(obj, k, p, where, number_ok=k == "id") for k in ("id", "context", "response_a", "response_b")}
        row["label"] = _label(obj["label"], p, where)
        for key in ("context_b", "criterion", "rater_id", "split"):
            if obj.get(key) is not None:
                row[key] = _text(obj, key, p, where, number_ok=key == "rater_id")
        if row["response_a"].strip() == row["response_b"].strip() and row.get("context_b") is None:
            raise InputError(p, f"{where} response_b", row["response_b"], "response_a and response_b are the same",
                             "a pair needs two different responses; drop this line")
        groups.setdefault((row["id"], row.get("criterion", default_crit)), []).append((where, row))
    if not groups:
        raise InputError(p, "lines", 0, "no pairs found", "add at least one JSON line per judged pair")
    pairs: list[ValidationPair] = []
    wheres: dict[str, str] = {}
    for (pid, crit), rows in groups.items():
        first_where, first = rows[0]
        wheres[pid] = first_where
        if len(rows) > 1:
            _check_raters(p, pid, rows)
        ratings = tuple((str(r["rater_id"]), r["label"]) for _, r in rows if "rater_id" in r)
        label = majority([r["label"] for _, r in rows])
        pairs.append(ValidationPair(
            id=pid, criterion=crit, context=first["context"], response_a=first["response_a"],
            response_b=first["response_b"], label=label, context_b=first.get("context_b"),
            cluster=context_key(first["context"]), split=first.get("split"),
            ratings=ratings if len(ratings) > 1 else ()))
    _check_classes(pairs, p, wheres)
    return ValidationSet(name or p.stem, str(p), file_sha256(p), tuple(pairs))


def _check_raters(p: Path, pid: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    first_where, first = rows[0]
    if any(r.get("rater_id") is None for _, r in rows):
        conflict = any(r["label"] != first["label"] for _, r in rows)
        problem = (f"duplicate id with conflicting labels and no rater_id (first at {first_where})" if conflict
                   else f"duplicate id (first at {first_where})")
        raise InputError(p, f"{rows[1][0]} id", pid, problem,
                         "give each pair a unique id, or give each rater's line a rater_id")
    seen: dict[str, str] = {}
    for where, r in rows:
        rater = r["rater_id"]
        if rater in seen:
            raise InputError(p, f"{where} rater_id", rater,
                             f"this rater already labelled pair {pid!r} at {seen[rater]}",
                             "keep one line per rater and pair")
        seen[rater] = where
        for key in ("context", "response_a", "response_b", "context_b"):
            if r.get(key) != first.get(key):
                raise InputError(p, f"{where} {key}", r.get(key), f"differs from the text of pair {pid!r} at "
                                 f"{first_where}", "give every rater's line of one pair the same texts")


def _rated_rows(p: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    if p.suffix.lower() == ".csv":
        with p.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            for n, row in enumerate(reader, start=2):
                yield f"line {n}", {k: v for k, v in row.items() if k is not None and v not in (None, "")}
    else:
        yield from iter_jsonl(p)


def load_rated(path: str | Path, *, criterion: str | None = None) -> list[RatedItem]:
    """Read and validate a rated file (JSONL, or CSV by its suffix): one row per (response, rater).

    Columns `id, context, response, score` (`criterion`, `rater_id`, `split` optional). Rows sharing an `id` and
    criterion are raters of one response (distinct `rater_id`s, same texts); its score is their mean.
    """
    p = _existing(path, "rated file (.jsonl or .csv)")
    default_crit = criterion or DEFAULT_CRITERION
    groups: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for where, obj in _rated_rows(p):
        for key in RATED_KEYS:
            if key not in obj:
                raise InputError(p, f"{where} {key}", None, f"missing field {key!r}",
                                 f"give every row {list(RATED_KEYS)} (criterion, rater_id, split optional)")
        row: dict[str, Any] = {k: _text(obj, k, p, where, number_ok=k == "id") for k in ("id", "context", "response")}
        try:
            score = float(obj["score"])
        except (TypeError, ValueError):
            score = float("nan")
        if score != score or isinstance(obj["score"], bool):
            raise InputError(p, f"{where} score", obj["score"], "not a number", "write the human score as a number")
        row["score"] = score
        for key in ("criterion", "rater_id", "split"):
            if obj.get(key) is not None:
                row[key] = _text(obj, key, p, where, number_ok=key == "rater_id")
        groups.setdefault((row["id"], row.get("criterion", default_crit)), []).append((where, row))
    if not groups:
        raise InputError(p, "lines", 0, "no rows found", "add one row per rated response")
    items: list[RatedItem] = []
    for (rid, crit), rows in groups.items():
        first_where, first = rows[0]
        by_rater: dict[str, float] = {}
        for where, r in rows:
            rater = str(r.get("rater_id", "rater"))
            if rater in by_rater:
                raise InputError(p, f"{where} rater_id", r.get("rater_id"),
                                 f"response {rid!r} already has a score from this rater (first at {first_where})",
                                 "give each pair of rows a distinct rater_id, or give each response a unique id")
            for key in ("context", "response"):
                if r[key] != first[key]:
                    raise InputError(p, f"{where} {key}", r[key], f"differs from response {rid!r} at {first_where}",
                                     "give every rater's row of one response the same texts")
            by_rater[rater] = r["score"]
        items.append(RatedItem(rid, crit, first["context"], first["response"], float(np.mean(list(by_rater.values()))),
                               by_rater, context_key(first["context"]), first.get("split")))
    return items


def _rater_labels(a: RatedItem, b: RatedItem) -> tuple[tuple[str, Label], ...]:
    """Each rater who scored both responses: the label their own scores imply."""
    out: list[tuple[str, Label]] = []
    for rater in sorted(set(a.by_rater) & set(b.by_rater)):
        d = a.by_rater[rater] - b.by_rater[rater]
        out.append((rater, "A" if d > 0 else "B" if d < 0 else "tie"))
    return tuple(out) if len(out) > 1 else ()


def _pair_of(a: RatedItem, b: RatedItem, rng: np.random.Generator) -> ValidationPair:
    """A pair of two items, the better one shown first or second at random (labels balanced by the seed)."""
    if rng.random() < 0.5:
        a, b = b, a
    label: Label = "A" if a.score > b.score else "B"
    same = a.context == b.context
    return ValidationPair(
        id=f"{a.id}|{b.id}", criterion=a.criterion, context=a.context, response_a=a.response, response_b=b.response,
        label=label, context_b=None if same else b.context,
        cluster=a.cluster if same else "|".join(sorted((a.cluster, b.cluster))),
        split=a.split if a.split == b.split else None, ratings=_rater_labels(a, b))


def pairs_from_rated(items: Sequence[RatedItem], *, min_gap: float = 1.0, across_contexts: bool = False,
                     seed: int = 0) -> tuple[list[ValidationPair], str]:
    """Pairs from pointwise scores, and the rule in words.

    Same context (default): every two responses to one context whose mean scores differ by >= `min_gap`.
    Across contexts: the items of a criterion are shuffled (seeded) and matched in consecutive twos, each
    kept when the gap is >= `min_gap`, so every response is in at most one pair and pairs are independent.
    Which response is shown as A is drawn with the seed (labels balanced).
    """
    rng = np.random.default_rng(seed)
    out: list[ValidationPair] = []
    for crit in dict.fromkeys(i.criterion for i in items):
        its = [i for i in items if i.criterion == crit]
        if across_contexts:
            order = rng.permutation(len(its))
            cand = [(its[order[k]], its[order[k + 1]]) for k in range(0, len(its) - 1, 2)]
        else:
            by_ctx: dict[str, list[RatedItem]] = {}
            for i in its:
                by_ctx.setdefault(i.context, []).append(i)
            cand = [(g[x], g[y]) for g in by_ctx.values() for x in range(len(g)) for y in range(x + 1, len(g))]
        out += [_pair_of(a, b, rng) for a, b in cand
                if abs(a.score - b.score) >= min_gap and a.response.strip() != b.response.strip()]
    rule = (f"{'random cross-context matching (seed ' + str(seed) + ')' if across_contexts else 'same context'}, "
            f"human score gap >= {min_gap:g}")
    return out, rule


def rated_set(path: str | Path, *, criterion: str | None = None, min_gap: float = 1.0, across_contexts: bool = False,
              seed: int = 0, name: str | None = None) -> ValidationSet:
    """A rated file as a validation set: its items, and the pairs :func:`pairs_from_rated` forms from them."""
    p = Path(path)
    items = load_rated(p, criterion=criterion)
    pairs, rule = pairs_from_rated(items, min_gap=min_gap, across_contexts=across_contexts, seed=seed)
    if not pairs:
        raise InputError(p, "score", None, f"no two responses differ by >= {min_gap:g} ({rule})",
                         "lower --min-gap, or pass --across-contexts when each context has one response")
    _check_classes(pairs, p, {})
    return ValidationSet(name or p.stem, str(p), file_sha256(p), tuple(pairs), tuple(items), rule)
