"""Each method trains on the tiny model, and the losses match independent reference computations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset

from trainers import (
    JointLossConfig,
    JointLossTrainer,
    LoraSpec,
    MarginCollator,
    MODPOConfig,
    MODPOTrainer,
    RewardModel,
    RewardModelConfig,
    TrainingSpec,
    compute_margins,
    reward_input_ids,
    run_training,
)
from trainers._common import load_tokenizer

LORA = LoraSpec(r=8, alpha=16, dropout=0.0, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])


def _metrics(run_dir: Path) -> dict[str, float]:
    return json.loads((run_dir / "manifest.json").read_text())["metrics"]


def _plain_logps(
    model: Any, input_ids: torch.Tensor, attention: torch.Tensor, completion: torch.Tensor
) -> torch.Tensor:
    """Independent reference: Σ log softmax(logits)[next token] over completion tokens."""
    logits = model(input_ids=input_ids, attention_mask=attention).logits[:, :-1].double()
    logp = torch.log_softmax(logits, -1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    return (logp * completion[:, 1:]).sum(-1)


# --------------------------------------------------------------------------- SFT and DPO (full fine-tuning)


def test_sft_loss_drops(tiny_dir: Path, data_dir: Path, tmp_path: Path, cpu_args: dict[str, Any]) -> None:
    out = run_training(
        TrainingSpec(
            method="sft",
            base_model=tiny_dir,
            output_dir=tmp_path / "sft",
            dataset=data_dir / "empathy.jsonl",
            args={**cpu_args, "max_steps": 12, "learning_rate": 1e-3},
        )
    )
    m = _metrics(out)
    assert m["loss_last"] < 0.6 * m["loss_first"], m


def test_dpo_full_loss_drops_and_reloads(
    tiny_dir: Path, data_dir: Path, tmp_path: Path, cpu_args: dict[str, Any]
) -> None:
    from transformers import AutoModelForCausalLM

    out = run_training(
        TrainingSpec(
            method="dpo",
            base_model=tiny_dir,
            output_dir=tmp_path / "dpo",
            dataset=data_dir / "empathy.jsonl",
            args={**cpu_args, "max_steps": 10, "learning_rate": 1e-4, "precompute_ref_log_probs": True},
        )
    )
    m = _metrics(out)
    assert m["loss_first"] == pytest.approx(0.6931, abs=1e-3)  # policy == reference at step 1
    assert m["loss_last"] < 0.3 and m["rewards/accuracies_last"] == 1.0, m
    model = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny_dir)
    assert not torch.equal(
        model.model.layers[0].self_attn.q_proj.weight, base.model.layers[0].self_attn.q_proj.weight
    )
    tok = load_tokenizer(out)
    enc = tok.apply_chat_template(
        [[{"role": "user", "content": "I feel sad about work."}]],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    gen = model.generate(**enc, max_new_tokens=8, do_sample=False)
    assert gen.shape[1] > enc["input_ids"].shape[1]


# --------------------------------------------------------------------------- reward models


def test_reward_scoring_uses_the_training_format(
    tiny_dir: Path, pairs: dict[str, Any], tmp_path: Path, cpu_args: dict[str, Any]
) -> None:
    """`reward_input_ids` rebuilds exactly the ids TRL's RewardTrainer trained on (chat and text rows)."""
    from trl import RewardTrainer

    conv = pairs["safety"][:4]
    text = [
        {
            "prompt": r["prompt"][0]["content"],
            "chosen": " " + r["chosen"][0]["content"],
            "rejected": " " + r["rejected"][0]["content"],
        }
        for r in conv
    ]
    for rows, fmt in ((conv, "conversational"), (text, "text")):
        tok = load_tokenizer(tiny_dir)
        cfg = RewardModelConfig(output_dir=str(tmp_path / fmt), **{**cpu_args, "max_steps": 1})
        tr = RewardTrainer(
            model=str(tiny_dir), args=cfg, train_dataset=Dataset.from_list(rows), processing_class=tok
        )
        for i, row in enumerate(rows):
            assert tr.train_dataset[i]["chosen_ids"] == reward_input_ids(
                tok, fmt, row["prompt"], row["chosen"]
            )
            assert tr.train_dataset[i]["rejected_ids"] == reward_input_ids(
                tok, fmt, row["prompt"], row["rejected"]
            )


