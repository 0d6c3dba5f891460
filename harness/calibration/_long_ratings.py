"""Any clinician ratings in long format, with declared scales: the loader behind ``theraeval agreement --scale``.

A *long ratings file* has one rating per row, as CSV (header row) or JSONL (one object per line)::

    item_id,rater_id,criterion,value
    resp-017,clin-01,empathy,2
    resp-017,clin-02,empathy,1

(``label`` is accepted for ``value``; extra columns are ignored; a blank value is "not rated" and skipped.) Items
need not be rated by everybody (missing cells, rotating designs). The judge's ratings are the rows whose
``rater_id`` is given with ``--judge NAME``, or a separate file of the same format (``rater_id`` optional).

Every criterion's **scale** is declared, on the command line (``--scale empathy=ordinal:0-2``,
``--scale style=nominal:formal,casual``, ``--scale score=continuous`` or ``continuous:0-10``) or in a small TOML
file::

    [empathy]
    scale = "ordinal"      # ordinal | nominal | continuous
    range = [0, 2]         # ordinal: integer range; or labels = ["low", "mid", "high"] in scale order
    [style]
    scale = "nominal"
    labels = ["formal", "casual"]

The whole input is validated before any statistic is computed: a value outside the declared scale, a
non-numeric value on an ordinal or continuous scale, a criterion without a declared scale, a rating given twice,
a rater with a single rating (usually a misspelt rater id), a missing column, an unknown ``--judge``: each is one
:class:`~harness.core.InputError` naming file, line, field, value and fix.
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core import InputError, iter_jsonl

SCALE_KINDS: tuple[str, ...] = ("nominal", "ordinal", "continuous")
LONG_COLUMNS: tuple[str, ...] = ("item_id", "rater_id", "criterion", "value")
"""Columns of a long ratings file (``label`` is accepted for ``value``)."""
LONG_TABLE_COLUMNS: tuple[str, ...] = ("item_id", "rater_id", "criterion", "value", "code", "is_judge", "file", "line")
"""Columns of :attr:`LongRatings.ratings`: ``code`` is the category index (nominal, ordinal) or the number
(continuous)."""
_FIX_SCALE = ("declare it, e.g. --scale empathy=ordinal:0-2, --scale style=nominal:a,b,c or "
              "--scale score=continuous")


@dataclass(frozen=True)
class Scale:
    """The declared scale of one criterion."""

    criterion: str
    kind: str
    """``nominal``, ``ordinal`` or ``continuous``."""
    labels: tuple[str, ...] = ()
    """Nominal categories, or ordinal categories in scale order (an integer range is spelled out)."""
    low: float = math.nan
    """Continuous: the declared minimum (NaN = not declared); ordinal: the first category's value."""
    high: float = math.nan

    @property
    def numeric_labels(self) -> bool:
        """Ordinal categories that are integers (a range): their values, not only their order, are meaningful."""
        return all(re.fullmatch(r"-?\d+", label) for label in self.labels)

    def describe(self) -> str:
        """``ordinal 0-2``, ``nominal a, b, c``, ``continuous [0, 10]`` (for messages and the report)."""
        if self.kind == "continuous":
            bounds = "" if math.isnan(self.low) else f" [{self.low:g}, {self.high:g}]"
            return f"continuous{bounds}"
        if self.kind == "ordinal" and self.numeric_labels and len(self.labels) > 1:
            return f"ordinal {self.labels[0]}-{self.labels[-1]}"
        return f"{self.kind} {', '.join(self.labels)}"

    def code(self, value: str) -> float | None:
        """The category index (nominal, ordinal) or number (continuous) of ``value``; None when not on the scale."""
        if self.kind == "continuous":
            try:
                number = float(value)
            except ValueError:
                return None
            if not math.isfinite(number):
                return None
            if not math.isnan(self.low) and not self.low <= number <= self.high:
                return None
            return number
        text = value.strip()
        if self.kind == "ordinal" and self.numeric_labels:
            try:
                number = float(text)
            except ValueError:
                return None
            text = str(int(number)) if number == int(number) else text
        lowered = {label.lower(): i for i, label in enumerate(self.labels)}
        index = lowered.get(text.lower())
        return None if index is None else float(index)


