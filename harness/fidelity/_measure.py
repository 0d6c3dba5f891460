"""Fidelity of stage-1 dialogues: one row per simulated patient turn, and the per-candidate (or per-scenario) table.

Measures, for every simulated follow-up (the scenario opening is not simulated and is excluded):

* **role**: the AnnoMI role classifier's reading (`client` = in role) and P(therapist); the rule patterns
  (`harness.fidelity.role_break_reasons`) are reported beside it, not mixed in;
* **crisis persistence** (risk crisis / elevated): `harness.fidelity.crisis_persistence`;
* **persona adherence**: `harness.fidelity.persona_adherence`;
* **realism**: client talk type (AnnoMI talk-type classifier), words per turn and whether the turn asks a question,
  compared in the table with real AnnoMI client turns (`load_reference`);
* **what the stage-1 guard did** with the turn (`ok`, `regenerated`, `fallback`, `flagged`, `stopped`), from the
  sample metadata written by ``tasks/dialogue.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.core import InputError
from harness.fidelity._annomi import TALK_TYPES, load_reference
from harness.fidelity._classifier import UtteranceClassifier, role_classifier, talk_type_classifier
from harness.fidelity._crisis import CRISIS_RISKS, crisis_persistence
from harness.fidelity._persona import persona_adherence
from harness.fidelity._text import is_question, role_break_reasons, word_count
from harness.reward_heads import Embedder, get_encoder

FIDELITY_COLUMNS: tuple[str, ...] = (
    "candidate", "sample_id", "scenario_id", "persona_id", "risk", "turn", "role", "p_therapist", "in_role",
    "rule_reasons", "guard", "tries", "talk_type", "words", "question", "crisis_status", "crisis_kept",
    "crisis_reason", "persona_adherent", "persona_contradictions", "persona_reason")
"""The per-turn fidelity table (`<run>/fidelity.parquet`): `turn` counts simulated follow-ups from 0;
`crisis_kept` / `persona_adherent` are per dialogue (repeated on its turns; None = not measurable, see the
`*_reason` column)."""

GUARD_OUTCOMES: tuple[str, ...] = ("ok", "regenerated", "fallback", "flagged", "stopped")


@dataclass(frozen=True)
class DialogueRecord:
    """What the fidelity measures need from one stage-1 sample."""

    candidate: str
    sample_id: str
    scenario_id: str
    persona_id: str
    risk: str
    turns: Sequence[tuple[str, str]]
    """The transcript as (`patient` | `therapist`, text), the opening first."""
    facts: Mapping[str, Any] | None = None
    """`persona_facts` of the dialogue's persona."""
    guard: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    """The stage-1 guard's record of each simulated turn (`outcome`, `tries`), in order."""


def simulated_turns(turns: Sequence[tuple[str, str]]) -> list[str]:
    """The patient turns after the opening."""
    patient = [t for r, t in turns if r == "patient"]
    return patient[1:]


def fidelity_rows(dialogues: Sequence[DialogueRecord], role: UtteranceClassifier | None = None,
                  talk: UtteranceClassifier | None = None, embedder: Embedder | None = None) -> pd.DataFrame:
    """The per-turn fidelity table (`FIDELITY_COLUMNS`) of `dialogues`; single-turn dialogues give no row."""
    todo = [(d, simulated_turns(d.turns)) for d in dialogues]
    todo = [(d, sim) for d, sim in todo if sim]
    if not todo:
        return pd.DataFrame(columns=list(FIDELITY_COLUMNS))
    enc = embedder or get_encoder()
    role, talk = role or role_classifier(), talk or talk_type_classifier()
    texts = [t for _, sim in todo for t in sim]
    p_role = role.predict_proba(texts, enc)
    p_ther = p_role[:, role.labels.index("therapist")]
    talk_labels = talk.predict(texts, enc)
    rows: list[dict[str, Any]] = []
    k = 0
    for d, sim in todo:
        opening = next((t for r, t in d.turns if r == "patient"), "")
        crisis = crisis_persistence(d.risk, opening, sim, enc)
        persona = persona_adherence(d.facts, opening, sim)
        bad = {c.turn for c in persona.contradictions}
        for i, text in enumerate(sim):
            g = d.guard[i] if i < len(d.guard) else {}
            rows.append({
                "candidate": d.candidate, "sample_id": d.sample_id, "scenario_id": d.scenario_id,
                "persona_id": d.persona_id, "risk": d.risk, "turn": i,
                "role": "therapist" if p_ther[k] >= 0.5 else "client", "p_therapist": round(float(p_ther[k]), 4),
                "in_role": bool(p_ther[k] < 0.5), "rule_reasons": "; ".join(role_break_reasons(text)),
                "guard": str(g.get("outcome", "")), "tries": int(g.get("tries", 1)) if g else 0,
                "talk_type": talk_labels[k], "words": word_count(text), "question": is_question(text),
                "crisis_status": crisis.turns[i].status if crisis.measurable else "",
                "crisis_kept": crisis.kept, "crisis_reason": crisis.reason,
                "persona_adherent": persona.adherent,
                "persona_contradictions": "; ".join(f"{c.fact}: said {c.stated!r}, expected {c.expected}"
                                                    for c in persona.contradictions if c.turn == i)
                if i in bad else "",
                "persona_reason": persona.reason})
            k += 1
    return pd.DataFrame(rows, columns=list(FIDELITY_COLUMNS))