@pytest.fixture(scope="module")
def reward_models(
    tiny_dir: Path, data_dir: Path, tmp_path_factory: pytest.TempPathFactory, cpu_args: dict[str, Any]
) -> Path:
    out = run_training(
        TrainingSpec(
            method="reward_model",
            base_model=tiny_dir,
            output_dir=tmp_path_factory.mktemp("rm") / "rms",
            dataset={"empathy": data_dir / "empathy.jsonl", "safety": data_dir / "safety.jsonl"},
            args={**cpu_args, "max_steps": 10, "learning_rate": 1e-4, "heldout_fraction": 0.25},
        )
    )
    return out


def test_reward_models_learn(reward_models: Path, pairs: dict[str, Any]) -> None:
    m = _metrics(reward_models)
    for crit in ("empathy", "safety"):
        assert m[f"{crit}/loss_last"] < 0.5 * m[f"{crit}/loss_first"], m
        assert m[f"{crit}/margin_last"] > m[f"{crit}/margin_first"], m
        assert m[f"{crit}/accuracy_last"] == 1.0
        rm = RewardModel.load(reward_models / crit)
        rows = pairs[crit]
        r_c = rm.score([r["prompt"] for r in rows], [r["chosen"] for r in rows])
        r_r = rm.score([r["prompt"] for r in rows], [r["rejected"] for r in rows])
        assert float((r_c > r_r).float().mean()) == 1.0


def test_margin_scales_follow_their_equations(reward_models: Path, pairs: dict[str, Any]) -> None:
    ds = Dataset.from_list(pairs["empathy"])
    rm = RewardModel.load(reward_models / "safety")
    r_c = rm.score(ds["prompt"], ds["chosen"]).double()
    r_r = rm.score(ds["prompt"], ds["rejected"]).double()
    raw, stats = compute_margins(ds, ["empathy", "safety"], [0.6, 0.4], {"safety": reward_models / "safety"})
    assert stats["scale"] == "raw" and stats["criteria"]["safety"]["scale"] == 1.0
    assert raw["margin"] == pytest.approx((0.4 * (r_c - r_r)).tolist(), abs=1e-6)  # Σ_j w_j (r_j(y_w) - r_j(y_l))
    # heldout_std divides by the reward model's own spread on its own held-out pairs, not on this data
    s = rm.heldout["score_std"] if rm.heldout else 0.0
    assert s > 0 and s != pytest.approx(float(torch.cat([r_c, r_r]).std()))
    std, _ = compute_margins(ds, ["empathy", "safety"], [0.6, 0.4], {"safety": reward_models / "safety"},
                             scale="heldout_std")
    assert std["margin"] == pytest.approx((0.4 * (r_c - r_r) / s).tolist(), abs=1e-6)
    with pytest.raises(ValueError, match="trained for 'empathy', not 'safety'"):
        compute_margins(ds, ["empathy", "safety"], [0.5, 0.5], {"safety": reward_models / "empathy"})
    text = Dataset.from_list([{"prompt": "a", "chosen": "b", "rejected": "c"}] * 2)
    with pytest.raises(ValueError, match="conversational rows but the data has text rows"):
        compute_margins(text, ["empathy", "safety"], [0.5, 0.5], {"safety": reward_models / "safety"})


