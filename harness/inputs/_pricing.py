"""Prices of the run's models (`[pricing]` in the run config), and the one place tokens become dollars.

    [pricing."openai/gpt-4o"]
    input = 2.50            # USD per million input tokens
    output = 10.00          # USD per million output tokens
    batch_discount = 0.5    # fraction taken off both prices in provider batch mode (OpenAI, Anthropic: 0.5)

Keys are model strings exactly as the config names them (a candidate's, the patient's or the judge's `model`).
A model without a price is counted in tokens only; its dollars are shown as unknown, never as zero.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from harness.core import InputError

if TYPE_CHECKING:
    from harness.inputs._config import RunConfig

MILLION = 1_000_000


class ModelPrice(BaseModel):
    """A model's price: USD per million input and output tokens, and the provider's batch discount."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    """USD per million input (prompt) tokens."""
    output: float = Field(ge=0)
    """USD per million output (completion) tokens."""
    batch_discount: float = Field(default=0.5, ge=0, lt=1)
    """Fraction of both prices taken off for provider batch mode (OpenAI and Anthropic batch APIs: 0.5)."""

    def cost(self, input_tokens: float, output_tokens: float, batch: bool = False) -> float:
        """USD of `input_tokens` in and `output_tokens` out: (in x input + out x output) / 1e6, times
        (1 - batch_discount) in batch mode."""
        usd = (input_tokens * self.input + output_tokens * self.output) / MILLION
        return usd * (1.0 - self.batch_discount) if batch else usd


def config_models(cfg: RunConfig) -> set[str]:
    """The model strings a run config names (candidates, patient, judge): the keys `[pricing]` may use."""
    names = {c.model for c in cfg.candidates if c.model}
    if cfg.patient is not None:
        names.add(cfg.patient.model)
    return names | {cfg.judge.model}


def check_pricing(cfg: RunConfig, path: Path) -> None:
    """A `[pricing]` key must name a model of the config: a typo would otherwise leave that model unpriced."""
    known = config_models(cfg)
    for key in cfg.pricing:
        if key not in known:
            raise InputError(path, f"pricing.{key}", key, "names no model of this config (candidates, patient, "
                             "judge)", f"use one of {sorted(known)}, quoted: [pricing.\"provider/model\"]")


def format_usd(x: float | None) -> str:
    """Dollars as text: ``$12.34``, ``$0.0012`` for small sums, ``no price`` for None or NaN (never shown as $0)."""
    if x is None or math.isnan(x):
        return "no price"
    return f"${x:,.2f}" if x >= 0.01 or x == 0 else f"${x:.4f}"
