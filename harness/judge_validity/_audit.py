"""Shortcut audit of a preference-pairs file: how far trivial rules and a bag-of-words model get on it.

A pairs file (``harness.reward_heads.load_pairs`` format) whose better and worse replies differ in length, in
question marks, in stock openings or in tell-tale words teaches a judge those shortcuts, and its own test split
cannot show it. :func:`shortcut_audit` measures them with the baselines of :mod:`harness.judge_validity._metrics`
(the same rules ``theraeval judges validate`` reports beside every judge).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.judge_validity._metrics import bag_of_words_verdicts, credit, trivial_verdicts
from harness.judge_validity._sets import ValidationPair
from harness.reward_heads import RewardHeadPair

LENGTH_BALANCE = 0.75
"""A pair is length-balanced when its shorter reply has at least 75% of the longer one's characters."""
OPENING_MIN_COUNT = 6
"""An opening is checked for side imbalance once it opens at least this many replies (both sides together)."""
OPENING_MAX_SHARE = 0.75
"""An opening is a side marker when more than this share of the replies it opens are on one side."""


def opening(text: str, n: int) -> str:
    """The first `n` words of a reply, lower-cased, apostrophes unified, punctuation dropped ("" if too short)."""
    words = re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))
    return " ".join(words[:n]) if len(words) >= n else ""


@dataclass(frozen=True)
class ShortcutAudit:
    """What shortcuts score on a pairs file. Accuracies count a tie (equal measure) as half, like every
    judge-validity accuracy; 0.5 is chance."""

    n_pairs: int
    n_test: int
    longer_wins: float
    shorter_wins: float
    more_questions_wins: float
    only_chosen_asks: float
    """Share of pairs where the chosen reply has a "?" and the rejected one has none."""
    only_rejected_asks: float
    length_balanced: float
    """Share of pairs whose shorter reply has >= LENGTH_BALANCE of the longer one's characters."""
    bow_test: float | None
    """Bag-of-words logistic regression, one model over all criteria, fitted on the train split, on the test split."""
    bow_test_per_criterion: float | None
    """The same with one model per criterion (each fitted on its own train pairs), pooled over the test split."""
    openings: dict[int, dict[str, tuple[int, int]]] = field(default_factory=dict)
    """For n = 1 and 2: opening n-gram -> (replies it opens on the chosen side, on the rejected side)."""
    bow_test_by_kind: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """Pair kind (``RewardHeadPair.kind``) -> the two bag-of-words figures on that kind's test pairs (one model,
    one per criterion); the models are the same as above, fitted on every kind's train pairs."""

    def side_markers(self, min_count: int = OPENING_MIN_COUNT,
                     max_share: float = OPENING_MAX_SHARE) -> list[tuple[str, int, int]]:
        """Openings (one or two words) that open >= `min_count` replies, more than `max_share` of them on one side."""
        return [(o, c, r) for n in sorted(self.openings) for o, (c, r) in self.openings[n].items()
                if c + r >= min_count and max(c, r) / (c + r) > max_share]

    def format(self, top: int = 8) -> str:
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3f}"

        lines = [f"pairs {self.n_pairs} (test {self.n_test})",
                 f"longer wins {pct(self.longer_wins)}  shorter wins {pct(self.shorter_wins)}  "
                 f"more '?' wins {pct(self.more_questions_wins)}",
                 f"only chosen has '?' {pct(self.only_chosen_asks)}  only rejected has '?' "
                 f"{pct(self.only_rejected_asks)}  lengths within 25% {pct(self.length_balanced)}",
                 f"bag-of-words on the test split: one model {pct(self.bow_test)}, "
                 f"one per criterion {pct(self.bow_test_per_criterion)}"]
        if len(self.bow_test_by_kind) > 1:
            lines += [f"  on {kind} test pairs: one model {pct(one)}, one per criterion {pct(per)}"
                      for kind, (one, per) in self.bow_test_by_kind.items()]
        for n in sorted(self.openings):
            for side, k in (("chosen", 0), ("rejected", 1)):
                best = sorted(self.openings[n].items(), key=lambda kv: (-kv[1][k], kv[0]))[:top]
                lines.append(f"top {n}-word openings of {side} replies (chosen:rejected): "
                             + ", ".join(f"{o!r} {c}:{r}" for o, (c, r) in best))
        markers = self.side_markers()
        lines.append("side-marker openings (chosen:rejected): "
                     + (", ".join(f"{o!r} {c}:{r}" for o, c, r in markers) if markers else "none"))
        return "\n".join(lines)


