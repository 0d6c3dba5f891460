"""Input validation shared by the statistics modules.

Every check raises ``ValueError`` (or ``TypeError`` for a wrong type) whose message names the argument,
shows the offending value and says what is accepted, so a caller can fix the input without reading code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

RngLike = np.random.Generator | int | None
"""What every random function accepts: a Generator (used as is), an int seed, or None (fresh entropy)."""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _validate_rng(rng: RngLike, name: str = "rng") -> np.random.Generator:
    """Return a Generator for ``rng`` (Generator, int seed >= 0, or None)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise TypeError(f"`{name}` must be a numpy Generator, an int seed or None; got {_show(rng)}")
    if rng < 0:
        raise ValueError(f"`{name}` seed must be >= 0; got {rng}")
    return np.random.default_rng(int(rng))


def _seed_of(rng: RngLike) -> int | None:
    """The integer seed behind ``rng`` when there is one (for reports), else None."""
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return int(rng)
    return None


def _validate_level(level: float, name: str = "level") -> float:
    """A confidence level strictly inside (0, 1)."""
    if not isinstance(level, int | float | np.floating) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"`{name}` must be in the open interval (0, 1); got {_show(level)}")
    return float(level)


def _validate_probability(value: float, name: str) -> float:
    """A number in the closed interval [0, 1] (bars, alphas)."""
    if not isinstance(value, int | float | np.floating) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1]; got {_show(value)}")
    return float(value)


def _validate_count(value: float, name: str, *, allow_fraction: bool = False) -> float:
    """A finite count >= 0 (integral unless ``allow_fraction``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"`{name}` must be a number; got {_show(value)}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"`{name}` must be a finite count >= 0; got {_show(value)}")
    if not allow_fraction and v != int(v):
        raise ValueError(f"`{name}` must be a whole number; got {_show(value)}")
    return v


def _validate_positive_int(value: int, name: str, *, minimum: int = 1) -> int:
    """An int >= ``minimum`` (bootstrap resamples, iterations)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {_show(value)}")
    return int(value)


def _validate_choice(value: str, name: str, choices: Iterable[str]) -> str:
    """One of a fixed set of strings."""
    options = tuple(choices)
    if value not in options:
        raise ValueError(f"`{name}` must be one of {list(options)}; got {_show(value)}")
    return value


def _validate_columns(frame: Any, required: Sequence[str], name: str) -> None:
    """A DataFrame holding every column in ``required``."""
    columns = getattr(frame, "columns", None)
    if columns is None:
        raise TypeError(f"`{name}` must be a pandas DataFrame; got {type(frame).__name__}")
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValueError(
            f"`{name}` is missing column(s) {missing}; it has {list(columns)[:20]}. "
            f"Pass the verdict table written by the judge stage (verdicts.parquet)."
        )


def _validate_values(values: Iterable[Any], name: str, allowed: Iterable[Any]) -> None:
    """Every value of a column is in ``allowed``."""
    ok = set(allowed)
    bad = sorted({str(v) for v in values if v not in ok})
    if bad:
        raise ValueError(
            f"column `{name}` has value(s) {bad[:10]} outside the allowed {sorted(map(str, ok))}")
