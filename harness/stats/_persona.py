"""Persona breakdowns and the persona-weighted overall score.

Personas (``<run_dir>/inputs/personas.jsonl``) carry ``severity``, ``diagnoses`` and ``importance``
(criterion id -> 1..5). Breakdowns group the head-to-heads *judged by* each persona (``persona_id``) by

* ``severity`` (none | mild | moderate | severe);
* ``diagnosis``: one group per reported diagnosis (a persona with two diagnoses counts in both groups; no
  diagnosis -> ``"none reported"``);
* ``top_priority``: the persona's highest-rated criterion (tied maxima: the persona counts in each tied
  group);

and report the paper's win rate (mean over opponents) within each group.

Persona-weighted score: persona ``p`` weights criterion ``c`` by ``w_pc = I_pc / sum_c' I_pc'``, normalised
over the rated criteria that were judged. Then::

    score(m) = mean_p  sum_c w_pc * WR_c(m | p)

where ``WR_c(m | p)`` is candidate ``m``'s win rate on ``c`` among head-to-heads judged by persona ``p``
(``"per_persona"``), or the overall win rate ``WR_c(m)`` when the judge had no personas (``"population"``:
every persona's weights applied to the same win rates, i.e. the mean weights). When a persona has no scored
head-to-head of ``m`` on some rated criterion, its weights are renormalised over the criteria it has.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from harness.stats._validate import _validate_choice, _validate_columns
from harness.stats._winrate import average_win_rates

Breakdown = Literal["severity", "diagnosis", "top_priority"]
BREAKDOWNS: tuple[str, ...] = ("severity", "diagnosis", "top_priority")


def persona_frame(personas: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Validate personas and tabulate the fields the statistics use.

    Returns:
        DataFrame with ``persona_id``, ``severity``, ``diagnoses`` (tuple), ``top_priority`` (tuple of the
        highest-rated criteria; empty without ratings), ``importance`` (dict).

    Raises:
        ValueError: a persona without a string ``id``, a duplicate id, or an importance rating that is not an
            integer in 1..5.
    """
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, p in enumerate(personas):
        pid = p.get("id") if isinstance(p, Mapping) else None
        if not isinstance(pid, str) or not pid:
            raise ValueError(f"persona #{i} has no string `id`: {str(p)[:80]!r}")
        if pid in seen:
            raise ValueError(f"duplicate persona id {pid!r}")
        seen.add(pid)
        importance = dict(p.get("importance") or {})
        for key, value in importance.items():
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1 <= value <= 5:
                raise ValueError(
                    f"persona {pid!r}: importance[{key!r}] = {value!r} is not an integer in 1..5")
        top = max(importance.values()) if importance else None
        diagnoses = tuple(str(d) for d in (p.get("diagnoses") or ()))
        rows.append({"persona_id": pid, "severity": str(p.get("severity", "") or ""), "diagnoses": diagnoses,
                     "top_priority": tuple(sorted(k for k, v in importance.items() if v == top)),
                     "importance": importance})
    return pd.DataFrame(rows, columns=["persona_id", "severity", "diagnoses", "top_priority", "importance"])


def persona_breakdown(
    h2h: pd.DataFrame,
    personas: Sequence[Mapping[str, Any]],
    *,
    by: Breakdown = "severity",
    level: float = 0.95,
) -> pd.DataFrame:
    """Win rates by a persona attribute (see the module docstring for the groups).

    Formula: within each group, the paper's win rate (mean over opponents of wins / scored head-to-heads,
    Beikzadeh et al. 2026, arXiv:2602.16053) over the head-to-heads judged by the group's personas; persona fields
    follow the paper's
    survey (Beikzadeh et al. 2026, arXiv:2602.16053).

    Returns:
        DataFrame with ``breakdown`` (= ``by``), ``group``, ``criterion``, ``candidate``, ``win_rate``,
        ``win_rate_half``, ``n``, ``n_unscored``, ``n_personas``. Empty when no head-to-head was judged by
        a listed persona.
    """
    _validate_choice(by, "by", BREAKDOWNS)
    _validate_columns(h2h, ["persona_id", "criterion", "candidate_a", "candidate_b", "outcome"], "h2h")
    columns = ["breakdown", "group", "criterion", "candidate", "win_rate", "win_rate_half", "n", "n_unscored",
               "n_personas"]
    frame = persona_frame(personas)
    if by == "severity":
        groups = frame.assign(group=frame["severity"].replace("", "unknown"))[["persona_id", "group"]]
    elif by == "diagnosis":
        diag = frame.assign(group=[list(d) if d else ["none reported"] for d in frame["diagnoses"]])
        groups = diag[["persona_id", "group"]].explode("group")
    else:
        top = frame.assign(group=[list(t) if t else ["unrated"] for t in frame["top_priority"]])
        groups = top[["persona_id", "group"]].explode("group")
    merged = h2h.merge(groups, on="persona_id", how="inner")
    if merged.empty:
        return pd.DataFrame(columns=columns)
    rates = average_win_rates(merged, level=level, by=["group"])
    counts = merged.groupby("group")["persona_id"].nunique().rename("n_personas")
    rates = rates.merge(counts, left_on="group", right_index=True, how="left")
    rates.insert(0, "breakdown", by)
    return rates[columns].reset_index(drop=True)


