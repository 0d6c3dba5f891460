"""Stage 2 in worker processes: one event loop tops out near 1 / (CPU per judge call), so W loops go W times as far.

A Python process spends ~6-8 ms of CPU per judge call inside inspect (request building, the call cache, events,
sample logs), and every call holds its connection slot while it waits for the loop: at C = 32 connections one
process keeps only ~2/3 of them busy (benchmarks/README.md, *Judge throughput*). With `[run] workers = W` each
worker judges a disjoint shard of every pair's samples (round-robin over the sorted sample ids) in its own log
folder `stage2/shard-<k>-of-<W>/`, with `max_connections` split so the workers together never exceed the run's.

The running process judges shard 0 itself (it is already warm); each other shard is a `python -m
harness.run._workers` process (about 2 s of imports to start). It reads its job (a pickled `Job`) from stdin,
writes its index entries to `Job.result` and exits. It also exits as soon as stdin closes, which happens when
the parent dies (kill -9 included), so a killed run leaves no worker behind to race its own resume.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.run._stages import RunPlan

logger = logging.getLogger(__name__)
_LEN = struct.Struct(">Q")
_READY = b"R"
PARENT_GONE_EXIT = 75
"""Exit status of a worker whose parent went away (stdin closed before the job ended)."""


@dataclass(frozen=True)
class Job:
    plan: RunPlan
    shard: int
    workers: int
    connections: int
    result: str
    """Where the worker writes its index entries (JSON)."""


def split_connections(total: int, workers: int) -> list[int]:
    """`total` connections over `workers` (each gets at least 1): 32 over 3 -> [11, 11, 10]."""
    if workers < 1 or total < workers:
        raise ValueError(f"cannot split {total} connection(s) over {workers} worker(s)")
    return [total // workers + (k < total % workers) for k in range(workers)]


def shard_ids(ids: list[str], shard: int, workers: int) -> set[str]:
    """Sample ids of shard `shard` of `workers`: every `workers`-th of the sorted ids, so shards differ by <= 1."""
    return set(sorted(ids)[shard::workers])


def run_workers(plan: RunPlan, workers: int) -> list[dict[str, str]]:
    """Stage 2 over `workers` processes (this one judges shard 0, already warm); returns the stage index entries
    of every shard's logs.

    Every shard runs to its end even when another fails (what it finished is kept for the resume); then a
    failure raises `StageError`.
    """
    from harness.core import InputError
    from harness.run._stages import StageError, stage2_shard

    conns = split_connections(plan.cfg.run.max_connections, workers)
    root = str(Path(__file__).resolve().parents[2])  # importable from a source checkout too
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    failed: list[str] = []
    entries: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="theraeval-workers-") as tmp:
        try:
            for k in range(1, workers):
                result = Path(tmp) / f"shard-{k}.json"
                payload = pickle.dumps(Job(plan, k, workers, conns[k], str(result)))
                proc = subprocess.Popen([sys.executable, "-m", "harness.run._workers"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=env)
                assert proc.stdin is not None
                proc.stdin.write(_LEN.pack(len(payload)) + payload)
                proc.stdin.flush()  # stdin stays open: closing it tells the worker to stop
                procs.append((proc, result))
            for proc, _ in procs:  # start shard 0 with the others, so that equal shards end together
                assert proc.stdout is not None
                proc.stdout.read(1)  # the worker's "ready" byte, or EOF when it failed to start
                proc.stdout.close()
            try:
                entries += stage2_shard(plan, 0, workers, conns[0])
            except (InputError, StageError) as e:
                logger.error("stage 2 shard 1/%d: %s", workers, e)
                failed.append(f"shard 1/{workers}")
            for k, (proc, result) in enumerate(procs, start=1):
                code = proc.wait()
                if code == 0 and result.is_file():
                    entries += json.loads(result.read_text(encoding="utf-8"))
                else:
                    failed.append(f"shard {k + 1}/{workers} (exit {code})")
        finally:
            for proc, _ in procs:
                if proc.poll() is None:  # interrupted: stop the rest
                    proc.terminate()
                    proc.wait()
                if proc.stdin is not None:
                    proc.stdin.close()
    if failed:
        raise StageError(f"stage 2 did not complete: {', '.join(failed)}; the errors are printed above. "
                         "Re-run to resume.")
    return entries


def _exit_when_parent_goes(fd: int) -> None:
    while os.read(fd, 4096):  # blocks until EOF: the parent closed the pipe or died (raw fd: no buffer lock)
        pass
    os._exit(PARENT_GONE_EXIT)


def main() -> int:
    stdin = sys.stdin.buffer
    (size,) = _LEN.unpack(stdin.read(_LEN.size))
    job: Job = pickle.loads(stdin.read(size))
    threading.Thread(target=_exit_when_parent_goes, args=(stdin.fileno(),), daemon=True).start()
    from harness.core import InputError, atomic_write_text
    from harness.run._stages import StageError, stage2_shard

    os.write(1, _READY)  # imported: the parent starts its own shard now
    os.dup2(2, 1)  # anything printed later goes to stderr, not into the parent's unread pipe
    try:
        entries = stage2_shard(job.plan, job.shard, job.workers, job.connections)
    except (InputError, StageError) as e:
        logger.error("stage 2 shard %d/%d: %s", job.shard + 1, job.workers, e)
        return 1
    atomic_write_text(Path(job.result), json.dumps(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
