"""Atomic writes and log locations: the one implementation every stage uses."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from harness.core._interrupt import uninterrupted

if TYPE_CHECKING:
    import pandas as pd


def user_file(path: str | Path, field: str, fix: str) -> Path:
    """`path` as a `Path`, when it is an existing file; else an `InputError` saying whether it is missing or a
    directory (a folder where a file is expected is named as such, not reported as "not found")."""
    from harness.core._errors import InputError

    p = Path(path)
    if p.is_dir():
        raise InputError(p, field, str(p), "is a directory, not a file", fix)
    if not p.is_file():
        raise InputError(p, field, str(p), "file not found", fix)
    return p


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` through a temporary file and a rename: a killed write never leaves half."""
    tmp = _tmp(path)
    with uninterrupted():  # a SIGINT/SIGTERM during the write waits for the rename (harness.core._interrupt)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a table as parquet atomically (a killed write never leaves a corrupt table)."""
    tmp = _tmp(path)
    with uninterrupted():
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)


def local_path(location: str | Path) -> Path:
    """A log's location as a resolved local path.

    inspect reports re-read logs as ``file://`` URIs whose path is percent-encoded (a space is ``%20``), so the
    path is URL-decoded; a plain path is taken as it is.
    """
    text = str(location)
    return Path(unquote(urlparse(text).path) if text.startswith("file:") else text).resolve()
