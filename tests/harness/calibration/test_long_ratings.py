"""`theraeval agreement RATINGS --scale ...`: any long ratings file, declared scales, rotating designs, bad input.

Every figure computed here comes from project-written synthetic ratings (SIMULATED, not evidence of validity);
the tests check the plumbing against the statistics functions (themselves pinned to published examples in
test_weighted_and_intervals.py and test_scores.py) and hand-derived leave-one-out values.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.calibration import (
    GATE_COLUMNS,
    LONG_AGREEMENT_COLUMNS,
    collect_scales,
    gwet_ac2,
    krippendorff_alpha,
    long_agreement_report,
    parse_scale,
    read_long_ratings,
    read_scales_toml,
)
from harness.cli import main
from harness.core import InputError

HEADER = ["item_id", "rater_id", "criterion", "value"]


def _write(path: Path, rows: list[tuple[object, ...]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _rotating(n: int = 45, seed: int = 0) -> list[tuple[object, ...]]:
    """Each item rated 0..2 by 2 of 3 clinicians (rotating) and by the judge `llm`."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[object, ...]] = []
    for i in range(n):
        truth = int(rng.integers(0, 3))
        for rater in [("c1", "c2"), ("c2", "c3"), ("c1", "c3")][i % 3]:
            rows.append((f"it{i:03d}", rater, "empathy", int(np.clip(truth + rng.choice([-1, 0, 0, 0, 1]), 0, 2))))
        rows.append((f"it{i:03d}", "llm", "empathy", int(np.clip(truth + rng.choice([-1, 0, 0, 1]), 0, 2))))
    return rows


# ---------------------------------------------------------------------------------------------- scales


def test_parse_scale_forms() -> None:
    s = parse_scale("empathy=ordinal:0-2")
    assert (s.criterion, s.kind, s.labels, s.low, s.high) == ("empathy", "ordinal", ("0", "1", "2"), 0.0, 2.0)
    assert s.code("2") == 2.0 and s.code("2.0") == 2.0 and s.code("3") is None and s.code("x") is None
    n = parse_scale("style=nominal:formal, casual")
    assert n.labels == ("formal", "casual") and n.code("Casual") == 1.0
    assert parse_scale("tone=ordinal:low,mid,high").code("mid") == 1.0
    c = parse_scale("score=continuous:0-10")
    assert c.code("7.5") == 7.5 and c.code("11") is None
    assert parse_scale("score=continuous").code("-3e2") == -300.0
    for bad in ("empathy", "empathy=likert:1-5", "e=ordinal:2-1", "e=nominal:a", "s=continuous:5-1"):
        with pytest.raises(InputError, match="--scale"):
            parse_scale(bad)


def test_scales_toml(tmp_path: Path) -> None:
    path = tmp_path / "scales.toml"
    path.write_text('[empathy]\nscale = "ordinal"\nrange = [1, 5]\n[style]\nscale = "nominal"\nlabels = ["a", "b"]\n'
                    '[score]\nscale = "continuous"\n')
    scales = read_scales_toml(path)
    assert scales["empathy"].labels == ("1", "2", "3", "4", "5")
    assert scales["style"].labels == ("a", "b") and scales["score"].kind == "continuous"
    assert set(collect_scales(["extra=nominal:x,y"], path)) == {"empathy", "style", "score", "extra"}
    with pytest.raises(InputError, match="declared twice"):
        collect_scales(["empathy=ordinal:0-2"], path)
    path.write_text('[empathy]\nscale = "ordinal"\n')
    with pytest.raises(InputError, match=r"empathy\.labels"):
        read_scales_toml(path)


# ---------------------------------------------------------------------------------------------- loader


