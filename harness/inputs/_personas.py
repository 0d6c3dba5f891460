"""Personas: who the simulated patient is, and whose preferences a persona judge applies."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.core import InputError, iter_jsonl, user_file
from harness.inputs._text import NonBlank

Likert = Literal["strongly agree", "agree", "neutral", "disagree", "strongly disagree"]

# The survey's five importance dimensions (Beikzadeh et al. 2026, arXiv:2602.16053, the survey), keyed by the
# criterion ids they weight.
IMPORTANCE_CRITERIA: dict[str, str] = {
    "empathy": "Empathy and warmth",
    "active_listening": "Active listening",
    "self_motivated_change": "Encouraging self-motivated change",
    "trust_rapport": "Trust and rapport",
    "patient_autonomy": "Respect for patient autonomy",
}

# The attitude statements (survey items 7a-7e) and how the paper's template words them.
ATTITUDES: dict[str, tuple[str, str]] = {
    "accessibility": ("Accessibility", "LLMs can make mental-health support more accessible"),
    "empathy": ("Empathy", "LLMs can respond as empathetically as human therapists"),
    "factual_errors": ("Accuracy concerns", "LLMs may give factually wrong or harmful information"),
    "complement": ("Role", "LLMs should complement, not replace, human therapists"),
    "trust": ("Trust", "you could trust an LLM with your mental-health concerns"),
}
_LIKERT_VERB: dict[str, str] = {  # paper's generate_personas.py mapping
    "strongly agree": "strongly believe that",
    "agree": "think that",
    "neutral": "are unsure about whether",
    "disagree": "don't think that",
    "strongly disagree": "strongly disagree that",
}


class Persona(BaseModel):
    """A patient persona with the paper's survey fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    age_group: NonBlank
    gender: NonBlank
    ethnicity: NonBlank
    diagnoses: tuple[str, ...] = ()
    """Self-reported diagnoses; empty means none reported."""
    severity: Literal["none", "mild", "moderate", "severe"]
    treatment: NonBlank
    """Current treatment, e.g. `therapy`, `medication`, `none`."""
    ai_experience: tuple[str, ...] = ()
    """What the person has used AI chat tools for."""
    ai_attitudes: dict[str, Likert]
    """Likert answer per attitude statement (keys of `ATTITUDES`)."""
    importance: dict[str, int]
    """1-5 importance per therapeutic criterion id (keys of `IMPORTANCE_CRITERIA`)."""
    helpful_areas: tuple[str, ...] = ()
    appropriate_uses: tuple[str, ...] = ()
    communication_style: NonBlank = "plain and direct"
    """How the simulated patient writes (e.g. `brief, guarded`)."""

    @field_validator("importance")
    @classmethod
    def _importance(cls, v: dict[str, int]) -> dict[str, int]:
        missing = set(IMPORTANCE_CRITERIA) - set(v)
        if missing:
            raise ValueError(f"importance is missing {sorted(missing)}")
        for k, x in v.items():
            if not 1 <= x <= 5:
                raise ValueError(f"importance[{k}]={x} is outside 1..5")
        return v

    @field_validator("ai_attitudes")
    @classmethod
    def _attitudes(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = set(v) - set(ATTITUDES)
        if unknown:
            raise ValueError(f"unknown attitude(s) {sorted(unknown)}; known: {sorted(ATTITUDES)}")
        return v

    def profile(self) -> str:
        """The persona card in the paper's section format (used by the patient and the persona judge)."""
        diag = ", ".join(self.diagnoses) if self.diagnoses else "none reported"
        lines = [
            "DEMOGRAPHICS:",
            f"- Age: {self.age_group}",
            f"- Gender: {self.gender}",
            f"- Ethnicity: {self.ethnicity}",
            "",
            "MENTAL HEALTH BACKGROUND:",
            f"- Diagnoses: {diag}",
            f"- Severity level: {self.severity}",
            f"- Current treatment: {self.treatment}",
            "",
            "TECHNOLOGY EXPERIENCE:",
        ]
        if self.ai_experience:
            lines.append("You have previous experience with AI tools for: " + ", ".join(self.ai_experience))
        else:
            lines.append("You have not used AI chat tools before.")
        lines += ["", "YOUR ATTITUDES TOWARD AI IN MENTAL HEALTH:"]
        for key, (label, statement) in ATTITUDES.items():
            if key in self.ai_attitudes:
                lines.append(f"- {label}: You {_LIKERT_VERB[self.ai_attitudes[key]]} {statement}.")
        lines += ["", "THERAPY PREFERENCES (importance ratings out of 5):"]
        for key, label in IMPORTANCE_CRITERIA.items():
            lines.append(f"- {label}: {self.importance[key]}/5 importance")
        if self.helpful_areas:
            lines += ["", "AREAS WHERE YOU THINK AI COULD BE HELPFUL: " + ", ".join(self.helpful_areas)]
        if self.appropriate_uses:
            lines += ["", "YOUR VIEWS ON APPROPRIATE USES OF AI IN THERAPY: " + ", ".join(self.appropriate_uses)]
        lines += ["", f"COMMUNICATION STYLE: {self.communication_style}"]
        return "\n".join(lines)

    def patient_prompt(self, stop_token: str) -> str:
        """System prompt for the patient simulator (multi-turn dialogues)."""
        return (
            "You are roleplaying as a patient talking to a therapist. Stay in character; never say you are "
            "an AI. Reply with one short message (1-4 sentences) as the patient would, reacting to what the "
            f"therapist just said. If you feel the conversation is complete, end your message with {stop_token}."
            "\n\nYour characteristics:\n" + self.profile()
        )

    def judge_prompt(self) -> str:
        """System prompt for the persona judge (the paper's protocol: the judge role-plays the patient)."""
        return (
            "You are roleplaying as a person seeking mental-health support, with the characteristics below. "
            "Judge responses as this person would, according to your own preferences and background."
            "\n\n" + self.profile()
        )


def load_personas_file(path: str | Path) -> list[Persona]:
    """Load personas from a `.jsonl` file (one persona object per line), validating every field."""
    p = Path(path)
    user_file(p, "path", "point the config at an existing personas file")
    if p.suffix.lower() != ".jsonl":
        raise InputError(p, "suffix", p.suffix, "unsupported persona file type",
                         "use a .jsonl file (or build one with `theraeval personas from-survey`)")
    out: list[Persona] = []
    seen: set[str] = set()
    for where, obj in iter_jsonl(p):
        try:
            persona = Persona.model_validate(obj)
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "persona"
            raise InputError(p, f"{where} {field}", err.get("input"), err["msg"].removeprefix("Value error, "),
                             "see docs/data-formats.md for the persona fields") from None
        if persona.id in seen:
            raise InputError(p, f"{where} id", persona.id, "duplicate persona id", "give each persona a unique id")
        seen.add(persona.id)
        out.append(persona)
    if not out:
        raise InputError(p, "rows", 0, "no personas found", "add at least one persona")
    return out
