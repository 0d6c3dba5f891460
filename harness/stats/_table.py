"""From the long verdict table to head-to-heads (one row per unit of comparison).

A *head-to-head* is one (candidate pair, scenario, persona, criterion) as judged by one judge in one run,
with the ``combined`` verdict over both presentation orders. ``verdicts.parquet`` has one row per
head-to-head *and* order; :func:`head_to_heads` collapses the two order rows, checks that they agree on
``combined`` and that ``combined`` follows the combination rule (:func:`combine_orders`), and recomputes
``position_flip`` from the two verdicts.

:func:`candidate_view` then stacks every head-to-head twice, once from each candidate's side
(``result`` = win | loss | tie | unscored), which is the shape every per-candidate statistic works on.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from harness.stats._validate import _validate_columns, _validate_values

logger = logging.getLogger(__name__)

VERDICTS: tuple[str, ...] = ("A", "B", "tie", "unscored")
"""Candidate-space verdicts: A = candidate_a preferred, B = candidate_b preferred."""
ORDERS: tuple[str, ...] = ("ab", "ba")
RISKS: tuple[str, ...] = ("none", "low", "elevated", "crisis")
REQUIRED_COLUMNS: tuple[str, ...] = (
    "candidate_a", "candidate_b", "scenario_id", "criterion", "order", "verdict", "combined",
)
"""Columns :func:`head_to_heads` cannot do without; the others of the verdict table get defaults."""
_OPTIONAL_DEFAULTS: dict[str, object] = {
    "run": "", "judge_model": "", "judge_kind": "", "judge_mode": "", "judge_name": "", "criteria_hash": "",
    "persona_id": "", "scenario_risk": "none", "len_a": np.nan, "len_b": np.nan,
}
KEY_COLUMNS: tuple[str, ...] = (
    "run", "judge", "criteria_hash", "candidate_a", "candidate_b", "scenario_id", "persona_id", "criterion",
)
"""The columns that identify one head-to-head (``judge``: see :func:`judge_ids`)."""


def judge_ids(verdicts: pd.DataFrame) -> pd.Series:
    """The judge of each verdict row: its ``judge_name`` (a ``[[judges]]`` entry) when set, else
    ``judge_model/judge_kind/judge_mode`` (a single ``[judge]``; missing columns count as empty)."""
    def col(name: str) -> pd.Series:
        if name not in verdicts.columns:
            return pd.Series("", index=verdicts.index, dtype=object)
        return verdicts[name].fillna("").astype(str)

    name = col("judge_name")
    return name.where(name != "", col("judge_model") + "/" + col("judge_kind") + "/" + col("judge_mode"))


def main_judge(verdicts: pd.DataFrame) -> tuple[str, list[str]]:
    """``(main, judges)``: every judge of the verdict table (:func:`judge_ids`) in order of first appearance (the
    ``[[judges]]`` order: ``build_verdicts`` sorts by it) and the first of them, whose verdicts alone make a
    leaderboard's main tables when there are several (judges are never pooled silently)."""
    judges = list(dict.fromkeys(judge_ids(verdicts))) if len(verdicts) else [""]
    return judges[0], judges


def combine_orders(verdict_ab: str | None, verdict_ba: str | None) -> str:
    """Combine the candidate-space verdicts of the two presentation orders into one.

    Rule (the harness's two-game protocol, after arena-hard-auto's swapped second game): any order unscored
    -> ``unscored``; both agree -> that verdict; one says A (or B) and the other ``tie`` -> A (or B); A
    against B (a position flip) -> ``tie``. ``None`` means the order was not judged; one judged order alone
    gives its verdict.

    Args:
        verdict_ab: verdict when candidate_a was shown first, or None.
        verdict_ba: verdict when candidate_a was shown second, or None.

    Returns:
        One of ``"A"``, ``"B"``, ``"tie"``, ``"unscored"``.

    Raises:
        ValueError: a verdict outside ``VERDICTS``, or both orders missing.
    """
    given = [v for v in (verdict_ab, verdict_ba) if v is not None]
    if not given:
        raise ValueError("combine_orders needs at least one verdict; got verdict_ab=None, verdict_ba=None")
    _validate_values(given, "verdict", VERDICTS)
    if "unscored" in given:
        return "unscored"
    decided = {v for v in given if v != "tie"}
    if not decided:
        return "tie"
    if len(decided) == 2:
        return "tie"
    return decided.pop()


