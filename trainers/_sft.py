"""Supervised fine-tuning on preferred responses (the paper's SFT_Empathy baseline) via TRL's SFTTrainer."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trl import SFTConfig, SFTTrainer

from harness.core import InputError
from trainers._base import PreparedRun, TrainingSpec, TrainOutput, register_trainer
from trainers._common import (
    PAPER_SFT_LR,
    PaperPolicyRecipe,
    build_config,
    load_tokenizer,
    log_metrics,
    resolve_precision,
    resume_checkpoint,
    save_causal_lm,
    trl_trainer,
)
from trainers._data import check_options, load_pairs, load_rows, source_criteria

logger = logging.getLogger(__name__)


@dataclass
class SFTTrainConfig(PaperPolicyRecipe, SFTConfig):  # type: ignore[misc]
    """TRL `SFTConfig` with the paper's SFT recipe as defaults (Beikzadeh et al. 2026, arXiv:2602.16053).

    Differences from TRL's defaults: `learning_rate` 2e-5 (same), batch 4 x grad-accum 4, 3 epochs,
    `weight_decay` 0.01, 10% warmup, cosine schedule, `max_length` 1024, and bf16 only where supported.
    """

    learning_rate: float = field(
        default=PAPER_SFT_LR, metadata={"help": "AdamW learning rate (paper SFT: 2e-5)."}
    )

    def __post_init__(self) -> None:
        resolve_precision(self)
        super().__post_init__()


def to_sft_rows(ds: Any) -> Any:
    """Make SFT rows: keep `messages`/`prompt+completion`/`text` data; turn preference rows into
    `prompt` + `completion` = the chosen response (the paper trains SFT on each pair's chosen side).

    Raises:
        ValueError: none of those column layouts is present.
    """
    cols = set(ds.column_names)
    if "messages" in cols or {"prompt", "completion"} <= cols or "text" in cols:
        return ds
    if {"prompt", "chosen"} <= cols:
        keep = ["prompt", "chosen"]
        ds = ds.remove_columns([c for c in ds.column_names if c not in keep]).rename_column(
            "chosen", "completion"
        )
        return ds
    raise ValueError(f"no SFT columns in {sorted(cols)}")


@register_trainer("sft")
class SFTMethod:
    """`method = "sft"`: supervised fine-tuning on `messages`, `prompt`/`completion`, or the `chosen` side
    of preference rows (completion-only loss)."""

    config_class = SFTTrainConfig

    def prepare(self, spec: TrainingSpec) -> PreparedRun:
        """Load the data (one path) and build the config."""
        check_options(spec, ())
        if isinstance(spec.dataset, dict) and len(spec.dataset) == 1:
            spec.criterion, spec.dataset = next(iter(spec.dataset.items()))
        if not isinstance(spec.dataset, Path):
            raise InputError(
                spec.source,
                "dataset",
                spec.dataset,
                "sft takes one dataset path",
                'set dataset = "<JSONL file or datasets directory>"',
            )
        if source_criteria(spec.dataset) is not None:
            ds = load_pairs(spec.dataset, spec.criterion, spec.source, "dataset")
        else:
            ds = load_rows(spec.dataset, spec.source, "dataset")
        try:
            ds = to_sft_rows(ds)
        except ValueError:
            raise InputError(
                spec.dataset,
                "columns",
                sorted(ds.column_names),
                "no SFT columns",
                "give 'messages', 'prompt'+'completion', 'text', or preference rows 'prompt'+'chosen'",
            ) from None
        config = build_config(SFTTrainConfig, spec)
        return PreparedRun(
            spec=spec, config=config, datasets={"train": ds}, data_files={"train": spec.dataset}
        )

    def train(self, run: PreparedRun) -> TrainOutput:
        """Run TRL's SFTTrainer and save the model (plus merged copy for LoRA)."""
        spec = run.spec
        tok = load_tokenizer(spec.base_model)
        trainer = trl_trainer(SFTTrainer, spec, run.config, run.datasets["train"], tok)
        trainer.train(resume_from_checkpoint=resume_checkpoint(run, trainer.args.output_dir))
        metrics = log_metrics(trainer.state.log_history, ("mean_token_accuracy",))
        return save_causal_lm(trainer, spec, tok, metrics)
