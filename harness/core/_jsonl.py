"""Read user-written JSONL files: one JSON object per line, every problem an InputError naming the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.core._errors import InputError

_FIX = "write one JSON object per line"


def iter_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (`"line N"`, object) for every non-blank line; invalid UTF-8, JSON or a non-object is an InputError."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM is tolerated
    except UnicodeDecodeError as e:
        raise InputError(path, "encoding", str(e)[:60], "not UTF-8 text", "save the file as UTF-8") from None
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(path, f"line {i}", line[:60], f"invalid JSON ({e.msg})", _FIX) from None
        if not isinstance(obj, dict):
            raise InputError(path, f"line {i}", obj, "not a JSON object", _FIX)
        yield f"line {i}", obj
