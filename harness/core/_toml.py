"""TOML inputs: read a user's TOML file (and write one back, `dump_toml`), resolve a builtin name or a path, hash
the content (criteria, rubrics)."""

from __future__ import annotations

import hashlib
import json
import math
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


def dump_toml(data: dict[str, Any]) -> str:
    """TOML text of a table parsed by `tomllib` (strings, numbers, booleans, arrays, nested tables, arrays of
    tables), checked by parsing it back: `tomllib.loads(dump_toml(d)) == d`, else ValueError.

    Hand-written because the standard library reads TOML but does not write it, and the only need is to re-emit
    a config snapshot (comments are not kept). A JSON string is a valid TOML basic string, so strings are written
    with `json.dumps`; a nested table inside a table, or a table inside an array, is written inline."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            if isinstance(v, float) and not math.isfinite(v):
                return ("nan" if math.isnan(v) else "inf" if v > 0 else "-inf")
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + "}"
        raise ValueError(f"cannot write {type(v).__name__} as TOML")

    def key(k: str) -> str:
        return k if k and all(c.isalnum() or c in "_-" for c in k) else json.dumps(k, ensure_ascii=False)

    def table(d: dict[str, Any]) -> list[str]:
        return [f"{key(k)} = {value(v)}" for k, v in d.items()]

    lines = table({k: v for k, v in data.items() if not _is_table(v) and not _is_table_array(v)})
    for k, v in data.items():
        if _is_table(v):
            lines += ["", f"[{key(k)}]", *table(v)]
        elif _is_table_array(v):
            for item in v:
                lines += ["", f"[[{key(k)}]]", *table(item)]
    text = "\n".join(lines).lstrip("\n") + "\n"
    if tomllib.loads(text) != data:
        raise ValueError("the TOML written does not read back as the same table")
    return text


def _is_table(v: Any) -> bool:
    return isinstance(v, dict)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)
