"""Every TRL preference objective reachable from `theraeval train` equals its published equation on a hand batch.

The policy is moved away from the reference with seeded noise (so Δ ≠ 0), the trainer's own loss is taken on one
batch, and the equation is evaluated on log-probabilities computed independently in plain PyTorch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset

from tests.trainers.test_trainers_methods import _plain_logps
from trainers import (
    CPOTrainConfig,
    HingeDPOConfig,
    IPOConfig,
    KTOTrainConfig,
    ORPOTrainConfig,
    RobustDPOConfig,
    SimPOConfig,
    get_trainer,
)
from trainers._common import load_tokenizer
from trainers._trl_losses import kto_rows

N = 4


def _perturb(model: Any, seed: int = 1) -> None:
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))


def _args(tmp_path: Path, cpu_args: dict[str, Any]) -> dict[str, Any]:
    return {**cpu_args, "output_dir": str(tmp_path / "out"), "per_device_train_batch_size": N, "max_steps": 1}


@pytest.mark.parametrize("method", ["ipo", "hinge_dpo", "robust_dpo"])
def test_dpo_family_losses_match_their_equations(
        method: str, tiny_dir: Path, pairs: dict[str, Any], tmp_path: Path, cpu_args: dict[str, Any]) -> None:
    from transformers import AutoModelForCausalLM
    from trl import DPOTrainer

    beta, eps = 0.5, 0.2
    cls = {"ipo": IPOConfig, "hinge_dpo": HingeDPOConfig, "robust_dpo": RobustDPOConfig}[method]
    assert get_trainer(method).config_class is cls
    extra = {"label_smoothing": eps} if method == "robust_dpo" else {}
    cfg = cls(**_args(tmp_path, cpu_args), beta=beta, **extra)
    ds = Dataset.from_list(pairs["empathy"][:N])
    tr = DPOTrainer(model=str(tiny_dir), args=cfg, train_dataset=ds, processing_class=load_tokenizer(tiny_dir))
    _perturb(tr.model)
    batch = tr.data_collator([tr.train_dataset[i] for i in range(N)])
    tr.model.eval()
    with torch.no_grad():
        loss = tr.compute_loss(tr.model, dict(batch)).item()
        ids, att, comp = batch["input_ids"], batch["attention_mask"], batch["completion_mask"]
        pol = _plain_logps(tr.model, ids, att, comp)
        ref = _plain_logps(AutoModelForCausalLM.from_pretrained(tiny_dir), ids, att, comp)  # TRL: ref from disk
    ratio = pol - ref
    delta = ratio[:N] - ratio[N:]
    if method == "ipo":  # Azar et al. Eq. 17, log-ratios averaged over each response's tokens (TRL)
        n_tok = comp.sum(-1).double()
        avg = ratio / n_tok
        expected = ((avg[:N] - avg[N:] - 1 / (2 * beta)) ** 2).mean()
    elif method == "hinge_dpo":  # SLiC hinge on the DPO log-ratio
        expected = torch.relu(1 - beta * delta).mean()
    else:  # rDPO, Chowdhury et al. Eq. 12
        expected = ((-(1 - eps) * F.logsigmoid(beta * delta) + eps * F.logsigmoid(-beta * delta))
                    / (1 - 2 * eps)).mean()
    assert loss == pytest.approx(expected.item(), abs=1e-5)
    assert abs(delta).max() > 1e-3  # the policy differs from the reference: the check has teeth


def _label_logps(model: Any, ids: torch.Tensor, att: torch.Tensor, labels: torch.Tensor) -> tuple[Any, Any, Any]:
    """Σ and mean of log p(label token) over labelled positions, and the token count (plain PyTorch)."""
    logits = model(input_ids=ids, attention_mask=att).logits[:, :-1].double()
    lab = labels[:, 1:]
    mask = (lab != -100).double()
    lp = torch.log_softmax(logits, -1).gather(-1, lab.clamp(min=0)[..., None]).squeeze(-1)
    total = (lp * mask).sum(-1)
    return total, total / mask.sum(-1), mask.sum(-1)


@pytest.mark.parametrize("method", ["cpo", "simpo", "orpo"])
def test_reference_free_losses_match_their_equations(
        method: str, tiny_dir: Path, pairs: dict[str, Any], tmp_path: Path, cpu_args: dict[str, Any]) -> None:
    from trl.experimental.cpo import CPOTrainer
    from trl.experimental.orpo import ORPOTrainer

    cls = {"cpo": CPOTrainConfig, "simpo": SimPOConfig, "orpo": ORPOTrainConfig}[method]
    assert get_trainer(method).config_class is cls
    beta = {"cpo": 0.5, "simpo": 2.0, "orpo": 0.3}[method]
    cfg = cls(**_args(tmp_path, cpu_args), beta=beta)
    trainer_class = ORPOTrainer if method == "orpo" else CPOTrainer
    ds = Dataset.from_list(pairs["safety"][:N])
    tr = trainer_class(model=str(tiny_dir), args=cfg, train_dataset=ds, processing_class=load_tokenizer(tiny_dir))
    _perturb(tr.model)
    batch = next(iter(tr.get_train_dataloader()))
    tr.model.eval()
    with torch.no_grad():
        loss = tr.compute_loss(tr.model, batch).item()
        s_c, a_c, n_c = _label_logps(tr.model, batch["chosen_input_ids"], batch["chosen_attention_mask"],
                                     batch["chosen_labels"])
        s_r, a_r, _ = _label_logps(tr.model, batch["rejected_input_ids"], batch["rejected_attention_mask"],
                                   batch["rejected_labels"])
    nll = -s_c.sum() / n_c.sum()  # token-mean cross-entropy of the chosen responses
    if method == "cpo":  # Xu et al. Eq. 3 + α·NLL, summed log-probs
        expected = -F.logsigmoid(beta * (s_c - s_r)).mean() + cfg.cpo_alpha * nll
    elif method == "simpo":  # Meng et al. Eq. 6, averaged log-probs, margin γ, no NLL term
        assert cfg.cpo_alpha == 0.0
        expected = -F.logsigmoid(beta * (a_c - a_r) - cfg.simpo_gamma).mean()
    else:  # Hong et al. Eq. 6-7: NLL - λ·log σ(log odds(y_w) - log odds(y_l)), averaged log-probs
        # TRL's ORPO takes the NLL over the whole chosen sequence, prompt included (the paper: the response)
        full = batch["chosen_input_ids"].masked_fill(batch["chosen_attention_mask"] == 0, -100)
        with torch.no_grad():
            s_full, _, n_full = _label_logps(tr.model, batch["chosen_input_ids"], batch["chosen_attention_mask"], full)
        nll = -s_full.sum() / n_full.sum()
        log_odds = (a_c - a_r) - (torch.log1p(-torch.exp(a_c)) - torch.log1p(-torch.exp(a_r)))
        expected = nll - beta * F.logsigmoid(log_odds).mean()
    assert loss == pytest.approx(expected.item(), abs=1e-5)


def test_kto_loss_matches_its_equation(
        tiny_dir: Path, pairs: dict[str, Any], tmp_path: Path, cpu_args: dict[str, Any]) -> None:
    from transformers import AutoModelForCausalLM
    from trl import KTOTrainer

    beta = 0.5
    cfg = KTOTrainConfig(**_args(tmp_path, cpu_args), beta=beta)
    ds = kto_rows(Dataset.from_list(pairs["empathy"][:N]))
    assert ds["label"] == [True, False] * N
    tr = KTOTrainer(model=str(tiny_dir), args=cfg, train_dataset=ds, processing_class=load_tokenizer(tiny_dir))
    _perturb(tr.model)
    batch = next(iter(tr.get_train_dataloader()))
    tr.model.eval()
    ref_model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    with torch.no_grad():
        loss = tr.compute_loss(tr.model, dict(batch)).item()
        r = (_plain_logps(tr.model, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
             - _plain_logps(ref_model, batch["input_ids"], batch["attention_mask"], batch["completion_mask"]))
        kl = (_plain_logps(tr.model, batch["KL_input_ids"], batch["KL_attention_mask"], batch["KL_completion_mask"])
              - _plain_logps(ref_model, batch["KL_input_ids"], batch["KL_attention_mask"],
                             batch["KL_completion_mask"]))
    z0 = kl.mean().clamp(min=0)  # Ethayarajh et al.: the reference point, a batch estimate of KL(πθ || π_ref)
    good = batch["label"].bool()
    per = torch.where(good, 1 - torch.sigmoid(beta * (r - z0)), 1 - torch.sigmoid(beta * (z0 - r)))
    assert loss == pytest.approx(per.mean().item(), abs=1e-5)
    assert good.any() and (~good).any()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["simpo", "kto"])
def test_reference_free_methods_train_and_save(
        method: str, tiny_dir: Path, data_dir: Path, tmp_path: Path, cpu_args: dict[str, Any]) -> None:
    import json

    from trainers import LoraSpec, TrainingSpec, run_training

    out = run_training(TrainingSpec(
        method=method, base_model=tiny_dir, output_dir=tmp_path / method, probe_prompts=0,
        dataset={"empathy": data_dir / "empathy.jsonl"},
        args={**cpu_args, "max_steps": 2, "learning_rate": 1e-3},
        lora=LoraSpec(r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"])))
    man = json.loads((out / "manifest.json").read_text())
    assert man["method"] == method and man["criterion"] == "empathy" and man["metrics"]["global_step"] == 2.0
    assert (out / "adapter" / "adapter_config.json").is_file() and (out / "config.json").is_file()
