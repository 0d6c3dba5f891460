"""Persona adherence: the simulated patient does not contradict the facts its persona (and scenario) state.

Method (a documented rule check, not a model): the checkable facts are

* **age**: the persona's ``age_group`` (``"25-34"``, ``"65+"``, ``"under 18"``) as an inclusive range, or, when the
  scenario opening states an age ("im 13", "I'm 45"), that age (the opening is what the patient already said, so it
  wins over the persona; ±1 year allowed);
* **gender**: ``Female`` / ``Male`` (other values are not checked: self-references like "as a woman" are only
  mapped for these two);
* **treatment**: whether the persona is in therapy and/or on medication (``treatment`` contains ``therapy`` /
  ``medication``; ``none`` is neither);
* **diagnoses**: whether any diagnosis is reported.

Each simulated patient turn (the opening excluded) is scanned for first-person statements of these facts with the
patterns below ("I'm 52", "as a mother", "my therapist says", "I've never been to therapy", "I was diagnosed
with"); a statement that disagrees with the fact is a contradiction. A turn that states nothing checkable is not
a contradiction (silence is adherence here: this measures contradiction, not richness). A persona with none of the
facts checkable, or a dialogue without a simulated turn, is "not measurable" with the reason.

What it misses: facts outside these four (job, family, preferences), paraphrases the patterns do not catch, and
contradictions between two simulated turns. It is a screen, tested on hand-written examples only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_AGE_STATED = re.compile(r"\b(?:i'?m|i am|im)\s+(?:only\s+|just\s+|nearly\s+|almost\s+)?(\d{1,2})\b(?!\s*(?:%|"
                         r"minutes?|hours?|days?|weeks?|months?|times?|kg|kilos?|pounds|lbs|am|pm|o'?clock))"
                         r"|\b(\d{1,2})\s+years?\s+old\b|\bat my age of (\d{1,2})\b", re.I)
_FEMALE = re.compile(r"\b(?:as a|i'?m a|i am a)\s+(?:\w+\s+)?(woman|girl|mother|mom|mum|wife|daughter|lady|"
                     r"grandmother|female)\b", re.I)
_MALE = re.compile(r"\b(?:as a|i'?m a|i am a)\s+(?:\w+\s+)?(man|guy|boy|father|dad|husband|son|grandfather|"
                   r"male)\b", re.I)
_IN_THERAPY = re.compile(r"\bmy (?:therapist|counsell?or|psychologist) (?:said|says|told|thinks|suggested|wants)|"
                         r"\bi(?:'m| am) (?:in|seeing a|going to) (?:therapy|therapist|counsell?ing)\b|"
                         r"\bin my (?:therapy|counsell?ing) session", re.I)
_NOT_IN_THERAPY = re.compile(r"\bi(?:'ve| have)? never (?:been (?:in|to)|had|seen a|tried) (?:therapy|a therapist|"
                             r"counsell?ing|anyone)\b|\bi(?:'m| am) not (?:in|seeing anyone for) (?:therapy|"
                             r"counsell?ing)\b|\bi don'?t have a (?:therapist|counsell?or)\b", re.I)
_ON_MEDICATION = re.compile(r"\bmy (?:medication|meds|antidepressants?|pills for (?:my )?\w+)\b(?! (?:from|in) )|"
                            r"\bi(?:'m| am) (?:on|taking) (?:medication|meds|antidepressants?|sertraline|prozac|"
                            r"lexapro|zoloft|lithium)\b", re.I)
_NOT_ON_MEDICATION = re.compile(r"\bi(?:'m| am) not (?:on|taking) (?:any )?(?:medication|meds|antidepressants?)\b|"
                                r"\bi(?:'ve| have)? never taken (?:any )?(?:medication|meds|antidepressants?)\b",
                                re.I)
_DIAGNOSED = re.compile(r"\bi (?:was|got|have been|'ve been) diagnosed with\b|\bmy diagnosis\b", re.I)
_NOT_DIAGNOSED = re.compile(r"\bi(?:'ve| have)? never been diagnosed\b|\bi don'?t have (?:a|any) diagnos[ie]s\b",
                            re.I)


@dataclass(frozen=True)
class Contradiction:
    """A simulated turn that states something the persona (or the opening) contradicts."""

    turn: int
    """Index among the simulated patient turns (0 = the first follow-up)."""
    fact: str
    stated: str
    expected: str


@dataclass(frozen=True)
class PersonaAdherence:
    """The persona check of one dialogue; `measurable` False (with `reason`) when it does not apply."""

    measurable: bool
    reason: str
    checked: tuple[str, ...] = ()
    """The facts that could be checked (`age`, `gender`, `treatment`, `diagnoses`)."""
    contradictions: tuple[Contradiction, ...] = ()
    adherent: bool | None = None
    """No contradiction (None when not measurable)."""


def _age_range(age_group: str) -> tuple[int, int] | None:
    s = age_group.strip().lower()
    if m := re.fullmatch(r"(\d{1,2})\s*[-\u2013to ]+\s*(\d{1,2})", s):
        return int(m.group(1)), int(m.group(2))
    if m := re.fullmatch(r"(\d{1,2})\s*(\+|and (over|older|above))", s):
        return int(m.group(1)), 120
    if m := re.fullmatch(r"(under|below|less than)\s*(\d{1,2})", s):
        return 0, int(m.group(2)) - 1
    return None


def stated_ages(text: str) -> list[int]:
    """Ages the speaker states about themself ("I'm 45", "13 years old")."""
    return [int(next(g for g in m.groups() if g)) for m in _AGE_STATED.finditer(text)]


def _treatment(treatment: str) -> tuple[bool, bool] | None:
    t = treatment.strip().lower()
    if not t or t in {"unknown", "prefer not to say", "n/a"}:
        return None
    return "therap" in t or "counsel" in t, "medic" in t


def persona_facts(persona: Any) -> dict[str, Any]:
    """The checkable fields of a `harness.inputs.Persona` (or a mapping with the same keys) as a plain dict, the
    form stage 1 stores in sample metadata."""
    get = persona.get if isinstance(persona, Mapping) else lambda k, d=None: getattr(persona, k, d)
    return {"age_group": str(get("age_group", "") or ""), "gender": str(get("gender", "") or ""),
            "treatment": str(get("treatment", "") or ""), "diagnoses": list(get("diagnoses", ()) or ())}


def persona_adherence(facts: Mapping[str, Any] | None, opening: str,
                      patient_turns: Sequence[str]) -> PersonaAdherence:
    """Contradictions of the persona's `facts` (`persona_facts`) in the simulated `patient_turns`."""
    if not facts:
        return PersonaAdherence(False, "no persona facts recorded for this dialogue (single-turn, or a stage-1 log "
                                       "written before fidelity was measured)")
    if not patient_turns:
        return PersonaAdherence(False, "no simulated patient turn")
    opening_ages = stated_ages(opening)
    age = (opening_ages[0] - 1, opening_ages[0] + 1) if opening_ages else _age_range(str(facts.get("age_group", "")))
    gender = str(facts.get("gender", "")).strip().lower()
    gender = gender if gender in {"female", "male"} else ""
    treat = _treatment(str(facts.get("treatment", "")))
    diagnosed = bool(facts.get("diagnoses")) if "diagnoses" in facts else None
    checked = tuple(name for name, ok in (("age", age is not None), ("gender", bool(gender)),
                                          ("treatment", treat is not None), ("diagnoses", diagnosed is not None))
                    if ok)
    if not checked:
        return PersonaAdherence(False, "the persona states no checkable fact (age group, gender female/male, "
                                       "treatment, diagnoses)")
    out: list[Contradiction] = []
    for i, text in enumerate(patient_turns):
        if age is not None:
            for a in stated_ages(text):
                if not age[0] <= a <= age[1]:
                    out.append(Contradiction(i, "age", str(a), f"{age[0]}-{age[1]}"))
        if gender:
            other = _MALE if gender == "female" else _FEMALE
            if m := other.search(text):
                out.append(Contradiction(i, "gender", m.group(1), gender))
        if treat is not None:
            therapy, medication = treat
            if not therapy and (m := _IN_THERAPY.search(text)):
                out.append(Contradiction(i, "treatment", m.group(0), "not in therapy"))
            if therapy and (m := _NOT_IN_THERAPY.search(text)):
                out.append(Contradiction(i, "treatment", m.group(0), "in therapy"))
            if not medication and (m := _ON_MEDICATION.search(text)):
                out.append(Contradiction(i, "treatment", m.group(0), "not on medication"))
            if medication and (m := _NOT_ON_MEDICATION.search(text)):
                out.append(Contradiction(i, "treatment", m.group(0), "on medication"))
        if diagnosed is not None:
            if not diagnosed and (m := _DIAGNOSED.search(text)):
                out.append(Contradiction(i, "diagnoses", m.group(0), "none reported"))
            if diagnosed and (m := _NOT_DIAGNOSED.search(text)):
                out.append(Contradiction(i, "diagnoses", m.group(0), "diagnosed"))
    return PersonaAdherence(True, "", checked, tuple(out), not out)
