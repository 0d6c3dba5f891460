"""Does fine-tuning the encoder help the offline judge? MiniLM fine-tuned on AnnoMI therapist codes in place of the
bundled TF-IDF behaviour classifier (issue 14; measured, not shipped: 90 MB of weights and torch at judging time).

Trains on the therapist utterances of the bundled judge's AnnoMI training sessions (the split in its heads.json),
then on the held-out sessions reports behaviour accuracy and, with the AnnoMI-fitted heads refitted (Bradley-Terry,
training sessions) on the fine-tuned features, the held-out pair accuracy of each behaviour-code criterion. Needs
../shared/data/annomi. About 30 minutes on 2 shared CPU cores for one epoch.

    python benchmarks/finetuned_behaviour.py [--epochs 1] [--max-length 64] [--batch 32]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Sequence

import numpy as np
from _bench import ROOT, header

from harness.judge_validity import ValidationPair, annomi_set
from harness.reward_heads import BEHAVIOURS, RewardHeads, behaviour_of, encoder_dir, fit_bradley_terry
from harness.reward_heads._evidence import CAP, EVIDENCE_FEATURES, evidence_features, sentences

ANNOMI = ROOT.parent / "shared" / "data" / "annomi" / "AnnoMI-full.csv"
CRITERIA = ("active_listening", "patient_autonomy", "self_motivated_change")


def main() -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    header("fine-tuned MiniLM behaviour encoder vs the bundled TF-IDF classifier (issue 14)")
    if not ANNOMI.is_file():
        print(f"no AnnoMI at {ANNOMI}: nothing to measure")
        return
    torch.manual_seed(0)
    judge = RewardHeads.load()
    train_s, held_s = set(judge.manifest["annomi"]["train_sessions"]), set(judge.manifest["annomi"]["heldout_sessions"])
    with ANNOMI.open(encoding="utf-8", newline="") as f:
        ther = [r for r in csv.DictReader(f) if r["interlocutor"] == "therapist" and r["utterance_text"].strip()]
    fit = [r for r in ther if r["transcript_id"] in train_s]
    test = [r for r in ther if r["transcript_id"] in held_s]
    tok = AutoTokenizer.from_pretrained(encoder_dir())
    enc = AutoModel.from_pretrained(encoder_dir())
    head = torch.nn.Linear(enc.config.hidden_size, len(BEHAVIOURS))
    opt = torch.optim.AdamW([{"params": enc.parameters(), "lr": 5e-5}, {"params": head.parameters(), "lr": 1e-3}],
                            weight_decay=0.01)

    def logits(texts: Sequence[str]) -> torch.Tensor:
        b = tok(list(texts), padding=True, truncation=True, max_length=args.max_length, return_tensors="pt")
        h = enc(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        return head((h * m).sum(1) / m.sum(1))

    x = [r["utterance_text"] for r in fit]
    y = torch.tensor([BEHAVIOURS.index(behaviour_of(r)) for r in fit])
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    enc.train()
    for _ in range(args.epochs):
        order = rng.permutation(len(x))
        for s in range(0, len(order), args.batch):
            idx = order[s:s + args.batch]
            loss = torch.nn.functional.cross_entropy(logits([x[i] for i in idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    train_s_wall = time.perf_counter() - start
    enc.eval()
    cache: dict[str, np.ndarray] = {}

    def probs(texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in cache}, key=len)
        with torch.inference_mode():
            for s in range(0, len(todo), 64):
                p = torch.softmax(logits(todo[s:s + 64]), -1).numpy()
                cache.update(zip(todo[s:s + 64], p, strict=True))
        return np.array([cache[t] for t in texts]) if texts else np.zeros((0, len(BEHAVIOURS)))

    pred = probs([r["utterance_text"] for r in test]).argmax(1)
    gold = np.array([BEHAVIOURS.index(behaviour_of(r)) for r in test])
    print(f"fine-tuning: {train_s_wall:.0f} s for {args.epochs} epoch(s) over {len(x)} utterances; held-out-session "
          f"behaviour accuracy {float(np.mean(pred == gold)):.3f} (bundled TF-IDF: "
          f"{judge.manifest['behaviour_classifier']['heldout_accuracy']:.3f}; majority "
          f"{float(np.bincount(gold).max() / len(gold)):.3f})")

    def feats(ctx: list[str], resp: list[str]) -> np.ndarray:
        out = np.zeros((len(resp), len(EVIDENCE_FEATURES) + len(BEHAVIOURS)))
        out[:, :len(EVIDENCE_FEATURES)] = evidence_features(ctx, resp)
        split = [sentences(r) or [r] for r in resp]
        p = probs([s for ss in split for s in ss])
        k = 0
        for i, ss in enumerate(split):
            out[i, len(EVIDENCE_FEATURES):] = np.minimum(p[k:k + len(ss)].sum(0), CAP)
            k += len(ss)
        return out

    def diffs(pairs: Sequence[ValidationPair]) -> np.ndarray:
        fa = feats([p.context for p in pairs], [p.response_a for p in pairs])
        fb = feats([p.context_of_b for p in pairs], [p.response_b for p in pairs])
        return np.asarray((fa - fb) * np.array([1.0 if p.label == "A" else -1.0 for p in pairs])[:, None])

    tr = annomi_set(ANNOMI, per_session=40, criteria=CRITERIA, sessions=train_s)
    te = annomi_set(ANNOMI, criteria=CRITERIA, sessions=held_s, sessions_per_low=len(held_s))
    print("| criterion | held-out pairs | fine-tuned features | bundled judge |")
    print("|---|---|---|---|")
    for c in CRITERIA:
        m = diffs(te.of(c)) @ fit_bradley_terry(diffs(tr.of(c)), 0.01)
        bundled = judge.manifest["criteria"][c]["metrics"]["heldout_accuracy"]
        print(f"| {c} | {len(m)} | {float(np.mean((m > 0) + 0.5 * (m == 0))):.3f} | {bundled:.3f} |")


if __name__ == "__main__":
    main()
