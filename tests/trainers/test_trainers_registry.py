"""Registry, protocol, config dataclasses and presets: no training, fast."""

from __future__ import annotations

import dataclasses
import tomllib
from typing import Any

import pytest

import trainers
from trainers import (
    DPOTrainConfig,
    JointLossConfig,
    LoraSpec,
    MODPOConfig,
    RewardModelConfig,
    SFTTrainConfig,
    SoupConfig,
    Trainer,
    available_presets,
    available_trainers,
    get_trainer,
    register_trainer,
)
from trainers._entry import PRESET_DIR

CPU = {"output_dir": "unused", "report_to": "none", "use_cpu": True}


def test_all_methods_registered_and_follow_the_protocol() -> None:
    assert available_trainers() == ["cpo", "dpo", "hinge_dpo", "ipo", "joint_loss", "kto", "modpo", "orpo",
                                    "reward_model", "robust_dpo", "sft", "simpo", "soup"]
    for name in available_trainers():
        t = get_trainer(name)
        assert isinstance(t, Trainer)
        assert dataclasses.is_dataclass(t.config_class)


def test_unknown_trainer_lists_known_names() -> None:
    with pytest.raises(ValueError, match="Unknown training method: 'ppo'.*dpo, hinge_dpo, ipo, joint_loss"):
        get_trainer("ppo")


def test_register_rejects_a_second_class_under_a_taken_name() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_trainer("dpo")(type("Other", (), {}))
    with pytest.raises(ValueError):
        register_trainer("bad name!")


@pytest.mark.parametrize(
    "cls",
    [SFTTrainConfig, DPOTrainConfig, MODPOConfig, JointLossConfig, RewardModelConfig, SoupConfig, LoraSpec],
)
def test_every_declared_field_has_help(cls: type) -> None:
    own = cls.__dict__.get("__annotations__", {})
    assert own, cls
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in own:
        assert fields[name].metadata.get("help"), f"{cls.__name__}.{name} has no help"


def test_paper_defaults() -> None:
    dpo = DPOTrainConfig(**CPU)
    assert (
        dpo.learning_rate,
        dpo.beta,
        dpo.per_device_train_batch_size,
        dpo.gradient_accumulation_steps,
        dpo.num_train_epochs,
        dpo.max_length,
        dpo.lr_scheduler_type.value,
    ) == (5e-6, 0.1, 4, 4, 3.0, 1024, "cosine")
    assert (
        dpo.bf16 is False
    )  # no GPU here: resolved instead of TRL's unconditional bf16 (which raises on CPU)
    assert SFTTrainConfig(**CPU).learning_rate == 2e-5
    rm = RewardModelConfig(**CPU)
    assert (rm.learning_rate, rm.weight_decay, rm.num_train_epochs, rm.max_length) == (2e-5, 0.03, 5.0, 512)
    modpo = MODPOConfig(**CPU)
    assert modpo.criteria == ["empathy", "safety"] and modpo.weights == [0.5, 0.5]
    assert modpo.remove_unused_columns is False
    lora = LoraSpec()
    assert (lora.r, lora.alpha, lora.dropout, len(lora.target_modules)) == (64, 128, 0.05, 7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": [0.6, 0.6]}, "sum to 1.2"),
        ({"criteria": ["empathy"], "weights": [1.0]}, "at least 2"),
        ({"remove_unused_columns": True}, "silently becomes plain DPO"),
        ({"loss_type": ["ipo"]}, "sigmoid"),
        ({"weights": [1.0, 0.0]}, r"in \(0, 1\]"),
    ],
)
def test_modpo_config_validation(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MODPOConfig(**CPU, **kwargs)


def test_joint_and_soup_config_validation() -> None:
    with pytest.raises(ValueError, match="sum to 0.9"):
        JointLossConfig(**CPU, weights=[0.5, 0.4])
    with pytest.raises(ValueError, match="precompute_ref_log_probs"):
        JointLossConfig(**CPU, precompute_ref_log_probs=True)
    with pytest.raises(ValueError, match="sum to 1.5"):
        SoupConfig(models=["a", "b"], weights=[1.0, 0.5])
    with pytest.raises(ValueError, match="combination"):
        SoupConfig(models=["a", "b"], weights=[0.5, 0.5], combination="svd")


def test_presets_are_valid() -> None:
    names = available_presets()
    assert {
        "paper_sft",
        "paper_dpo",
        "paper_modpo",
        "paper_joint_loss",
        "paper_reward_model",
        "paper_soup",
    } <= set(names)
    # a cpu-smoke preset for every method of the paper (issue 17.2)
    assert {f"cpu_smoke_{m}" for m in ("sft", "dpo", "modpo", "joint_loss", "reward_model", "soup")} <= set(names)
    for name in names:
        raw = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text(encoding="utf-8"))
        method = raw["method"]
        cls = get_trainer(method).config_class
        known = {f.name for f in dataclasses.fields(cls)}
        assert set(raw.get("args", {})) <= known, (name, set(raw.get("args", {})) - known)
        if name.startswith("cpu_smoke"):
            assert raw["base_model"] == "builtin/smollm2" and method in name
        if "lora" in raw:
            assert not LoraSpec(**raw["lora"]).problems()


def test_public_api_is_exported() -> None:
    for name in trainers.__all__:
        assert hasattr(trainers, name), name


def test_align_criteria_pairs_the_ith_pair_of_each_criterion() -> None:
    from datasets import Dataset

    from trainers._data import align_criteria

    def rows(prompt: str, n: int, tag: str) -> list[dict[str, str]]:
        return [{"prompt": prompt, "chosen": f"{tag}c{i}", "rejected": f"{tag}r{i}"} for i in range(n)]

    emp = Dataset.from_list(rows("p1", 3, "e") + rows("p2", 1, "e"))
    safe = Dataset.from_list(rows("p1", 2, "s") + rows("p3", 1, "s"))
    joint = align_criteria({"empathy": emp, "safety": safe}, ["empathy", "safety"])
    assert joint.to_list() == [
        {
            "prompt": "p1",
            "chosen_empathy": "ec0",
            "rejected_empathy": "er0",
            "chosen_safety": "sc0",
            "rejected_safety": "sr0",
        },
        {
            "prompt": "p1",
            "chosen_empathy": "ec1",
            "rejected_empathy": "er1",
            "chosen_safety": "sc1",
            "rejected_safety": "sr1",
        },
    ]
    with pytest.raises(ValueError, match="no prompt"):
        align_criteria(
            {"empathy": Dataset.from_list(rows("a", 1, "e")), "safety": Dataset.from_list(rows("b", 1, "s"))},
            ["empathy", "safety"],
        )