@dataclass(frozen=True)
class LongRatings:
    """Validated long ratings: humans and (optionally) the judge, per criterion, with their scales."""

    ratings: pd.DataFrame
    """``LONG_TABLE_COLUMNS``, one row per (item, rater, criterion); the judge's rows have ``is_judge``."""
    scales: dict[str, Scale]
    judge: str
    """The judge's rater id ("" when no judge)."""
    paths: tuple[str, ...]
    n_blank: int
    """Rows skipped because their value was blank (not rated)."""


# ----------------------------------------------------------------------------------------------------------
# scales


def _range_labels(lo: int, hi: int, where: str, source: str | None) -> tuple[str, ...]:
    if hi <= lo or hi - lo > 1000:
        raise InputError(source, where, f"{lo}-{hi}", "an ordinal range needs low < high (at most 1000 steps)",
                         "write e.g. ordinal:0-2 or ordinal:1-5")
    return tuple(str(v) for v in range(lo, hi + 1))


def parse_scale(spec: str) -> Scale:
    """``CRITERION=KIND[:DETAIL]`` from ``--scale``: ``ordinal:0-2``, ``ordinal:low,mid,high``,
    ``nominal:a,b,c``, ``continuous`` or ``continuous:0-10``.

    Raises:
        InputError: no ``=``, an unknown kind, a nominal/ordinal scale without categories, a bad range.
    """
    if "=" not in spec:
        raise InputError(None, "--scale", spec, "expected CRITERION=SCALE", _FIX_SCALE)
    criterion, _, rest = (part.strip() for part in spec.partition("="))
    kind, _, detail = (part.strip() for part in rest.partition(":"))
    if not criterion or kind not in SCALE_KINDS:
        raise InputError(None, "--scale", spec, f"the scale must be one of {list(SCALE_KINDS)}", _FIX_SCALE)
    numbers = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*(?:-|\.\.)\s*(-?\d+(?:\.\d+)?)", detail)
    if kind == "continuous":
        if not detail:
            return Scale(criterion, kind)
        if not numbers or float(numbers[1]) >= float(numbers[2]):
            raise InputError(None, "--scale", spec, "a continuous range must be LOW-HIGH with LOW < HIGH",
                             "write e.g. score=continuous:0-10, or score=continuous without a range")
        return Scale(criterion, kind, (), float(numbers[1]), float(numbers[2]))
    if kind == "ordinal" and numbers and re.fullmatch(r"-?\d+", numbers[1]) and re.fullmatch(r"-?\d+", numbers[2]):
        labels = _range_labels(int(numbers[1]), int(numbers[2]), "--scale", None)
    else:
        labels = tuple(label.strip() for label in detail.split(",") if label.strip())
    return _checked_categorical(criterion, kind, labels, "--scale", spec, None)


def _checked_categorical(criterion: str, kind: str, labels: Sequence[str], field: str, shown: Any,
                         source: str | None) -> Scale:
    labels = tuple(labels)
    if len(labels) < 2 or len({label.lower() for label in labels}) != len(labels):
        raise InputError(source, field, shown, f"a {kind} scale needs two or more distinct categories",
                         "list them, e.g. nominal:a,b,c or ordinal:0-2")
    if kind == "ordinal" and all(re.fullmatch(r"-?\d+", label) for label in labels):
        return Scale(criterion, kind, labels, float(labels[0]), float(labels[-1]))
    return Scale(criterion, kind, labels)


