"""The fine-tuned variant of the offline judge (`heads = "builtin-finetuned"`: the evidence features with a
LoRA-fine-tuned MiniLM cross-encoder's behaviour features): its card matches its files, it loads and judges with
every network connection blocked, and it catches a wrong verdict on hand-written replies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from harness.core import InputError
from harness.judge_validity import card_key, find_judge_card
from harness.reward_heads import (
    ADAPTER_FILE,
    FINETUNED_ENCODER,
    FINETUNED_HEADS,
    FinetunedBehaviour,
    RewardHeads,
    heads_folder,
    load_heads,
)
from harness.run import plan_run
from tests.harness.run.test_offline import _attempts, _env

CONTEXT = ("CLIENT: My doctor says I have to cut down on drinking, but honestly a few beers is the only thing that "
           "gets me through the evening.")
# Patient autonomy (AnnoMI's codes, MITI 4.2.1): a reflection that leaves the decision with the client beats advice
# given without permission.
REFLECTION = ("It sounds like the beers do something important for you in the evenings, and it's your call what, "
              "if anything, you want to change.")
ADVICE = "You need to stop drinking during the week. Pour the beer out and go for a walk instead."
# Active listening: a complex reflection beats a closed question.
COMPLEX = "So part of you is worried about your health, and part of you wonders how you'd cope without them."
CLOSED = "Do you drink every day?"


@pytest.fixture(scope="module")
def judge() -> RewardHeads:
    return RewardHeads.load(heads_folder("builtin-finetuned"))


def test_the_variant_is_what_its_manifest_and_card_say(judge: RewardHeads, tmp_path: Path) -> None:
    assert judge.manifest["encoder"]["name"] == FINETUNED_ENCODER
    assert (FINETUNED_HEADS / ADAPTER_FILE).stat().st_size < 1_000_000  # adapters and heads only, no base weights
    spec = plan_run("quickstart").cfg.judge.model_copy(update={"heads": "builtin-finetuned"})
    card = find_judge_card(card_key(spec.spec_hash(), load_heads(FINETUNED_HEADS)[1]), tmp_path)
    # None: the heads changed without re-measuring (rebuild the card: docs/judge-validity.md)
    assert card is not None
    assert {s["name"] for s in card["sets"]} == {"epitome", "annomi"}
    assert set(card["criteria"]) >= set(judge.criteria)
    assert all(card["criteria"][c]["backed_by"] for c in judge.criteria)


def test_it_catches_a_wrong_verdict(judge: RewardHeads) -> None:
    assert judge.compare("patient_autonomy", CONTEXT, REFLECTION, ADVICE) == "A"
    assert judge.compare("patient_autonomy", CONTEXT, ADVICE, REFLECTION) == "B"  # no position effect
    assert judge.compare("active_listening", CONTEXT, CLOSED, COMPLEX) == "B"
    # the control: with its head negated the judge gives the wrong verdict, so the check above can fail
    head = judge.head("patient_autonomy")
    flipped = RewardHeads({"patient_autonomy": type(head)("patient_autonomy", -head.weight, 0.0)}, judge.manifest,
                          judge.encoder)
    assert flipped.compare("patient_autonomy", CONTEXT, REFLECTION, ADVICE) == "B"


@pytest.mark.slow
def test_loading_and_judging_make_no_network_request(tmp_path: Path) -> None:
    """With the offline variables unset and every non-loopback connection blocked (tests/harness/run/test_offline.py's
    guard), the variant loads its base model and adapters from local files and judges."""
    env = _env(tmp_path)
    assert "HF_HUB_OFFLINE" not in env
    code = ("from harness.reward_heads import RewardHeads, heads_folder\n"
            "j = RewardHeads.load(heads_folder('builtin-finetuned'))\n"
            f"print(j.compare('patient_autonomy', {CONTEXT!r}, {REFLECTION!r}, {ADVICE!r}))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "A"
    assert _attempts(tmp_path) == []


def test_a_bad_adapter_file_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / ADAPTER_FILE
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(InputError, match="not a fine-tuned behaviour encoder file"):
        FinetunedBehaviour(junk)
    shipped = json.loads((FINETUNED_HEADS / "heads.json").read_text())["finetuned_encoder"]
    record = {"config": shipped["config"], "base": {"sha256": "0" * 64}, "behaviours": shipped["behaviours"]}
    other = tmp_path / "other.safetensors"  # adapters trained on another base model
    save_file({"x": np.zeros(1, dtype=np.float32)}, str(other), metadata={"theraeval": json.dumps(record)})
    with pytest.raises(InputError, match="not the ones the adapter was trained on"):
        FinetunedBehaviour(other)
    with pytest.raises(InputError, match="not found"):
        FinetunedBehaviour(tmp_path / "missing.safetensors")
