#!/usr/bin/env bash
# GPU check of the trainers at the paper's size. NOT part of CI; needs one CUDA GPU with >= 40 GB, the project
# installed (scripts/setup.sh or `pip install -e .` with a CUDA torch), bitsandbytes, and ~20 GB free disk.
# Nothing is downloaded: the 7B-shaped model is random-initialised on the device.
#
#   bash benchmarks/gpu_check.sh                       # QLoRA step time, peak memory, DPO vs MODPO
#   VLLM_PYTHON=/path/to/vllm-env/bin/python bash benchmarks/gpu_check.sh   # + a vLLM serve answering a run
#
# What it measures (one process per part, every figure printed as "RESULT name value"):
#   1. QLoRA (4-bit NF4, double quantisation, bf16 compute; LoRA r 64, alpha 128, dropout 0.05 on the 7
#      projections: the paper's recipe) on a random-initialised model of Mistral-7B-v0.2's shape, built on the
#      GPU: mean DPO step time and peak GPU memory (torch.cuda.max_memory_allocated), batch 4, ~1k tokens/pair.
#   2. The same for MODPO (a precomputed margin column), and the MODPO / DPO step-time ratio.
#   3. With VLLM_PYTHON (vLLM lives in its own environment: it pins its own torch/transformers): `vllm serve`
#      of a random-initialised tiny chat model, and one `theraeval run` with it as a candidate
#      (openai-api/vllm/tiny), checked to have written its transcripts.
# Self-checks: every step fails loudly (set -e, explicit checks); a figure that is not finite, a run without
# transcripts or a server that never answers ends the script with a non-zero exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY="${PYTHON:-python}"
WORK="${GPU_CHECK_DIR:-$(mktemp -d -t theraeval-gpu-check-XXXX)}"
STEPS="${GPU_CHECK_STEPS:-8}"
echo "work dir: $WORK; steps per method: $STEPS"

fail() { echo "GPU CHECK FAILED: $*" >&2; exit 1; }

command -v nvidia-smi >/dev/null || fail "nvidia-smi not found: this script needs a CUDA machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$PY" - <<'EOF' || fail "the project's Python has no CUDA torch or no bitsandbytes"
import importlib.util, sys
import torch
assert torch.cuda.is_available(), "torch.cuda.is_available() is False"
assert torch.cuda.is_bf16_supported(), "the GPU has no bf16"
assert importlib.util.find_spec("bitsandbytes"), "pip install bitsandbytes"
free, total = torch.cuda.mem_get_info()
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}, "
      f"{free / 2**30:.1f} of {total / 2**30:.1f} GiB free")
if total < 40 * 2**30:
    sys.exit("needs >= 40 GiB of GPU memory for the 7B shape")
EOF

# ------------------------------------------------------------------ 1-2: QLoRA DPO and MODPO at the 7B shape
"$PY" - "$WORK" "$STEPS" <<'EOF' || fail "QLoRA DPO/MODPO measurement"
import json, math, random, sys, time
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from harness.testing import build_tiny_chat_model
from trainers import LoraSpec, TrainingSpec, run_training
from trainers._lora import PAPER_TARGET_MODULES

work, steps = Path(sys.argv[1]), int(sys.argv[2])
rng = random.Random(0)
words = ("feel tired anxious work family sleep friends support talk help listen understand hard week worry "
         "today breathe moment together notice body mind plan small step call someone safe").split()

def text(n: int) -> str:
    return " ".join(rng.choice(words) for _ in range(n))

# tokenizer: the project's local BPE (no download); the model keeps Mistral-7B-v0.2's vocab size (32000)
tok_dir = build_tiny_chat_model(work / "tok", [text(40) for _ in range(500)])
model_dir = work / "mistral7b-shape"
if not (model_dir / "config.json").is_file():
    cfg = LlamaConfig(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                      num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=32768,
                      rope_theta=1e6, rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=None,
                      eos_token_id=2, pad_token_id=0)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = LlamaForCausalLM(cfg).to(torch.bfloat16)  # random init on the GPU, ~14.5 GB in bf16
    n_params = sum(p.numel() for p in model.parameters())
    print(f"RESULT params {n_params}")
    assert 7.0e9 < n_params < 7.5e9, n_params
    model.save_pretrained(model_dir)  # QLoRA quantises at load time (bitsandbytes), so go through disk once
    del model
    torch.cuda.empty_cache()
    import shutil
    for f in tok_dir.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "chat_template")):
            shutil.copy(f, model_dir / f.name)