def read_scales_toml(path: str | Path) -> dict[str, Scale]:
    """Scales from a TOML file: one table per criterion with ``scale`` and ``range`` or ``labels`` (module doc).

    Raises:
        InputError: unreadable TOML, an unknown scale kind, missing or bad ``range`` / ``labels``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "--scales", str(path), "scales file not found", "pass the TOML file declaring scales")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, "toml", str(e)[:80], "not valid TOML", "see docs/agreement.md for the format") from None
    scales: dict[str, Scale] = {}
    for criterion, table in data.items():
        if not isinstance(table, dict):
            raise InputError(path, criterion, table, "expected a table [criterion] with scale = ...",
                             "write [empathy] then scale = \"ordinal\" and range = [0, 2]")
        kind = table.get("scale")
        if kind not in SCALE_KINDS:
            raise InputError(path, f"{criterion}.scale", kind, f"the scale must be one of {list(SCALE_KINDS)}",
                             "write scale = \"ordinal\", \"nominal\" or \"continuous\"")
        rng = table.get("range")
        if rng is not None and (not isinstance(rng, list) or len(rng) != 2
                                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
                                or rng[0] >= rng[1]):
            raise InputError(path, f"{criterion}.range", rng, "a range is [low, high] with low < high",
                             "write range = [0, 2]")
        if kind == "continuous":
            scales[criterion] = Scale(criterion, kind, (), float(rng[0]), float(rng[1])) if rng else Scale(
                criterion, kind)
            continue
        if rng is not None:
            if kind != "ordinal" or not all(isinstance(v, int) for v in rng):
                raise InputError(path, f"{criterion}.range", rng, "only an ordinal scale takes an integer range",
                                 "write labels = [...] for a nominal scale")
            labels: Sequence[str] = _range_labels(int(rng[0]), int(rng[1]), f"{criterion}.range", str(path))
        else:
            raw = table.get("labels")
            if not isinstance(raw, list) or not all(isinstance(v, str | int) for v in raw):
                raise InputError(path, f"{criterion}.labels", raw, f"a {kind} scale needs labels (or an ordinal range)",
                                 "write labels = [\"a\", \"b\"] or range = [0, 2]")
            labels = [str(v) for v in raw]
        scales[criterion] = _checked_categorical(criterion, kind, labels, f"{criterion}.labels", labels, str(path))
    if not scales:
        raise InputError(path, "toml", "", "the file declares no criterion", "add a table [criterion] per criterion")
    return scales


def collect_scales(specs: Iterable[str], toml_path: str | Path | None) -> dict[str, Scale]:
    """``--scales`` TOML first, then every ``--scale`` (a criterion declared twice is an error)."""
    scales = read_scales_toml(toml_path) if toml_path else {}
    for spec in specs:
        scale = parse_scale(spec)
        if scale.criterion in scales:
            raise InputError(None, "--scale", spec, f"criterion {scale.criterion!r} is declared twice",
                             "declare each criterion once (in --scale or in the --scales file)")
        scales[scale.criterion] = scale
    if not scales:
        raise InputError(None, "--scale", "", "no scale declared", _FIX_SCALE)
    return scales


# ----------------------------------------------------------------------------------------------------------
# rows


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) of a CSV (header) or JSONL file; JSONL when the suffix is .jsonl/.json or the text
    starts with ``{``."""
    if not path.is_file():
        raise InputError(path, "ratings", str(path), "ratings file not found",
                         "pass the long ratings file (item_id, rater_id, criterion, value; CSV or JSONL)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(path, "encoding", str(e)[:60], "not UTF-8 text", "save the file as UTF-8") from None
    if not text.strip():
        raise InputError(path, "ratings", "", "the file is empty",
                         "write a header item_id,rater_id,criterion,value and one row per rating")
    if path.suffix.lower() in (".jsonl", ".json") or text.lstrip().startswith("{"):
        for where, obj in iter_jsonl(path):
            yield int(where.split()[1]), {str(k): v for k, v in obj.items()}
        return
    reader = csv.DictReader(text.splitlines())
    for row in reader:
        yield reader.line_num, {str(k).strip(): v for k, v in row.items() if k is not None}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value).strip()


