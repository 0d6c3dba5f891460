"""One Bradley-Terry reward model per criterion (TRL RewardTrainer), and scoring in the exact training format.

Loss (Bradley & Terry, 1952; as in TRL's RewardTrainer): ``L = -log σ(r(x, y_w) - r(x, y_l))``.

The paper's code scored its reward models in a text format different from the one they were trained on
(github.com/mehrabbz/MODPO-Therapeutic-AI, alignment_training/train_modpo.py). Here every reward-model directory
carries `reward_format.json`, and `reward_input_ids`
rebuilds the token ids exactly as `RewardTrainer` built them for training; a test checks that the two agree.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from trl import RewardConfig, RewardTrainer

from harness.core import InputError
from trainers._base import PreparedRun, TrainingSpec, TrainOutput, register_trainer
from trainers._common import (
    PAPER_SCHEDULER,
    PAPER_WARMUP,
    PRECISION_HELP,
    build_config,
    load_tokenizer,
    log_metrics,
    read_json,
    resolve_precision,
)
from trainers._data import (
    PREFERENCE_COLUMNS,
    check_options,
    is_conversational_row,
    load_rows,
    require_columns,
)
from trainers._progress import TrainingProgress

logger = logging.getLogger(__name__)

REWARD_FORMAT_FILE = "reward_format.json"
REWARD_FORMAT_VERSION = 1


@dataclass
class RewardModelConfig(RewardConfig):
    """TRL `RewardConfig` with the paper's reward-model recipe as defaults (Beikzadeh et al. 2026, arXiv:2602.16053).

    Differences from TRL's defaults: `learning_rate` 2e-5 (TRL 1e-4), `weight_decay` 0.03, batch 8 x
    grad-accum 8, 5 epochs, `max_length` 512 (longer pairs are *dropped* by TRL, not truncated), 10%
    warm-up, cosine schedule, bf16 only where supported. `disable_dropout` stays on (TRL default; the paper's
    searched dropout was switched off by the same flag).
    """

    learning_rate: float = field(default=2e-5, metadata={"help": "AdamW learning rate (paper RM: 2e-5)."})
    weight_decay: float = field(default=0.03, metadata={"help": "AdamW weight decay (paper RM: 0.03)."})
    per_device_train_batch_size: int = field(
        default=8, metadata={"help": "Pairs per device per step (paper: 8)."}
    )
    gradient_accumulation_steps: int = field(
        default=8, metadata={"help": "Gradient accumulation steps (paper RM: 8, effective batch 64)."}
    )
    num_train_epochs: float = field(default=5.0, metadata={"help": "Training epochs (paper RM: 5)."})
    warmup_steps: float = field(
        default=PAPER_WARMUP,
        metadata={"help": "Warm-up: steps if >= 1, else a fraction of all steps (paper: 0.1)."},
    )
    lr_scheduler_type: str = field(
        default=PAPER_SCHEDULER, metadata={"help": "Learning-rate schedule (cosine)."}
    )
    max_length: int | None = field(
        default=512,
        metadata={"help": "Maximum tokens of prompt+response (paper RM: 512). TRL drops longer pairs."},
    )
    bf16: bool | None = field(default=None, metadata={"help": PRECISION_HELP})  # type: ignore[assignment]

    def __post_init__(self) -> None:
        resolve_precision(self)
        super().__post_init__()


def row_format(row: dict[str, Any]) -> str:
    """`conversational` (lists of messages) or `text` (strings) for a preference row."""
    return "conversational" if is_conversational_row(row, "chosen") else "text"


def reward_input_ids(tokenizer: Any, fmt: str, prompt: Any, response: Any) -> list[int]:
    """Token ids of `(prompt, response)` exactly as TRL 1.16's `RewardTrainer` tokenises a training row.

    Conversational: chat template over `prompt + response` messages (no generation prompt). Text:
    `prompt + response`, with the EOS token appended to the response unless already there.
    """
    if fmt == "conversational":
        ids = tokenizer.apply_chat_template(list(prompt) + list(response), tokenize=True, return_dict=True)
        return list(ids["input_ids"])
    eos = tokenizer.eos_token
    if eos is not None and not str(response).endswith(eos):
        response = str(response) + eos
    return list(tokenizer(text=str(prompt) + str(response))["input_ids"])


@dataclass
class RewardModel:
    """A trained reward model loaded for scoring, with the format it was trained on."""

    criterion: str
    model: Any
    tokenizer: Any
    fmt: str
    max_length: int | None
    path: Path

    @classmethod
    def load(cls, path: Path, device: Any = None) -> RewardModel:
        """Load a reward-model directory written by `method = "reward_model"` (onto `device`, default: this
        process's accelerator device).

        Raises:
            ValueError: the directory lacks `reward_format.json` (not trained by theraeval, format unknown).
        """
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        meta_path = path / REWARD_FORMAT_FILE
        if not meta_path.is_file():
            raise ValueError(
                f"{path} has no {REWARD_FORMAT_FILE}: train it with method = 'reward_model' so the "
                "scoring format is known"
            )
        meta = read_json(meta_path)
        tok = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=1).eval()
        if device is None:
            from accelerate import PartialState

            device = PartialState().device  # this process's GPU under accelerate, else CUDA/CPU
        model.to(device)
        return cls(
            criterion=str(meta["criterion"]),
            model=model,
            tokenizer=tok,
            fmt=str(meta["row_format"]),
            max_length=meta.get("max_length"),
            path=path,
        )

    @torch.inference_mode()
    def score(self, prompts: Sequence[Any], responses: Sequence[Any], batch_size: int = 16) -> torch.Tensor:
        """Rewards r(x, y) for aligned `prompts`/`responses`, right-padded like TRL's reward collator."""
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        device = next(self.model.parameters()).device
        ids = [
            reward_input_ids(self.tokenizer, self.fmt, p, r) for p, r in zip(prompts, responses, strict=True)
        ]
        too_long = sum(1 for i in ids if self.max_length is not None and len(i) > self.max_length)
        if too_long:
            logger.warning(
                "%d of %d sequences exceed the reward model's max_length %s (it never saw such "
                "lengths in training); scoring them in full",
                too_long,
                len(ids),
                self.max_length,
            )
        out = []
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            width = max(len(i) for i in chunk)
            input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(chunk), width), dtype=torch.long)
            for j, seq in enumerate(chunk):
                input_ids[j, : len(seq)] = torch.tensor(seq)
                attention[j, : len(seq)] = 1
            logits = self.model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).logits
            out.append(logits.squeeze(-1).float().cpu())
        return torch.cat(out) if out else torch.empty(0)


