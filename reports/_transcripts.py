"""Data files of the transcript browser: a compact index plus one lazily loaded file per scenario.

A *comparison* is one (judge, candidate pair, scenario, persona): both candidates' dialogues and, per
criterion, the combined verdict, the position-flip flag and each presentation order's label, verdict,
unscored reason and rationale. The page loads ``assets/data/index.js`` (a few bytes per comparison: enough
to filter and paginate) when the browser section is first shown, and ``assets/data/s<N>.js`` for the
scenarios on the current page only. Files are ``.js`` (``__theraeval_data(name, {...})``) rather than
``.json`` because browsers refuse ``fetch`` from ``file://``; their JSON is escaped with
:func:`reports._escape.json_for_script` and read in the page with ``textContent`` only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from harness.stats import judge_ids, main_judge
from reports._data import RunData
from reports._escape import json_for_script

logger = logging.getLogger(__name__)

INDEX_NAME = "index"
MAX_TEXT = 20_000
"""Characters of one turn or rationale kept in the browser (longer text is cut, with a marker)."""


def data_file(name: str, payload: Any) -> str:
    """The text of a lazily loaded data file (``name`` is chosen by us: ``index`` or ``s<N>``)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad data file name {name!r}")
    return f'__theraeval_data("{name}",{json_for_script(payload)});\n'


def _cut(text: Any) -> str:
    s = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    if len(s) > MAX_TEXT:
        return s[:MAX_TEXT] + f"\u2026 [{len(s) - MAX_TEXT} more characters not shown]"
    return s


def _criteria_order(data: RunData) -> list[str]:
    judged = [str(c) for c in dict.fromkeys(data.verdicts["criterion"].astype(str))]
    known = [c for c in data.criteria if c in judged]
    return known + [c for c in judged if c not in known]


def _persona_summary(p: dict[str, Any]) -> str:
    parts = []
    for key in ("age_group", "gender", "severity"):
        if p.get(key):
            parts.append(str(p[key]))
    if p.get("diagnoses"):
        parts.append("diagnoses: " + ", ".join(str(d) for d in p["diagnoses"]))
    if p.get("treatment"):
        parts.append(f"treatment: {p['treatment']}")
    if p.get("communication_style"):
        parts.append(f"style: {p['communication_style']}")
    return "; ".join(parts)


def _dialogue(turns: Any) -> list[list[str]]:
    try:
        raw = json.loads(turns) if isinstance(turns, str) else turns
    except ValueError:
        return [["note", "(unreadable transcript)"]]
    out: list[list[str]] = []
    for t in raw or []:
        if isinstance(t, list | tuple) and len(t) == 2:
            out.append([_cut(t[0]), _cut(t[1])])
    return out