def _read_file(path: Path, scales: Mapping[str, Scale], *, need_rater: bool,
               judge_rater: str | None) -> tuple[list[dict[str, Any]], int]:
    out: list[dict[str, Any]] = []
    blank = 0
    columns_checked = False
    for line, row in _rows(path):
        if not columns_checked:
            required = [c for c in LONG_COLUMNS if c != "rater_id" or need_rater]
            missing = [c for c in required if c not in row and not (c == "value" and "label" in row)]
            if missing:
                raise InputError(path, "columns", missing, f"missing column(s); the file has {list(row)[:8]}",
                                 "use the columns item_id, rater_id, criterion, value")
            columns_checked = True
        value = _text(row.get("value", row.get("label")))
        item, criterion = _text(row.get("item_id")), _text(row.get("criterion"))
        rater = _text(row.get("rater_id")) if need_rater else (judge_rater or "judge")  # a judge file: all judge
        if not item and not value:
            continue  # an empty row
        for field, text in (("item_id", item), ("rater_id", rater), ("criterion", criterion)):
            if not text:
                raise InputError(path, f"line {line} {field}", text, "empty", f"write the {field} on every row")
        scale = scales.get(criterion)
        if scale is None:
            raise InputError(path, f"line {line} criterion", criterion,
                             f"no scale declared for this criterion (declared: {sorted(scales)})", _FIX_SCALE)
        if value == "":
            blank += 1
            continue
        code = scale.code(value)
        if code is None:
            if scale.kind == "continuous":
                problem = ("not a number" if _number(value) is None else
                           f"outside the declared range {scale.describe()}")
                fix = "write a number" + ("" if math.isnan(scale.low) else f" in [{scale.low:g}, {scale.high:g}]")
            elif scale.kind == "ordinal" and scale.numeric_labels and _number(value) is None:
                problem, fix = f"not a number on the {scale.describe()} scale", f"write one of {list(scale.labels)}"
            else:
                problem, fix = f"outside the declared scale {scale.describe()}", f"write one of {list(scale.labels)}"
            raise InputError(path, f"line {line} value", value, problem,
                             f"{fix}, leave it blank if not rated, or fix the --scale declaration")
        out.append({"item_id": item, "rater_id": rater, "criterion": criterion, "value": value, "code": code,
                    "file": str(path), "line": line})
    if not columns_checked:
        raise InputError(path, "ratings", "", "the file has no rating rows", "add one row per rating")
    return out, blank


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def read_long_ratings(
    path: str | Path,
    scales: Mapping[str, Scale],
    *,
    judge: str | None = None,
    judge_path: str | Path | None = None,
) -> LongRatings:
    """Read and validate a long ratings file (and a judge file); rules in the module docstring.

    Args:
        path: CSV or JSONL with ``item_id, rater_id, criterion, value``.
        scales: criterion -> :class:`Scale` (every criterion in the files must be declared).
        judge: the judge's rater id in ``path`` (or the id given to ``judge_path``'s rows; default "judge").
        judge_path: a separate file of judge ratings (``rater_id`` optional).

    Raises:
        InputError: every problem listed in the module docstring.
    """
    path = Path(path)
    rows, blank = _read_file(path, scales, need_rater=True, judge_rater=None)
    judge_id = judge or ""
    paths = [str(path)]
    if judge_path is not None:
        judge_id = judge or "judge"
        jp = Path(judge_path)
        if any(r["rater_id"] == judge_id for r in rows):
            raise InputError(path, "rater_id", judge_id, "the ratings file already has rows of the judge's id",
                             "pass the judge either as --judge NAME (rows in the ratings file) or as --judge-file")
        judge_rows, judge_blank = _read_file(jp, scales, need_rater=False, judge_rater=judge_id)
        rows += judge_rows
        blank += judge_blank
        paths.append(str(jp))
    elif judge and not any(r["rater_id"] == judge for r in rows):
        raters = sorted({r["rater_id"] for r in rows})
        raise InputError(path, "--judge", judge, f"no row has this rater_id (raters: {raters[:8]})",
                         "pass the judge's rater_id exactly as written in the file, or --judge-file")
    frame = pd.DataFrame(rows, columns=[c for c in LONG_TABLE_COLUMNS if c != "is_judge"])
    frame["is_judge"] = frame["rater_id"] == judge_id if judge_id else False
    dup = frame.duplicated(["item_id", "rater_id", "criterion"], keep="first")
    if dup.any():
        r = frame[dup].iloc[0]
        first = frame[(frame["item_id"] == r["item_id"]) & (frame["rater_id"] == r["rater_id"])
                      & (frame["criterion"] == r["criterion"])].iloc[0]
        raise InputError(r["file"], f"line {r['line']} rater_id", r["rater_id"],
                         f"rated {r['item_id']} on {r['criterion']} twice (first at line {first['line']})",
                         "keep one rating per item, rater and criterion")
    counts = frame.groupby("rater_id")["item_id"].transform("size")
    single = frame[counts == 1]
    if not single.empty:
        r = single.iloc[0]
        raise InputError(r["file"], f"line {r['line']} rater_id", r["rater_id"],
                         "this rater has a single rating in the whole file (often a misspelt rater id)",
                         "spell the rater id as on the rater's other rows, or remove the row")
    frame = frame[list(LONG_TABLE_COLUMNS)].reset_index(drop=True)
    return LongRatings(frame, dict(scales), judge_id, tuple(paths), blank)
