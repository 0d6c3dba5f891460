"""Loading and checking preference data: JSONL files or `datasets` directories, hashed for the manifest."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.core import InputError, iter_jsonl

logger = logging.getLogger(__name__)

PREFERENCE_COLUMNS: tuple[str, ...] = ("prompt", "chosen", "rejected")


def sha256_path(path: Path) -> str:
    """SHA-256 of a file, or of a directory (every file's relative path and bytes, in sorted order,
    without `datasets` cache files)."""
    h = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    # `datasets` writes `cache-*.arrow` files next to a dataset loaded from disk when it is mapped: skip them.
    for p in sorted(q for q in path.rglob("*") if q.is_file() and not q.name.startswith("cache-")):
        h.update(p.relative_to(path).as_posix().encode())
        h.update(b"\0")
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def load_rows(path: Path, source: Path | None, field: str) -> Any:
    """Load a `datasets.Dataset` from a JSONL file or a `save_to_disk` directory (`train` split of a dict).

    Raises:
        InputError: missing path, unreadable JSONL line, no rows, or no `train` split.
    """
    from datasets import Dataset, DatasetDict, load_from_disk

    if not path.exists():
        raise InputError(
            source,
            field,
            str(path),
            "dataset not found",
            "point it at a JSONL file or a directory written by datasets' save_to_disk",
        )
    if path.is_dir():
        try:
            ds = load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as e:
            raise InputError(
                source,
                field,
                str(path),
                f"not a datasets directory ({e})",
                "write it with Dataset.save_to_disk, or give a JSONL file",
            ) from None
        if isinstance(ds, DatasetDict):
            if "train" not in ds:
                raise InputError(
                    source,
                    field,
                    str(path),
                    f"DatasetDict without a 'train' split ({list(ds)})",
                    "add a 'train' split or save the Dataset itself",
                )
            ds = ds["train"]
    elif path.suffix.lower() in (".jsonl", ".json"):
        rows = [obj for _, obj in iter_jsonl(path)]
        try:
            ds = Dataset.from_list(rows)
        except (TypeError, ValueError, ArithmeticError) as e:  # pyarrow: a column mixing types across rows
            raise InputError(
                path,
                "rows",
                str(e)[:80],
                "the rows do not share one type per column",
                "give every row the same fields with the same types (e.g. margin always a number)",
            ) from None
    else:
        raise InputError(
            source,
            field,
            str(path),
            "unsupported dataset format",
            "use a .jsonl file or a datasets save_to_disk directory",
        )
    if len(ds) == 0:
        raise InputError(source, field, str(path), "dataset has no rows", "add at least one preference pair")
    return ds


def require_columns(ds: Any, columns: Iterable[str], file: Path | None, what: str) -> None:
    """Raise `InputError` naming the first missing column."""
    have = set(ds.column_names)
    for col in columns:
        if col not in have:
            raise InputError(
                file,
                f"column {col}",
                sorted(have),
                f"{what} needs a '{col}' column",
                f"add '{col}' to every row (see docs/training.md, 'Dataset format')",
            )


def is_conversational_row(row: Mapping[str, Any], key: str = "prompt") -> bool:
    """True if `row[key]` is a list of `{"role", "content"}` messages (TRL's conversational format)."""
    value = row.get(key)
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "role" in value[0]


def _prompt_key(prompt: Any) -> str:
    return json.dumps(prompt, sort_keys=True, ensure_ascii=False)


def align_criteria(per_criterion: Mapping[str, Any], criteria: Sequence[str]) -> Any:
    """Join per-criterion `prompt/chosen/rejected` datasets on the prompt into joint-loss rows.

    Output rows are `{"prompt", "chosen_<c>", "rejected_<c>" for c in criteria}`. A prompt with several
    pairs per criterion gives min(#pairs) rows, pairing the i-th pair of every criterion; prompts missing
    from any criterion are dropped (logged).

    Raises:
        ValueError: no prompt is shared by all criteria.
    """
    from datasets import Dataset

    tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for crit in criteria:
        table: dict[str, list[dict[str, Any]]] = {}
        for row in per_criterion[crit]:
            table.setdefault(_prompt_key(row["prompt"]), []).append(row)
        tables[crit] = table
    first = tables[criteria[0]]
    keys = [k for k in first if all(k in tables[c] for c in criteria[1:])]
    dropped = len(first) - len(keys)
    if dropped:
        logger.warning(
            "joint loss: %d prompts of %r have no pair for every criterion and are dropped",
            dropped,
            criteria[0],
        )
    if not keys:
        raise ValueError(f"no prompt has a preference pair for every criterion {list(criteria)}")
    rows = []
    for k in keys:
        for i in range(min(len(tables[c][k]) for c in criteria)):
            joint: dict[str, Any] = {"prompt": first[k][i]["prompt"]}
            for c in criteria:
                joint[f"chosen_{c}"] = tables[c][k][i]["chosen"]
                joint[f"rejected_{c}"] = tables[c][k][i]["rejected"]
            rows.append(joint)
    return Dataset.from_list(rows)


def check_options(spec: Any, allowed: Iterable[str]) -> None:
    """Raise `InputError` for a key of the method's own TOML table that the method does not know."""
    allowed = list(allowed)
    for key, value in spec.options.items():
        if key not in allowed:
            hint = (
                f"use {sorted(allowed)}"
                if allowed
                else f"remove the [{spec.method}] table; config fields go in [args]"
            )
            raise InputError(
                spec.source, f"{spec.method}.{key}", value, f"unknown {spec.method} setting", hint
            )


PAIRS_KEYS: tuple[str, ...] = ("context", "criterion", "chosen", "rejected")
"""Keys of a multi-criterion pairs file (the bundled preference set, `theraeval judges train` input): one
text pair per line, `criterion` naming what `chosen` is better at. Read as conversational rows."""
PREFERENCES_SUMMARY = "summary.json"
"""File that marks a `theraeval preferences` folder (one `save_to_disk` dataset per criterion, plus `joint/`)."""
JOINT_FOLDER = "joint"


def is_preferences_folder(path: Path) -> bool:
    """True for a folder written by `theraeval preferences` (per-criterion datasets + `summary.json`)."""
    return path.is_dir() and (path / PREFERENCES_SUMMARY).is_file()


def _first_row(path: Path) -> dict[str, Any] | None:
    if not (path.is_file() and path.suffix.lower() in (".jsonl", ".json")):
        return None
    for _, obj in iter_jsonl(path):
        return obj
    return None


def is_pairs_file(path: Path) -> bool:
    """True for a JSONL file in the multi-criterion pairs format (`PAIRS_KEYS`)."""
    row = _first_row(path)
    return row is not None and all(k in row for k in PAIRS_KEYS) and "prompt" not in row


def source_criteria(path: Path) -> list[str] | None:
    """The criteria a multi-criterion source holds (pairs file or preferences folder), else `None`."""
    if is_preferences_folder(path):
        return sorted(p.name for p in path.iterdir() if p.is_dir() and p.name != JOINT_FOLDER
                      and (p / "dataset_info.json").is_file())
    if is_pairs_file(path):
        return sorted({str(obj.get("criterion")) for _, obj in iter_jsonl(path)})
    return None


def load_pairs(path: Path, criterion: str | None, source: Path | None, field: str) -> Any:
    """One criterion's `prompt/chosen/rejected` pairs from any supported source.

    - a `theraeval preferences` folder: its `<criterion>/` dataset;
    - a multi-criterion pairs JSONL (the bundled preference set): the lines of `criterion` with `split` other
      than `test` (the held-back test lines stay unseen), as conversational rows
      `prompt = [user: context]`, `chosen/rejected = [assistant: text]`;
    - otherwise a TRL preference dataset (JSONL or `save_to_disk` directory), used whole.

    Raises:
        InputError: no criterion given for a multi-criterion source, an unknown criterion, no rows, or a
            missing `prompt`/`chosen`/`rejected` column.
    """
    from datasets import Dataset

    held = source_criteria(path)
    if held is not None:
        if criterion is None:
            raise InputError(source, field, str(path), f"holds several criteria {held}: which one?",
                             'set criterion = "<name>" (or use a {<criterion> = "<path>"} table)')
        if criterion not in held:
            raise InputError(source, field, str(path), f"has no pairs for criterion {criterion!r}",
                             f"use one of {held}")
        if is_preferences_folder(path):
            ds = load_rows(path / criterion, source, field)
        else:
            rows = [
                {"prompt": [{"role": "user", "content": str(obj["context"])}],
                 "chosen": [{"role": "assistant", "content": str(obj["chosen"])}],
                 "rejected": [{"role": "assistant", "content": str(obj["rejected"])}]}
                for _, obj in iter_jsonl(path)
                if obj.get("criterion") == criterion and obj.get("split", "train") != "test"
            ]
            if not rows:
                raise InputError(source, field, str(path), f"no training pairs for {criterion!r}",
                                 "add lines for it (split other than 'test')")
            ds = Dataset.from_list(rows)
    else:
        ds = load_rows(path, source, field)
    require_columns(ds, PREFERENCE_COLUMNS, path, "preference data")
    return ds


def check_float_column(ds: Any, column: str, path: Path, fix: str) -> list[float]:
    """The values of a numeric column, or `InputError` naming the first null / non-number / non-finite one
    with its line (JSONL) or row (dataset directory)."""
    values = ds[column]
    lines: list[str] | None = None
    for i, v in enumerate(values):
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))
        if not ok:
            if lines is None and path.is_file():
                lines = [where for where, _ in iter_jsonl(path)]
            where = lines[i] if lines is not None and i < len(lines) else f"row {i}"
            raise InputError(path, f"{where}: {column}", v, "must be a finite number", fix)
    return [float(v) for v in values]