rows = [{"prompt": [{"role": "user", "content": text(120)}],
         "chosen": [{"role": "assistant", "content": text(330)}],
         "rejected": [{"role": "assistant", "content": text(330)}],
         "margin": rng.uniform(-1, 1)} for _ in range(4 * (steps + 2))]
data = work / "pairs.jsonl"
data.write_text("".join(json.dumps(r) + "\n" for r in rows))
lora = LoraSpec(r=64, alpha=128, dropout=0.05, target_modules=list(PAPER_TARGET_MODULES), quantization="nf4")
args = {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 1, "max_steps": steps,
        "learning_rate": 5e-6, "max_length": 1024, "bf16": True, "activation_checkpointing": True,
        "logging_steps": 1, "save_strategy": "no", "report_to": "none", "warmup_steps": 0,
        "model_init_kwargs": {"dtype": "bfloat16"}}
results = {}
for method, options in (("dpo", {}), ("modpo", {"primary": "empathy", "weights": {"empathy": 0.5, "safety": 0.5},
                                                 "use_dataset_margin": True})):
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    out = run_training(TrainingSpec(method=method, base_model=model_dir, output_dir=work / method, dataset=data,
                                    args=args, lora=lora, options=options, probe_prompts=0))
    wall = time.perf_counter() - t0
    m = json.loads((out / "manifest.json").read_text())["metrics"]
    step = m["train_runtime"] / m["global_step"]
    peak = torch.cuda.max_memory_allocated() / 2**30
    assert m["global_step"] == steps and math.isfinite(step) and step > 0, m
    assert math.isfinite(m["loss_last"]), m
    results[method] = step
    print(f"RESULT {method}_qlora_step_s {step:.3f}")
    print(f"RESULT {method}_peak_gpu_gib {peak:.2f}")
    print(f"RESULT {method}_wall_s_incl_load_merge {wall:.1f}")
ratio = results["modpo"] / results["dpo"]
assert math.isfinite(ratio)
print(f"RESULT modpo_over_dpo_step_time {ratio:.3f}")
EOF

# ------------------------------------------------------------------ 3: vLLM serve answering one theraeval run
if [[ -z "${VLLM_PYTHON:-}" ]]; then
  echo "SKIPPED vLLM part: set VLLM_PYTHON to the python of a separate environment with vllm installed"
  exit 0
fi
"$VLLM_PYTHON" -c "import vllm; print('vllm', vllm.__version__)" || fail "VLLM_PYTHON has no vllm"
"$PY" - "$WORK" <<'EOF' || fail "building the tiny model for vLLM"
import sys
from pathlib import Path
from harness.testing import build_tiny_chat_model
texts = ["I hear how hard this has been for you.", "What would help you most right now?"] * 200
build_tiny_chat_model(Path(sys.argv[1]) / "tiny", texts)
EOF
PORT="${GPU_CHECK_PORT:-8011}"
"$VLLM_PYTHON" -m vllm.entrypoints.openai.api_server --model "$WORK/tiny" --served-model-name tiny \
  --port "$PORT" --max-model-len 512 --gpu-memory-utilization 0.2 > "$WORK/vllm.log" 2>&1 &
VLLM_PID=$!
trap 'kill "$VLLM_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null && break
  kill -0 "$VLLM_PID" 2>/dev/null || { tail -20 "$WORK/vllm.log"; fail "vllm serve exited"; }
  sleep 2
done
curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null || fail "vllm serve did not answer in 240 s"
cat > "$WORK/vllm_run.toml" <<EOF
[run]
name = "vllm_check"
output_dir = "$WORK/runs"
[data]
scenario_ids = ["anxiety-001"]
criteria_ids = ["empathy"]
[judge]
model = "scripted/judge-longer"
[[candidates]]
name = "warm"
model = "scripted/therapist-warm"
[[candidates]]
name = "vllm-tiny"
model = "openai-api/vllm/tiny"
base_url = "http://127.0.0.1:$PORT/v1"
max_tokens = 32
temperature = 0
EOF
VLLM_API_KEY=local-server-needs-no-key "$PY" -m harness.cli run "$WORK/vllm_run.toml" --display plain \
  || fail "theraeval run against vllm serve"
"$PY" - "$WORK/runs/vllm_check/transcripts.parquet" <<'EOF' || fail "the run has no transcript from vllm"
import sys
import pandas as pd
tr = pd.read_parquet(sys.argv[1])
rows = tr[tr.candidate == "vllm-tiny"]
assert len(rows) >= 1, "no vllm-tiny transcript"
print(f"RESULT vllm_candidate_transcripts {len(rows)}")
EOF
echo "GPU CHECK PASSED"
