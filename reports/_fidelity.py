"""The report's simulated-patient section: how well the patient of a multi-turn run stayed a patient.

Reads ``tables/fidelity`` (``theraeval leaderboard``, from ``<run>/fidelity.parquet``). Multi-turn scores judge
candidates against a simulated patient; when it speaks as a therapist or drops a crisis, those scores measure the
wrong thing, so the report says how often that happened.
"""

from __future__ import annotations

from harness.fidelity import reference_row
from reports._data import RunData
from reports._escape import Safe
from reports._html import el, fmt_pct
from reports._sections import _td, _th, scroll

__all__ = ["fidelity_section"]


def _pct(x: float) -> str:
    return fmt_pct(x / 100.0)


def fidelity_section(data: RunData) -> Safe:
    fid = data.table("fidelity")
    if fid.empty:
        return el("section", el("h2", "Simulated patient"),
                  el("p", "Single-turn run (or no fidelity table): no simulated patient turns to check.",
                     class_="empty"), id="patient")
    head = el("thead", el("tr", _th("candidate", "text"), _th("follow-ups", "num"), _th("in role %", "num"),
                          _th("crisis kept % (n)", "num"), _th("persona ok %", "num"),
                          _th("model-written %", "num"), _th("regenerated", "num"), _th("fallback", "num"),
                          _th("flagged", "num"), _th("words", "num"), _th("question %", "num"),
                          _th("change / neutral / sustain %", None)))
    rows = [el("tr", el("th", str(r.candidate), scope="row", data_v=str(r.candidate)),
               _td(str(r.follow_ups), int(r.follow_ups), class_="num"),
               _td(_pct(r.in_role_pct), float(r.in_role_pct), class_="num"),
               _td(f"{_pct(r.crisis_kept_pct)} ({r.crisis_dialogues})", float(r.crisis_kept_pct), class_="num"),
               _td(_pct(r.persona_adherent_pct), float(r.persona_adherent_pct), class_="num"),
               _td(_pct(r.model_written_pct), float(r.model_written_pct), class_="num"),
               _td(str(r.regenerated), int(r.regenerated), class_="num"),
               _td(str(r.fallback), int(r.fallback), class_="num"),
               _td(str(r.flagged), int(r.flagged), class_="num"),
               _td(f"{r.words_mean:.1f}", float(r.words_mean), class_="num"),
               _td(_pct(r.question_pct), float(r.question_pct), class_="num"),
               _td(f"{r.change_pct:.0f} / {r.neutral_pct:.0f} / {r.sustain_pct:.0f}"))
            for r in fid.itertuples(index=False)]
    ref = reference_row()
    lede = ("Each simulated-patient follow-up is read by a therapist-vs-client classifier trained on AnnoMI "
            "counselling sessions (its accuracy on sessions it did not see: harness/fidelity/data/DATA_CARD.md) "
            "and rule patterns; on crisis scenarios, whether the patient keeps the disclosure. Follow-ups that broke "
            "role were regenerated, replaced by a scripted client turn (fallback) or flagged, per "
            "[patient] on_role_break; \u201cin role\u201d is read by the same classifier that guards the turns, so "
            f"it is not an independent check. Real AnnoMI client turns (5+ words): {ref['words_mean']:.1f} words, "
            f"{ref['question_pct']:.1f}% questions, talk types change / neutral / sustain "
            f"{ref['change_pct']:.0f} / {ref['neutral_pct']:.0f} / {ref['sustain_pct']:.0f}%.")
    return el("section", el("h2", "Simulated patient"), el("p", lede, class_="lede"),
              scroll(el("table", head, el("tbody", rows), class_="sortable", id="fidelity-table"), "fidelity", data),
              id="patient")