def _combine_vectorised(ab: pd.Series, ba: pd.Series) -> np.ndarray:
    """:func:`combine_orders` over two aligned columns (None/NaN = order missing)."""
    a = ab.fillna("").to_numpy(dtype=object)
    b = ba.fillna("").to_numpy(dtype=object)
    out = np.where(a == "", b, np.where(b == "", a, a))
    both = (a != "") & (b != "")
    out = np.where(both & (a == "tie"), b, out)
    out = np.where(both & (a != b) & (a != "tie") & (b != "tie"), "tie", out)
    out = np.where((a == "unscored") | (b == "unscored"), "unscored", out)
    return out.astype(object)


def _scored(verdict: pd.Series) -> pd.Series:
    return verdict.notna() & (verdict != "unscored")


def head_to_heads(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Collapse the verdict table (one row per order) to one row per head-to-head.

    Args:
        verdicts: the long verdict table (columns as written by the judge stage; at least
            ``REQUIRED_COLUMNS``).

    Returns:
        DataFrame with ``KEY_COLUMNS`` plus ``scenario_risk``, ``outcome`` (the ``combined`` verdict),
        ``verdict_ab``, ``verdict_ba`` (None where that order is absent), ``n_orders``, ``position_flip``
        (both orders scored and their candidate-space verdicts differ), ``len_a``, ``len_b``.

    Raises:
        ValueError: missing columns, values outside the documented sets, a candidate compared with itself,
            a (head-to-head, order) repeated, the two rows of a head-to-head disagreeing on ``combined``, or
            ``combined`` not following :func:`combine_orders`.
    """
    _validate_columns(verdicts, REQUIRED_COLUMNS, "verdicts")
    df = verdicts.copy()
    for column, default in _OPTIONAL_DEFAULTS.items():
        if column not in df.columns:
            df[column] = default
    for column in ("run", "judge_model", "judge_kind", "judge_mode", "judge_name", "criteria_hash", "persona_id",
                   "candidate_a", "candidate_b", "scenario_id", "criterion", "scenario_risk"):
        df[column] = df[column].fillna("").astype(str)
    _validate_values(df["order"].unique(), "order", ORDERS)
    _validate_values(df["verdict"].unique(), "verdict", VERDICTS)
    _validate_values(df["combined"].unique(), "combined", VERDICTS)
    _validate_values(df["scenario_risk"].unique(), "scenario_risk", RISKS)
    same = df["candidate_a"] == df["candidate_b"]
    if same.any():
        raise ValueError(f"candidate_a equals candidate_b ({df.loc[same, 'candidate_a'].iloc[0]!r}) in "
                         f"{int(same.sum())} row(s); a candidate cannot be compared with itself")
    df["judge"] = judge_ids(df)
    key = list(KEY_COLUMNS)
    dup = df.duplicated(key + ["order"])
    if dup.any():
        first = df.loc[dup, key + ["order"]].iloc[0].to_dict()
        raise ValueError(f"{int(dup.sum())} repeated (head-to-head, order) row(s), e.g. {first}; "
                         "each head-to-head has at most one row per order")
    df["_ab"] = df["verdict"].where(df["order"] == "ab")
    df["_ba"] = df["verdict"].where(df["order"] == "ba")
    grouped = df.groupby(key, sort=True, dropna=False)
    out = grouped.agg(
        scenario_risk=("scenario_risk", "first"),
        outcome=("combined", "first"),
        n_combined=("combined", "nunique"),
        verdict_ab=("_ab", "first"),
        verdict_ba=("_ba", "first"),
        n_orders=("order", "size"),
        len_a=("len_a", "first"),
        len_b=("len_b", "first"),
    ).reset_index()
    bad = out["n_combined"] > 1
    if bad.any():
        example = out.loc[bad, key].iloc[0].to_dict()
        raise ValueError(f"the two order rows of {int(bad.sum())} head-to-head(s) disagree on `combined`, "
                         f"e.g. {example}; `combined` must be identical on both rows")
    expected = _combine_vectorised(out["verdict_ab"], out["verdict_ba"])
    # log-probability judges combine by averaging P(candidate_a better) over the orders, not by this rule
    averaged = out["judge"].str.split("/").str[-2].eq("logprob").to_numpy()
    wrong = (out["outcome"].to_numpy(dtype=object) != expected) & ~averaged
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise ValueError(
            f"`combined` = {out['outcome'].iloc[i]!r} for verdicts ab={out['verdict_ab'].iloc[i]!r}, "
            f"ba={out['verdict_ba'].iloc[i]!r} (head-to-head {out.loc[i, key].to_dict()}); the rule gives "
            f"{expected[i]!r} ({int(wrong.sum())} such head-to-head(s))"
        )
    out["position_flip"] = _scored(out["verdict_ab"]) & _scored(out["verdict_ba"]) & (
        out["verdict_ab"] != out["verdict_ba"])
    out["verdict_ab"] = out["verdict_ab"].astype(object).where(out["verdict_ab"].notna(), None)
    out["verdict_ba"] = out["verdict_ba"].astype(object).where(out["verdict_ba"].notna(), None)
    judges = out["judge"].unique()
    if len(judges) > 1:  # the leaderboard and summary select one (`main_judge`); other callers are told
        logger.info("verdicts hold %d judges (%s); a statistic over all these head-to-heads pools them (each "
                    "counts once): select one with harness.stats.main_judge unless that is meant",
                    len(judges), ", ".join(map(str, judges)))
    return out.drop(columns="n_combined")


def majority_vote(h2h: pd.DataFrame) -> pd.DataFrame:
    """Collapse persona head-to-heads to one per (pair, scenario, criterion) by majority vote (paper's unit).

    The paper (Beikzadeh et al. 2026, arXiv:2602.16053) counts persona votes per question and criterion and takes the
    majority;
    equal votes give a tie. Votes here are the personas' combined verdicts: ``tie`` votes count for neither
    side. Deviation from the paper: a question with no scored vote is ``unscored`` (excluded and counted),
    not a tie.

    Args:
        h2h: output of :func:`head_to_heads`.

    Returns:
        Same columns as ``h2h`` with ``persona_id`` = ``""``, ``n_orders`` summed, ``position_flip`` = any,
        lengths averaged, plus ``n_votes`` (scored persona votes) and ``votes_a``/``votes_b``.
    """
    _validate_columns(h2h, list(KEY_COLUMNS) + ["outcome"], "h2h")
    key = [c for c in KEY_COLUMNS if c != "persona_id"]
    df = h2h.assign(_a=(h2h["outcome"] == "A").astype(int), _b=(h2h["outcome"] == "B").astype(int),
                    _s=(h2h["outcome"] != "unscored").astype(int))
    out = df.groupby(key, sort=True).agg(
        scenario_risk=("scenario_risk", "first"), votes_a=("_a", "sum"), votes_b=("_b", "sum"),
        n_votes=("_s", "sum"), n_orders=("n_orders", "sum"), position_flip=("position_flip", "any"),
        len_a=("len_a", "mean"), len_b=("len_b", "mean"),
    ).reset_index()
    out["outcome"] = np.select(
        [out["n_votes"] == 0, out["votes_a"] > out["votes_b"], out["votes_b"] > out["votes_a"]],
        ["unscored", "A", "B"], default="tie")
    out["persona_id"] = ""
    out["verdict_ab"] = None
    out["verdict_ba"] = None
    return out


_RESULT_OF_A = {"A": "win", "B": "loss", "tie": "tie", "unscored": "unscored"}
_RESULT_OF_B = {"A": "loss", "B": "win", "tie": "tie", "unscored": "unscored"}


def candidate_view(h2h: pd.DataFrame) -> pd.DataFrame:
    """Each head-to-head from both candidates' sides.

    Returns:
        DataFrame with ``criterion``, ``candidate``, ``opponent``, ``scenario_id``, ``scenario_risk``,
        ``persona_id``, ``judge``, ``result`` (win | loss | tie | unscored), ``len_self``, ``len_opp``;
        twice as many rows as ``h2h``.
    """
    _validate_columns(h2h, ["candidate_a", "candidate_b", "criterion", "scenario_id", "outcome"], "h2h")
    base = [c for c in ("criterion", "scenario_id", "scenario_risk", "persona_id", "judge", "run")
            if c in h2h.columns]
    len_a = h2h["len_a"] if "len_a" in h2h.columns else pd.Series(np.nan, index=h2h.index)
    len_b = h2h["len_b"] if "len_b" in h2h.columns else pd.Series(np.nan, index=h2h.index)
    side_a = h2h[base].assign(candidate=h2h["candidate_a"], opponent=h2h["candidate_b"],
                              result=h2h["outcome"].map(_RESULT_OF_A), len_self=len_a, len_opp=len_b)
    side_b = h2h[base].assign(candidate=h2h["candidate_b"], opponent=h2h["candidate_a"],
                              result=h2h["outcome"].map(_RESULT_OF_B), len_self=len_b, len_opp=len_a)
    return pd.concat([side_a, side_b], ignore_index=True)