def reward_datasets(spec: TrainingSpec) -> dict[str, Path]:
    """Resolve `criterion -> dataset path` for a reward-model run (one table, or one path + criterion)."""
    crit = spec.options.get("criterion")
    if isinstance(spec.dataset, dict):
        if crit is not None and crit not in spec.dataset:
            raise InputError(
                spec.source,
                "reward_model.criterion",
                crit,
                "not a key of the dataset table",
                f"use one of {sorted(spec.dataset)} or drop reward_model.criterion",
            )
        return {crit: spec.dataset[crit]} if crit is not None else dict(spec.dataset)
    if isinstance(spec.dataset, Path):
        if not isinstance(crit, str) or not crit:
            raise InputError(
                spec.source,
                "reward_model.criterion",
                crit,
                "which criterion is this dataset for?",
                'add [reward_model] criterion = "<name>", or give dataset = {<criterion> = "<path>"}',
            )
        return {crit: spec.dataset}
    raise InputError(
        spec.source,
        "dataset",
        spec.dataset,
        "reward_model needs preference data",
        'set dataset = {empathy = "empathy.jsonl", safety = "safety.jsonl"}',
    )


@register_trainer("reward_model")
class RewardModelMethod:
    """`method = "reward_model"`: one Bradley-Terry reward model per criterion, in `output_dir/<criterion>`.

    There is no `candidate.toml` (a reward model is not a chat model); MODPO reads these directories.
    """

    config_class = RewardModelConfig

    def prepare(self, spec: TrainingSpec) -> PreparedRun:
        """Load and check every criterion's pairs, build the config."""
        check_options(spec, ("criterion",))
        files = reward_datasets(spec)
        datasets = {}
        for crit, path in files.items():
            if not crit.replace("_", "").isalnum():
                raise InputError(
                    spec.source,
                    "dataset",
                    crit,
                    "criterion names must be letters, digits and '_'",
                    "rename the criterion",
                )
            ds = load_rows(path, spec.source, f"dataset.{crit}")
            require_columns(ds, PREFERENCE_COLUMNS, path, "reward-model preference data")
            datasets[crit] = ds
        if spec.lora is not None:
            raise InputError(
                spec.source,
                "lora",
                "table",
                "reward models are trained with full fine-tuning here",
                "remove the [lora] table from the reward_model config",
            )
        config = build_config(RewardModelConfig, spec)
        return PreparedRun(spec=spec, config=config, datasets=datasets, data_files=files)

    def train(self, run: PreparedRun) -> TrainOutput:
        """Train one reward model per criterion; write each with its `reward_format.json`."""
        spec = run.spec
        metrics: dict[str, float] = {}
        details: dict[str, Any] = {"reward_models": {}}
        for crit, ds in run.datasets.items():
            out = spec.output_dir / crit
            config = build_config(
                RewardModelConfig, spec, {"output_dir": str(spec.output_dir / "checkpoints" / crit)}
            )
            tok = load_tokenizer(spec.base_model)
            trainer = RewardTrainer(
                model=str(spec.base_model), args=config, train_dataset=ds, processing_class=tok,
                callbacks=[TrainingProgress(f"{spec.method} {spec.name or spec.output_dir.name} ({crit})")],
            )
            trainer.train()
            kept = len(trainer.train_dataset)  # type: ignore[arg-type]
            if kept < len(ds):
                logger.warning(
                    "reward model %s: %d of %d pairs were longer than max_length=%s and dropped",
                    crit,
                    len(ds) - kept,
                    len(ds),
                    config.max_length,
                )
            trainer.save_model(str(out))
            fmt = row_format(ds[0])
            if not trainer.accelerator.is_main_process:
                continue
            tok.save_pretrained(str(out))
            (out / REWARD_FORMAT_FILE).write_text(
                json.dumps(
                    {
                        "format_version": REWARD_FORMAT_VERSION,
                        "criterion": crit,
                        "row_format": fmt,
                        "eos_token": tok.eos_token,
                        "max_length": config.max_length,
                        "base_model": str(spec.base_model),
                        "trainer": "trl.RewardTrainer",
                    },
                    indent=2,
                ),
                encoding="utf-8",
            )
            for key, value in log_metrics(trainer.state.log_history, ("accuracy", "margin")).items():
                metrics[f"{crit}/{key}"] = value
            details["reward_models"][crit] = {"path": str(out.resolve()), "pairs_used": kept}
        return TrainOutput(model_dir=None, metrics=metrics, details=details)
