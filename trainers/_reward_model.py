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
    resume_checkpoint,
)
from trainers._data import check_options, is_conversational_row, load_pairs
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
    heldout_fraction: float = field(
        default=0.1,
        metadata={
            "help": "Share of each criterion's pairs held out (seeded by `seed`) for accuracy and calibration "
            "in the manifest, evaluation during training (`eval_strategy`), and MODPO's chance check and "
            "`heldout_std` margin scale. 0 = none (then MODPO refuses the reward model as unchecked)."
        },
    )

    def __post_init__(self) -> None:
        resolve_precision(self)
        super().__post_init__()
        if not 0.0 <= self.heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction must be in [0, 1), got {self.heldout_fraction}")


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
    heldout: dict[str, Any] | None = None
    """Accuracy, calibration and score spread on its own held-out pairs (`HeldoutReport.to_dict`), if any."""

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
            heldout=meta.get("heldout"),
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


CHANCE_ALPHA = 0.05
"""A reward model is "at chance" when a one-sided binomial test cannot reject accuracy 0.5 at this level."""


@dataclass
class HeldoutReport:
    """How well a reward model orders its held-out pairs, and how calibrated P(chosen > rejected) is."""

    n: int
    accuracy: float
    """Share of pairs with r(x, y_w) > r(x, y_l)."""
    brier: float
    """Brier score of p = σ(r_w - r_l) as P(y_w preferred): mean (1 - p)²; 0.25 is a constant 0.5."""
    ece: float
    """Expected calibration error, 10 equal-width bins, over both orders of every pair (see `heldout_report`)."""
    p_value: float
    """One-sided exact binomial test of accuracy > 0.5 (scipy.stats.binomtest)."""
    score_std: float
    """Standard deviation of the scores of all held-out responses (chosen and rejected): the reward model's own
    spread, used by MODPO's `heldout_std` margin scale."""

    @property
    def at_chance(self) -> bool:
        """True when the held-out pairs do not show the model beats a coin (p >= `CHANCE_ALPHA`)."""
        return not self.p_value < CHANCE_ALPHA

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "accuracy": self.accuracy, "brier": self.brier, "ece": self.ece,
                "p_value": self.p_value, "score_std": self.score_std, "at_chance": self.at_chance}


def heldout_report(r_chosen: torch.Tensor, r_rejected: torch.Tensor, bins: int = 10) -> HeldoutReport:
    """Accuracy, Brier score, ECE and a binomial test for reward scores of held-out pairs.

    With p_i = σ(r_w,i - r_l,i), the Bradley-Terry probability that the chosen response is preferred:
    Brier = (1/n) Σ (1 - p_i)² (Brier, 1950); ECE = Σ_b (|B_b|/N) |acc(B_b) - conf(B_b)| over N = 2n items,
    each pair entering in both orders as (p_i, label 1) and (1 - p_i, label 0) so that the labels are not all
    one class (Guo et al., 2017, "On calibration of modern neural networks", Eq. 3). ECE is hand-written here:
    scipy/statsmodels have no ECE; the Brier score is checked against scikit-learn in the tests.
    """
    from scipy.stats import binomtest

    diff = (r_chosen.double() - r_rejected.double())
    n = int(diff.numel())
    if n == 0:
        raise ValueError("no held-out pairs")
    p = torch.sigmoid(diff)
    correct = int((diff > 0).sum())
    conf = torch.cat([p, 1 - p])
    label = torch.cat([torch.ones(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)])
    idx = torch.clamp((conf * bins).long(), max=bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            ece += float(sel.double().mean()) * abs(float(label[sel].mean()) - float(conf[sel].mean()))
    scores = torch.cat([r_chosen.double(), r_rejected.double()])
    return HeldoutReport(
        n=n,
        accuracy=correct / n,
        brier=float(((1 - p) ** 2).mean()),
        ece=ece,
        p_value=float(binomtest(correct, n, 0.5, alternative="greater").pvalue),
        score_std=float(scores.std()) if scores.numel() > 1 else 0.0,
    )


def split_heldout(ds: Any, fraction: float, seed: int) -> tuple[Any, Any | None]:
    """A seeded `(train, heldout)` split of preference pairs (`heldout` is `None` for fraction 0 or too few
    pairs to hold out one)."""
    n_out = int(round(len(ds) * fraction))
    if fraction <= 0 or n_out < 1 or len(ds) - n_out < 1:
        return ds, None
    parts = ds.train_test_split(test_size=n_out, seed=seed, shuffle=True)
    return parts["train"], parts["test"]


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
            ds = load_pairs(path, crit, spec.source, f"dataset.{crit}")
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
        for crit, ds in datasets.items():
            train, held = split_heldout(ds, config.heldout_fraction, config.seed)
            if held is None and config.eval_strategy != "no":
                raise InputError(spec.source, "args.eval_strategy", str(config.eval_strategy),
                                 f"evaluation needs held-out pairs, and {crit!r} has none "
                                 f"(heldout_fraction = {config.heldout_fraction}, {len(ds)} pairs)",
                                 'set heldout_fraction = 0.1 (or more), or eval_strategy = "no"')
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
            train_ds, held = split_heldout(ds, config.heldout_fraction, config.seed)
            trainer = RewardTrainer(
                model=str(spec.base_model), args=config, train_dataset=train_ds, eval_dataset=held,
                processing_class=tok,
                callbacks=[TrainingProgress(f"{spec.method} {spec.name or spec.output_dir.name} ({crit})")],
            )
            trainer.train(resume_from_checkpoint=resume_checkpoint(run, config.output_dir))
            kept = len(trainer.train_dataset)  # type: ignore[arg-type]
            if kept < len(train_ds):
                logger.warning(
                    "reward model %s: %d of %d pairs were longer than max_length=%s and dropped",
                    crit,
                    len(train_ds) - kept,
                    len(train_ds),
                    config.max_length,
                )
            trainer.save_model(str(out))
            fmt = row_format(ds[0])
            if not trainer.accelerator.is_main_process:
                continue
            report = None
            if held is not None:
                assert trainer.model is not None
                scorer = RewardModel(criterion=crit, model=trainer.model.eval(), tokenizer=tok, fmt=fmt,
                                     max_length=config.max_length, path=out)
                report = heldout_report(scorer.score(held["prompt"], held["chosen"]),
                                        scorer.score(held["prompt"], held["rejected"]))
                for key in ("accuracy", "brier", "ece", "p_value"):
                    metrics[f"{crit}/heldout_{key}"] = float(getattr(report, key))
                if report.at_chance:
                    run.warnings.append(
                        f"reward model {crit!r} is at chance on its {report.n} held-out pairs (accuracy "
                        f"{report.accuracy:.2f}, binomial p = {report.p_value:.2g}): MODPO refuses it as a margin")
            else:
                run.warnings.append(f"reward model {crit!r} has no held-out pairs: its accuracy is unchecked")
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
                        "heldout": report.to_dict() if report is not None else None,
                        "heldout_fraction": config.heldout_fraction,
                        "seed": config.seed,
                    },
                    indent=2,
                ),
                encoding="utf-8",
            )
            logged = log_metrics(trainer.state.log_history, ("accuracy", "margin", "eval_loss", "eval_accuracy"))
            for key, value in logged.items():
                metrics[f"{crit}/{key}"] = value
            details["reward_models"][crit] = {"path": str(out.resolve()), "pairs_used": kept,
                                              "heldout": report.to_dict() if report is not None else None}
        return TrainOutput(model_dir=None, metrics=metrics, details=details)
