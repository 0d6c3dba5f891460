"""Foundations every stage uses: the input error, the JSONL reader, atomic writes, log locations, a one-pass reader
of inspect logs, the progress-line helpers (rate, ETA, heartbeat) and SIGINT/SIGTERM handling (a write in progress
finishes first).

Reads and writes nothing by itself. May import: the standard library, pandas and (inside functions) inspect_ai's log
reader only (no theraeval package).
"""

from harness.core._errors import InputError
from harness.core._files import atomic_write_parquet, atomic_write_text, local_path, user_file
from harness.core._interrupt import RESUME_HINT, Interrupted, on_interrupt, uninterrupted
from harness.core._jsonl import iter_jsonl
from harness.core._logs import iter_log_samples
from harness.core._progress import (
    DISPLAYS,
    HEARTBEAT_ENV,
    Heartbeat,
    LinePrinter,
    fmt_duration,
    fmt_rate_eta,
    heartbeat_seconds,
    rate_eta,
    still_working,
)
from harness.core._sweeps import parse_sweep_candidate, sweep_candidate_name
from harness.core._toml import builtin_or_path, content_hash, dump_toml, read_toml

__all__ = [
    "DISPLAYS",
    "HEARTBEAT_ENV",
    "Heartbeat",
    "InputError",
    "Interrupted",
    "LinePrinter",
    "RESUME_HINT",
    "atomic_write_parquet",
    "atomic_write_text",
    "builtin_or_path",
    "content_hash",
    "dump_toml",
    "fmt_duration",
    "fmt_rate_eta",
    "heartbeat_seconds",
    "iter_jsonl",
    "iter_log_samples",
    "local_path",
    "on_interrupt",
    "parse_sweep_candidate",
    "rate_eta",
    "read_toml",
    "still_working",
    "sweep_candidate_name",
    "uninterrupted",
    "user_file",
]
