"""Loading and checking preference data: JSONL files or `datasets` directories, hashed for the manifest."""

from __future__ import annotations

import hashlib
import json
import logging
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
        ds = Dataset.from_list(rows)
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
