"""DPO soup ("Personalized Soups", Jang et al., 2023): a weighted merge of single-criterion fine-tunes.

For task vectors Δ_i = θ_i - θ_0 and weights w_i summing to 1, the soup is θ_0 + Σ_i w_i Δ_i. For LoRA the
task vector of each adapted matrix is ΔW_i = (α_i / r_i) · B_i · A_i, so adapters are merged as whole ΔW
products, never by averaging A and B separately (the authors' `merge_dpo_models.py` did that, which adds
cross terms B_i A_j), nor by scaling A and B each by w (the authors' `--merge_with` path, which gives
w²·ΔW: a half-strength 0.5/0.5 soup). See github.com/mehrabbz/MODPO-Therapeutic-AI, the soup merge script.

Two exact implementations:

- `cat` (LoRA inputs): PEFT `add_weighted_adapter(..., combination_type="cat")` stacks w_i·(α_i/r_i)·A_i and
  B_i into one adapter of rank Σ r_i, whose product is exactly Σ_i w_i ΔW_i; the merged model is saved and
  the soup adapter kept.
- `full`: θ = Σ_i w_i θ_i over full weights (equal to θ_0 + Σ_i w_i Δ_i because Σ w_i = 1); works for
  full fine-tunes and for merged LoRA runs, accumulated in float32.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from harness.core import InputError
from trainers._base import PreparedRun, TrainingSpec, TrainOutput, check_weights, register_trainer
from trainers._common import load_tokenizer, read_json

logger = logging.getLogger(__name__)

COMBINATIONS: tuple[str, ...] = ("auto", "cat", "full")


@dataclass
class SoupConfig:
    """Inputs and weights of a soup. (No TRL equivalent: this is a merge, not a training run.)"""

    models: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Runs to merge: output directories of theraeval runs (with `adapter/` for LoRA), "
            "model directories, or LoRA adapter directories."
        },
    )
    weights: list[float] = field(
        default_factory=list,
        metadata={"help": "Weight w_i per model, each in (0, 1], summing to 1 (paper's DPO_Soup: 0.5/0.5)."},
    )
    combination: str = field(
        default="auto",
        metadata={
            "help": "`cat` (exact PEFT merge of LoRA adapters), `full` (weighted average of full weights), "
            "or `auto` (`cat` when every input has a plain LoRA adapter, else `full`)."
        },
    )

    def __post_init__(self) -> None:
        if len(self.models) < 2:
            raise ValueError(f"a soup needs at least 2 models, got {self.models}")
        if len(self.weights) != len(self.models):
            raise ValueError(f"weights {self.weights} must align with models {self.models}")
        problem = check_weights({str(i): w for i, w in enumerate(self.weights)})
        if problem:
            raise ValueError(f"weights: {problem}")
        if self.combination not in COMBINATIONS:
            raise ValueError(f"combination must be one of {COMBINATIONS}, got {self.combination!r}")


def adapter_dir_of(path: Path) -> Path | None:
    """The LoRA adapter directory of a run (`<run>/adapter`) or an adapter directory itself, else `None`."""
    for cand in (path / "adapter", path):
        if (cand / "adapter_config.json").is_file():
            return cand
    return None


def _cat_compatible(adapter_dirs: list[Path]) -> str | None:
    for d in adapter_dirs:
        cfg = read_json(d / "adapter_config.json")
        if cfg.get("peft_type") != "LORA":
            return f"{d} is a {cfg.get('peft_type')} adapter, not LoRA"
        if cfg.get("use_rslora") or cfg.get("use_dora"):
            return f"{d} uses rsLoRA/DoRA, which the cat merge does not reproduce exactly"
        if cfg.get("modules_to_save"):
            return f"{d} has modules_to_save, which cannot be merged as LoRA products"
        if cfg.get("rank_pattern") or cfg.get("alpha_pattern"):
            return f"{d} has per-module rank/alpha patterns"
    return None


def soup_adapters(base_model: Path, adapter_dirs: list[Path], weights: list[float], out_dir: Path) -> Path:
    """Exact LoRA soup via PEFT `cat`; saves the merged model into `out_dir` and the soup adapter into
    `out_dir/adapter`. Returns `out_dir`.

    Raises:
        ValueError: adapters PEFT's `cat` cannot merge exactly (rsLoRA, DoRA, modules_to_save, patterns).
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    problem = _cat_compatible(adapter_dirs)
    if problem:
        raise ValueError(problem)
    base = AutoModelForCausalLM.from_pretrained(str(base_model), dtype="auto")
    names = [f"model_{i}" for i in range(len(adapter_dirs))]
    pm = PeftModel.from_pretrained(base, str(adapter_dirs[0]), adapter_name=names[0])
    for name, d in zip(names[1:], adapter_dirs[1:], strict=True):
        pm.load_adapter(str(d), adapter_name=name)
    pm.add_weighted_adapter(names, [float(w) for w in weights], adapter_name="soup", combination_type="cat")
    pm.set_adapter("soup")
    for name in names:
        pm.delete_adapter(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    pm.save_pretrained(str(out_dir / "adapter_tmp"))
    merged = pm.merge_and_unload()
    merged.save_pretrained(str(out_dir))
    saved = out_dir / "adapter_tmp" / "soup"
    target = out_dir / "adapter"
    (saved if saved.is_dir() else out_dir / "adapter_tmp").rename(target)
    if (out_dir / "adapter_tmp").exists():
        import shutil

        shutil.rmtree(out_dir / "adapter_tmp")
    return out_dir


def _full_state_dict(path: Path, base_model: Path | None) -> dict[str, torch.Tensor]:
    from transformers import AutoModelForCausalLM

    adapter = adapter_dir_of(path)
    if (path / "config.json").is_file():
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype="auto")
    elif adapter is not None and base_model is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(
            AutoModelForCausalLM.from_pretrained(str(base_model), dtype="auto"), str(adapter)
        ).merge_and_unload()
    else:
        raise ValueError(f"{path} is neither a model directory nor a LoRA adapter")
    return {k: v.detach() for k, v in model.state_dict().items()}


