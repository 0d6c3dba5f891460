"""Blinded clinician evaluation packets from a run's head-to-heads (the paper's clinician study, Beikzadeh et al.
2026, arXiv:2602.16053).

:func:`export_packets` writes three files into ``<run>/packets/`` (or ``out_dir``):

* ``packet.html``: a printable, offline form (no script, no external resource; a Content-Security-Policy forbids
  both). Each item shows the patient's opening message and two anonymous conversations, "Response A" and
  "Response B", then one row of A / B / tie radio buttons per criterion. All model and patient text is
  HTML-escaped: it is untrusted.
* ``ratings_template.csv``: ``item_id,rater_id,criterion,label``, one row per item and criterion, to be filled in
  by each clinician (rater id + A, B or tie) and returned.
* ``key.csv``: item -> run, verdict-table pair, which candidate was shown as A and as B, scenario, persona and the
  stage-2 log/sample of the judge's verdict (:data:`harness.calibration.KEY_COLUMNS`). It stays with the
  researcher: send clinicians the form and the template only.

Blinding: item ids are opaque and sequential in a shuffled order (``item-0001``...), the candidate shown as A
is drawn per item from the seeded generator (independent of the judge's presentation order), and neither the
form nor the template contains a candidate name, the run name or the key. Model text that itself names a
candidate cannot be hidden without editing it; such a case is logged as a warning.

Sampling: items are (candidate pair, scenario[, persona]) head-to-heads with both transcripts. They are drawn
by balanced stratified sampling over strata (criterion, scenario risk, judge verdict): the items of each stratum
are shuffled with the seed and strata take turns (in a fixed order) adding their next not-yet-chosen item
until ``n_items`` are chosen. Rare strata (a tie verdict, a crisis scenario) are therefore represented instead of
being swamped by the common ones; the packet is not a proportional sample of the run, so report agreement
statistics as statistics *of the packet*. Verdicts the judge left unscored form no stratum.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.calibration._ratings import ITEM_KEY, KEY_COLUMNS, RATING_COLUMNS, item_verdicts
from harness.core import InputError
from harness.inputs import Criterion, load_criteria
from harness.stats import judge_ids, main_judge

logger = logging.getLogger(__name__)

FORM_NAME = "packet.html"
TEMPLATE_NAME = "ratings_template.csv"
KEY_NAME = "key.csv"
_RISK_ORDER = {"none": 0, "low": 1, "elevated": 2, "crisis": 3}
_VERDICT_ORDER = {"A": 0, "B": 1, "tie": 2}


@dataclass(frozen=True)
class PacketPaths:
    """Where a packet was written and what it holds."""

    directory: Path
    form: Path
    """``packet.html``: send to clinicians."""
    template: Path
    """``ratings_template.csv``: send to clinicians; they return it filled in."""
    key: Path
    """``key.csv``: keep; needed to unblind the returned ratings."""
    packet_id: str
    """Content hash of the key (less the stage-2 log names), printed on the form to match a form with its key."""
    n_items: int
    seed: int
    criteria: tuple[str, ...]


# ----------------------------------------------------------------------------------------------------------
# reading a run


def _read_run(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    verdict_path = run_dir / "verdicts.parquet"
    if not verdict_path.is_file():
        raise InputError(verdict_path, "run_dir", str(run_dir), "no verdict table in this run directory",
                         "pass runs/<run name> of a run whose judge stage finished")
    transcript_path = run_dir / "transcripts.parquet"
    if not transcript_path.is_file():
        raise InputError(transcript_path, "run_dir", str(run_dir), "no transcript table in this run directory",
                         f"rebuild it with `theraeval verdicts {run_dir}`")
    return pd.read_parquet(verdict_path), pd.read_parquet(transcript_path)


def _criteria_text(run_dir: Path, verdicts: pd.DataFrame) -> dict[str, Criterion]:
    """Criterion id -> definition, from the run's criteria snapshot (empty when there is none)."""
    hashes = set(verdicts["criteria_hash"].astype(str)) if "criteria_hash" in verdicts.columns else set()
    out: dict[str, Criterion] = {}
    for h in sorted(hashes):
        path = run_dir / "inputs" / f"criteria-{h}.toml"
        if path.is_file():
            for c in load_criteria(path).criteria:
                out.setdefault(c.id, c)
    return out


def _turns(value: str) -> list[tuple[str, str]]:
    return [(str(role), str(text)) for role, text in json.loads(value)]


# ----------------------------------------------------------------------------------------------------------
# sampling


