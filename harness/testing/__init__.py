"""Test doubles for tests and benchmarks: the scripted model provider, loopback fake servers, tiny models.

- ``ScriptedAPI`` (``scripted/<name>``): a deterministic model provider, registered with inspect through the
  ``inspect_ai`` entry point (``harness._registry``);
- ``fake_openai``: a counting OpenAI-compatible server; ``fake_batch_server``: the OpenAI batch endpoints (files,
  batches, delayed completion, failed items); ``fault_server``: the same with injected faults
  (reliability tests); ``bench_server``: one with a fixed latency in its own process (benchmarks);
- ``build_tiny_chat_model``: a tiny Llama with a ChatML template, built locally (no model hub).

Nothing in the product imports this package. May import: ``scorers`` (the judge-prompt fences), ``harness.core``.
"""

from harness.testing._fake_batch import FakeBatchServer, fake_batch_server
from harness.testing._fake_openai import FakeOpenAI, fake_openai
from harness.testing._fault_server import (
    MAX_WAIT_S,
    PERMANENT,
    TRANSIENT,
    Call,
    FaultPlan,
    FaultServer,
    body_key,
    fault_server,
    reply_text,
)
from harness.testing._latency_server import BenchServer, Stats, bench_server, count_tokens, reply
from harness.testing._scripted import ScriptedAPI
from harness.testing._tiny_models import CHAT_TEMPLATE, build_tiny_chat_model

__all__ = [
    "CHAT_TEMPLATE",
    "MAX_WAIT_S",
    "PERMANENT",
    "TRANSIENT",
    "BenchServer",
    "Call",
    "FakeBatchServer",
    "FakeOpenAI",
    "FaultPlan",
    "FaultServer",
    "ScriptedAPI",
    "Stats",
    "bench_server",
    "body_key",
    "build_tiny_chat_model",
    "count_tokens",
    "fake_batch_server",
    "fake_openai",
    "fault_server",
    "reply",
    "reply_text",
]
