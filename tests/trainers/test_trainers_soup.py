"""Soup exactness: a 0.5/0.5 soup equals θ0 + 0.5·(Δ_a + Δ_b) to 1e-6 (PEFT `cat` and full weights)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trainers import soup_adapters, soup_full_weights
from trainers._common import load_tokenizer

TARGETS = ["q_proj", "v_proj", "gate_proj"]


def _make_run(base_dir: Path, out: Path, seed: int, r: int) -> dict[str, torch.Tensor]:
    """A fake LoRA run dir (adapter/ + merged model); returns its exact task vectors ΔW = (α/r)·B·A."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    pm = get_peft_model(
        base,
        LoraConfig(
            r=r, lora_alpha=2 * r, target_modules=TARGETS, init_lora_weights=False, task_type="CAUSAL_LM"
        ),
    )
    deltas = {}
    for name, module in pm.named_modules():
        if hasattr(module, "lora_A") and "default" in module.lora_A:
            a = module.lora_A["default"].weight.detach().double()
            b = module.lora_B["default"].weight.detach().double()
            key = name.replace("base_model.model.", "") + ".weight"
            deltas[key] = module.scaling["default"] * (b @ a)
    pm.save_pretrained(out / "adapter")
    pm.merge_and_unload().save_pretrained(out)
    load_tokenizer(base_dir).save_pretrained(out)
    return deltas


@pytest.fixture(scope="module")
def two_runs(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, dict]:
    root = tmp_path_factory.mktemp("soup")
    da = _make_run(tiny_dir, root / "a", seed=1, r=4)
    db = _make_run(tiny_dir, root / "b", seed=2, r=8)
    return root / "a", root / "b", da, db


def _max_error(model_dir: Path, base_dir: Path, exact_delta: dict[str, torch.Tensor]) -> float:
    from transformers import AutoModelForCausalLM

    soup = AutoModelForCausalLM.from_pretrained(model_dir).state_dict()
    base = AutoModelForCausalLM.from_pretrained(base_dir).state_dict()
    assert set(soup) == set(base)
    err = 0.0
    for k, theta0 in base.items():
        exact = theta0.double() + exact_delta.get(k, torch.zeros_like(theta0, dtype=torch.float64))
        err = max(err, float((soup[k].double() - exact).abs().max()))
    return err


@pytest.mark.parametrize("combination", ["cat", "full"])
def test_half_half_soup_is_the_exact_average_of_task_vectors(
    tiny_dir: Path, two_runs: tuple, tmp_path: Path, combination: str
) -> None:
    a, b, da, db = two_runs
    exact = {k: 0.5 * da[k] + 0.5 * db[k] for k in da}
    assert max(float(v.abs().max()) for v in exact.values()) > 1e-2  # a non-trivial soup
    out = tmp_path / combination
    if combination == "cat":
        soup_adapters(tiny_dir, [a / "adapter", b / "adapter"], [0.5, 0.5], out)
        assert (out / "adapter" / "adapter_config.json").is_file()
    else:
        soup_full_weights([a, b], [0.5, 0.5], out)
    err = _max_error(out, tiny_dir, exact)
    assert err < 1e-6, err


def test_the_authors_merges_would_fail_this_check(two_runs: tuple) -> None:
    """Scaling both A and B by w (the authors' merge, github.com/mehrabbz/MODPO-Therapeutic-AI) is far outside the
    1e-6 tolerance."""
    _, _, da, db = two_runs
    key = next(iter(da))
    exact = 0.5 * da[key] + 0.5 * db[key]
    half_strength = 0.25 * da[key] + 0.25 * db[key]  # A and B both scaled by 0.5, merged one after the other
    assert float((half_strength - exact).abs().max()) > 1e-3


def test_soup_weights_and_bases_are_checked(tiny_dir: Path, two_runs: tuple, tmp_path: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    a, _, _, _ = two_runs
    other = tmp_path / "other"
    LlamaForCausalLM(
        LlamaConfig(
            vocab_size=50,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
        )
    ).save_pretrained(other)
    with pytest.raises(ValueError, match="different base models"):
        soup_full_weights([a, other], [0.5, 0.5], tmp_path / "bad")
