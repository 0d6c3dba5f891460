"""Helpers shared by the method modules: paper defaults, precision, config building, saving, metrics."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.core import InputError
from trainers._base import TrainingSpec, TrainOutput

logger = logging.getLogger(__name__)

# The paper's shared policy recipe (DPO, MODPO, joint loss; SFT uses lr 2e-5), Beikzadeh et al. 2026, arXiv:2602.16053.
PAPER_BETA = 0.1
PAPER_POLICY_LR = 5e-6
PAPER_SFT_LR = 2e-5
PAPER_BATCH_SIZE = 4
PAPER_GRAD_ACCUM = 4
PAPER_EPOCHS = 3.0
PAPER_MAX_LENGTH = 1024
PAPER_WEIGHT_DECAY = 0.01
PAPER_WARMUP = 0.1
PAPER_SCHEDULER = "cosine"

PRECISION_HELP = (
    "Use bf16 mixed precision. Unset (default): on when a bf16-capable CUDA GPU is present, off otherwise "
    "(TRL's own default, always on, raises on CPU-only machines)."
)

_C = TypeVar("_C")
_T = TypeVar("_T")


@dataclass
class PaperPolicyRecipe:
    """The paper's policy-training schedule (Beikzadeh et al. 2026, arXiv:2602.16053) as field defaults.

    Mixed in before a TRL config (`class SFTTrainConfig(PaperPolicyRecipe, SFTConfig)`), so its fields override
    TrainingArguments' defaults; each method keeps its own learning rate and loss parameters.
    """

    per_device_train_batch_size: int = field(
        default=PAPER_BATCH_SIZE,
        metadata={"help": "Examples (preference pairs for DPO) per device per step (paper: 4)."},
    )
    gradient_accumulation_steps: int = field(
        default=PAPER_GRAD_ACCUM,
        metadata={"help": "Gradient accumulation steps (paper: 4, effective batch 16)."},
    )
    num_train_epochs: float = field(default=PAPER_EPOCHS, metadata={"help": "Training epochs (paper: 3)."})
    weight_decay: float = field(
        default=PAPER_WEIGHT_DECAY, metadata={"help": "AdamW weight decay (paper: 0.01)."}
    )
    warmup_steps: float = field(
        default=PAPER_WARMUP,
        metadata={"help": "Warm-up: steps if >= 1, else a fraction of all steps (paper: 0.1)."},
    )
    lr_scheduler_type: str = field(
        default=PAPER_SCHEDULER, metadata={"help": "Learning-rate schedule (paper: cosine)."}
    )
    max_length: int | None = field(
        default=PAPER_MAX_LENGTH,
        metadata={"help": "Maximum tokens of prompt+response, truncated beyond (paper: 1024)."},
    )
    bf16: bool | None = field(default=None, metadata={"help": PRECISION_HELP})


def resolve_precision(cfg: Any) -> None:
    """Turn TRL's `bf16=None` ("always bf16") into "bf16 where the hardware has it", before validation."""
    if cfg.bf16 is None:
        if cfg.fp16:
            cfg.bf16 = False
        else:
            import torch

            cfg.bf16 = bool(not cfg.use_cpu and torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def build_config(config_class: type[_C], spec: TrainingSpec, overrides: dict[str, Any] | None = None) -> _C:
    """Instantiate `config_class` from the TOML `[args]` table plus method-section `overrides`.

    `output_dir` defaults to `<run output_dir>/checkpoints`; `run_name` to the run's name.

    Raises:
        InputError: an unknown field, or a value the config's validation rejects.
    """
    args = dict(spec.args)
    known = {f.name for f in dataclasses.fields(config_class)}  # type: ignore[arg-type]
    for key, value in args.items():
        if key not in known:
            raise InputError(
                spec.source,
                f"args.{key}",
                value,
                f"not a field of {config_class.__name__}",
                f"remove it, or use one of the fields documented in {config_class.__name__}",
            )
    args.update(overrides or {})
    args.setdefault("output_dir", str(spec.output_dir / "checkpoints"))
    if "run_name" in known:
        args.setdefault("run_name", spec.name)
    try:
        return config_class(**args)
    except (ValueError, TypeError) as e:
        bad = next((k for k in spec.args if k in str(e)), None)
        raise InputError(
            spec.source,
            f"args.{bad}" if bad else "args",
            spec.args.get(bad) if bad else None,
            f"{config_class.__name__} rejected it: {e}",
            "fix the value (see the field's help in the config class)",
        ) from None


def load_tokenizer(path: Path) -> Any:
    """Load the tokenizer of a local model directory and make sure it has a pad token."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def trl_trainer(trainer_class: type[_T], spec: TrainingSpec, config: Any, dataset: Any, tokenizer: Any,
                **kwargs: Any) -> _T:
    """A TRL-style trainer on `spec.base_model` (read from disk by TRL), with the spec's LoRA / QLoRA settings
    and progress lines (`trainers._progress`)."""
    from trainers._progress import TrainingProgress

    kwargs["callbacks"] = [*(kwargs.get("callbacks") or []),
                           TrainingProgress(f"{spec.method} {spec.name or spec.output_dir.name}")]
    return trainer_class(  # type: ignore[call-arg]
        model=str(spec.base_model),
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=spec.lora.to_peft() if spec.lora else None,
        quantization_config=spec.lora.quantization_config() if spec.lora else None,
        **kwargs,
    )


def log_metrics(log_history: list[dict[str, Any]], keys: tuple[str, ...] = ()) -> dict[str, float]:
    """Summarise a HF `Trainer.state.log_history`: first/last logged loss, last value of `keys`, runtime."""
    out: dict[str, float] = {}
    losses = [float(h["loss"]) for h in log_history if "loss" in h and "train_loss" not in h]
    if losses:
        out["loss_first"] = losses[0]
        out["loss_last"] = losses[-1]
    for key in keys:
        values = [float(h[key]) for h in log_history if key in h]
        if values:
            out[f"{key}_first"] = values[0]
            out[f"{key}_last"] = values[-1]
    for h in log_history:
        for key in ("train_loss", "train_runtime", "train_steps_per_second", "epoch"):
            if key in h and isinstance(h[key], int | float) and math.isfinite(h[key]):
                out[key] = float(h[key])
        if "step" in h:
            out["global_step"] = float(h["step"])
    return out


def save_causal_lm(
    trainer: Any,
    spec: TrainingSpec,
    tokenizer: Any,
    metrics: dict[str, float],
    details: dict[str, Any] | None = None,
) -> TrainOutput:
    """Save a trained causal LM so `AutoModelForCausalLM.from_pretrained(spec.output_dir)` loads it.

    Full fine-tuning: the model goes into `output_dir`. LoRA: the adapter into `output_dir/adapter`, then
    the base model is reloaded *unquantised* from disk, the adapter merged into it, and the merged weights
    saved into `output_dir` (so a QLoRA run still gives a plain bf16/fp32 model; the paper's shift from NF4
    training to a 16-bit merged model is inherent to QLoRA).
    """
    out = spec.output_dir
    out.mkdir(parents=True, exist_ok=True)
    main = trainer.accelerator.is_main_process
    if spec.lora is None:
        trainer.save_model(str(out))  # every process: FSDP/DeepSpeed gather the weights here
        if main:
            tokenizer.save_pretrained(str(out))
        return TrainOutput(model_dir=out, metrics=metrics, details=details or {})
    adapter_dir = out / "adapter"
    trainer.save_model(str(adapter_dir))
    if main:
        tokenizer.save_pretrained(str(adapter_dir))
        merge_adapter(spec.base_model, adapter_dir, out, tokenizer)
    trainer.accelerator.wait_for_everyone()
    return TrainOutput(model_dir=out, adapter_dir=adapter_dir, metrics=metrics, details=details or {})


def merge_adapter(base_model: Path, adapter_dir: Path, out_dir: Path, tokenizer: Any) -> None:
    """Merge a LoRA adapter into an unquantised copy of `base_model` and save a plain model directory."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(base_model), dtype="auto")
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    logger.info("merged adapter %s into %s -> %s", adapter_dir, base_model, out_dir)


def resume_checkpoint(run: Any, checkpoint_dir: str | Path | None) -> str | None:
    """The last `checkpoint-*` under `checkpoint_dir` when `run.resume` (an interrupted run of the same
    config), for `Trainer.train(resume_from_checkpoint=...)`; else `None`."""
    if not getattr(run, "resume", False) or checkpoint_dir is None or not Path(checkpoint_dir).is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(str(checkpoint_dir))
    if last:
        logger.info("resuming from %s", last)
    return last


def clear_output_dir(out: Path, keep_checkpoints: bool = False) -> None:
    """Remove model files a previous run left in `out` (keeps unrelated files the user put there, and
    `checkpoints/` when resuming)."""
    for name in ("adapter", "adapter_tmp") + (() if keep_checkpoints else ("checkpoints",)):
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    for pattern in (
        "*.safetensors",
        "*.bin",
        "config.json",
        "generation_config.json",
        "tokenizer*.json",
        "chat_template.jinja",
        "special_tokens_map.json",
        "manifest.json",
        "candidate.toml",
    ):
        for p in out.glob(pattern):
            p.unlink()


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object from `path`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data
