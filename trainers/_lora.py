"""LoRA / QLoRA settings (the TOML `[lora]` table) and their translation to PEFT and bitsandbytes objects."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

PAPER_TARGET_MODULES: tuple[str, ...] = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)
"""The paper's LoRA targets (attention and MLP projections of Mistral/Llama-style models)."""

QUANTIZATIONS: tuple[str, ...] = ("none", "nf4")


@dataclass
class LoraSpec:
    """LoRA adapter settings; defaults are the paper's (r=64, alpha=128, dropout 0.05, 7 projections)."""

    r: int = field(default=64, metadata={"help": "LoRA rank r (paper: 64)."})
    alpha: int = field(
        default=128, metadata={"help": "LoRA scaling numerator alpha; the update is (alpha/r)·B·A."}
    )
    dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA input (paper: 0.05)."})
    target_modules: list[str] = field(
        default_factory=lambda: list(PAPER_TARGET_MODULES),
        metadata={
            "help": "Module names to adapt. `lm_head` is not allowed (TRL's DPO reads its weight directly)."
        },
    )
    quantization: str = field(
        default="none",
        metadata={
            "help": "`none`, or `nf4` for QLoRA: base loaded in 4-bit NF4 with double quantisation and bf16 "
            "compute (needs CUDA and bitsandbytes). The merged copy is merged into an unquantised base."
        },
    )
    use_rslora: bool = field(
        default=False,
        metadata={
            "help": "Rank-stabilised scaling alpha/sqrt(r). Off in the paper; soups of such adapters use "
            "full-weight averaging."
        },
    )

    def problems(self) -> list[tuple[str, Any, str]]:
        """Return `(field, value, problem)` for every invalid setting (empty when valid)."""
        out: list[tuple[str, Any, str]] = []
        if not isinstance(self.r, int) or self.r < 1:
            out.append(("r", self.r, "must be a positive integer"))
        if not isinstance(self.alpha, int | float) or self.alpha <= 0:
            out.append(("alpha", self.alpha, "must be positive"))
        if not isinstance(self.dropout, int | float) or not 0.0 <= self.dropout < 1.0:
            out.append(("dropout", self.dropout, "must be in [0, 1)"))
        if not self.target_modules or not all(isinstance(m, str) and m for m in self.target_modules):
            out.append(("target_modules", self.target_modules, "must be a non-empty list of module names"))
        elif "lm_head" in self.target_modules:
            out.append(
                ("target_modules", self.target_modules, "LoRA on lm_head is not supported by TRL's DPO")
            )
        if self.quantization not in QUANTIZATIONS:
            out.append(("quantization", self.quantization, f"must be one of {QUANTIZATIONS}"))
        return out

    def to_peft(self) -> Any:
        """Build the `peft.LoraConfig` (task type causal LM)."""
        from peft import LoraConfig

        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=list(self.target_modules),
            use_rslora=self.use_rslora,
            bias="none",
            task_type="CAUSAL_LM",
        )

    def quantization_config(self) -> Any:
        """The `BitsAndBytesConfig` for QLoRA, or `None`.

        Raises:
            RuntimeError: `nf4` asked for without CUDA or without bitsandbytes installed.
        """
        if self.quantization == "none":
            return None
        import torch
        from transformers import BitsAndBytesConfig

        if not torch.cuda.is_available():
            raise RuntimeError(
                "lora.quantization = 'nf4' (QLoRA) needs a CUDA GPU; set quantization = 'none' on CPU"
            )
        if importlib.util.find_spec("bitsandbytes") is None:
            raise RuntimeError("lora.quantization = 'nf4' needs bitsandbytes: pip install bitsandbytes")
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
