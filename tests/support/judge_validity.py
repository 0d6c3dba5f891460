"""Synthetic validation sets with a known answer, for the judge-validity tests (project-written: not evidence)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from harness.judge_validity import ValidationPair, ValidationSet


def synthetic_pairs(n: int = 80, *, seed: int = 0, criterion: str = "empathy",
                    contexts: int = 20) -> list[ValidationPair]:
    """`n` pairs over `contexts` contexts; the label is drawn at random (balanced by the seed), lengths vary so the
    length rules are informative but not perfect, and about a quarter of the responses ask a question."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        ctx = f"context {i % contexts}: I have been feeling low about work."
        a = f"{i:03d} " + "word " * int(rng.integers(3, 30)) + ("?" if rng.random() < 0.25 else ".")
        b = f"{i:03d} " + "text " * int(rng.integers(3, 30)) + ("?" if rng.random() < 0.25 else ".")
        label = "A" if rng.random() < 0.5 else "B"
        out.append(ValidationPair(id=f"p{i}", criterion=criterion, context=ctx, response_a=a.strip(),
                                  response_b=b.strip(), label=label, cluster=f"c{i % contexts}"))  # type: ignore[arg-type]
    return out


def synthetic_set(pairs: list[ValidationPair], name: str = "synthetic") -> ValidationSet:
    return ValidationSet(name, "<memory>", "0" * 16, tuple(pairs))


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def pair_rows(pairs: list[ValidationPair]) -> list[dict[str, Any]]:
    return [{"id": p.id, "context": p.context, "response_a": p.response_a, "response_b": p.response_b,
             "label": p.label, "criterion": p.criterion} for p in pairs]


# An AnnoMI-shaped file (AnnoMI-full.csv's columns) with a planted signal, for the cross-fit tests:
# (main behaviour, reflection subtype, question subtype, input subtype, therapist templates, client talk after it).
_ANNOMI_TURNS: dict[str, tuple[str, str, str, str, tuple[str, ...], str]] = {
    "complex_reflection": ("reflection", "complex", "", "", (
        "It sounds like part of you worries about {t} and part of you feels ready.",
        "So {t} helps you cope, and it also scares you when you think of home.",
        "You wonder whether {t} is costing you more than it gives you."), "change"),
    "simple_reflection": ("reflection", "simple", "", "", (
        "You feel tired of {t} and of all the arguments it brings at home.",
        "You have been thinking about {t} a lot over these last few weeks.",
        "{t} worries you, and so do the doctor's words about your liver."), "change"),
    "open_question": ("question", "", "open", "", (
        "What would you like to be different about {t} a year from now?",
        "How do you feel when you think about {t} and about your family?",
        "What would help you most with {t} right now, in your own words?"), "change"),
    "closed_question": ("question", "", "closed", "", (
        "Did you {t} yesterday evening after work, before you went to bed?",
        "Is {t} a problem for you at work or at home these days?",
        "Have you ever tried to stop {t} before, for a week or longer?"), "neutral"),
    "information": ("therapist_input", "", "", "information", (
        "Most people who keep {t} every day find that their sleep gets worse.",
        "Research shows that {t} raises blood pressure over time in most adults.",
        "The clinic runs a support group about {t} on Monday evenings at six."), "neutral"),
    "advice": ("therapist_input", "", "", "advice", (
        "You should stop {t} now, before it does any more harm to you.",
        "You need to quit {t} this week and tell your family that you did.",
        "You have to cut out {t} completely, starting tonight, no exceptions at all."), "sustain"),
    "negotiation": ("therapist_input", "", "", "negotiation", (
        "Shall we look at a few options for {t} together before we finish today?",
        "Would you like to set a small goal about {t} for the coming week?",
        "We could talk about {t} next time, if that suits you better than today."), "neutral"),
    "other": ("other", "", "", "", ("Okay, thank you for telling me all of that today.",
                                    "Right, I see, let us take a short pause here.",
                                    "Mm-hmm, go on, I am listening to everything you say."), "neutral"),
}
_CLIENT = {"change": ("I really want to cut down on {t}, I think I can do it.",
                      "I would like to feel better, maybe I could try less {t}."),
           "sustain": ("I don't see a problem with {t}, everyone does it.", "{t} is fine, I can handle it."),
           "neutral": ("I'm not sure.", "Maybe, I don't know.")}
ANNOMI_TOPICS = ("drinking", "smoking", "gambling", "vaping", "snacking", "overworking")


def write_annomi_csv(path: Path, *, n_low: int = 3, n_high: int = 6, seed: int = 0) -> Path:
    """Sessions of client/therapist turns with AnnoMI's columns and codes. Planted signal (project-written, not
    evidence): high-quality sessions use mostly reflections and open questions, low-quality ones mostly advice and
    closed questions (every session uses all eight behaviours, so every fold can train the classifier); a client turn
    after a reflection or open question is change talk, after advice sustain talk."""
    import csv

    rng = np.random.default_rng(seed)
    kinds = list(_ANNOMI_TURNS)
    good = [4, 3, 4, 1, 1, 1, 2, 1]   # complex, simple, open, closed, information, advice, negotiation, other
    bad = [1, 1, 1, 4, 2, 6, 1, 1]
    rows: list[dict[str, str]] = []
    for n, quality in enumerate(["low"] * n_low + ["high"] * n_high):
        sid, topic = str(n + 1), ANNOMI_TOPICS[n % len(ANNOMI_TOPICS)]
        turns = [k for k, m in zip(kinds, good if quality == "high" else bad, strict=True) for _ in range(m)]
        turns = [turns[i] for i in rng.permutation(len(turns))]
        utt = 0
        for k in turns:
            main, refl, quest, inp, texts, talk = _ANNOMI_TURNS[k]
            if utt == 0:
                rows.append(_annomi_row(quality, sid, topic, utt, "client", f"I came about my {topic}.",
                                        talk="neutral"))
                utt += 1
            rows.append(_annomi_row(quality, sid, topic, utt, "therapist", texts[int(rng.integers(len(texts)))]
                                    .format(t=topic), main, refl, quest, inp))
            client = _CLIENT[talk]
            rows.append(_annomi_row(quality, sid, topic, utt + 1, "client",
                                    client[int(rng.integers(len(client)))].format(t=topic), talk=talk))
            utt += 2
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _annomi_row(quality: str, sid: str, topic: str, utt: int, who: str, text: str, main: str = "", refl: str = "",
                quest: str = "", inp: str = "", talk: str = "") -> dict[str, str]:
    return {"mi_quality": quality, "transcript_id": sid, "topic": topic, "utterance_id": str(utt),
            "interlocutor": who, "utterance_text": text, "main_therapist_behaviour": main if who == "therapist" else "",
            "reflection_subtype": refl, "question_subtype": quest, "therapist_input_subtype": inp,
            "client_talk_type": talk if who == "client" else ""}