def _mean_credit(verdicts: Sequence[str]) -> float:
    return float(np.mean([credit(v, "A") for v in verdicts])) if verdicts else float("nan")


def _bow(vpairs: Sequence[ValidationPair], seed: int) -> dict[str, str] | None:
    """Test-split verdicts of `bag_of_words_verdicts` (fitted on the train split) by pair id, or None when it cannot
    fit."""
    v = bag_of_words_verdicts(vpairs, seed=seed)
    return None if v is None else {p.id: x for x, p in zip(v, vpairs, strict=True) if p.split == "test"}


def shortcut_audit(pairs: Sequence[RewardHeadPair], *, seed: int = 0) -> ShortcutAudit:
    """Measure the shortcuts of a pairs file.

    - longer / shorter / more-question-marks wins: :func:`trivial_verdicts` on every pair (equal: tie = half).
    - bag of words: :func:`bag_of_words_verdicts` (binary unigram + bigram counts of each reply, ``min_df = 2``,
      feature ``x(chosen) - x(rejected)``, L2 logistic regression without intercept fitted on both orientations of
      every train pair); a test pair counts as right when ``w . (x(chosen) - x(rejected)) > 0``, half when it is 0.
      Fitted once over all criteria, and once per criterion (criteria with too few pairs give no per-criterion
      figure).
    - openings: the first one and two words of each reply, counted per side.

    The bag-of-words figures are also given per pair kind (``bow_test_by_kind``) when the file has several kinds.
    """
    vpairs = [ValidationPair(id=p.id, criterion=p.criterion, context=p.context, response_a=p.chosen,
                             response_b=p.rejected, label="A", cluster=p.context_id, split=p.split) for p in pairs]
    rules = trivial_verdicts(vpairs)
    has_q = [("?" in p.chosen, "?" in p.rejected) for p in pairs]
    bow = _bow(vpairs, seed)
    per: dict[str, str] = {}
    for c in dict.fromkeys(p.criterion for p in pairs):
        got = _bow([v for v in vpairs if v.criterion == c], seed)
        if got is None:
            per = {}
            break
        per.update(got)
    kind_of = {p.id: p.kind for p in pairs}
    by_kind: dict[str, tuple[float | None, float | None]] = {}
    def of_kind(verdicts: dict[str, str] | None, kind: str) -> float | None:
        return _mean_credit([v for i, v in verdicts.items() if kind_of[i] == kind]) if verdicts else None

    for kind in dict.fromkeys(p.kind for p in pairs if p.split == "test"):
        by_kind[kind] = (of_kind(bow, kind), of_kind(per, kind))
    openings: dict[int, dict[str, tuple[int, int]]] = {}
    for n in (1, 2):
        chosen = Counter(opening(p.chosen, n) for p in pairs)
        rejected = Counter(opening(p.rejected, n) for p in pairs)
        openings[n] = {o: (chosen[o], rejected[o]) for o in sorted(set(chosen) | set(rejected)) if o}
    n = len(pairs)
    return ShortcutAudit(
        n_pairs=n, n_test=sum(p.split == "test" for p in pairs),
        longer_wins=_mean_credit(rules["longer_wins"]), shorter_wins=_mean_credit(rules["shorter_wins"]),
        more_questions_wins=_mean_credit(rules["more_questions"]),
        only_chosen_asks=sum(c and not r for c, r in has_q) / n,
        only_rejected_asks=sum(r and not c for c, r in has_q) / n,
        length_balanced=sum(min(len(p.chosen), len(p.rejected)) / max(len(p.chosen), len(p.rejected))
                            >= LENGTH_BALANCE for p in pairs) / n,
        bow_test=_mean_credit(list(bow.values())) if bow else None,
        bow_test_per_criterion=_mean_credit(list(per.values())) if per else None,
        openings=openings, bow_test_by_kind=by_kind)
