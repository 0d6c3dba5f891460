"""Training: MODPO step time / DPO step time on the same data (trainers/: `MODPOTrainer` vs TRL's `DPOTrainer`).

Both trainers are built exactly as `theraeval train` builds them (`trainers.get_trainer(...).prepare(spec)`
then `make_dpo_trainer`), from the same base model, preference pairs and arguments; MODPO gets a `margin`
column (`use_dataset_margin`, seeded N(0, 1) values: the margins' reward-model scoring happens once before
training and is not part of a step). Per-step wall times come from a `TrainerCallback`; the first
`--warmup` steps are dropped, the DPO and MODPO runs alternate `--repeats` times, and the ratio of the
median step times is printed. The reference model's forward pass is done in every step (no precompute),
as in the default configs.

Base models: `tiny` (the 1.8 M-parameter random Llama of tests/trainers, built in seconds) or `smollm2`
(SmolLM2-135M-Instruct, `harness.run.ensure_smollm2()`; slower, more realistic step costs).

    python benchmarks/train_step_time.py                          # tiny model, 12 steps x 3 repeats
    python benchmarks/train_step_time.py --base smollm2 --steps 6 --repeats 2
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _bench import header


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", choices=["tiny", "smollm2"], default="tiny")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = ap.parse_args()
    header(f"MODPO vs DPO step time ({args.base})")
    import torch
    from transformers import TrainerCallback

    from trainers import MODPOTrainer, TrainingSpec
    from trainers._base import get_trainer
    from trainers._common import load_tokenizer
    from trainers._dpo import make_dpo_trainer

    torch.set_num_threads(args.threads)
    from harness.testing import build_tiny_chat_model
    from tests.trainers.conftest import CPU_ARGS, make_pairs, write_jsonl

    pairs = make_pairs()["empathy"]
    rng = np.random.default_rng(0)
    margins = rng.standard_normal(len(pairs)).tolist()

    class StepTimer(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.times: list[float] = []
            self._t = 0.0

        def on_step_begin(self, *a: Any, **k: Any) -> None:
            self._t = time.perf_counter()

        def on_step_end(self, *a: Any, **k: Any) -> None:
            self.times.append(time.perf_counter() - self._t)

    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        t = Path(tmp)
        if args.base == "tiny":
            texts = [m["content"] for r in pairs for m in r["prompt"] + r["chosen"] + r["rejected"]]
            base = build_tiny_chat_model(t / "tiny", texts * 3)
        else:
            from harness.run import ensure_smollm2

            base = ensure_smollm2()
        dpo_data = write_jsonl(t / "empathy.jsonl", pairs)
        modpo_data = write_jsonl(t / "empathy-margin.jsonl", [dict(r, margin=m) for r, m in zip(pairs, margins,
                                                                                                   strict=True)])
        train_args = {**CPU_ARGS, "max_steps": args.steps, "learning_rate": 1e-5,
                      "per_device_train_batch_size": args.batch, "logging_steps": 1}
        tok = load_tokenizer(base)

        def step_times(method: str, run_id: int) -> list[float]:
            spec = TrainingSpec(method=method, base_model=base, output_dir=t / f"{method}-{run_id}",
                           dataset=dpo_data if method == "dpo" else modpo_data, args=dict(train_args),
                           options={} if method == "dpo" else {"primary": "empathy",
                                                               "weights": {"empathy": 0.5, "safety": 0.5},
                                                               "use_dataset_margin": True})
            run = get_trainer(method).prepare(spec)
            timer = StepTimer()
            kwargs: dict[str, Any] = {"callbacks": [timer]}
            if method == "modpo":
                kwargs["trainer_class"] = MODPOTrainer
            trainer = make_dpo_trainer(spec, run.config, run.datasets["train"], tok, **kwargs)
            with contextlib.redirect_stdout(io.StringIO()):  # the trainer prints every logged step
                trainer.train()
            return timer.times[args.warmup:]

        got: dict[str, list[float]] = {"dpo": [], "modpo": []}
        for rep in range(args.repeats):
            for method in ("dpo", "modpo") if rep % 2 == 0 else ("modpo", "dpo"):
                times = step_times(method, rep)
                got[method] += times
                print(f"repeat {rep} {method:>5}: median step {1000 * statistics.median(times):.1f} ms "
                      f"({len(times)} steps)", flush=True)
    dpo, modpo = statistics.median(got["dpo"]), statistics.median(got["modpo"])
    print(f"\n| trainer | median step | steps timed |\n|---|---|---|\n| DPO | {1000 * dpo:.1f} ms | {len(got['dpo'])} |"
          f"\n| MODPO | {1000 * modpo:.1f} ms | {len(got['modpo'])} |")
    print(f"\nMODPO / DPO step time: {modpo / dpo:.3f} (base {args.base}, batch {args.batch}, "
          f"{torch.get_num_threads()} thread(s))")


if __name__ == "__main__":
    main()
