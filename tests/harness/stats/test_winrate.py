"""Win rates and the Wilson interval (harness.stats._winrate) and the head-to-head table (._table)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from harness.stats import (
    average_win_rates,
    combine_orders,
    head_to_heads,
    majority_vote,
    pairwise_win_rates,
    wilson_interval,
    win_rate,
)


def _wilson_by_formula(k: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Second implementation: Wilson (1927) closed form, written out independently of statsmodels."""
    z = norm.ppf(1 - (1 - level) / 2)
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


# Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of seven
# methods. Statistics in Medicine 17, 857-872, Table II, method 3 (score interval without continuity
# correction), the four illustrative cases 81/263, 15/148, 0/20, 1/29.
NEWCOMBE_TABLE_II = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE_TABLE_II)
def test_wilson_matches_newcombe_1998_table_ii(k: int, n: int, low: float, high: float) -> None:
    iv = wilson_interval(k, n)
    assert iv.low == pytest.approx(low, abs=5e-5)
    assert iv.high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (3, 7), (50, 100), (99, 100), (12.5, 40), (600, 600)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_matches_closed_form(k: float, n: int, level: float) -> None:
    low, high = _wilson_by_formula(k, n, level)
    iv = wilson_interval(k, n, level)
    assert iv.low == pytest.approx(max(low, 0.0), abs=1e-12)
    assert iv.high == pytest.approx(min(high, 1.0), abs=1e-12)


def test_wilson_is_not_statsmodels_default_wald() -> None:
    # the trap: proportion_confint defaults to the normal (Wald) interval, which collapses to [0, 0] at k = 0
    assert proportion_confint(0, 20) == (0.0, 0.0)
    assert wilson_interval(0, 20).high == pytest.approx(0.1611, abs=5e-5)


def test_wilson_degenerate_and_invalid() -> None:
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError, match="cannot exceed"):
        wilson_interval(5, 4)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(-1, 4)
    with pytest.raises(ValueError, match="level"):
        wilson_interval(1, 4, level=1.0)
    with pytest.raises(TypeError):
        wilson_interval("3", 4)  # type: ignore[arg-type]


def test_win_rate_paper_readme_example() -> None:
    # Paper code README (github.com/mehrabbz/MODPO-Therapeutic-AI): 465 wins, 120 losses, 15 ties over 600 questions
    # -> 77.5% vs 20.0%.
    a = win_rate(465, 15, 120)
    b = win_rate(120, 15, 465)
    assert a.estimate == pytest.approx(0.775)
    assert b.estimate == pytest.approx(0.200)
    assert a.estimate + b.estimate + 15 / 600 == pytest.approx(1.0)  # ties stay in the denominator
    half = win_rate(465, 15, 120, ties_as="half")
    assert half.estimate == pytest.approx((465 + 7.5) / 600)
    assert half.estimate + win_rate(120, 15, 465, ties_as="half").estimate == pytest.approx(1.0)
    assert (a.ci_low, a.ci_high) == wilson_interval(465, 600)


def test_win_rate_unscored_excluded_and_counted() -> None:
    r = win_rate(3, 1, 1, n_unscored=5)
    assert r.n == 5 and r.n_unscored == 5 and r.estimate == pytest.approx(0.6)


def test_win_rate_no_data_is_nan() -> None:
    r = win_rate(0, 0, 0, n_unscored=3)
    assert math.isnan(r.estimate) and math.isnan(r.ci_low) and r.n_unscored == 3
    with pytest.raises(ValueError, match="ties_as"):
        win_rate(1, 0, 0, ties_as="third")  # type: ignore[arg-type]


# --- the head-to-head table -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("ab", "ba", "expected"),
    [
        ("A", "A", "A"), ("B", "B", "B"), ("tie", "tie", "tie"),
        ("A", "tie", "A"), ("tie", "A", "A"), ("B", "tie", "B"), ("tie", "B", "B"),
        ("A", "B", "tie"), ("B", "A", "tie"),
        ("unscored", "A", "unscored"), ("A", "unscored", "unscored"), ("unscored", "unscored", "unscored"),
        ("A", None, "A"), (None, "tie", "tie"),
    ],
)
def test_combine_orders_rule(ab: str | None, ba: str | None, expected: str) -> None:
    assert combine_orders(ab, ba) == expected


def test_combine_orders_invalid() -> None:
    with pytest.raises(ValueError, match="at least one"):
        combine_orders(None, None)
    with pytest.raises(ValueError, match="verdict"):
        combine_orders("a", "B")


def _rows(a: str, b: str, scen: str, crit: str, v_ab: str | None, v_ba: str | None,
          persona: str = "") -> list[dict[str, object]]:
    combined = combine_orders(v_ab, v_ba)
    out = []
    for order, v in (("ab", v_ab), ("ba", v_ba)):
        if v is None:
            continue
        out.append({"candidate_a": a, "candidate_b": b, "scenario_id": scen, "criterion": crit,
                    "order": order, "verdict": v, "combined": combined, "persona_id": persona,
                    "scenario_risk": "none", "judge_model": "j", "judge_kind": "llm",
                    "judge_mode": "clinical", "len_a": 10, "len_b": 20})
    return out


def _table(spec: Sequence[tuple[str, str, str, str, str | None, str | None]]) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for a, b, s, c, v_ab, v_ba in spec:
        rows += _rows(a, b, s, c, v_ab, v_ba)
    return pd.DataFrame(rows)


