"""Stage 2 in worker processes: one event loop tops out near 1 / (CPU per judge call), so W loops go W times as far.

A Python process spends ~6-8 ms of CPU per judge call inside inspect (request building, the call cache, events,
sample logs), and every call holds its connection slot while it waits for the loop: at C = 32 connections one
process keeps only ~2/3 of them busy (benchmarks/README.md, *Judge throughput*). With `[run] workers = W` the
stage-2 runner (`harness.run._stage2.judge_units`) splits the units it is given (all pairs' samples, or one
adaptive round's units) into W disjoint shards (round-robin over each pair's sorted sample ids); shard k is
judged in `<folder>/shard-<k>-of-<W>/`, with `max_connections` split so the workers together never exceed the
run's.

The running process judges shard 0 itself (it is already warm); each other non-empty shard is a `python -m
harness.run._workers_main` process (about 2 s of imports to start), started before the parent builds its tasks
so that the imports overlap. It reads its job (a pickled `Job`: the plan and the units of its shard) from stdin,
builds its tasks, says it is ready (the shards start together), writes its index entries to `Job.result` and
exits. It also exits as soon as stdin closes, which happens when the parent dies (kill -9 included), so a killed
run leaves no worker behind to race its own resume.
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.core import InputError
from harness.run._plan import IndexEntry, Pair, RunPlan, StageError, Units

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)
_LEN = struct.Struct(">Q")
_READY = b"R"
PARENT_GONE_EXIT = 75
"""Exit status of a worker whose parent went away (stdin closed before the job ended)."""


@dataclass(frozen=True)
class Job:
    """One worker's part of a stage-2 judging: its units, in its own log folder, over its connections."""

    plan: RunPlan
    units: dict[Pair, list[str]]
    """Candidate pair -> the sample ids of this shard."""
    folder: str
    """The shard's log folder (`<folder>/shard-<k>-of-<W>`)."""
    connections: int
    label: str
    """What the errors call this shard (`stage 2 (shard 2 of 3)`)."""
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


def shard_units(units: Units, workers: int) -> list[dict[Pair, list[str]]]:
    """`units` (every pair's sample ids given) in `workers` disjoint shards: shard k takes every `workers`-th of
    each pair's sorted sample ids from the k-th on (pairs with no sample in a shard are left out of it)."""
    shards: list[dict[Pair, list[str]]] = [{} for _ in range(workers)]
    for pair, ids in units.items():
        if ids is None:
            raise ValueError(f"shard_units needs the sample ids of every pair; {pair} has None")
        for k in range(workers):
            keep = sorted(shard_ids(list(ids), k, workers))
            if keep:
                shards[k][pair] = keep
    return shards


def start_workers(n: int) -> list[subprocess.Popen[bytes]]:
    """Start `n` worker processes ahead of their jobs: each imports the harness and inspect, then waits on stdin,
    so the imports overlap the parent's own set-up. `run_workers` sends the jobs (or closes the stdin of one it
    does not need, and it exits)."""
    root = str(Path(__file__).resolve().parents[2])  # importable from a source checkout too
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    return [subprocess.Popen([sys.executable, "-m", "harness.run._workers_main"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env) for _ in range(n)]


def stop_unused(procs: list[subprocess.Popen[bytes]]) -> None:
    """Close the stdin of started workers that got no job (they exit) and reap them."""
    for proc in procs:
        if proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()
        if proc.stdout is not None and not proc.stdout.closed:
            proc.stdout.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_workers(plan: RunPlan, shards: list[dict[Pair, list[str]]], folder: Path,
                judge_local: Callable[[dict[Pair, list[str]], Path, int, str], list[IndexEntry]],
                label: str = "stage 2", started: list[subprocess.Popen[bytes]] | None = None) -> list[IndexEntry]:
    """Judge `shards[k]` in `folder/shard-<k>-of-<W>/` (W = len(shards)): shard 0 in this process with
    `judge_local(units, folder, connections, label)` (already warm, with its built tasks), every other non-empty
    shard in a `python -m harness.run._workers_main` process; returns the index entries of every shard's logs.

    Every shard runs to its end even when another fails (what it finished is kept for the resume); then a
    failure raises `StageError`. `started`: processes from `start_workers` to use first (the rest are stopped).
    """
    workers = len(shards)
    conns = split_connections(plan.cfg.run.max_connections, workers)
    spare = list(started or [])
    procs: list[tuple[int, subprocess.Popen[bytes], Path]] = []
    failed: list[str] = []
    entries: list[dict[str, str]] = []

    def name(k: int) -> str:
        return f"{label} (shard {k + 1} of {workers})"

    with tempfile.TemporaryDirectory(prefix="theraeval-workers-") as tmp:
        try:
            for k in range(1, workers):
                if not shards[k]:
                    continue
                result = Path(tmp) / f"shard-{k}.json"
                job = Job(plan, shards[k], str(folder / f"shard-{k}-of-{workers}"), conns[k], name(k), str(result))
                payload = pickle.dumps(job)
                proc = spare.pop(0) if spare else start_workers(1)[0]
                assert proc.stdin is not None
                proc.stdin.write(_LEN.pack(len(payload)) + payload)
                proc.stdin.flush()  # stdin stays open: closing it tells the worker to stop
                procs.append((k, proc, result))
            stop_unused(spare)
            spare = []
            for _, proc, _ in procs:  # start shard 0 with the others, so that equal shards end together
                assert proc.stdout is not None
                proc.stdout.read(1)  # the worker's "ready" byte, or EOF when it failed to start
                proc.stdout.close()
            try:
                entries += judge_local(shards[0], folder / f"shard-0-of-{workers}", conns[0], name(0))
            except (InputError, StageError) as e:
                logger.error("%s: %s", name(0), e)
                failed.append(f"shard 1/{workers}")
            for k, proc, result in procs:
                code = proc.wait()
                if code == 0 and result.is_file():
                    entries += json.loads(result.read_text(encoding="utf-8"))
                else:
                    failed.append(f"shard {k + 1}/{workers} (exit {code})")
        finally:
            stop_unused(spare)
            for _, proc, _ in procs:
                if proc.poll() is None:  # interrupted: stop the rest
                    proc.terminate()
                    proc.wait()
                if proc.stdin is not None:
                    proc.stdin.close()
    if failed:
        raise StageError(f"{label} did not complete: {', '.join(failed)}; the errors are printed above. "
                         "Re-run to resume.")
    return entries
