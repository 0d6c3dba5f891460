"""How much of AnnoMI's self-motivated-change label can a judge of the reply read at all? (issue 14, diagnostic)

The `self_motivated_change` pairs (harness/judge_validity/_adapters.py): within a session, a therapist turn followed
by client change talk beats one followed by sustain talk, each shown after the client turn before it. This script
replaces every classifier by AnnoMI's own expert codes (a ceiling: perfect classifiers) and fits Bradley-Terry
heads (``fit_bradley_terry``, l2 0.01, as the bundled judge) on the pair differences of feature sets, scored
out-of-fold (5 folds of sessions, seed 0) on the bundled judge's **training sessions only** (the held-out sessions
are not read):

- `longer wins`: the trivial baseline;
- `therapist code`: the reply's gold behaviour (8 codes, one-hot);
- `code x client talk before`: + the six interactions of the client-talk recipe tried on 2026-12-07 (reflection /
  question / input after change / sustain talk, gold on both sides; benchmarks/README.md "What was tried");
- `client talk before` (context only): the gold talk type of the client turn before each reply. It cancels when
  two replies to one context are compared, so a judge must not use it; it shows how much of the label is the
  client's own momentum (change talk follows change talk) rather than the reply;
- `... context's own effect removed`: the interactions can carry that momentum (summed over the behaviour groups
  they are the context's talk type), so the head is fitted with the context-only features as well and scored with
  their weights set to 0: what the reply adds given its context.

    python benchmarks/self_motivated_change_signal.py      # a few seconds; needs ../shared/data/annomi
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence

import numpy as np
from _bench import ROOT, header

from harness.judge_validity import annomi_set
from harness.reward_heads import BEHAVIOURS, BUNDLED_HEADS, behaviour_of, fit_bradley_terry, load_heads

ANNOMI = ROOT.parent / "shared" / "data" / "annomi" / "AnnoMI-full.csv"
TALK = ("change", "neutral", "sustain")
GROUPS = {"reflection": ("complex_reflection", "simple_reflection"), "question": ("open_question", "closed_question"),
          "input": ("information", "advice", "negotiation")}
Row = dict[str, str]


def _features(name: str, ther: Row, before: Row) -> np.ndarray:
    beh = np.array([behaviour_of(ther) == b for b in BEHAVIOURS], float)
    talk = np.array([before["client_talk_type"] == t for t in TALK], float)
    inter = np.array([float(behaviour_of(ther) in bs and before["client_talk_type"] == t)
                      for t in ("change", "sustain") for bs in GROUPS.values()])
    words = np.array([np.log1p(len(ther["utterance_text"].split()))])
    return {"therapist code": np.concatenate([beh, words]),
            "code x client talk before": np.concatenate([beh, words, inter]),
            "client talk before (context only)": talk,
            "code x client talk before, context's own effect removed": np.concatenate([beh, words, inter, talk])}[name]


def _oof_accuracy(diffs: np.ndarray, groups: Sequence[str], folds: int = 5, drop_last: int = 0) -> float:
    """Out-of-fold accuracy; `drop_last`: the last this-many weights are fitted, then set to 0 for scoring."""
    uniq = sorted(set(groups))
    perm = np.random.default_rng(0).permutation(len(uniq))
    fold = np.array([int(perm[uniq.index(g)]) % folds for g in groups])
    margins = np.zeros(len(groups))
    for f in range(folds):
        w = fit_bradley_terry(diffs[fold != f], 0.01)
        w[len(w) - drop_last:] = 0.0
        margins[fold == f] = diffs[fold == f] @ w
    return float(((margins > 0) + 0.5 * (margins == 0)).mean())


def main() -> None:
    header("self-motivated change: what the reply can explain, with AnnoMI's gold codes (issue 14)")
    if not ANNOMI.is_file():
        print(f"no AnnoMI at {ANNOMI}: nothing to measure")
        return
    train = set(load_heads(BUNDLED_HEADS)[1]["annomi"]["train_sessions"])
    with ANNOMI.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["transcript_id"] in train]
    by_key: dict[str, tuple[Row, Row]] = {}
    by_id: dict[str, list[Row]] = {}
    for r in rows:
        by_id.setdefault(r["transcript_id"], []).append(r)
    for sid, rs in by_id.items():
        rs.sort(key=lambda r: int(r["utterance_id"]))
        for i, r in enumerate(rs[1:], start=1):
            by_key[f"{sid}/{r['utterance_id']}"] = (r, rs[i - 1])
    pairs = annomi_set(ANNOMI, per_session=40, criteria=("self_motivated_change",), sessions=train).pairs
    better_first = [(p.id.split("|") if p.label == "A" else p.id.split("|")[::-1]) for p in pairs]
    groups = [p.cluster for p in pairs]
    longer = np.array([np.sign(len(by_key[a][0]["utterance_text"]) - len(by_key[b][0]["utterance_text"]))
                       for a, b in better_first])
    print(f"# {len(pairs)} pairs of {len(train)} training sessions; accuracy out-of-fold (5 folds of sessions); "
          "a tie counts half")
    print("| features (gold AnnoMI codes) | accuracy |\n|---|---|")
    print(f"| longer wins (trivial) | {float(((longer > 0) + 0.5 * (longer == 0)).mean()):.3f} |")
    diff: Callable[[str], np.ndarray] = lambda name: np.array(  # noqa: E731
        [_features(name, *by_key[a]) - _features(name, *by_key[b]) for a, b in better_first])
    for name in ("therapist code", "code x client talk before", "client talk before (context only)",
                 "code x client talk before, context's own effect removed"):
        drop = len(TALK) if name.endswith("removed") else 0
        print(f"| {name} | {_oof_accuracy(diff(name), groups, drop_last=drop):.3f} |")


if __name__ == "__main__":
    main()
