"""Reading every sample of an inspect log: inspect's `read_eval_log_samples` vs `harness.core.iter_log_samples`.

inspect's reader opens the log and parses its zip directory again for every sample (quadratic in the samples);
`iter_log_samples` asks inspect's `read_eval_log_samples_by_id` for 256 samples per opening. Each log here is
written by a no-model task whose samples carry a two-turn dialogue of about 1 KB (like a stage-1 sample); both
readers read the same file, one after the other, in one run.

    python benchmarks/log_reading.py                    # 1,000 and 4,000 samples
    python benchmarks/log_reading.py --samples 500 2000 8000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _bench import header

from harness.core import iter_log_samples


def write_log(folder: Path, n: int) -> str:
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, ModelOutput
    from inspect_ai.solver import Generate, Solver, TaskState, solver

    @solver
    def dialogue() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            reply = f"It sounds like a lot has been landing on you at once ({state.sample_id}). " * 4
            state.messages += [ChatMessageAssistant(content=reply), ChatMessageUser(content="Yes. " * 40),
                               ChatMessageAssistant(content=reply)]
            state.output = ModelOutput.from_content("none", reply)
            return state

        return solve

    task = Task(dataset=[Sample(input="I have been feeling overwhelmed about work lately. " * 3, id=f"s{i:06d}")
                         for i in range(n)], solver=dialogue(), name=f"log-{n}")
    [log] = eval(task, model="none", log_dir=str(folder), display="none", max_samples=64)
    assert log.status == "success", log.error
    return str(log.location)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, nargs="+", default=[1000, 4000])
    args = ap.parse_args()
    header("reading every sample of an inspect log")
    from inspect_ai.log import read_eval_log_samples

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as tmp:
        for n in args.samples:
            path = write_log(Path(tmp) / str(n), n)
            size = Path(path).stat().st_size / 2**20
            t0 = time.perf_counter()
            ours = sum(1 for _ in iter_log_samples(path))
            t1 = time.perf_counter()
            theirs = sum(1 for _ in read_eval_log_samples(path, all_samples_required=True))
            t2 = time.perf_counter()
            assert ours == theirs == n, (ours, theirs, n)
            rows.append((n, size, t2 - t1, t1 - t0))
            print(f"{n} samples ({size:.1f} MiB): read_eval_log_samples {t2 - t1:.2f} s, iter_log_samples "
                  f"{t1 - t0:.2f} s, ratio {(t2 - t1) / (t1 - t0):.1f}x", flush=True)
    print("\n| samples | log size | `read_eval_log_samples` | `iter_log_samples` | ratio "
          "| ms per sample (inspect / ours) |")
    print("|---|---|---|---|---|---|")
    for n, size, theirs, ours in rows:
        print(f"| {n:,} | {size:.1f} MiB | {theirs:.2f} s | {ours:.2f} s | {theirs / ours:.1f}x "
              f"| {1000 * theirs / n:.2f} / {1000 * ours / n:.2f} |")


if __name__ == "__main__":
    main()
