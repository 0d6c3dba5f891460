"""Foundations every stage uses: the input error, the JSONL reader, atomic writes, log locations and the
progress-line helpers (rate, ETA, heartbeat).

Reads and writes nothing by itself. May import: the standard library and pandas only (no theraeval package).
"""

from harness.core._errors import InputError
from harness.core._files import atomic_write_parquet, atomic_write_text, local_path
from harness.core._jsonl import iter_jsonl
from harness.core._progress import (
    DISPLAYS,
    HEARTBEAT_ENV,
    Heartbeat,
    LinePrinter,
    fmt_duration,
    fmt_rate_eta,
    heartbeat_seconds,
    rate_eta,
)
from harness.core._sweeps import parse_sweep_candidate, sweep_candidate_name
from harness.core._toml import builtin_or_path, content_hash, read_toml

__all__ = [
    "DISPLAYS",
    "HEARTBEAT_ENV",
    "Heartbeat",
    "InputError",
    "LinePrinter",
    "atomic_write_parquet",
    "atomic_write_text",
    "builtin_or_path",
    "content_hash",
    "fmt_duration",
    "fmt_rate_eta",
    "heartbeat_seconds",
    "iter_jsonl",
    "local_path",
    "parse_sweep_candidate",
    "rate_eta",
    "read_toml",
    "sweep_candidate_name",
]