def test_implicit_margins_are_beta_log_ratios_of_a_dpo_run(
        tiny_dir: Path, data_dir: Path, pairs: dict[str, Any], tmp_path: Path, cpu_args: dict[str, Any]) -> None:
    """Zhou et al.'s implicit reward r = β·[log π_rm(y|x) - log π_ref(y|x)], checked against TRL's own log-probs."""
    from trl import DPOConfig, DPOTrainer

    from trainers import LoraSpec

    run = run_training(TrainingSpec(
        method="dpo", base_model=tiny_dir, output_dir=tmp_path / "dpo_safety", probe_prompts=0,
        dataset={"safety": data_dir / "safety.jsonl"},
        args={**cpu_args, "max_steps": 3, "learning_rate": 1e-3, "beta": 0.2},
        lora=LoraSpec(r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"])))
    rows = pairs["empathy"][:4]
    ds = Dataset.from_list(rows)
    out, stats = compute_margins(ds, ["empathy", "safety"], [0.5, 0.5], {"safety": run}, scale="implicit")

    def trl_logps(model_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
        """log π(y|x) summed over completion tokens, by TRL's own DPO tokenisation and forward."""
        cfg = DPOConfig(output_dir=str(tmp_path / "x"), **{**cpu_args, "per_device_train_batch_size": 4})
        tr = DPOTrainer(model=str(model_dir), args=cfg, train_dataset=ds, processing_class=load_tokenizer(tiny_dir))
        batch = tr.data_collator([tr.train_dataset[i] for i in range(4)])
        return tr.compute_ref_log_probs(tr.model, batch)

    ref_c, ref_r = trl_logps(tiny_dir)  # π_ref: the DPO run's base
    pol_c, pol_r = trl_logps(run)  # π_rm: the run's merged model (= base + adapter)
    # r = β (log π_rm - log π_ref) with the run's own β = 0.2
    assert out["reward_safety_chosen"] == pytest.approx((0.2 * (pol_c - ref_c)).tolist(), abs=2e-4)
    assert out["reward_safety_rejected"] == pytest.approx((0.2 * (pol_r - ref_r)).tolist(), abs=2e-4)
    assert out["margin"] == pytest.approx((0.5 * 0.2 * ((pol_c - ref_c) - (pol_r - ref_r))).tolist(), abs=2e-4)
    assert stats["criteria"]["safety"]["diff_std"] > 0  # the adapter moved: the rewards are not all zero


# --------------------------------------------------------------------------- MODPO


def _modpo_rows(pairs: dict[str, Any], margins: list[float]) -> Dataset:
    rows = [dict(r, margin=m) for r, m in zip(pairs["empathy"], margins, strict=False)]
    return Dataset.from_list(rows)


@pytest.mark.parametrize(("lora", "precompute"), [(False, False), (False, True), (True, False), (True, True)])
def test_modpo_loss_equals_reference_formula(
    tiny_dir: Path,
    pairs: dict[str, Any],
    tmp_path: Path,
    cpu_args: dict[str, Any],
    lora: bool,
    precompute: bool,
) -> None:
    """Zhou et al. (2024) Eq. 8 on a hand-built batch, against plain PyTorch."""
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM

    beta, w_k = 0.1, 0.6
    margins = [0.8, -1.5, 2.0, 0.0, 0.3, -0.7]
    ds = _modpo_rows(pairs, margins)
    tok = load_tokenizer(tiny_dir)
    policy = AutoModelForCausalLM.from_pretrained(tiny_dir)
    if not lora:  # make the policy differ from the on-disk reference
        torch.manual_seed(1)
        with torch.no_grad():
            for p in policy.parameters():
                p.add_(0.02 * torch.randn_like(p))
    cfg = MODPOConfig(
        output_dir=str(tmp_path),
        **{**cpu_args, "max_steps": 1},
        beta=beta,
        criteria=["empathy", "safety"],
        weights=[w_k, 1 - w_k],
        precompute_ref_log_probs=precompute,
    )
    peft_cfg = (
        LoraConfig(
            r=4,
            lora_alpha=8,
            target_modules=["q_proj", "v_proj"],
            init_lora_weights=False,
            task_type="CAUSAL_LM",
        )
        if lora
        else None
    )
    tr = MODPOTrainer(model=policy, args=cfg, train_dataset=ds, processing_class=tok, peft_config=peft_cfg)
    batch = tr.data_collator([tr.train_dataset[i] for i in range(len(margins))])
    assert torch.allclose(batch["margin"], torch.tensor(margins))
    tr.model.eval()
    with torch.no_grad():
        loss = tr.compute_loss(tr.model, dict(batch)).item()
        ids, att, comp = batch["input_ids"], batch["attention_mask"], batch["completion_mask"]
        pol = _plain_logps(tr.model, ids, att, comp)
        if lora:  # reference = base model with the adapter disabled
            with tr.model.disable_adapter():
                ref = _plain_logps(tr.model, ids, att, comp)
        elif precompute:  # full FT + precompute: TRL's reference is the starting policy (in memory)
            ref = pol.clone()
        else:  # full FT on the fly: TRL reloads the reference from disk
            ref = _plain_logps(AutoModelForCausalLM.from_pretrained(tiny_dir), ids, att, comp)
    n = len(margins)
    delta = (pol[:n] - ref[:n]) - (pol[n:] - ref[n:])
    m = torch.tensor(margins, dtype=torch.float64)
    expected = -F.logsigmoid(beta / w_k * delta - m / w_k).mean().item()
    dpo_only = -F.logsigmoid(beta / w_k * delta).mean().item()
    assert abs(loss - expected) < 1e-5, (loss, expected)
    assert abs(expected - dpo_only) > 1e-3  # the margin really changes the loss


def test_modpo_refuses_missing_or_constant_margins(
    tiny_dir: Path, pairs: dict[str, Any], tmp_path: Path, cpu_args: dict[str, Any]
) -> None:
    tok = load_tokenizer(tiny_dir)
    cfg = MODPOConfig(output_dir=str(tmp_path), **{**cpu_args, "max_steps": 1})
    with pytest.raises(ValueError, match="needs a 'margin' column"):
        MODPOTrainer(
            model=str(tiny_dir),
            args=cfg,
            train_dataset=Dataset.from_list(pairs["empathy"]),
            processing_class=tok,
        )
    with pytest.raises(ValueError, match="margin is constant"):
        MODPOTrainer(
            model=str(tiny_dir), args=cfg, train_dataset=_modpo_rows(pairs, [0.5] * 36), processing_class=tok
        )
    with pytest.raises(ValueError, match="not finite"):
        MODPOTrainer(
            model=str(tiny_dir),
            args=cfg,
            train_dataset=_modpo_rows(pairs, [0.5, float("nan")] * 18),
            processing_class=tok,
        )
    collator = MarginCollator(pad_token_id=0)
    with pytest.raises(KeyError, match="no 'margin'"):
        collator([{"prompt_ids": [1], "chosen_ids": [2], "rejected_ids": [3]}])


# --------------------------------------------------------------------------- joint loss


def test_joint_loss_equals_reference_formula(
    tiny_dir: Path, data_dir: Path, tmp_path: Path, cpu_args: dict[str, Any]
) -> None:
    """-log σ(Σ_k β w_k Δ_k) with independently tokenised sequences and plain PyTorch log-probs."""
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM

    beta, weights = 0.1, [0.7, 0.3]
    ds = load_dataset("json", data_files=str(data_dir / "joint.jsonl"), split="train").select(range(4))
    tok = load_tokenizer(tiny_dir)
    policy = AutoModelForCausalLM.from_pretrained(tiny_dir)
    cfg = JointLossConfig(
        output_dir=str(tmp_path), **{**cpu_args, "max_steps": 1}, beta=beta, weights=weights
    )
    tr = JointLossTrainer(model=policy, args=cfg, train_dataset=ds, processing_class=tok)
    torch.manual_seed(2)
    with torch.no_grad():  # move the policy away from the frozen reference copy
        for p in tr.model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    tr.model.eval()
    batch = tr.data_collator([tr.train_dataset[i] for i in range(4)])
    with torch.no_grad():
        loss = tr.compute_loss(tr.model, batch).item()
    ref_model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    logits = []
    for row in ds:
        total = torch.zeros((), dtype=torch.float64)
        prompt_ids = tok.apply_chat_template(row["prompt"], add_generation_prompt=True, return_dict=True)[
            "input_ids"
        ]
        for k, crit in enumerate(["empathy", "safety"]):
            lr = []
            for side in ("chosen", "rejected"):
                full = tok.apply_chat_template(row["prompt"] + row[f"{side}_{crit}"], return_dict=True)[
                    "input_ids"
                ]
                assert full[: len(prompt_ids)] == prompt_ids
                ids = torch.tensor([full])
                comp = torch.tensor([[0] * len(prompt_ids) + [1] * (len(full) - len(prompt_ids))])
                with torch.no_grad():
                    lp = _plain_logps(tr.model, ids, torch.ones_like(ids), comp)
                    rp = _plain_logps(ref_model, ids, torch.ones_like(ids), comp)
                lr.append((lp - rp)[0])
            total = total + beta * weights[k] * (lr[0] - lr[1])
        logits.append(total)
    expected = -F.logsigmoid(torch.stack(logits)).mean().item()
    assert abs(loss - expected) < 1e-5, (loss, expected)


def test_joint_loss_trains_from_per_criterion_data(
    tiny_dir: Path, data_dir: Path, tmp_path: Path, cpu_args: dict[str, Any]
) -> None:
    out = run_training(
        TrainingSpec(
            method="joint_loss",
            base_model=tiny_dir,
            output_dir=tmp_path / "joint",
            dataset={"empathy": data_dir / "empathy.jsonl", "safety": data_dir / "safety.jsonl"},
            args={**cpu_args, "max_steps": 10, "learning_rate": 5e-4},
            lora=LORA,
            options={"weights": {"empathy": 0.5, "safety": 0.5}},
        )
    )
    m = _metrics(out)
    assert m["loss_first"] == pytest.approx(0.6931, abs=1e-3)
    assert m["loss_last"] < 0.6 and m["rewards/accuracies_last"] >= 0.75, m
    assert (out / "adapter" / "adapter_config.json").is_file() and (out / "config.json").is_file()