def soup_full_weights(
    model_dirs: list[Path], weights: list[float], out_dir: Path, base_model: Path | None = None
) -> Path:
    """θ = Σ_i w_i θ_i over full weights (float32 accumulation), saved as a model directory in `out_dir`.

    Inputs that are only LoRA adapters are merged into `base_model` first.

    Raises:
        ValueError: the models do not share parameter names and shapes (different bases).
    """
    from transformers import AutoModelForCausalLM

    acc: dict[str, torch.Tensor] = {}
    dtypes: dict[str, torch.dtype] = {}
    for i, (path, w) in enumerate(zip(model_dirs, weights, strict=True)):
        sd = _full_state_dict(path, base_model)
        if i == 0:
            acc = {k: float(w) * v.to(torch.float32) for k, v in sd.items()}
            dtypes = {k: v.dtype for k, v in sd.items()}
            continue
        if set(sd) != set(acc) or any(sd[k].shape != acc[k].shape for k in acc):
            raise ValueError(
                f"{path} does not have the same parameters as {model_dirs[0]}: different base models?"
            )
        for k, v in sd.items():
            acc[k] += float(w) * v.to(torch.float32)
    first = model_dirs[0] if (model_dirs[0] / "config.json").is_file() else base_model
    model = AutoModelForCausalLM.from_pretrained(str(first), dtype="auto")
    model.load_state_dict({k: v.to(dtypes[k]) for k, v in acc.items()})
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    return out_dir


def _resolve(spec: TrainingSpec, value: Any) -> Path:
    path = Path(str(value))
    if not path.is_absolute() and spec.source is not None:
        path = (spec.source.parent / path).resolve()
    return path


