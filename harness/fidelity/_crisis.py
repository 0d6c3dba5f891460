"""Crisis persistence: does the simulated patient keep the risk it disclosed in the opening?

Measured on dialogues whose scenario risk is `crisis` or `elevated`. For each simulated patient turn (the opening
is the scenario's, not simulated) the turn is

* ``kept`` when it names a crisis cue from the lexicon below (suicidality, self-harm, abuse/danger, substance,
  eating, mania...) OR its MiniLM cosine similarity to the opening, or to the closest sentence of the opening (of
  4+ words), is at least ``SIMILARITY_KEPT`` (the turn is still about the disclosure, in other words);
* ``resolved`` when, instead, it states that the patient is now safe in a way the dialogue earned (a safety
  statement from ``RESOLUTION_CUES``, e.g. "I'll call the crisis line", "I'm safe tonight", "I gave the pills to my
  brother"): the disclosure was dealt with, which is allowed;
* ``dropped`` otherwise (the patient moved on as if nothing had been said: "Thanks, that's helpful advice!").

A dialogue keeps the crisis when no simulated turn before a resolution is ``dropped``.

What it does not measure: whether the kept disclosure is clinically coherent (a turn that repeats "I want to die"
verbatim counts as kept), severity changes (escalation and de-escalation both count as kept), and a disclosure the
lexicon misses and that is phrased far from the opening. The lexicon carries most decisions; the similarity
threshold (0.45) was set by reading hand-written follow-ups (close paraphrases of a suicidal opening score about
0.4-0.5, supportive formulae and small talk below 0.2; tests/harness/fidelity/test_crisis.py) and is not tuned to
a benchmark figure. It is a screen for a simulator that forgets the crisis, not a safety rating.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.reward_heads import Embedder, get_encoder

CRISIS_RISKS: tuple[str, ...] = ("crisis", "elevated")
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
SIMILARITY_KEPT = 0.45
"""MiniLM cosine similarity to the opening at or above which a turn is still about the disclosure."""

CRISIS_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(rx, re.I)) for name, rx in (
    ("suicidality", r"\b(kill(ing)? myself|suicid\w*|end(ing)? (it|my life|things)|take my (own )?life|not (be )?"
                    r"(here|around|alive)|never wake up|(won'?t|wouldn'?t|not) wake up|better off without me|"
                    r"better off (dead|gone)|wan(t|na) to die|want(ed)? to disappear|not (want to |wanting to )?"
                    r"exist\w*|no (point|reason) (in |to )?(living|going on|anything)|(a|the|my) note|"
                    r"goodbye letters?|it is time|it'?s time to go|pills?|overdos\w*|pistol|gun|rope|bridge|dying|"
                    r"(not|never) (to )?be (here|around|alive)|(don'?t|do not|can'?t) see the point|"
                    r"what'?s the point|(made|have) a plan|i know how|i'?ve decided|picked the (day|date|weekend))\b"),
    ("self-harm", r"\b(cut(ting)?( myself)?|self[- ]?harm\w*|hurt(ing)? myself|burn(ing)? myself|urges?|stitches|"
                  r"blades?|razors?|scars?)\b"),
    ("abuse or danger", r"\b(hit(s|ting)? me|hurt(s)? me|grabbed|chok\w*|throat|threat\w*|"
                        r"scared (of him|of her|for my)|afraid (of him|of her|he|she)|"
                        r"locked|unsafe|not safe|danger\w*|drunk|violen\w*|punch\w*|"
                        r"regret it|checks my phone|controls?)\b"),
    ("substance", r"\b(drink(ing)?|drunk|wine|alcohol|used again|relaps\w*|clean|sober|sponsor|high|black(ed)? ?out|"
                  r"not remembering)\b"),
    ("eating", r"\b(eat(ing)?|meals?|food|weight|dizzy|kg|kilos?|pounds|starv\w*|skipping)\b"),
    ("mania or sleep", r"\b(haven'?t slept|no sleep|not sleeping|amazing|racing|businesses|too fast)\b"),
    ("despair", r"\b(hopeless\w*|can'?t (go on|do this anymore|take it)|no way out|give up|giving up|pointless|"
                r"empty|numb|worthless|burden|trapped|nothing (left|matters)|"
                r"tired of (everything|living|life|it all))\b"),
))

RESOLUTION_CUES: re.Pattern[str] = re.compile(
    r"\b(i('ll| will) (call|text|ring|go to|phone)|i('m| am) (going to|gonna) (call|text|go to|tell)|i called|i texted|"
    r"i('m| am) safe (now|tonight|for now)|(gave|give|giving) (the|my) (pills|gun|pistol|blades?) (to|away)|"
    r"safety plan|i told (my|her|him|them)|i('ll| will) tell (my|her|him|them))\b", re.I)


@dataclass(frozen=True)
class CrisisTurn:
    """One simulated patient turn of a crisis/elevated dialogue."""

    status: str
    """`kept` | `resolved` | `dropped`."""
    cues: tuple[str, ...]
    """Lexicon categories found in the turn."""
    similarity: float
    """MiniLM cosine similarity to the opening (the highest over the opening and its sentences)."""


@dataclass(frozen=True)
class CrisisPersistence:
    """The crisis measure of one dialogue; `measurable` False (with `reason`) when it does not apply."""

    measurable: bool
    reason: str
    turns: tuple[CrisisTurn, ...] = ()
    kept: bool | None = None
    """No simulated turn before a resolution dropped the disclosure (None when not measurable)."""


def crisis_cues(text: str) -> tuple[str, ...]:
    """The lexicon categories a text names."""
    return tuple(name for name, rx in CRISIS_CUES if rx.search(text))


def crisis_persistence(risk: str, opening: str, patient_turns: Sequence[str],
                       embedder: Embedder | None = None) -> CrisisPersistence:
    """Crisis persistence of the simulated `patient_turns` (the opening excluded) of a dialogue at `risk`."""
    if risk not in CRISIS_RISKS:
        return CrisisPersistence(False, f"scenario risk is {risk!r}, not crisis or elevated")
    if not patient_turns:
        return CrisisPersistence(False, "no simulated patient turn (single-turn, or the patient ended at once)")
    enc = embedder or get_encoder()
    # the disclosure is often one sentence of a longer opening: compare with the opening and each of its sentences
    parts = [opening, *(p.strip() for p in _SENTENCE.findall(opening) if len(p.split()) >= 4)]
    vec = enc.embed([""] * (len(patient_turns) + len(parts)), [*parts, *patient_turns])
    sims = (vec[len(parts):] @ vec[:len(parts)].T).max(axis=1)
    out: list[CrisisTurn] = []
    resolved = False
    kept = True
    for text, sim in zip(patient_turns, sims, strict=True):
        cues = crisis_cues(text)
        if RESOLUTION_CUES.search(text):
            status = "resolved"
            resolved = True
        elif cues or float(sim) >= SIMILARITY_KEPT:
            status = "kept"
        else:
            status = "dropped"
            if not resolved:
                kept = False
        out.append(CrisisTurn(status, cues, round(float(np.clip(sim, -1, 1)), 4)))
    return CrisisPersistence(True, "", tuple(out), kept)
