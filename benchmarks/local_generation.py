"""Local generation throughput on CPU: batched vs one-by-one generation for `hf` candidates (SmolLM2-135M).

1. transformers `generate` directly: greedy, exactly `--new-tokens` new tokens per prompt (min = max), left
   padding, chat-templated scenario prompts; tokens/s at batch 1 and at each `--batches` size, as a ratio to
   batch 1 (median of `--repeats`).
2. (unless `--skip-inspect`) the inspect `hf` provider path (`builtin/smollm2` as the harness builds it,
   `harness.run.build_model`): one generate per sample of a one-turn task, `max_connections` 1 vs
   `--connections` (the provider batches concurrent requests up to `max_connections`); tokens/s from the
   log's model usage (replies may stop early at EOS, so tokens are counted, not assumed).

GPU scale-out (vLLM) is documented in docs/scale-out.md; it is not measured here.

    python benchmarks/local_generation.py                             # batch 1 vs 8/16/32, inspect 1 vs 16
    python benchmarks/local_generation.py --batches 8 --skip-inspect
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from _bench import header

SCENARIOS = Path(__file__).resolve().parents[1] / "harness" / "inputs" / "data" / "scenarios.jsonl"
SYSTEM = "You are a supportive, empathic therapist. Reply in two or three sentences."


def prompts(n: int) -> list[str]:
    rows = [json.loads(line) for line in SCENARIOS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [str(rows[i % len(rows)]["text"]) for i in range(n)]


def direct(model_dir: Path, batches: list[int], new_tokens: int, repeats: int) -> dict[int, float]:
    """tokens/s of `generate` per batch size (batch 1: four prompts one after the other)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    out: dict[int, float] = {}
    warm = tok.apply_chat_template([[{"role": "user", "content": "hi"}]], add_generation_prompt=True,
                                   return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        model.generate(**warm, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)  # warm-up
    for bs in [1, *batches]:
        n = 4 if bs == 1 else bs  # batch 1: four prompts one after the other
        texts = prompts(n)
        rates = []
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(0, n, bs):
                msgs = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": t}]
                        for t in texts[i : i + bs]]
                enc = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt",
                                              return_dict=True, padding=True)
                with torch.inference_mode():
                    model.generate(**enc, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                   pad_token_id=tok.pad_token_id)
            rates.append(n * new_tokens / (time.perf_counter() - start))
        out[bs] = statistics.median(rates)
        print(f"generate batch {bs:>3}: {out[bs]:.1f} tokens/s ({out[bs] / out[1]:.2f}x batch 1)", flush=True)
    return out


def via_inspect(connections: list[int], samples: int, new_tokens: int) -> dict[int, tuple[float, int, float]]:
    """(tokens/s, output tokens, wall) of an inspect eval of `samples` one-turn generations per max_connections."""
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.solver import generate, system_message

    from harness.inputs import ModelSpec
    from harness.run import build_model

    model = build_model(ModelSpec(model="builtin/smollm2", temperature=0.0, max_tokens=new_tokens))
    task = Task(dataset=[Sample(input=t, id=i) for i, t in enumerate(prompts(samples))],
                solver=[system_message(SYSTEM), generate()])
    out: dict[int, tuple[float, int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp:
        inspect_eval(task, model=model, limit=2, max_connections=2, display="none", log_dir=tmp)  # warm-up (load)
        for c in connections:
            start = time.perf_counter()
            log = inspect_eval(task, model=model, max_connections=c, display="none", log_dir=tmp)[0]
            wall = time.perf_counter() - start
            toks = sum(u.output_tokens for u in log.stats.model_usage.values())
            out[c] = (toks / wall, toks, wall)
            print(f"inspect hf max_connections {c:>3}: {toks} tokens in {wall:.1f} s = {toks / wall:.1f} tokens/s",
                  flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[8, 16, 32])
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16, help="inspect max_connections compared with 1")
    ap.add_argument("--samples", type=int, default=16, help="samples of the inspect task")
    ap.add_argument("--skip-inspect", action="store_true")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads (default 1: on a shared machine more threads than free cores make "
                         "OpenMP spin and generation many times slower; use the core count on a dedicated one)")
    args = ap.parse_args()
    header("local generation: batched vs one-by-one (SmolLM2-135M, CPU)")
    import torch

    from harness.run import ensure_smollm2

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads")
    model_dir = ensure_smollm2()
    rates = direct(model_dir, args.batches, args.new_tokens, args.repeats)
    inspect_rates = {} if args.skip_inspect else via_inspect([1, args.connections], args.samples, args.new_tokens)
    print("\n| path | setting | tokens/s | ratio to one-by-one |\n|---|---|---|---|")
    for bs, r in rates.items():
        print(f"| transformers generate ({args.new_tokens} new tokens forced) | batch {bs} | {r:.1f} | "
              f"{r / rates[1]:.2f} |")
    for c, (r, toks, wall) in inspect_rates.items():
        print(f"| inspect hf provider ({args.samples} samples, max_tokens {args.new_tokens}) | max_connections {c} "
              f"| {r:.1f} ({toks} tokens, {wall:.1f} s) | {r / inspect_rates[1][0]:.2f} |")


if __name__ == "__main__":
    main()
