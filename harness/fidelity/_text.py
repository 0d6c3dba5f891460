"""Cheap text features shared by the fidelity classifiers, and the rule check for therapist-style patient turns.

The features are computed the same way at training (AnnoMI utterances) and at inference (simulated turns).
"""

from __future__ import annotations

import re

import numpy as np

_WORD = re.compile(r"[a-z']+")
_SECOND = frozenset({"you", "your", "you're", "you've", "you'll", "you'd", "yours", "yourself"})
_FIRST = frozenset({"i", "my", "me", "i'm", "i've", "i'd", "i'll", "myself", "mine"})
_PLURAL = frozenset({"we", "let's", "us", "our", "we're", "we'll"})

FEATURE_NAMES: tuple[str, ...] = ("log_words", "has_question", "second_person_rate", "first_person_rate",
                                  "first_plural_rate")
"""The hand-made features appended to the MiniLM embedding (standardised with the training mean and scale)."""


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters and apostrophes; curly apostrophes folded)."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def word_count(text: str) -> int:
    return len(words(text))


def is_question(text: str) -> bool:
    """Whether the turn asks something (contains a question mark): the realism question rate."""
    return "?" in text


def text_features(texts: list[str]) -> np.ndarray:
    """`(len(texts), len(FEATURE_NAMES))` raw features, in `FEATURE_NAMES` order."""
    out = np.zeros((len(texts), len(FEATURE_NAMES)), dtype=np.float64)
    for i, t in enumerate(texts):
        w = words(t)
        n = max(len(w), 1)
        out[i] = (np.log1p(len(w)), float(is_question(t)), sum(x in _SECOND for x in w) / n,
                  sum(x in _FIRST for x in w) / n, sum(x in _PLURAL for x in w) / n)
    return out


# Rule check: patterns that a client does not say and a therapist, supporter or assistant does. Each pattern has a
# name (the reason recorded on the turn). Written from the role breaks read in the quickstart run of issue 21 and
# standard counsellor formulae (reflections, validation, signposting, advice lists); they are a guard, not the
# measurement (the role classifier measures, trained on AnnoMI labels).
_RULES: tuple[tuple[str, str], ...] = (
    ("sympathy opening", r"^\W*(i'?m|i am)\s+(so\s+|really\s+|very\s+|truly\s+)?sorry\s+(to hear|that you|you('re| are)"
                         r"|for your)"),
    ("validation formula", r"\b(it'?s|it is|that'?s|that is)\s+(completely|totally|perfectly|entirely|very)?\s*"
                           r"(normal|okay|ok|understandable|natural|valid)\s+(to|that you|for you)"),
    ("your feelings are valid", r"\byour (feelings|emotions|experiences?) (are|is) (valid|real|important)"),
    ("counsellor self-reference", r"\bas (a|an|your) (therapist|counsell?or|psychologist|ai|assistant|language model|"
                                  r"mental health professional)"),
    ("assistant self-reference", r"\b(i'?m|i am) (a|an|your) (practical |helpful |friendly |ai |virtual )?"
                                 r"(assistant|ai|chatbot|language model|therapist|counsell?or)\b"),
    ("offer of support", r"\b(i'?m|i am|we'?re|we are) (always |here |right here )*(here )?(to|for) "
                         r"(support|help|listen to) you\b|\b(i'?m|i am) here for you\b|\bhere to (support|help) you\b"),
    ("thanks for sharing", r"\bthank(s| you) (so much )?for (sharing|opening up|telling me|reaching out|trusting me)"),
    ("reflection", r"^\W*(it )?sounds like (you|you're|you are|this|that)\b|^\W*what i'?m hearing\b"),
    ("therapist question", r"\bhow (does|did|do) (that|this|it) make you feel\b|\b(can|could|would) you tell me (more|a"
                           r" bit more|about)\b|\bwhat (do|would) you (think|feel) (would|might) help\b"),
    ("you are not alone", r"\byou('re| are) not alone\b"),
    ("advice to the other", r"\b(i|we) (would|'d|strongly)? ?(recommend|suggest|encourage) (that )?you\b|\byou (should|"
                            r"might want to|could try|may want to) (try|consider|talk|reach|speak|seek|call)\b"
                            r"|\bhave you (tried|considered|thought about)\b"
                            r"|\bit'?s important (to|that you|for you)\b"),
    ("signposting", r"\b(reach out to|speak (to|with)|talk to) (a|an) (mental health )?(professional|therapist|"
                    r"counsell?or)\b|\bseek (professional )?help\b|\bcrisis (line|hotline|text line)\b"),
    ("list of steps", r"^\s*(\d+[.)]|[-*\u2022])\s+\S"),
    ("speaker label", r"^\W*(therapist|counsell?or|assistant|ai)\s*:"),
)
ROLE_BREAK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(rx, re.I | re.M))
                                                                     for name, rx in _RULES)


def role_break_reasons(text: str) -> list[str]:
    """Names of the therapist/assistant patterns a patient turn matches (empty: no rule fired)."""
    return [name for name, rx in ROLE_BREAK_PATTERNS if rx.search(text)]