def _validate_options(n_items: int, criteria: Sequence[str] | None, known: list[str]) -> list[str]:
    if isinstance(n_items, bool) or not isinstance(n_items, int | np.integer) or n_items < 1:
        raise InputError(None, "n_items", n_items, "must be a whole number >= 1", "pass e.g. --n-items 100")
    if criteria is None:
        return known
    chosen = list(dict.fromkeys(criteria))
    unknown = [c for c in chosen if c not in known]
    if unknown or not chosen:
        raise InputError(None, "criteria", unknown[0] if unknown else chosen, "not a criterion of this run",
                         f"choose from {known}")
    return [c for c in known if c in chosen]


def stratified_items(
    judged: pd.DataFrame, criteria: Sequence[str], n_items: int, rng: np.random.Generator
) -> list[int]:
    """Row positions (into the unique items of ``judged``) chosen by balanced stratified sampling.

    ``judged`` has one row per item and criterion with ``item`` (an int position), ``criterion``,
    ``scenario_risk`` and ``verdict``. Strata (criterion, risk, verdict) are visited in a fixed order
    (criteria as given, risks none < low < elevated < crisis, verdicts A < B < tie); each contributes its next
    unchosen item (its items shuffled once with ``rng``) per turn until ``n_items`` are chosen or all strata run
    dry. Unscored verdicts form no stratum.
    """
    order = {c: i for i, c in enumerate(criteria)}
    scored = judged[judged["verdict"].isin(list(_VERDICT_ORDER)) & judged["criterion"].isin(order)]
    strata: dict[tuple[int, int, int], list[int]] = {}
    for (crit, risk, verdict), part in scored.groupby(["criterion", "scenario_risk", "verdict"], sort=False):
        key = (order[str(crit)], _RISK_ORDER.get(str(risk), len(_RISK_ORDER)), _VERDICT_ORDER[str(verdict)])
        strata[key] = sorted(int(i) for i in part["item"].unique())
    queues = [[int(x) for x in rng.permutation(strata[k])] for k in sorted(strata)]
    chosen: list[int] = []
    seen: set[int] = set()
    pointers = [0] * len(queues)
    while len(chosen) < n_items:
        progressed = False
        for q, queue in enumerate(queues):
            while pointers[q] < len(queue) and queue[pointers[q]] in seen:
                pointers[q] += 1
            if pointers[q] < len(queue):
                item = queue[pointers[q]]
                seen.add(item)
                chosen.append(item)
                progressed = True
                if len(chosen) == n_items:
                    break
        if not progressed:
            break
    return chosen


# ----------------------------------------------------------------------------------------------------------
# rendering

