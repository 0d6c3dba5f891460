"""More preference objectives through TRL, each a config dataclass with the paper recipe and its equation.

With Δ = [log πθ(y_w|x) - log π_ref(y_w|x)] - [log πθ(y_l|x) - log π_ref(y_l|x)] (log-probs summed over the
response tokens) and σ the logistic function:

- `ipo` (Azar et al. 2024, "A general theoretical paradigm...", Eq. 17), TRL `loss_type="ipo"`:
  L = (Δ̄ - 1/(2τ))², τ = `beta`, where TRL averages each log-ratio over its response tokens (Δ̄; the IPO
  authors' normalisation, per TRL's source).
- `hinge_dpo` (SLiC, Zhao et al. 2023, Eq. 3 with the DPO log-ratio), TRL `loss_type="hinge"`:
  L = max(0, 1 - β·Δ).
- `robust_dpo` (rDPO, Chowdhury et al. 2024, Eq. 12), TRL `loss_type="robust"`, with label-flip rate ε =
  `label_smoothing`: L = [-(1-ε)·log σ(β·Δ) + ε·log σ(-β·Δ)] / (1 - 2ε).
- `cpo` (Xu et al. 2024, "Contrastive preference optimization", Eq. 3 + NLL), no reference model, log-probs
  summed: L = -log σ(β·[log πθ(y_w|x) - log πθ(y_l|x)]) + α·NLL(y_w), α = `cpo_alpha`.
- `simpo` (Meng et al. 2024, Eq. 6), CPO's trainer with `loss_type="simpo"`, `cpo_alpha = 0`, log-probs averaged
  over response tokens (l̄): L = -log σ(β·[l̄(y_w) - l̄(y_l)] - γ), γ = `simpo_gamma`.
- `orpo` (Hong et al. 2024, Eq. 6-7), no reference model, l̄ averaged: odds(y) = exp(l̄)/(1 - exp(l̄)),
  L = NLL(y_w) - λ·log σ(log odds(y_w) - log odds(y_l)), λ = `beta`; TRL's NLL is the token-mean cross-entropy
  of the whole chosen sequence, prompt included (the paper's L_SFT covers the response).
- `kto` (Ethayarajh et al. 2024, Eq. 8), TRL's KTOTrainer on unpaired rows made from the pairs (chosen ->
  desirable, rejected -> undesirable), r = log πθ(y|x) - log π_ref(y|x), z0 = max(0, KL estimate of the batch):
  L = w_d·(1 - σ(β·(r - z0))) for desirable, w_u·(1 - σ(β·(z0 - r))) for undesirable responses.

CPO, SimPO and ORPO live in `trl.experimental` in TRL 1.16 (pinned): their API may change with TRL; the tests in
tests/trainers/test_trainers_losses.py check every loss against its equation on a hand batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from trl import KTOConfig, KTOTrainer
from trl.experimental.cpo import CPOConfig, CPOTrainer
from trl.experimental.orpo import ORPOConfig, ORPOTrainer

from harness.core import InputError
from trainers._base import PreparedRun, TrainingSpec, TrainOutput, register_trainer
from trainers._common import (
    PAPER_BETA,
    PAPER_POLICY_LR,
    PaperPolicyRecipe,
    build_config,
    load_tokenizer,
    log_metrics,
    resolve_precision,
    resume_checkpoint,
    save_causal_lm,
)
from trainers._data import check_options
from trainers._dpo import DPOMethod, DPOTrainConfig, data_file, load_preference_data

logger = logging.getLogger(__name__)


def _one_loss(cfg: Any, name: str) -> None:
    if list(cfg.loss_type) != [name]:
        raise ValueError(f"{type(cfg).__name__} is the {name!r} loss; use another method for loss_type {cfg.loss_type}")


@dataclass
class IPOConfig(DPOTrainConfig):
    """DPO's trainer with the IPO loss (Azar et al. 2024, Eq. 17): L = (Δ̄ - 1/(2τ))², τ = `beta`."""

    loss_type: list[str] = field(default_factory=lambda: ["ipo"], metadata={"help": "Fixed: ['ipo']."})

    def __post_init__(self) -> None:
        super().__post_init__()
        _one_loss(self, "ipo")


