"""Bad task arguments under `inspect eval` are one line, like everywhere else in theraeval, not a traceback.

inspect prints a `PrerequisiteError` as its message alone (its CLI's exception hook); every other exception raised
while a task is created is a full traceback. :func:`one_line_errors` re-raises a task's `InputError` as
:class:`TaskInputError`, which is both: `theraeval` still catches it as an `InputError` (exit 2), and `inspect
eval` prints the line. inspect runs a task file's function in the file's folder, so a relative `-T` path that
is not found there gets a hint.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from inspect_ai._util.error import PrerequisiteError

from harness.core import InputError

F = TypeVar("F", bound=Callable[..., Any])


class TaskInputError(InputError, PrerequisiteError):
    """An `InputError` raised by a task: one line under `theraeval` and under `inspect eval` alike."""

    def __init__(self, e: InputError) -> None:
        fix = e.fix
        value = e.value
        if isinstance(value, str) and value and not Path(value).is_absolute() and not Path(value).exists() \
                and "not found" in e.problem:
            fix += (f" (under `inspect eval` a relative -T path is read from the task file's folder, {Path.cwd()}: "
                    "give an absolute path)")
        InputError.__init__(self, e.file, e.field, e.value, e.problem, fix)
        self.message = f"error: {self}"


def one_line_errors(fn: F) -> F:
    """Decorate a task function (under `@task`) so that its `InputError`s are :class:`TaskInputError`s."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TaskInputError:
            raise
        except InputError as e:
            raise TaskInputError(e) from None

    return cast(F, wrapper)
