"""Provider batch mode for a model (`batch = true`, or a table of settings, on a role or a candidate).

The calls go through inspect's batch support (`GenerateConfig(batch=...)`): requests are gathered into provider
batches (OpenAI: a JSONL file uploaded, a batch created and polled, its output file read), at about half the price
and without a client-side limit on calls in flight. The outputs are those of online calls, so batch mode is not
part of a model's cache scope.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

BATCH_PROVIDERS = ("openai", "anthropic", "google", "grok", "together")
"""Providers whose inspect model API has a batch mode."""


class BatchSpec(BaseModel):
    """Batch settings (inspect's `BatchConfig`): unset fields keep inspect's defaults."""

    model_config = ConfigDict(extra="forbid")

    size: int | None = Field(default=None, gt=0)
    """Requests gathered before a batch is sent (inspect's default: 100)."""
    send_delay: float | None = Field(default=None, gt=0)
    """Seconds before a partly filled batch is sent anyway (default 15)."""
    tick: float | None = Field(default=None, gt=0)
    """Seconds between checks of the batches in flight (default 15)."""
    max_batches: int | None = Field(default=None, gt=0)
    """Batches in flight at once per provider (default 100)."""


def check_batch(model: str, batch: bool | BatchSpec) -> None:
    """Batch mode needs a provider with a batch API (`BATCH_PROVIDERS`)."""
    if batch is not False and model.split("/")[0] not in BATCH_PROVIDERS:
        raise ValueError(f"batch = true needs a provider with a batch API ({', '.join(BATCH_PROVIDERS)}), not "
                         f"{model.split('/')[0]!r}: set batch = false for this model")