@dataclass
class HingeDPOConfig(DPOTrainConfig):
    """DPO's trainer with the SLiC hinge loss (Zhao et al. 2023): L = max(0, 1 - β·Δ)."""

    loss_type: list[str] = field(default_factory=lambda: ["hinge"], metadata={"help": "Fixed: ['hinge']."})

    def __post_init__(self) -> None:
        super().__post_init__()
        _one_loss(self, "hinge")


@dataclass
class RobustDPOConfig(DPOTrainConfig):
    """rDPO (Chowdhury et al. 2024, Eq. 12): DPO corrected for preference labels flipped with rate ε."""

    loss_type: list[str] = field(default_factory=lambda: ["robust"], metadata={"help": "Fixed: ['robust']."})
    label_smoothing: float = field(
        default=0.1, metadata={"help": "ε, the assumed rate of flipped preference labels, in (0, 0.5)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        _one_loss(self, "robust")
        if not 0.0 < self.label_smoothing < 0.5:
            raise ValueError(f"label_smoothing (the flip rate ε) must be in (0, 0.5), got {self.label_smoothing}")


@register_trainer("ipo")
class IPOMethod(DPOMethod):
    """`method = "ipo"`: IPO on one criterion's pairs."""

    config_class = IPOConfig


@register_trainer("hinge_dpo")
class HingeDPOMethod(DPOMethod):
    """`method = "hinge_dpo"`: the SLiC hinge loss on the DPO log-ratio."""

    config_class = HingeDPOConfig


@register_trainer("robust_dpo")
class RobustDPOMethod(DPOMethod):
    """`method = "robust_dpo"`: rDPO, robust to a known rate of flipped labels."""

    config_class = RobustDPOConfig


@dataclass
class CPOTrainConfig(PaperPolicyRecipe, CPOConfig):  # type: ignore[misc]
    """TRL `CPOConfig` (reference-free; Xu et al. 2024) with the paper's policy schedule as defaults."""

    learning_rate: float = field(default=PAPER_POLICY_LR, metadata={"help": "AdamW learning rate (paper: 5e-6)."})
    beta: float = field(default=PAPER_BETA, metadata={"help": "β of the preference term."})
    loss_type: str = field(default="sigmoid", metadata={"help": "Fixed: 'sigmoid' (CPO)."})

    def __post_init__(self) -> None:
        resolve_precision(self)
        super().__post_init__()
        if self.loss_type != "sigmoid":
            raise ValueError(f"method cpo uses loss_type 'sigmoid' (simpo is its own method), got {self.loss_type!r}")


@dataclass
class SimPOConfig(CPOTrainConfig):
    """SimPO (Meng et al. 2024): length-averaged log-probs with a target margin γ, no reference, no NLL term."""

    loss_type: str = field(default="simpo", metadata={"help": "Fixed: 'simpo'."})
    beta: float = field(default=2.0, metadata={"help": "β of SimPO (the paper's range 2.0-2.5)."})
    simpo_gamma: float = field(default=0.5, metadata={"help": "Target reward margin γ (TRL default 0.5)."})
    cpo_alpha: float = field(default=0.0, metadata={"help": "NLL weight; 0 is pure SimPO."})

    def __post_init__(self) -> None:
        resolve_precision(self)
        CPOConfig.__post_init__(self)
        if self.loss_type != "simpo":
            raise ValueError(f"SimPOConfig is the 'simpo' loss, got {self.loss_type!r}")


@dataclass
class ORPOTrainConfig(PaperPolicyRecipe, ORPOConfig):  # type: ignore[misc]
    """TRL `ORPOConfig` (Hong et al. 2024; reference-free, odds-ratio term weighted by λ = `beta`)."""

    learning_rate: float = field(default=PAPER_POLICY_LR, metadata={"help": "AdamW learning rate (paper: 5e-6)."})
    beta: float = field(default=PAPER_BETA, metadata={"help": "λ, the weight of the odds-ratio term (ORPO: 0.1)."})

    def __post_init__(self) -> None:
        resolve_precision(self)
        super().__post_init__()


@dataclass
class KTOTrainConfig(PaperPolicyRecipe, KTOConfig):  # type: ignore[misc]
    """TRL `KTOConfig` (Ethayarajh et al. 2024) with the paper's schedule; pairs become unpaired examples."""

    learning_rate: float = field(default=PAPER_POLICY_LR, metadata={"help": "AdamW learning rate (paper: 5e-6)."})
    beta: float = field(default=PAPER_BETA, metadata={"help": "β of KTO."})

    def __post_init__(self) -> None:
        resolve_precision(self)
        super().__post_init__()
        if self.per_device_train_batch_size < 2:
            raise ValueError("KTO estimates its KL term from mismatched pairs in a batch: use a batch of >= 2")


def kto_rows(ds: Any) -> Any:
    """Unpaired KTO rows from preference pairs: (prompt, chosen, label True) and (prompt, rejected, False)."""
    from datasets import Dataset

    rows = []
    for r in ds:
        rows.append({"prompt": r["prompt"], "completion": r["chosen"], "label": True})
        rows.append({"prompt": r["prompt"], "completion": r["rejected"], "label": False})
    return Dataset.from_list(rows)


class _ReferenceFreeMethod:
    """CPO / SimPO / ORPO / KTO: one criterion's pairs through a TRL trainer, saved like DPO."""

    config_class: type
    trainer_class: type
    metric_keys: tuple[str, ...] = ()

    def prepare(self, spec: TrainingSpec) -> PreparedRun:
        """Load and check the pairs, build the config (QLoRA is refused where the TRL trainer has no hook)."""
        check_options(spec, ())
        ds = load_preference_data(spec.dataset, spec)
        if spec.lora is not None and spec.lora.quantization != "none" and self.trainer_class is not KTOTrainer:
            raise InputError(spec.source, "lora.quantization", spec.lora.quantization,
                             f"{spec.method} (trl.experimental) takes no quantisation config",
                             'set quantization = "none", or use dpo / ipo / kto for QLoRA')
        config: Any = build_config(self.config_class, spec)
        return PreparedRun(spec=spec, config=config, datasets={"train": ds},
                           data_files={"train": data_file(spec.dataset)})

    def train(self, run: PreparedRun) -> TrainOutput:
        """Train with the TRL trainer and save (adapter + merged copy for LoRA)."""
        spec = run.spec
        tok = load_tokenizer(spec.base_model)
        ds = run.datasets["train"]
        kwargs: dict[str, Any] = {}
        if self.trainer_class is KTOTrainer:
            ds = kto_rows(ds)
            kwargs["quantization_config"] = spec.lora.quantization_config() if spec.lora else None
        trainer = self.trainer_class(model=str(spec.base_model), args=run.config, train_dataset=ds,
                                     processing_class=tok, peft_config=spec.lora.to_peft() if spec.lora else None,
                                     **kwargs)
        trainer.train(resume_from_checkpoint=resume_checkpoint(run, trainer.args.output_dir))
        return save_causal_lm(trainer, spec, tok, log_metrics(trainer.state.log_history, self.metric_keys))


@register_trainer("cpo")
class CPOMethod(_ReferenceFreeMethod):
    """`method = "cpo"`: contrastive preference optimisation (no reference model)."""

    config_class = CPOTrainConfig
    trainer_class = CPOTrainer
    metric_keys = ("rewards/accuracies", "rewards/margins", "nll_loss")


@register_trainer("simpo")
class SimPOMethod(_ReferenceFreeMethod):
    """`method = "simpo"`: SimPO (length-normalised, reference-free, margin γ)."""

    config_class = SimPOConfig
    trainer_class = CPOTrainer
    metric_keys = ("rewards/accuracies", "rewards/margins")


@register_trainer("orpo")
class ORPOMethod(_ReferenceFreeMethod):
    """`method = "orpo"`: odds-ratio preference optimisation (SFT + odds-ratio term, no reference)."""

    config_class = ORPOTrainConfig
    trainer_class = ORPOTrainer
    metric_keys = ("rewards/accuracies", "log_odds_ratio", "nll_loss")


@register_trainer("kto")
class KTOMethod(_ReferenceFreeMethod):
    """`method = "kto"`: Kahneman-Tversky optimisation on the pairs taken apart (desirable / undesirable)."""

    config_class = KTOTrainConfig
    trainer_class = KTOTrainer
    metric_keys = ("rewards/chosen", "rewards/rejected", "kl")

