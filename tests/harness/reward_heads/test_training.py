"""train_heads / fit_bradley_terry / load_heads: the fitting logic, the files, reproducibility, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import harness
from harness.core import InputError
from harness.reward_heads import (
    CONTEXT_AWARE_ENCODER,
    ContextAwareEncoder,
    RewardHeadPair,
    RewardHeads,
    fit_bradley_terry,
    load_heads,
    load_pairs,
    pooled_test_accuracy,
    save_pairs,
    train_heads,
)
from tests.support.reward_heads import HashEncoder

PREFS = Path(harness.__file__).parent / "reward_heads" / "data" / "preferences.jsonl"


def _subset(n_train: int, n_test: int, criteria: tuple[str, ...]) -> list[RewardHeadPair]:
    """The first n_train train and n_test test pairs of each criterion from the bundled set."""
    pairs = load_pairs(PREFS)
    out: list[RewardHeadPair] = []
    for c in criteria:
        out += [p for p in pairs if p.criterion == c and p.split == "train"][:n_train]
        out += [p for p in pairs if p.criterion == c and p.split == "test"][:n_test]
    return out


def test_fit_bradley_terry_separates_and_shrinks() -> None:
    rng = np.random.default_rng(0)
    true_w = rng.standard_normal(8)
    diffs = rng.standard_normal((200, 8))
    diffs[diffs @ true_w < 0] *= -1  # orient every pair so that "chosen" is better under true_w
    w = fit_bradley_terry(diffs, 0.01)
    assert ((diffs @ w) > 0).mean() > 0.95
    assert np.linalg.norm(fit_bradley_terry(diffs, 1.0)) < np.linalg.norm(w)
    assert np.array_equal(w, fit_bradley_terry(diffs, 0.01))  # convex + Newton: no seed, same answer
    with pytest.raises(InputError, match="must be > 0"):
        fit_bradley_terry(diffs, 0.0)
    with pytest.raises(InputError, match="no training pairs"):
        fit_bradley_terry(np.zeros((0, 8)), 0.01)


def test_train_heads_files_manifest_and_reload(tmp_path: Path, hash_encoder: HashEncoder) -> None:
    src = save_pairs(_subset(12, 4, ("empathy", "safety")), tmp_path / "pairs.jsonl")
    metrics = train_heads(src, tmp_path / "heads", seed=3, encoder=hash_encoder)
    assert set(metrics) == {"empathy", "safety"}
    m = metrics["empathy"]
    assert (m.n_train, m.n_test) == (12, 4)
    assert 0.0 <= m.train_accuracy <= 1.0 and m.test_accuracy is not None and m.cv_accuracy is not None
    assert m.tie_margin >= 0.0
    manifest = json.loads((tmp_path / "heads" / "heads.json").read_text())
    assert manifest["encoder"] == {**manifest["encoder"], "name": "test/hash-encoder", "dim": 16}
    assert manifest["seed"] == 3
    assert manifest["data"]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert manifest["criteria"]["safety"]["tie_margin"] == metrics["safety"].tie_margin
    assert manifest["criteria"]["safety"]["metrics"]["n_test"] == 4
    assert sorted(p.name for p in (tmp_path / "heads").iterdir()) == [
        "empathy.safetensors", "heads.json", "safety.safetensors"]
    judge = RewardHeads.load(tmp_path / "heads", encoder=hash_encoder)
    assert judge.criteria == ("empathy", "safety")
    assert judge.tie_margin("safety") == metrics["safety"].tie_margin
    with pytest.raises(InputError, match="need the encoder"):
        RewardHeads.load(tmp_path / "heads").encoder  # noqa: B018 - the bundled MiniLM is the wrong encoder


def test_train_heads_is_reproducible_and_seeded(tmp_path: Path, hash_encoder: HashEncoder) -> None:
    pairs = _subset(20, 3, ("trust_rapport",))
    runs = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        train_heads(pairs, tmp_path / name, seed=seed, max_train_pairs=8, encoder=hash_encoder)
        runs[name] = (tmp_path / name / "trust_rapport.safetensors").read_bytes()
    assert runs["a"] == runs["b"]  # same seed -> byte-identical head
    assert runs["a"] != runs["c"]  # another seed draws another 8-pair subset


def test_train_heads_errors(tmp_path: Path, hash_encoder: HashEncoder) -> None:
    only_test = _subset(0, 3, ("empathy",))
    with pytest.raises(InputError, match="no train pairs"):
        train_heads(only_test, tmp_path / "h", encoder=hash_encoder)
    dup = _subset(2, 0, ("empathy",))
    with pytest.raises(InputError, match="duplicate pair id"):
        train_heads([*dup, dup[0]], tmp_path / "h", encoder=hash_encoder)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="missing key"):
        train_heads(bad, tmp_path / "h", encoder=hash_encoder)


def test_load_heads_rejects_broken_folders(tmp_path: Path, hash_encoder: HashEncoder) -> None:
    with pytest.raises(InputError, match="no heads manifest"):
        load_heads(tmp_path)
    train_heads(_subset(4, 0, ("empathy",)), tmp_path / "h", encoder=hash_encoder)
    (tmp_path / "h" / "empathy.safetensors").write_bytes(b"tampered")
    with pytest.raises(InputError, match="does not match the manifest"):
        load_heads(tmp_path / "h")
    (tmp_path / "h" / "empathy.safetensors").unlink()
    with pytest.raises(InputError, match="weight file not found"):
        load_heads(tmp_path / "h")


def test_test_accuracy_per_pair_kind_and_pooled(tmp_path: Path, hash_encoder: HashEncoder) -> None:
    pairs = _subset(12, 4, ("empathy", "safety"))
    # mark the last 2 test pairs of empathy as another kind: empathy has 2 + 2 test pairs by kind, safety 4 + 0
    test_emp = [i for i, p in enumerate(pairs) if p.criterion == "empathy" and p.split == "test"]
    for i in test_emp[2:]:
        pairs[i] = dataclasses.replace(pairs[i], kind="context_mismatch")
    metrics = train_heads(pairs, tmp_path / "h", encoder=hash_encoder)
    emp, saf = metrics["empathy"].test_by_kind, metrics["safety"].test_by_kind
    assert emp is not None and saf is not None
    assert {k: n for k, (n, _) in emp.items()} == {"contrast": 2, "context_mismatch": 2}
    assert list(saf) == ["contrast"] and saf["contrast"] == (4, metrics["safety"].test_accuracy)
    pooled = pooled_test_accuracy(metrics)
    # contrast: (2 * acc_emp_contrast + 4 * acc_safety) / 6; mismatch: empathy's alone; all: over the 8 test pairs
    assert pooled["contrast"] == pytest.approx((2 * emp["contrast"][1] + 4 * saf["contrast"][1]) / 6)
    assert pooled["context_mismatch"] == emp["context_mismatch"][1]
    assert pooled["all"] == pytest.approx((4 * (metrics["empathy"].test_accuracy or 0) + 4 * saf["contrast"][1]) / 8)


def test_context_aware_features_are_pair_response_and_cosine(hash_encoder: HashEncoder) -> None:
    enc = ContextAwareEncoder(hash_encoder)  # a stand-in for the MiniLM base
    contexts, responses = ["I lost my job.", "I lost my job.", "My dog died."], ["That hurts.", "Ok.", "That hurts."]
    x = enc.embed(contexts, responses)
    assert x.shape == (3, 2 * 16 + 1) == (3, enc.dim)
    assert np.allclose(x[:, :16], hash_encoder.embed(contexts, responses))
    e_resp, e_ctx = hash_encoder.embed_texts(responses), hash_encoder.embed_texts(contexts)
    assert np.allclose(x[:, 16:32], e_resp)
    assert np.allclose(x[:, 32], (e_ctx * e_resp).sum(axis=1), atol=1e-6)
    assert x[0, 32] != x[2, 32]  # the same response, other context: another cosine
    assert enc.manifest()["name"] == CONTEXT_AWARE_ENCODER and enc.manifest()["dim"] == 33


def test_heads_json_versions_old_load_newer_refused(tmp_path: Path, hash_encoder: HashEncoder) -> None:
    train_heads(_subset(4, 0, ("empathy",)), tmp_path / "h", encoder=hash_encoder)
    mpath = tmp_path / "h" / "heads.json"
    manifest = json.loads(mpath.read_text())
    assert manifest["format_version"] == 1  # not the context-aware features: the lowest version that describes it
    for version, ok in ((1, True), (2, True), (3, False)):
        mpath.write_text(json.dumps({**manifest, "format_version": version}))
        if ok:
            assert set(load_heads(tmp_path / "h")[0]) == {"empathy"}
        else:
            with pytest.raises(InputError, match="reads versions 1 to 2"):
                load_heads(tmp_path / "h")


@pytest.mark.slow
def test_train_small_heads_on_the_real_encoder(tmp_path: Path) -> None:
    """End to end on MiniLM, on a small subset (10 train + 4 test safety pairs) so it stays fast (~5 s): the default
    context-aware features, and pair-embedding heads as heads.json version 1 wrote them (they still load and score)."""
    from harness.reward_heads import get_encoder

    pairs = _subset(10, 4, ("safety",))
    metrics = train_heads(pairs, tmp_path / "heads", seed=0)
    for m in metrics.values():
        assert m.train_accuracy >= 0.9
        assert m.test_accuracy is not None and m.test_accuracy >= 0.5
    judge = RewardHeads.load(tmp_path / "heads")
    assert judge.manifest["encoder"]["name"] == CONTEXT_AWARE_ENCODER
    assert judge.score("safety", ["hi"], ["hello"]).shape == (1,)
    assert judge.encoder.dim == 2 * 384 + 1 and judge.manifest["format_version"] == 2
    train_heads(pairs, tmp_path / "old", seed=0, encoder=get_encoder())
    old = RewardHeads.load(tmp_path / "old")
    assert old.manifest["format_version"] == 1
    assert old.manifest["encoder"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert old.encoder.dim == 384 and old.compare("safety", "hi", "hello", "hey") in ("A", "B", "tie")