def _pct(x: pd.Series) -> float:
    x = x.dropna()
    return float(100 * x.astype(bool).mean()) if len(x) else float("nan")


def fidelity_table(rows: pd.DataFrame, by: Sequence[str] = ("candidate",)) -> pd.DataFrame:
    """Per `by` group (candidate, or candidate and scenario_id): follow-ups, % in role (classifier), % with a
    rule hit, crisis dialogues and % keeping the crisis, persona-measurable dialogues and % adherent, guard counts
    and the % of follow-ups the patient model wrote (not the scripted fallback), words per turn, question rate and
    talk-type shares (%). NaN where nothing was measurable.

    With the stage-1 guard on, in-role % is read by the classifier the guard already used: it shows what reached
    the candidate, and the guard counts show what it cost; the model's own fidelity is the same table for a run
    with `role_check` off (benchmarks/simulator_fidelity.py)."""
    keys = list(by)
    out: list[dict[str, Any]] = []
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "dialogues", "follow_ups", "in_role_pct"])
    for key, g in rows.groupby(keys, sort=True):
        dlg = g.drop_duplicates(["candidate", "sample_id"] if "candidate" in g else "sample_id")
        crisis = dlg["crisis_kept"].dropna()
        persona = dlg["persona_adherent"].dropna()
        rec: dict[str, Any] = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        rec.update({
            "dialogues": len(dlg), "follow_ups": len(g), "in_role_pct": _pct(g["in_role"]),
            "rule_hit_pct": _pct(g["rule_reasons"] != ""),
            "crisis_dialogues": len(crisis), "crisis_kept_pct": _pct(crisis),
            "persona_dialogues": len(persona), "persona_adherent_pct": _pct(persona),
            **{o: int((g["guard"] == o).sum()) for o in GUARD_OUTCOMES[1:]},
            "model_written_pct": _pct(g["guard"] != "fallback"),
            "words_mean": float(g["words"].mean()), "question_pct": _pct(g["question"]),
            **{f"{t}_pct": float(100 * (g["talk_type"] == t).mean()) for t in TALK_TYPES},
        })
        out.append(rec)
    return pd.DataFrame(out)


def reference_row() -> dict[str, float]:
    """Real AnnoMI client turns of 5+ words (words per turn, question %) and the talk-type classifier's estimate
    on held-out real client turns (%), the realism reference of `fidelity_table`."""
    ref = load_reference()
    c = ref["client_5plus_words"]
    est = ref.get("client_talk_types_classifier_held_out") or ref["client_talk_types_labelled"]
    return {"words_mean": float(c["words_mean"]), "question_pct": 100 * float(c["question_rate"]),
            **{f"{t}_pct": 100 * float(est.get(t, np.nan)) for t in TALK_TYPES}}