def test_head_to_heads_collapses_orders_and_flags_flips() -> None:
    v = _table([
        ("X", "Y", "s1", "empathy", "A", "A"),
        ("X", "Y", "s2", "empathy", "A", "B"),          # flip -> tie
        ("X", "Y", "s3", "empathy", "A", "tie"),        # flip (verdicts differ) -> A
        ("X", "Y", "s4", "empathy", "unscored", "B"),   # unscored
        ("X", "Y", "s5", "empathy", "B", None),         # one order only
    ])
    h = head_to_heads(v).set_index("scenario_id")
    assert h["outcome"].to_dict() == {"s1": "A", "s2": "tie", "s3": "A", "s4": "unscored", "s5": "B"}
    assert h["position_flip"].to_dict() == {"s1": False, "s2": True, "s3": True, "s4": False, "s5": False}
    assert h["n_orders"].to_dict() == {"s1": 2, "s2": 2, "s3": 2, "s4": 2, "s5": 1}


def test_head_to_heads_validation() -> None:
    good = _table([("X", "Y", "s1", "empathy", "A", "A")])
    with pytest.raises(ValueError, match="missing column"):
        head_to_heads(good.drop(columns="combined"))
    bad = good.copy()
    bad.loc[1, "combined"] = "B"
    with pytest.raises(ValueError, match="disagree on `combined`"):
        head_to_heads(bad)
    wrong = good.copy()
    wrong["combined"] = "tie"
    with pytest.raises(ValueError, match="the rule gives 'A'"):
        head_to_heads(wrong)
    with pytest.raises(ValueError, match="repeated"):
        head_to_heads(pd.concat([good, good]))
    same = good.assign(candidate_b="X")
    with pytest.raises(ValueError, match="compared with itself"):
        head_to_heads(same)
    odd = good.assign(verdict="a")
    with pytest.raises(ValueError, match="verdict"):
        head_to_heads(odd)
    with pytest.raises(ValueError, match="scenario_risk"):
        head_to_heads(good.assign(scenario_risk="high"))


def _small_h2h() -> pd.DataFrame:
    # X vs Y on 5 scenarios: X wins 3, tie 1, Y wins 1; X vs Z: X wins 1, loses 1, + 2 unscored; Y vs Z: tie 2
    spec = [("X", "Y", f"s{i}", "empathy", v, v) for i, v in enumerate(["A", "A", "A", "tie", "B"])]
    spec += [("X", "Z", "s0", "empathy", "A", "A"), ("X", "Z", "s1", "empathy", "B", "B"),
             ("X", "Z", "s2", "empathy", "unscored", "A"), ("X", "Z", "s3", "empathy", "A", "unscored")]
    spec += [("Y", "Z", "s0", "empathy", "tie", "tie"), ("Y", "Z", "s1", "empathy", "A", "B")]
    return head_to_heads(_table(spec))


def test_pairwise_win_rates_hand_counts() -> None:
    p = pairwise_win_rates(_small_h2h()).set_index(["candidate", "opponent"])
    assert p.loc[("X", "Y"), ["wins", "ties", "losses", "n"]].tolist() == [3, 1, 1, 5]
    assert p.loc[("X", "Y"), "win_rate"] == pytest.approx(3 / 5)
    assert p.loc[("Y", "X"), "win_rate"] == pytest.approx(1 / 5)
    assert p.loc[("X", "Y"), "win_rate_half"] == pytest.approx(3.5 / 5)
    assert p.loc[("X", "Z"), ["wins", "losses", "n", "n_unscored"]].tolist() == [1, 1, 2, 2]
    assert p.loc[("Y", "Z"), ["ties", "n"]].tolist() == [2, 2]
    assert p.loc[("Y", "Z"), "win_rate"] == 0.0 and p.loc[("Y", "Z"), "win_rate_half"] == 0.5


def test_average_win_rates_is_mean_over_opponents() -> None:
    a = average_win_rates(_small_h2h()).set_index("candidate")
    assert a.loc["X", "win_rate"] == pytest.approx((3 / 5 + 1 / 2) / 2)
    assert a.loc["Y", "win_rate"] == pytest.approx((1 / 5 + 0 / 2) / 2)
    assert a.loc["Z", "win_rate_half"] == pytest.approx((0.5 + 0.5) / 2)
    assert a.loc["X", "n"] == 7 and a.loc["X", "n_unscored"] == 2 and a.loc["X", "n_opponents"] == 2
    assert not a.loc["X", "balanced"]
    # the Wilson interval is on the pooled counts (4 of 7 for X)
    pooled = tuple(wilson_interval(4, 7))
    assert (a.loc["X", "wilson_low"], a.loc["X", "wilson_high"]) == pytest.approx(pooled)


def test_average_win_rates_all_unscored_and_empty() -> None:
    h = head_to_heads(_table([("X", "Y", "s1", "empathy", "unscored", "A")]))
    a = average_win_rates(h).set_index("candidate")
    assert np.isnan(a.loc["X", "win_rate"])
    assert a.loc["X", "n_unscored"] == 1 and a.loc["X", "n_opponents"] == 0
    assert average_win_rates(h.iloc[0:0]).empty


def test_majority_vote_paper_aggregation() -> None:
    rows: list[dict[str, object]] = []
    votes = {"p1": "A", "p2": "A", "p3": "B", "p4": "tie", "p5": "unscored"}
    for persona, v in votes.items():
        rows += _rows("X", "Y", "s1", "empathy", v, v, persona)
    for persona, v in {"p1": "A", "p2": "B"}.items():       # equal votes -> tie
        rows += _rows("X", "Y", "s2", "empathy", v, v, persona)
    rows += _rows("X", "Y", "s3", "empathy", "unscored", "unscored", "p1")  # no scored vote -> unscored
    m = majority_vote(head_to_heads(pd.DataFrame(rows))).set_index("scenario_id")
    assert m["outcome"].to_dict() == {"s1": "A", "s2": "tie", "s3": "unscored"}
    assert m.loc["s1", "n_votes"] == 4 and m.loc["s1", "votes_a"] == 2
