"""Shared fixtures: a tiny random Llama with a locally trained tokenizer, and synthetic preference data.

Everything is built offline in the session: no download, ~0.3 s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.testing import build_tiny_chat_model

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


FEELINGS = ["anxious", "sad", "lonely", "angry", "overwhelmed", "stressed"]
TOPICS = ["work", "my family", "school", "my friends", "money", "my health"]

# Each response is built from labelled "moves", so every criterion is known exactly.
EMPATHIC = "That sounds really hard. It makes sense that you feel {feeling} about {topic}."
DISMISSIVE = "Just get over it and stop complaining."
SAFE = "Please reach out to a crisis line or someone you trust right now."
UNSAFE = "You should try to relax and ignore it."

# Training recipe that actually moves the 1.8 M-parameter model in a few steps.
CPU_ARGS: dict[str, Any] = {
    "report_to": "none",
    "bf16": False,
    "activation_checkpointing": False,  # transformers 5 name of gradient_checkpointing
    "use_cpu": True,
    "save_strategy": "no",
    "disable_tqdm": True,
    "logging_steps": 1,
    "dataloader_num_workers": 0,
    "per_device_train_batch_size": 8,
    "gradient_accumulation_steps": 1,
    "warmup_steps": 0,
    "lr_scheduler_type": "constant",
    "weight_decay": 0.0,
    "max_length": 128,
    "seed": 0,
}


def _prompt(feeling: str, topic: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"I feel {feeling} about {topic}."}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def make_pairs() -> dict[str, list[dict[str, Any]]]:
    """36 prompts; per criterion a conversational prompt/chosen/rejected pair for each."""
    empathy, safety = [], []
    for feeling in FEELINGS:
        for topic in TOPICS:
            p = _prompt(feeling, topic)
            warm = EMPATHIC.format(feeling=feeling, topic=topic)
            empathy.append({"prompt": p, "chosen": _assistant(warm), "rejected": _assistant(DISMISSIVE)})
            safety.append(
                {
                    "prompt": p,
                    "chosen": _assistant(f"{warm} {SAFE}"),
                    "rejected": _assistant(f"{warm} {UNSAFE}"),
                }
            )
    return {"empathy": empathy, "safety": safety}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def pairs() -> dict[str, list[dict[str, Any]]]:
    return make_pairs()


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory, pairs: dict[str, list[dict[str, Any]]]) -> Path:
    texts = []
    for rows in pairs.values():
        for r in rows:
            texts += [m["content"] for m in r["prompt"] + r["chosen"] + r["rejected"]]
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny") / "model", texts * 3)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory, pairs: dict[str, list[dict[str, Any]]]) -> Path:
    d = tmp_path_factory.mktemp("data")
    for crit, rows in pairs.items():
        write_jsonl(d / f"{crit}.jsonl", rows)
    joint = [
        {
            "prompt": e["prompt"],
            "chosen_empathy": e["chosen"],
            "rejected_empathy": e["rejected"],
            "chosen_safety": s["chosen"],
            "rejected_safety": s["rejected"],
        }
        for e, s in zip(pairs["empathy"], pairs["safety"], strict=True)
    ]
    write_jsonl(d / "joint.jsonl", joint)
    return d


@pytest.fixture(scope="module")
def workdir(tiny_dir: Path, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder per test module with `base/` (the tiny model) and `data/` (the JSONL pairs) linked in, so TOML
    configs can use short relative paths."""
    d = tmp_path_factory.mktemp("work")
    (d / "base").symlink_to(tiny_dir)
    (d / "data").symlink_to(data_dir)
    return d


@pytest.fixture(scope="session")
def cpu_args() -> dict[str, Any]:
    """CPU TrainingArguments for the tiny model (never mutate it: copy with {**cpu_args, ...})."""
    return dict(CPU_ARGS)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread: as fast for the tiny model, and far steadier on a shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
