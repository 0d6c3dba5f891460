"""Stage-2 memory by phase: what a judged sample keeps, and where stage 2's peak RSS is reached.

The run of `stage2_memory.py` (two imported candidates, every comparison judged on 7 criteria in both orders, the
LLM judge on a loopback server with no latency: the direct judge client), stage 1 in a fresh process, then stage 2
in this one with marks at: the pair task built, every quarter of the judged samples, inspect's log finish, the end
of `eval_set`, and after `stage2()`. At each mark (after a `gc.collect()`): the RSS, CPython's small-object
allocator (MiB in live blocks, MiB of arenas held: arenas outlive the objects they held when a few survivors pin
them) and glibc malloc (MiB in use, MiB held). A thread samples the RSS every 0.1 s to place the peak between marks.

    python benchmarks/stage2_phases.py --verdicts 10000
    python benchmarks/stage2_phases.py --verdicts 100000 --keep /tmp/phases   # ~25 min on 2 busy cores

Linux only (`/proc/self/statm`, `mallinfo2`).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _bench import header, peak_rss_mib
from stage2_memory import run_step, write_run

from harness.testing import bench_server


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]


def rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def allocators() -> dict[str, float]:
    """MiB: pymalloc's live blocks and arenas (`sys._debugmallocstats`), glibc malloc's in use and held."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode()
    blocks = int(re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text).group(1).replace(",", ""))  # type: ignore[union-attr]
    total = re.search(r"(\d+) arenas \* (\d+) bytes/arena", text)
    arenas = int(total.group(1)) * int(total.group(2)) if total else 0
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    m = libc.mallinfo2()
    return {"py blocks": blocks / 2**20, "py arenas": arenas / 2**20, "malloc used": m.uordblks / 2**20,
            "malloc held": (m.arena + m.hblkhd) / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verdicts", type=int, default=10_000)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--keep", type=Path, default=None, help="write the run here and keep it")
    args = ap.parse_args()
    header("stage-2 memory by phase (llm judge, direct client)")
    from inspect_ai.log._recorders.eval import EvalRecorder

    import harness.run._schedule as schedule
    import harness.run._stage2 as stage2_module
    import scorers._llm_judge as llm_judge
    from harness.run import plan_run, stage2

    t0 = time.perf_counter()
    marks: list[tuple[float, str, float, dict[str, float]]] = []
    trace: list[tuple[float, float]] = []
    done = threading.Event()

    def mark(name: str) -> None:
        gc.collect()
        marks.append((time.perf_counter() - t0, name, rss_mib(), allocators()))

    def sampler() -> None:
        while not done.wait(0.1):
            trace.append((time.perf_counter() - t0, rss_mib()))

    def wrap(owner: Any, name: str, label: str, before: bool = False) -> None:
        orig = getattr(owner, name)

        def sync(*a: Any, **k: Any) -> Any:
            out = orig(*a, **k)
            mark(label)
            return out

        async def run_async(*a: Any, **k: Any) -> Any:
            if before:
                mark(label + " (start)")
            out = await orig(*a, **k)
            mark(label)
            return out

        import inspect as pyinspect
        setattr(owner, name, run_async if pyinspect.iscoroutinefunction(orig) else sync)

    with tempfile.TemporaryDirectory(prefix="bench-phases-") as tmp, bench_server(latency=0.0,
                                                                                  idle_exit=86_400.0):
        t = args.keep or Path(tmp)
        t.mkdir(parents=True, exist_ok=True)
        cfg = write_run(t, 0, args.verdicts, "llm", args.connections)
        if not (t / "runs" / "r0" / "stage1" / "index.json").is_file():
            run_step(cfg, "stage1")
        shutil.rmtree(t / "runs" / "r0" / "stage2", ignore_errors=True)  # a kept run is judged again, from scratch
        shutil.rmtree(t / "runs" / "r0" / "cache" / "judge-journal", ignore_errors=True)
        plan = plan_run(cfg)
        total = len(plan.scenarios)
        judged = [0]
        assemble = llm_judge.assemble_score

        def counted(*a: Any, **k: Any) -> Any:
            judged[0] += 1
            if judged[0] % max(1, total // 4) == 0 or judged[0] == total:
                mark(f"{judged[0]:,}/{total:,} judged")
            return assemble(*a, **k)

        llm_judge.assemble_score = counted  # type: ignore[assignment]
        wrap(stage2_module, "_pair_task", "pair task built")
        wrap(EvalRecorder, "log_finish", "inspect log finish", before=True)
        wrap(schedule, "run_pair_tasks", "eval_set returned")
        threading.Thread(target=sampler, daemon=True).start()
        t0 = time.perf_counter()
        mark("start")
        stage2(plan, display="none")
        mark("stage2() returned")
        done.set()
    peak_t, peak = max(trace, key=lambda x: x[1]) if trace else (0.0, 0.0)
    print(f"\n{args.verdicts:,} verdicts requested, {total:,} comparisons; peak RSS (ru_maxrss) "
          f"{peak_rss_mib():.0f} MiB, sampled peak {peak:.0f} MiB at "
          f"{peak_t:.1f} s\n")
    print("| time | mark | RSS | py blocks | py arenas | malloc used | malloc held |")
    print("|---|---|---|---|---|---|---|")
    for at, name, rss, alloc in marks:
        print(f"| {at:.1f} s | {name} | {rss:.0f} | " + " | ".join(f"{v:.0f}" for v in alloc.values()) + " |")


if __name__ == "__main__":
    main()
