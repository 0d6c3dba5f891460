"""TOML inputs: read a user's TOML file, resolve a builtin name or a path, hash the content (criteria, rubrics)."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from harness.core._errors import InputError


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML table of `path`; malformed TOML is an `InputError` naming the position."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is tolerated
    except tomllib.TOMLDecodeError as e:
        raise InputError(path, "toml", str(e), "malformed TOML", "fix the TOML syntax at the position shown") from None
    except UnicodeDecodeError as e:
        raise InputError(path, "encoding", str(e)[:60], "not UTF-8 text", "save the file as UTF-8") from None


def builtin_or_path(spec: str | Path, folder: Path, what: str, field: str) -> Path:
    """`folder/<spec>.toml` when `spec` is a bare builtin name, else `spec` as a path; it must exist."""
    p = Path(spec)
    if not p.suffix and (folder / f"{spec}.toml").is_file():
        p = folder / f"{spec}.toml"
    if p.is_dir():
        raise InputError(p, field, str(spec), "is a directory, not a file", f"give the path of a {what} .toml file")
    if not p.is_file():
        names = sorted(q.stem for q in folder.glob("*.toml"))
        raise InputError(p, field, str(spec), f"no such {what} or file",
                         f"use a builtin {what} {names} or a path to a .toml file")
    return p


def content_hash(data: Any) -> str:
    """sha256 (first 12 hex digits) of the canonical JSON of `data`: the version id of a criteria set or rubric."""
    canon = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:12]
