"""One error type for bad user input: it names the file, the field, the value and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class InputError(ValueError):
    """A user-written file or argument is invalid.

    The message is one line: ``<file>: <field> = <value>: <problem>. Fix: <fix>``, so a user can
    act on it without reading a traceback (the CLI prints only this line and exits 2).
    """

    def __init__(self, file: str | Path | None, field: str, value: Any, problem: str, fix: str) -> None:
        self.file = str(file) if file is not None else "<argument>"
        self.field = field
        self.value = value
        self.problem = problem
        self.fix = fix
        shown = repr(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"{self.file}: {field} = {shown}: {problem}. Fix: {fix}")
