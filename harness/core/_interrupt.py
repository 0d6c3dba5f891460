"""SIGINT / SIGTERM for long commands: the write in progress finishes, then the command stops with a resume hint.

While :func:`on_interrupt` is active (the `run`, `stage1` and `stage2` commands), SIGINT and SIGTERM raise
:class:`Interrupted` (a `KeyboardInterrupt`, so inspect and asyncio unwind as for Ctrl-C), except inside
:func:`uninterrupted` (the atomic writers of `harness.core`): a signal that arrives there is held until the write has
completed, then raised. Every file is therefore either its old or its new version, never half, and the command can
exit with 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

RESUME_HINT = "interrupted: re-run the same command to resume"
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; `exit_code` is 128 + its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


@dataclass
class InterruptState:
    """What :func:`on_interrupt` saw: the first signal received (None: none), and whether a write holds it."""

    signum: int | None = None
    writing: int = 0
    pending: int | None = None


_STATE = InterruptState()


def _handler(signum: int, frame: FrameType | None) -> None:
    if _STATE.signum is None:
        _STATE.signum = signum
    if _STATE.writing:
        _STATE.pending = signum
        return
    raise Interrupted(signum)


@contextmanager
def on_interrupt() -> Iterator[InterruptState]:
    """SIGINT and SIGTERM raise :class:`Interrupted` (held during writes) for the duration; yields the state, whose
    `signum` tells afterwards whether a signal arrived (whatever exception it turned into on its way out)."""
    old = {s: signal.getsignal(s) for s in SIGNALS}
    _STATE.signum, _STATE.pending = None, None
    for s in SIGNALS:
        signal.signal(s, _handler)
    try:
        yield _STATE
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextmanager
def uninterrupted() -> Iterator[None]:
    """A signal arriving inside the block is raised when the block has completed (only under :func:`on_interrupt`;
    elsewhere signals keep their usual handlers)."""
    _STATE.writing += 1
    try:
        yield
    finally:
        _STATE.writing -= 1
        if not _STATE.writing and _STATE.pending is not None:
            signum, _STATE.pending = _STATE.pending, None
            raise Interrupted(signum)