_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; color: #111; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #999; padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: .4rem 0; }
.meta { color: #444; font-size: .9rem; }
.instructions { border: 1px solid #bbb; padding: .5rem 1rem; background: #f7f7f7; }
.item { page-break-inside: avoid; break-inside: avoid; margin: 2rem 0; }
.item + .item { page-break-before: always; break-before: page; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; margin: .2rem 0 .6rem 0; }
.opening { border-left: 4px solid #999; padding-left: .8rem; }
.responses { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.response { border: 1px solid #888; padding: .5rem .8rem; }
.role { font-weight: bold; font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; color: #333; }
table.rate { border-collapse: collapse; margin-top: .8rem; width: 100%; }
table.rate th, table.rate td { border: 1px solid #999; padding: .3rem .5rem; text-align: center; }
table.rate td.criterion { text-align: left; }
@media print { body { margin: 0; max-width: none; } .responses { grid-template-columns: 1fr 1fr; } }
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _conversation(turns: list[tuple[str, str]]) -> str:
    """The conversation after the opening patient message (escaped); single-turn: just the reply."""
    rest = turns[1:] if turns and turns[0][0] == "patient" else turns
    single = len(rest) == 1 and rest[0][0] == "therapist"
    parts = []
    for role, text in rest:
        label = "" if single else f'<div class="role">{_esc("Patient" if role == "patient" else "Response")}</div>'
        parts.append(f'{label}<div class="text">{_esc(text)}</div>')
    return "\n".join(parts) or '<div class="text">(no reply)</div>'


def render_form(items: pd.DataFrame, criteria: list[str], definitions: dict[str, Criterion], packet_id: str) -> str:
    """The HTML form. ``items`` has ``item_id``, ``opening``, ``turns_shown_a``, ``turns_shown_b`` (lists)."""
    crit_rows = []
    for c in criteria:
        d = definitions.get(c)
        if d is None:
            crit_rows.append(f"<li><b>{_esc(c)}</b></li>")
        else:
            crit_rows.append(f"<li><b>{_esc(d.name)}</b> ({_esc(c)}): {_esc(d.description)} "
                             f"<i>Better when:</i> {_esc(d.better_when)} <i>Worse when:</i> {_esc(d.worse_when)}</li>")
    header = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>Clinician evaluation packet {_esc(packet_id)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        "<h1>Clinician evaluation packet</h1>\n"
        f"<p class=\"meta\">Packet {_esc(packet_id)} &middot; {len(items)} items &middot; "
        f"{len(criteria)} criteria</p>\n"
        "<section class=\"instructions\">\n<p>Each item shows a person's message to a mental-health support "
        "service and two anonymous replies, <b>Response A</b> and <b>Response B</b>. For every criterion below, "
        "choose the response that is better on that criterion (<b>A</b> or <b>B</b>), or <b>tie</b> when neither "
        "is better. Judge each criterion on its own. The order of the responses is random.</p>\n"
        "<p>Record your answers in <code>ratings_template.csv</code>: on each row, write your rater id (the same "
        "on every row, e.g. <code>clin-01</code>) and the label <code>A</code>, <code>B</code> or <code>tie</code>. "
        "Rows left empty count as not rated. On paper, tick one circle per row.</p>\n"
        f"<ul>\n{''.join(crit_rows)}\n</ul>\n</section>\n<form>\n"
    )
    body = []
    for row in items.itertuples(index=False):
        iid = _esc(row.item_id)
        cells = []
        for c in criteria:
            name = _esc(f"{row.item_id}__{c}")
            shown = _esc(definitions[c].name if c in definitions else c)
            radios = "".join(
                f'<td><input type="radio" name="{name}" value="{v}" aria-label="{shown}: {v}"></td>'
                for v in ("A", "B", "tie"))
            cells.append(f'<tr><td class="criterion">{shown}</td>{radios}</tr>')
        body.append(
            f'<section class="item" id="{iid}">\n<h2>Item {iid}</h2>\n'
            f'<div class="opening"><h3>Person\'s message</h3><div class="text">{_esc(row.opening)}</div></div>\n'
            '<div class="responses">\n'
            f'<div class="response"><h3>Response A</h3>\n{_conversation(row.turns_shown_a)}\n</div>\n'
            f'<div class="response"><h3>Response B</h3>\n{_conversation(row.turns_shown_b)}\n</div>\n</div>\n'
            '<table class="rate"><tr><th>Criterion</th><th>A better</th><th>B better</th><th>Tie</th></tr>\n'
            + "\n".join(cells) + "\n</table>\n</section>\n"
        )
    return header + "".join(body) + "</form>\n</body>\n</html>\n"


def _template_csv(item_ids: list[str], criteria: list[str]) -> str:
    rows = pd.DataFrame([{"item_id": i, "rater_id": "", "criterion": c, "label": ""}
                         for i in item_ids for c in criteria], columns=list(RATING_COLUMNS))
    buf = io.StringIO()
    rows.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def _leaks(text: str, names: list[str]) -> list[str]:
    return [n for n in names if len(n) >= 3 and re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text, re.I)]


# ----------------------------------------------------------------------------------------------------------
# public


def export_packets(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    n_items: int = 100,
    seed: int = 0,
    criteria: Sequence[str] | None = None,
) -> PacketPaths:
    """Write a blinded clinician evaluation packet (form, template, key) for a run.

    Args:
        run_dir: the run directory (needs ``verdicts.parquet`` and ``transcripts.parquet``).
        out_dir: where to write; default ``<run_dir>/packets``.
        n_items: items to sample (all eligible items when fewer exist; a warning is logged).
        seed: seed of the sampling, the item order and the A/B coin (same seed, same packet).
        criteria: criteria to rate (default: every judged criterion, in the criteria set's order).

    Returns:
        :class:`PacketPaths`.

    Raises:
        InputError: no verdict or transcript table, several judges in the verdict table, an unknown criterion,
            ``n_items`` < 1, no eligible item, or an existing *different* key in ``out_dir`` (a new key would
            not match forms already sent).
    """
    run_dir = Path(run_dir)
    out = Path(out_dir) if out_dir is not None else run_dir / "packets"
    verdicts, transcripts = _read_run(run_dir)
    if "judge_name" in verdicts and verdicts["judge_name"].fillna("").astype(str).nunique() > 1:
        # a [[judges]] run: the packets calibrate the first judge, whose verdicts make the main tables
        verdicts = verdicts[judge_ids(verdicts) == main_judge(verdicts)[0]]
    known = list(dict.fromkeys(verdicts["criterion"].astype(str)))
    chosen_criteria = _validate_options(n_items, criteria, known)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(None, "seed", seed, "must be a whole number >= 0", "pass e.g. --seed 0")
    rng = np.random.default_rng(int(seed))
    transcripts = transcripts.assign(persona_id=transcripts["persona_id"].fillna("").astype(str))
    collapse = bool((transcripts["persona_id"] == "").all())
    judged = item_verdicts(verdicts, collapse_personas=collapse)
    judges = sorted(judged["judge"].unique())
    if len(judges) > 1:
        raise InputError(run_dir / "verdicts.parquet", "judge_model", judges, "the verdict table holds several "
                         "judges", "calibrate one judge per run (run the judge stage with one judge)")
    text = {(str(r.candidate), str(r.scenario_id), str(r.persona_id)): str(r.turns)
            for r in transcripts.itertuples(index=False)}
    items = judged.drop_duplicates(list(ITEM_KEY))[[*ITEM_KEY, "judge", "scenario_risk"]].reset_index(drop=True)
    has_text = [((r.candidate_a, r.scenario_id, r.persona_id) in text) and ((r.candidate_b, r.scenario_id,
                                                                             r.persona_id) in text)
                for r in items.itertuples(index=False)]
    if not all(has_text):
        logger.warning("%d head-to-head(s) have no transcript in transcripts.parquet and cannot be shown",
                       len(has_text) - sum(has_text))
    items = items[has_text].reset_index(drop=True)
    items["item"] = range(len(items))
    judged = judged.merge(items[[*ITEM_KEY, "item"]], on=list(ITEM_KEY), how="inner")
    picked = stratified_items(judged, chosen_criteria, n_items, rng)
    if not picked:
        raise InputError(run_dir / "verdicts.parquet", "criteria", chosen_criteria,
                         "no head-to-head with a scored verdict and transcripts", "re-run the judge stage")
    if len(picked) < n_items:
        logger.warning("only %d eligible item(s) for %d requested; the packet holds them all", len(picked), n_items)
    order = [picked[i] for i in rng.permutation(len(picked))]
    swap = rng.random(len(order)) < 0.5
    refs = judged.drop_duplicates("item").set_index("item")
    rows = []
    for pos, (idx, flip) in enumerate(zip(order, swap, strict=True), start=1):
        it = items.iloc[idx]
        shown_a, shown_b = (it.candidate_b, it.candidate_a) if flip else (it.candidate_a, it.candidate_b)
        rows.append({
            "item_id": f"item-{pos:04d}", "packet_id": "", "run": it.run, "judge": it.judge,
            "candidate_a": it.candidate_a, "candidate_b": it.candidate_b, "shown_as_a": shown_a,
            "shown_as_b": shown_b, "scenario_id": it.scenario_id, "scenario_risk": it.scenario_risk,
            "persona_id": it.persona_id, "criteria": ";".join(chosen_criteria),
            "stage2_log": refs.at[idx, "stage2_log"], "stage2_sample": refs.at[idx, "stage2_sample"],
        })
    key = pd.DataFrame(rows, columns=list(KEY_COLUMNS))
    # the id hashes what the clinicians see and the unblinding needs, not the stage-2 log names (they carry a
    # timestamp), so the same run inputs and seed give the same packet id on any machine
    packet_id = hashlib.sha256(key.drop(columns="stage2_log").to_csv(index=False).encode()).hexdigest()[:10]
    key["packet_id"] = packet_id
    shown = []
    for r in key.itertuples(index=False):
        turns_a = _turns(text[(r.shown_as_a, r.scenario_id, r.persona_id)])
        turns_b = _turns(text[(r.shown_as_b, r.scenario_id, r.persona_id)])
        opening = turns_a[0][1] if turns_a and turns_a[0][0] == "patient" else ""
        shown.append({"item_id": r.item_id, "opening": opening, "turns_shown_a": turns_a, "turns_shown_b": turns_b})
    form = render_form(pd.DataFrame(shown), chosen_criteria, _criteria_text(run_dir, verdicts), packet_id)
    template = _template_csv(key["item_id"].tolist(), chosen_criteria)
    key_text = key.to_csv(index=False, lineterminator="\n")
    names = sorted(set(key["candidate_a"]) | set(key["candidate_b"]))
    leaked = _leaks(form, names) + _leaks(template, names)
    if leaked:
        logger.warning("the packet text mentions candidate name(s) %s (inside model or patient text, which is shown "
                       "verbatim); check the form before sending it", sorted(set(leaked)))
    out.mkdir(parents=True, exist_ok=True)
    key_path = out / KEY_NAME
    if key_path.is_file() and key_path.read_text(encoding="utf-8") != key_text:
        raise InputError(key_path, "out_dir", str(out), "a different packet was already exported here; replacing "
                         "its key would make ratings of forms already sent impossible to unblind",
                         "pass another output folder, or delete this one if its forms were never sent")
    (out / FORM_NAME).write_text(form, encoding="utf-8")
    (out / TEMPLATE_NAME).write_text(template, encoding="utf-8")
    key_path.write_text(key_text, encoding="utf-8")
    return PacketPaths(out, out / FORM_NAME, out / TEMPLATE_NAME, key_path, packet_id, len(key), seed,
                       tuple(chosen_criteria))


def packets_main(run_dir: Path, *, n_items: int, seed: int, out_dir: Path | None) -> PacketPaths:
    """CLI entry point of ``theraeval packets`` (thin wrapper over :func:`export_packets`)."""
    return export_packets(run_dir, out_dir, n_items=n_items, seed=seed)