def test_csv_and_jsonl_read_the_same(tmp_path: Path) -> None:
    rows = _rotating(12)
    csv_path = _write(tmp_path / "r.csv", rows)
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text("".join(json.dumps(dict(zip(HEADER, r, strict=True))) + "\n" for r in rows))
    scales = collect_scales(["empathy=ordinal:0-2"], None)
    a = read_long_ratings(csv_path, scales, judge="llm").ratings
    b = read_long_ratings(jsonl, scales, judge="llm").ratings
    cols = ["item_id", "rater_id", "criterion", "code", "is_judge"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert int(a["is_judge"].sum()) == 12


def test_judge_file_and_label_column(tmp_path: Path) -> None:
    rows = _rotating(9)
    humans = [r for r in rows if r[1] != "llm"]
    judge = [(r[0], r[2], r[3]) for r in rows if r[1] == "llm"]
    ratings = _write(tmp_path / "r.csv", humans, ["item_id", "rater_id", "criterion", "label"])
    judge_path = _write(tmp_path / "j.csv", judge, ["item_id", "criterion", "value"])
    data = read_long_ratings(ratings, collect_scales(["empathy=ordinal:0-2"], None), judge_path=judge_path)
    assert data.judge == "judge" and int(data.ratings["is_judge"].sum()) == 9


BAD_CASES = {
    "outside the scale": ([("i1", "a", "empathy", 3), ("i2", "a", "empathy", 1)], "line 2 value", "'3'",
                          "outside the declared scale"),
    "non-numeric ordinal": ([("i1", "a", "empathy", "high"), ("i2", "a", "empathy", 1)], "line 2 value", "'high'",
                            "not a number"),
    "non-numeric continuous": ([("i1", "a", "score", "n/a"), ("i2", "a", "score", 1)], "line 2 value", "'n/a'",
                               "not a number"),
    "unknown criterion": ([("i1", "a", "empathy", 1), ("i1", "a", "warmth", 1)], "line 3 criterion", "'warmth'",
                          "no scale declared"),
    "rater with one rating": ([("i1", "a", "empathy", 1), ("i2", "a", "empathy", 1), ("i1", "b", "empathy", 2)],
                              "line 4 rater_id", "'b'", "single rating"),
    "rated twice": ([("i1", "a", "empathy", 1), ("i1", "a", "empathy", 2)], "line 3 rater_id", "'a'", "twice"),
    "empty rater id": ([("i1", "", "empathy", 1)], "line 2 rater_id", "''", "empty"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_rows_name_file_line_field_value_and_fix(tmp_path: Path, case: str) -> None:
    rows, field, value, problem = BAD_CASES[case]
    path = _write(tmp_path / "r.csv", rows)
    scales = collect_scales(["empathy=ordinal:0-2", "score=continuous"], None)
    with pytest.raises(InputError) as err:
        read_long_ratings(path, scales)
    message = str(err.value)
    assert message.startswith(str(path)) and f"{field} = {value}" in message
    assert problem in message and "Fix:" in message


def test_missing_column_and_unknown_judge(tmp_path: Path) -> None:
    scales = collect_scales(["empathy=ordinal:0-2"], None)
    path = _write(tmp_path / "r.csv", [("i1", "empathy", 1)], ["item_id", "criterion", "value"])
    with pytest.raises(InputError, match=r"columns = \['rater_id'\]"):
        read_long_ratings(path, scales)
    path = _write(tmp_path / "r.csv", [("i1", "a", "empathy", 1), ("i2", "a", "empathy", 1)])
    with pytest.raises(InputError, match="--judge = 'gpt'"):
        read_long_ratings(path, scales, judge="gpt")


# ---------------------------------------------------------------------------------------------- report


def test_rotating_design_report_matches_the_statistics_functions(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", _rotating(45))
    data = read_long_ratings(path, collect_scales(["empathy=ordinal:0-2"], None), judge="llm")
    res = long_agreement_report(data, tmp_path / "out", n_boot=200, seed=1)
    assert list(res.agreement.columns) == list(LONG_AGREEMENT_COLUMNS)
    assert list(res.gate.columns) == list(GATE_COLUMNS)
    assert (tmp_path / "out" / "agreement_long.csv").is_file()
    assert (tmp_path / "out" / "judge_gate_long.parquet").is_file()
    t = res.agreement.set_index(["comparison", "statistic", "raters"])["estimate"]
    assert t[("design", "n_items", "")] == 45 and t[("design", "raters_per_item_max", "")] == 2
    humans = data.ratings[~data.ratings["is_judge"]].pivot(index="item_id", columns="rater_id", values="code")
    cats = (0.0, 1.0, 2.0)
    assert t[("inter_rater", "krippendorff_alpha_ordinal", "")] == pytest.approx(
        krippendorff_alpha(humans.to_numpy(), cats, level_of_measurement="ordinal").estimate)
    assert t[("inter_rater", "gwet_ac2_quadratic", "")] == pytest.approx(
        gwet_ac2(humans.to_numpy(), cats, weights="quadratic").estimate)
    assert res.agreement["primary"].sum() == 1
    assert res.gate["status"].iloc[0] in ("calibrated", "uncalibrated")


def test_leave_one_out_hand_derived(tmp_path: Path) -> None:
    # nominal, 3 raters on 2 items, judge j:
    #   i1: a, a, b; judge a.  i2: a, b, c; judge c.
    # human LOO: i1 rater1 vs {a, b}: tie -> no reference; rater2 likewise; rater3 vs {a, a} -> a: b != a (0).
    #            i2: each rater vs the other two (two different labels) -> tie -> none. human = 0/1 = 0.
    # judge LOO, same references: only i1/rater3's reference a: judge a -> 1/1 = 1.
    # judge vs all humans: i1 consensus a -> 1; i2 a, b, c tie -> none. 1/1.
    rows = [("i1", "r1", "style", "a"), ("i1", "r2", "style", "a"), ("i1", "r3", "style", "b"),
            ("i2", "r1", "style", "a"), ("i2", "r2", "style", "b"), ("i2", "r3", "style", "c"),
            ("i1", "j", "style", "a"), ("i2", "j", "style", "c")]
    data = read_long_ratings(_write(tmp_path / "r.csv", rows), collect_scales(["style=nominal:a,b,c"], None),
                             judge="j")
    res = long_agreement_report(data, None, n_boot=50, seed=0)
    t = res.agreement.set_index(["comparison", "statistic"])
    assert (t.loc[("human_loo", "agreement"), "estimate"], t.loc[("human_loo", "agreement"), "n"]) == (0.0, 1)
    assert t.loc[("judge_loo", "agreement"), "estimate"] == 1.0
    assert (t.loc[("judge_consensus", "agreement"), "estimate"], t.loc[("judge_consensus", "agreement"), "n"]) == (
        1.0, 1)
    # ordinal closeness: 0..4 scale, item rated 0 and 2 and judge 4: each human vs the other: |0-2| = 2 -> 1 - 2/4
    rows = [("i1", "r1", "e", 0), ("i1", "r2", "e", 2), ("i2", "r1", "e", 1), ("i2", "r2", "e", 1),
            ("i1", "j", "e", 4), ("i2", "j", "e", 1)]
    data = read_long_ratings(_write(tmp_path / "o.csv", rows), collect_scales(["e=ordinal:0-4"], None), judge="j")
    t = long_agreement_report(data, None, n_boot=50, seed=0).agreement.set_index(["comparison", "statistic"])
    # humans: i1 two comparisons at closeness 0.5, i2 two at 1.0 -> 0.75; mae (2 + 2 + 0 + 0)/4 = 1
    assert t.loc[("human_loo", "agreement"), "estimate"] == pytest.approx(0.75)
    assert t.loc[("human_loo", "mae"), "estimate"] == pytest.approx(1.0)
    # judge vs the same references: i1 refs 2 (for r1) and 0 (for r2): |4-2| = 2, |4-0| = 4 -> 0.5, 0.0;
    # i2 refs 1, 1 -> 1, 1: mean (0.5 + 0 + 1 + 1)/4 = 0.625; mae (2 + 4 + 0 + 0)/4 = 1.5
    assert t.loc[("judge_loo", "agreement"), "estimate"] == pytest.approx(0.625)
    assert t.loc[("judge_loo", "mae"), "estimate"] == pytest.approx(1.5)


def test_continuous_scale_reports_alpha_and_icc(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rows: list[tuple[object, ...]] = []
    for i in range(30):
        s = rng.normal(5, 2)
        rows += [(f"i{i}", r, "score", round(float(s + rng.normal(0, 0.5)), 3)) for r in ("a", "b", "c")]
    data = read_long_ratings(_write(tmp_path / "r.csv", rows), collect_scales(["score=continuous"], None))
    res = long_agreement_report(data, None, n_boot=100, seed=0)
    t = res.agreement.set_index("statistic")
    assert t.loc["krippendorff_alpha_interval", "primary"]
    assert 0.8 < t.loc["icc2", "estimate"] <= 1.0
    assert t.loc["icc2", "ci_low"] < t.loc["icc2", "estimate"] < t.loc["icc2", "ci_high"]
    assert res.gate["status"].iloc[0] == "no_ratings"  # no judge


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_long_ratings_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "simulated_ratings.csv", _rotating(30))
    code = main(["agreement", str(path), "--scale", "empathy=ordinal:0-2", "--judge", "llm", "--n-boot", "100",
                 "--out", str(tmp_path / "tables")])
    out = capsys.readouterr().out
    assert code == 0
    assert "SIMULATED" in out and "krippendorff_alpha_ordinal *" in out and "gate:" in out
    gate = pd.read_csv(tmp_path / "tables" / "judge_gate_long.csv")
    assert gate["criterion"].tolist() == ["empathy"]


def test_cli_bad_input_exit_2_and_nothing_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "r.csv", [*_rotating(6), ("it000", "c9", "empathy", 7)])
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code = main(["agreement", str(path), "--scale", "empathy=ordinal:0-2", "--judge", "llm"])
    err = capsys.readouterr().err
    assert code == 2
    # 6 items x (2 clinicians + judge) = 18 rows after the header: the bad row is line 20
    assert err.count("\n") == 1 and "line 20 value = '7'" in err and "Fix:" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written (no agreement/ folder)
    code = main(["agreement", str(path), "--scale", "empathy=ordinal:0-2", "--scale", "empathy=nominal:a,b"])
    assert code == 2 and "declared twice" in capsys.readouterr().err
    code = main(["agreement", str(path), str(path), "--scale", "empathy=ordinal:0-2"])
    assert code == 2 and "only the ratings file" in capsys.readouterr().err
    code = main(["agreement", str(tmp_path), "--judge", "llm"])
    assert code == 2 and "--scale" in capsys.readouterr().err


def test_nan_free_gate_reason_without_judge_ratings_on_a_criterion(tmp_path: Path) -> None:
    rows = [*_rotating(12), ("it000", "c1", "style", "a"), ("it000", "c2", "style", "a"),
            ("it001", "c1", "style", "b"), ("it001", "c2", "style", "a")]
    data = read_long_ratings(_write(tmp_path / "r.csv", rows),
                             collect_scales(["empathy=ordinal:0-2", "style=nominal:a,b"], None), judge="llm")
    gate = long_agreement_report(data, None, n_boot=50, seed=0).gate.set_index("criterion")
    assert gate.loc["style", "status"] == "no_ratings" and "no rating on this criterion" in gate.loc["style", "reason"]
    assert not math.isnan(gate.loc["empathy", "llm_agreement"])