def persona_weighted_score(
    h2h: pd.DataFrame,
    personas: Sequence[Mapping[str, Any]],
    *,
    mode: Literal["auto", "per_persona", "population"] = "auto",
) -> pd.DataFrame:
    """Persona-weighted overall score per candidate.

    Formula: ``score(m) = mean_p sum_c w_pc WR_c(m | p)`` with ``w_pc = I_pc / sum_c' I_pc'`` over the rated,
    judged criteria (module docstring); importance ratings are the paper's survey items (Beikzadeh et al. 2026,
    arXiv:2602.16053).

    Args:
        h2h: head-to-heads.
        personas: persona dicts with ``id`` and ``importance``.
        mode: ``"per_persona"`` (each persona's own judgements), ``"population"`` (overall win rates), or
            ``"auto"``: per persona when any head-to-head was judged by a listed persona, else population.

    Returns:
        DataFrame with ``candidate``, ``score`` (paper win rates), ``score_half`` (ties as half),
        ``n_personas`` (personas contributing), ``criteria`` (the rated criteria used, comma-separated),
        ``weighting`` (the mode used).

    Raises:
        ValueError: no persona has an importance rating for a criterion present in ``h2h``.
    """
    _validate_choice(mode, "mode", ("auto", "per_persona", "population"))
    _validate_columns(h2h, ["persona_id", "criterion", "candidate_a", "candidate_b", "outcome"], "h2h")
    frame = persona_frame(personas)
    judged = set(h2h["criterion"].unique())
    rated = sorted({k for imp in frame["importance"] for k in imp} & judged)
    if not rated:
        raise ValueError(f"no persona rates a judged criterion: judged {sorted(judged)}, rated "
                         f"{sorted({k for imp in frame['importance'] for k in imp})}")
    known = set(frame["persona_id"])
    if mode == "auto":
        mode = "per_persona" if h2h["persona_id"].isin(known).any() else "population"
    part = h2h[h2h["criterion"].isin(rated)]
    if mode == "per_persona":
        part = part[part["persona_id"].isin(known)]
        rates = average_win_rates(part, by=["persona_id"]).set_index(["persona_id", "criterion", "candidate"])
    else:
        rates = average_win_rates(part).set_index(["criterion", "candidate"])
    candidates = sorted(set(h2h["candidate_a"]) | set(h2h["candidate_b"]))
    rows: list[dict[str, object]] = []
    for candidate in candidates:
        per_persona: list[tuple[float, float]] = []
        for pid, importance in zip(frame["persona_id"], frame["importance"], strict=True):
            weights = {c: float(importance[c]) for c in rated if c in importance}
            acc, acc_half, total = 0.0, 0.0, 0.0
            for criterion, weight in weights.items():
                key = (pid, criterion, candidate) if mode == "per_persona" else (criterion, candidate)
                if key not in rates.index:
                    continue
                wr, wr_half = float(rates.at[key, "win_rate"]), float(rates.at[key, "win_rate_half"])
                if math.isnan(wr):
                    continue
                acc += weight * wr
                acc_half += weight * wr_half
                total += weight
            if total > 0:
                per_persona.append((acc / total, acc_half / total))
        score = float(np.mean([s for s, _ in per_persona])) if per_persona else math.nan
        score_half = float(np.mean([s for _, s in per_persona])) if per_persona else math.nan
        rows.append({"candidate": candidate, "score": score, "score_half": score_half,
                     "n_personas": len(per_persona), "criteria": ", ".join(rated), "weighting": mode})
    return pd.DataFrame(rows, columns=["candidate", "score", "score_half", "n_personas", "criteria",
                                       "weighting"])