@register_trainer("soup")
class SoupMethod:
    """`method = "soup"`: `[soup] models = ["runs/dpo_empathy", "runs/dpo_safety"]`, `weights = [0.5, 0.5]`
    (the merged inputs are the output directories of earlier runs)."""

    config_class = SoupConfig

    def prepare(self, spec: TrainingSpec) -> PreparedRun:
        """Validate models, weights and the combination mode."""
        if spec.args:
            raise InputError(
                spec.source,
                "args",
                spec.args,
                "a soup trains nothing and takes no [args]",
                "remove the [args] table; put models and weights under [soup]",
            )
        opts = dict(spec.options)
        for key in opts:
            if key not in ("models", "weights", "combination"):
                raise InputError(
                    spec.source,
                    f"soup.{key}",
                    opts[key],
                    "unknown soup setting",
                    "use models, weights and combination",
                )
        models = opts.get("models")
        if not isinstance(models, list) or len(models) < 2:
            raise InputError(
                spec.source,
                "soup.models",
                models,
                "a soup needs at least 2 models",
                'set [soup] models = ["<run dir 1>", "<run dir 2>"]',
            )
        weights = opts.get("weights")
        if not isinstance(weights, list) or len(weights) != len(models):
            raise InputError(
                spec.source,
                "soup.weights",
                weights,
                f"need one weight per model ({len(models)})",
                "give weights = [0.5, 0.5] aligned with models",
            )
        problem = check_weights({str(m): w for m, w in zip(models, weights, strict=True)})
        if problem:
            raise InputError(spec.source, "soup.weights", weights, problem, "make the weights sum to 1")
        paths = [_resolve(spec, m) for m in models]
        for m, p in zip(models, paths, strict=True):
            if not p.is_dir():
                raise InputError(spec.source, "soup.models", m, "not a directory", "point at a finished run")
            if not (p / "config.json").is_file() and adapter_dir_of(p) is None:
                raise InputError(
                    spec.source,
                    "soup.models",
                    m,
                    "neither a model directory nor a LoRA adapter",
                    "point at the output_dir of a dpo/modpo/sft run",
                )
        try:
            config = SoupConfig(
                models=[str(p) for p in paths],
                weights=[float(w) for w in weights],
                combination=str(opts.get("combination", "auto")),
            )
        except ValueError as e:
            raise InputError(spec.source, "soup", opts, str(e), "fix the [soup] table") from None
        if spec.lora is not None:
            raise InputError(spec.source, "lora", "table", "a soup trains nothing", "remove the [lora] table")
        return PreparedRun(spec=spec, config=config)

    def train(self, run: PreparedRun) -> TrainOutput:
        """Merge the inputs and save the soup model (and soup adapter for `cat`)."""
        config: SoupConfig = run.config
        spec = run.spec
        paths = [Path(m) for m in config.models]
        adapters = [adapter_dir_of(p) for p in paths]
        combination = config.combination
        if combination == "auto":
            plain = (
                all(a is not None for a in adapters) and _cat_compatible([a for a in adapters if a]) is None
            )
            combination = "cat" if plain else "full"
        if combination == "cat":
            if any(a is None for a in adapters):
                raise ValueError("combination='cat' needs a LoRA adapter in every soup input")
            soup_adapters(
                spec.base_model, [a for a in adapters if a is not None], config.weights, spec.output_dir
            )
            adapter_dir: Path | None = spec.output_dir / "adapter"
        else:
            soup_full_weights(paths, config.weights, spec.output_dir, base_model=spec.base_model)
            adapter_dir = None
        load_tokenizer(
            paths[0] if (paths[0] / "tokenizer_config.json").is_file() else spec.base_model
        ).save_pretrained(str(spec.output_dir))
        inputs = []
        for p in paths:
            entry: dict[str, Any] = {"path": str(p)}
            if (p / "manifest.json").is_file():
                man = read_json(p / "manifest.json")
                entry.update(method=man.get("method"), name=man.get("name"), base_model=man.get("base_model"))
            inputs.append(entry)
        logger.info("soup (%s) of %d models -> %s", combination, len(paths), spec.output_dir)
        return TrainOutput(
            model_dir=spec.output_dir,
            adapter_dir=adapter_dir,
            metrics={},
            details={"combination": combination, "weights": config.weights, "inputs": inputs},
        )