def build(data: RunData, out_dir: Path) -> dict[str, Any]:
    """Write ``index.js`` and the per-scenario files into ``out_dir``; return summary counts for the page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    v = data.verdicts
    if v.empty:
        (out_dir / f"{INDEX_NAME}.js").write_text(data_file(INDEX_NAME, {"rows": 0}), encoding="utf-8")
        return {"comparisons": 0, "scenarios": 0, "files": 1, "bytes": 0}
    criteria = _criteria_order(data)
    c_idx = {c: i for i, c in enumerate(criteria)}
    v = v.assign(_c=v["criterion"].astype(str).map(c_idx))
    for col in ("candidate_a", "candidate_b", "scenario_id", "persona_id"):
        v[col] = v[col].fillna("").astype(str)
    v["_judge"] = judge_ids(v)  # a [[judges]] name, or judge_model/kind/mode
    scenario_ids = sorted(set(v["scenario_id"]))
    candidates = sorted(set(v["candidate_a"]) | set(v["candidate_b"]))
    judges = main_judge(v)[1]  # the config's order: the first judge is the main tables' judge
    personas = sorted(set(v["persona_id"]))
    s_idx = {s: i for i, s in enumerate(scenario_ids)}
    k_idx = {k: i for i, k in enumerate(candidates)}
    j_idx = {j: i for i, j in enumerate(judges)}
    p_idx = {p: i for i, p in enumerate(personas)}

    keys = ["scenario_id", "persona_id", "candidate_a", "candidate_b", "_j"]
    v = v.assign(_s=v["scenario_id"].map(s_idx), _p=v["persona_id"].map(p_idx), _j=v["_judge"].map(j_idx))
    v = v.sort_values(["_s", "_p", "candidate_a", "candidate_b", "_j", "_c", "order"], kind="stable")
    v["_row"] = v.groupby(keys, sort=False).ngroup()
    per_crit = v.drop_duplicates(["_row", "_c"])
    bit = (2.0 ** per_crit["_c"]).astype("int64")
    flips = (bit * per_crit["position_flip"].astype(bool)).groupby(per_crit["_row"]).sum()
    unscored = (bit * (per_crit["combined"].astype(str) == "unscored")).groupby(per_crit["_row"]).sum()
    first = v.drop_duplicates("_row").sort_values("_row")
    risk = {s: str(data.scenarios.get(s, {}).get("risk", "")) for s in scenario_ids}
    for s, r in zip(first["scenario_id"], first["scenario_risk"].astype(str), strict=True):
        risk[s] = risk[s] or r
    index = {
        "criteria": criteria,
        "criterionNames": [data.criteria[c].name if c in data.criteria else c for c in criteria],
        "candidates": candidates,
        "judges": judges,
        "personas": personas,
        "personaInfo": [_persona_summary(data.personas.get(p, {})) for p in personas],
        "scenarios": scenario_ids,
        "risk": [risk[s] for s in scenario_ids],
        "rows": int(len(first)),
        "s": first["_s"].astype(int).tolist(),
        "p": first["_p"].astype(int).tolist(),
        "a": first["candidate_a"].map(k_idx).astype(int).tolist(),
        "b": first["candidate_b"].map(k_idx).astype(int).tolist(),
        "j": first["_j"].astype(int).tolist(),
        "flip": flips.reindex(first["_row"], fill_value=0).astype(int).tolist(),
        "uns": unscored.reindex(first["_row"], fill_value=0).astype(int).tolist(),
    }
    if len(judges) > 1:  # the disagreement view: the comparison's rows (one per judge) and where they differ
        index |= _disagreement(v, per_crit, first)
    if len(criteria) > 52:
        logger.warning("report: %d criteria; flip/unscored filters only cover the first 52", len(criteria))
    dialogues, cut = _dialogues_by_scenario(data, k_idx)

    def is_cut(scenario: str, k: int, persona: str) -> int:
        per = cut.get(scenario, {})
        return int(bool(per.get(f"{k}|{persona}") or per.get(f"{k}|")))

    # bit 1: candidate A's dialogue has a reply cut at the token limit, bit 2: candidate B's
    index["cut"] = [is_cut(s, a, p) + 2 * is_cut(s, b, p)
                    for s, a, b, p in zip(first["scenario_id"], first["candidate_a"].map(k_idx),
                                          first["candidate_b"].map(k_idx), first["persona_id"], strict=True)]
    text = data_file(INDEX_NAME, index)
    (out_dir / f"{INDEX_NAME}.js").write_text(text, encoding="utf-8")
    total = len(text.encode("utf-8"))
    n_files = 1
    for s, part in v.groupby("_s", sort=True):
        sid = scenario_ids[int(s)]
        payload = _scenario_payload(data, sid, part, dialogues.get(sid, {}), cut.get(sid, {}))
        text = data_file(f"s{int(s)}", payload)
        (out_dir / f"s{int(s)}.js").write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
        n_files += 1
    return {"comparisons": int(len(first)), "scenarios": len(scenario_ids), "files": n_files, "bytes": total}


def _disagreement(v: pd.DataFrame, per_crit: pd.DataFrame, first: pd.DataFrame) -> dict[str, list[int]]:
    """``cmp``: per row, the comparison (scenario, persona, pair) it judges, shared by every judge's row of it;
    ``dis``: per row, a bit per criterion on which two judges' combined verdicts of that comparison differ
    (unscored verdicts are not counted as a disagreement)."""
    cmp_of = v.groupby(["_s", "_p", "candidate_a", "candidate_b"], sort=False).ngroup()
    row_cmp = pd.Series(cmp_of.to_numpy(), index=v["_row"].to_numpy()).groupby(level=0).first()
    scored = per_crit[per_crit["combined"].astype(str) != "unscored"]
    n_verdicts = scored.assign(_cmp=scored["_row"].map(row_cmp)).groupby(["_cmp", "_c"])["combined"].nunique()
    split = n_verdicts[n_verdicts > 1].reset_index()
    bits = (2.0 ** split["_c"]).astype("int64").groupby(split["_cmp"]).sum()
    rows_cmp = first["_row"].map(row_cmp)
    return {"cmp": rows_cmp.astype(int).tolist(), "dis": rows_cmp.map(bits).fillna(0).astype(int).tolist()}


def _dialogues_by_scenario(data: RunData, k_idx: dict[str, int]
                           ) -> tuple[dict[str, dict[str, list[list[str]]]], dict[str, dict[str, int]]]:
    """scenario id -> ``"<candidate index>|<persona id>"`` -> turns (persona ``""``: the same for every persona),
    and, keyed the same way, the number of replies cut at the token limit (only dialogues with one or more)."""
    out: dict[str, dict[str, list[list[str]]]] = {}
    cut: dict[str, dict[str, int]] = {}
    t = data.transcripts
    if t is None or t.empty:
        return out, cut
    n_cut = (t["truncated_turns"].fillna(0).astype(int) if "truncated_turns" in t.columns
             else pd.Series(0, index=t.index))  # transcripts written before the column existed
    for cand, scen, persona, turns, n in zip(t["candidate"].astype(str), t["scenario_id"].astype(str),
                                             t["persona_id"].fillna("").astype(str), t["turns"], n_cut, strict=True):
        if cand in k_idx:
            out.setdefault(scen, {})[f"{k_idx[cand]}|{persona}"] = _dialogue(turns)
            if n > 0:
                cut.setdefault(scen, {})[f"{k_idx[cand]}|{persona}"] = int(n)
    return out, cut


def _rows(part: pd.DataFrame) -> Iterator[tuple[int, int, str, bool, str, str, str, str, str]]:
    yield from zip(part["_row"].astype(int), part["_c"].astype(int), part["order"].astype(str),
                   part["position_flip"].astype(bool), part["combined"].astype(str), part["judge_label"].astype(str),
                   part["verdict"].astype(str), part["unscored_reason"].fillna("").astype(str),
                   part["judge_reason"].fillna("").astype(str), strict=True)


def _scenario_payload(data: RunData, scenario_id: str, part: pd.DataFrame,
                      dialogues: dict[str, list[list[str]]], cut: dict[str, int]) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    rows: dict[str, list[Any]] = {}
    current: dict[tuple[int, int], list[Any]] = {}
    for row, crit, order, flip, combined, label, verdict, unscored, reason in _rows(part):
        entry = current.get((row, crit))
        if entry is None:
            entry = [crit, combined, 1 if flip else 0, None, None]
            current[(row, crit)] = entry
            rows.setdefault(str(row), []).append(entry)
        r = _cut(reason)
        ri = reasons.setdefault(r, len(reasons))
        slot = 3 if order == "ab" else 4
        entry[slot] = [label, verdict, unscored, ri]
    scen = data.scenarios.get(scenario_id, {})
    return {
        "id": scenario_id,
        "text": _cut(scen.get("text", "")),
        "risk": str(scen.get("risk", "")),
        "dialogues": dialogues,
        "cut": cut,
        "rows": rows,
        "reasons": list(reasons),
    }