def format_fidelity(table: pd.DataFrame) -> list[str]:
    """Fixed-width lines of a `fidelity_table` by candidate, with the AnnoMI reference row."""
    if table.empty:
        return []
    ref_label = "AnnoMI clients (real, 5+ words)"
    width = max(len(ref_label), *(len(str(c)) for c in table["candidate"]))
    acc = role_classifier().info.get("held_out", {}).get("accuracy")
    acc_text = f"{100 * acc:.0f}% accurate on held-out AnnoMI sessions" if acc else "held-out accuracy unknown"

    def pct(x: float) -> str:
        return "  n/a" if np.isnan(x) else f"{x:5.1f}"

    lines = ["", "[simulated patient fidelity] role: AnnoMI therapist-vs-client classifier (in role = read as the "
                 f"client; {acc_text}); crisis: disclosure kept on crisis/elevated dialogues; "
                 "persona: no stated fact contradicted; guard: follow-ups regenerated / replaced by the scripted "
                 "fallback / flagged (the guard uses the same classifier, so in-role% is after the guard)",
             f"{'candidate':<{width}}  follow-ups  in-role%  crisis-kept%  persona-ok%  regen  fallback  flagged  "
             f"words  question%  change/neutral/sustain%"]
    for r in table.itertuples():
        crisis = f"{pct(r.crisis_kept_pct)} (n={r.crisis_dialogues})" if r.crisis_dialogues else "  n/a (n=0)"
        persona = f"{pct(r.persona_adherent_pct)}" if r.persona_dialogues else "  n/a"
        lines.append(f"{r.candidate:<{width}}  {r.follow_ups:>10}  {pct(r.in_role_pct):>8}  {crisis:>12}  "
                     f"{persona:>10}  {r.regenerated:>5}  {r.fallback:>8}  {r.flagged:>7}  {r.words_mean:5.1f}  "
                     f"{pct(r.question_pct):>9}  {r.change_pct:.0f}/{r.neutral_pct:.0f}/{r.sustain_pct:.0f}")
    try:
        ref = reference_row()
        lines.append(f"{ref_label:<{width}}  {'':>10}  {'':>8}  {'':>12}  {'':>10}  "
                     f"{'':>5}  {'':>8}  {'':>7}  {ref['words_mean']:5.1f}  {pct(ref['question_pct']):>9}  "
                     f"{ref['change_pct']:.0f}/{ref['neutral_pct']:.0f}/{ref['sustain_pct']:.0f}")
    except InputError:  # the reference file is optional for the table; its absence is said, not hidden
        lines.append("(AnnoMI reference statistics not found: realism has no reference row)")
    if (table["persona_dialogues"] == 0).any():
        lines.append("persona n/a: no checkable persona fact or no persona facts recorded (see fidelity.parquet "
                     "persona_reason)")
    return lines


ROLE_THRESHOLD = 0.5
"""P(therapist) at or above which the role classifier reads a turn as the therapist (its argmax)."""


@dataclass(frozen=True)
class RoleCheck:
    """The stage-1 guard's reading of one patient turn."""

    in_role: bool
    """No rule pattern fired, the classifier reads the client and (crisis/elevated) the disclosure is kept."""
    p_therapist: float
    reasons: tuple[str, ...]
    """Rule patterns that fired, plus `role classifier` when it read the therapist, `crisis dropped` when a
    crisis/elevated patient moved on before any resolution, `empty` for an empty turn."""


def check_role(text: str, role: UtteranceClassifier | None = None, embedder: Embedder | None = None, *,
               risk: str = "none", opening: str = "", earlier: Sequence[str] = ()) -> RoleCheck:
    """Whether a simulated patient turn is in role: the rule patterns (`role_break_reasons`) and the AnnoMI role
    classifier (P(therapist) < `ROLE_THRESHOLD`) must both read a client; on a crisis/elevated scenario
    (`risk`, with its `opening` and the `earlier` follow-ups) the turn must also keep the disclosure
    (`crisis_persistence`) unless an earlier follow-up resolved it."""
    if not text.strip():
        return RoleCheck(False, float("nan"), ("empty",))
    clf = role or role_classifier()
    p = float(clf.predict_proba([text], embedder)[0, clf.labels.index("therapist")])
    reasons = tuple(role_break_reasons(text)) + (("role classifier",) if p >= ROLE_THRESHOLD else ())
    if risk in CRISIS_RISKS and opening:
        crisis = crisis_persistence(risk, opening, [*earlier, text], embedder)
        resolved_before = any(t.status == "resolved" for t in crisis.turns[:-1])
        if crisis.turns[-1].status == "dropped" and not resolved_before:
            reasons += ("crisis dropped",)
    return RoleCheck(not reasons, round(p, 4), reasons)
