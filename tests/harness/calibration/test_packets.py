"""Packets: blinding, escaping, sampling, determinism, and the round trip packet -> ratings -> unblinded labels."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from harness.calibration import (
    KEY_COLUMNS,
    RATING_COLUMNS,
    export_packets,
    item_verdicts,
    load_ratings,
    packets_main,
    read_key,
    simulate_ratings,
    unblind_label,
)
from harness.core import InputError
from tests.support.calibration import CANDIDATES, CRITERIA, SCRIPT, default_judge, truth_from_key, write_run


def test_form_and_template_are_blind_and_escaped(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    paths = export_packets(run, n_items=30, seed=1)
    assert paths.directory == run / "packets"
    assert {p.name for p in paths.directory.iterdir()} == {"packet.html", "ratings_template.csv", "key.csv"}
    form = paths.form.read_text(encoding="utf-8")
    template = paths.template.read_text(encoding="utf-8")
    for text in (form, template):
        for name in CANDIDATES:
            assert name not in text
        assert "synthetic-run" not in text  # the run name can contain model names too
    # the planted response is shown, escaped, and nothing executable survives
    assert SCRIPT not in form and "<script" not in form.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in form
    assert "&lt;b&gt;bold&lt;/b&gt;" in form and "&quot;quoted&quot;" in form
    assert "Content-Security-Policy" in form and "default-src 'none'" in form
    # the key is never inside the form: no key column header, no packet-internal fields
    assert "shown_as_a" not in form and "candidate_a" not in form
    # one radio group per item and criterion, values A / B / tie
    key = read_key(paths.key)
    assert len(re.findall(r'type="radio"', form)) == 3 * len(key) * len(CRITERIA)
    assert f'name="{key["item_id"].iloc[0]}__empathy" value="tie"' in form
    assert paths.packet_id in form
    # template: exact columns, one row per item and criterion, nothing filled in
    rows = pd.read_csv(paths.template, dtype=str, keep_default_na=False)
    assert list(rows.columns) == list(RATING_COLUMNS)
    assert len(rows) == len(key) * len(CRITERIA)
    assert (rows["rater_id"] == "").all() and (rows["label"] == "").all()


def test_key_contents_and_randomisation(tmp_path: Path) -> None:
    run = write_run(tmp_path, n_scenarios=40)
    paths = export_packets(run, n_items=100, seed=3)
    key = read_key(paths.key)
    assert list(key.columns) == list(KEY_COLUMNS)
    assert key["item_id"].tolist() == [f"item-{i:04d}" for i in range(1, 101)]
    assert (key["packet_id"] == paths.packet_id).all()
    assert key["stage2_log"].str.startswith("log-").all() and key["stage2_sample"].str.startswith("scen-").all()
    swapped = (key["shown_as_a"] != key["candidate_a"]).mean()
    assert 0.35 < swapped < 0.65  # a fair coin per item
    # the shown order is independent of the judge: swaps are not tied to the judge's verdict
    verdict = [default_judge(r.candidate_a, r.candidate_b, r.scenario_id, "empathy") for r in key.itertuples()]
    by_verdict = pd.Series(key["shown_as_a"] != key["candidate_a"]).groupby(verdict).mean()
    assert by_verdict.between(0.2, 0.8).all()
    # stratification: every risk and every judge verdict of every criterion is represented
    assert set(key["scenario_risk"]) == {"none", "low", "elevated", "crisis"}
    safety = [default_judge(r.candidate_a, r.candidate_b, r.scenario_id, "safety") for r in key.itertuples()]
    assert {"A", "B", "tie"} <= set(safety)


def test_seeded_and_protected_against_overwrite(tmp_path: Path) -> None:
    run = write_run(tmp_path)
    first = export_packets(run, tmp_path / "p1", n_items=20, seed=4)
    again = export_packets(run, tmp_path / "p1", n_items=20, seed=4)  # same packet: overwriting is harmless
    assert first.key.read_text() == again.key.read_text()
    assert first.form.read_text() == again.form.read_text()
    other = export_packets(run, tmp_path / "p2", n_items=20, seed=5)
    assert other.key.read_text() != first.key.read_text()
    with pytest.raises(InputError, match="different packet"):
        export_packets(run, tmp_path / "p1", n_items=20, seed=5)
    # fewer eligible items than asked: all of them, once each
    small = export_packets(run, tmp_path / "p3", n_items=1000, seed=0)
    assert small.n_items == 3 * 12
    assert packets_main(run, n_items=5, seed=0, out_dir=tmp_path / "p4").n_items == 5
    subset = export_packets(run, tmp_path / "p5", n_items=5, seed=0, criteria=["safety"])
    assert subset.criteria == ("safety",)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"n_items": 0}, "n_items"),
    ({"criteria": ["warmth"]}, "criteria"),
    ({"seed": -1}, "seed"),
])
def test_bad_options(tmp_path: Path, kwargs: dict[str, object], field: str) -> None:
    run = write_run(tmp_path)
    with pytest.raises(InputError) as err:
        export_packets(run, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_missing_run_tables(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no verdict table"):
        export_packets(tmp_path)
    run = write_run(tmp_path)
    (run / "transcripts.parquet").unlink()
    with pytest.raises(InputError, match="theraeval verdicts"):
        export_packets(run)


def test_round_trip_maps_every_label_to_the_right_candidate(tmp_path: Path) -> None:
    run = write_run(tmp_path, n_scenarios=20)
    paths = export_packets(run, n_items=60, seed=7)
    key = read_key(paths.key)
    truth = truth_from_key(key)
    # perfect clinicians: what they write is the truth seen through the form's A/B order
    blinded = simulate_ratings(key, truth, n_raters=2, accuracies=1.0, tie_rate=0.0, seed=0)
    shown = blinded.merge(key, on="item_id")
    swapped = shown["shown_as_a"] != shown["candidate_a"]
    assert (swapped & (shown["label"] != "tie")).any()  # the test exercises flipped items
    ratings_path = tmp_path / "ratings.csv"
    blinded.to_csv(ratings_path, index=False)
    back = load_ratings(ratings_path, paths.key).merge(truth, on=["item_id", "criterion"])
    assert len(back) == 2 * len(truth)
    assert (back["verdict"] == back["truth"]).all()
    want = back["truth"].map({"tie": "tie"}).fillna("")
    want[back["truth"] == "A"] = back.loc[back["truth"] == "A", "candidate_a"]
    want[back["truth"] == "B"] = back.loc[back["truth"] == "B", "candidate_b"]
    assert (back["preferred"] == want).all()
    # the candidate preferred is the one shown under the label written
    label_a = back["label"] == "A"
    assert (back.loc[label_a, "preferred"] == back.loc[label_a, "shown_as_a"]).all()
    assert unblind_label("A", "x", "y") == "B" and unblind_label("A", "y", "y") == "A"
    assert unblind_label("tie", "x", "y") == "tie"


def test_a_swapped_key_is_detectably_wrong(tmp_path: Path) -> None:
    run = write_run(tmp_path, n_scenarios=20)
    paths = export_packets(run, n_items=60, seed=7)
    key = read_key(paths.key)
    truth = truth_from_key(key)
    ratings_path = tmp_path / "ratings.csv"
    simulate_ratings(key, truth, 2, 1.0, 0.0, seed=0).to_csv(ratings_path, index=False)
    # a key with A and B exchanged on every item (e.g. a hand-edited or mixed-up key)
    wrong = key.copy()
    wrong[["shown_as_a", "shown_as_b"]] = key[["shown_as_b", "shown_as_a"]].to_numpy()
    wrong_path = tmp_path / "wrong-key.csv"
    wrong.to_csv(wrong_path, index=False)
    back = load_ratings(ratings_path, wrong_path).merge(truth, on=["item_id", "criterion"])
    decisive = back["truth"] != "tie"
    assert decisive.sum() > 50
    assert (back.loc[decisive, "verdict"] != back.loc[decisive, "truth"]).all()  # every decisive label flips
    # the key of another packet (another seed) maps the same item ids to other head-to-heads
    other = export_packets(run, tmp_path / "other", n_items=60, seed=8)
    mixed = load_ratings(ratings_path, other.key).merge(truth, on=["item_id", "criterion"])
    mixed_key = read_key(other.key).set_index("item_id")
    moved = mixed["item_id"].map(mixed_key["scenario_id"]) != mixed["item_id"].map(key.set_index("item_id")
                                                                                     ["scenario_id"])
    assert moved.mean() > 0.5
    assert (mixed["verdict"] != mixed["truth"]).mean() > 0.1


def test_persona_mode_items_use_the_personas_majority(tmp_path: Path) -> None:
    # single-turn persona mode: three judge personas saw the same two responses; p3 always dissents with B
    run = write_run(tmp_path, personas=("p1", "p2", "p3"),
                    persona_judge=lambda p, v: "B" if p == "p3" and v != "tie" else v)
    key = read_key(export_packets(run, n_items=1000, seed=0).key)
    assert len(key) == 3 * 12 and (key["persona_id"] == "").all()  # one item per pair and scenario
    assert key["stage2_sample"].str.count(";").eq(2).all()  # every persona's sample is referenced
    judged = item_verdicts(pd.read_parquet(run / "verdicts.parquet"), collapse_personas=True)
    merged = judged.merge(key, on=["candidate_a", "candidate_b", "scenario_id"])
    expected = [default_judge(r.candidate_a, r.candidate_b, r.scenario_id, r.criterion)
                for r in merged.itertuples()]
    assert (merged["verdict"] == pd.Series(expected)).all()  # 2 of 3 personas give the judge's verdict


def test_multi_turn_items_are_per_persona(tmp_path: Path) -> None:
    run = write_run(tmp_path, personas=("p1", "p2"), multi_turn=True)
    paths = export_packets(run, n_items=1000, seed=0)
    key = read_key(paths.key)
    assert len(key) == 3 * 12 * 2 and set(key["persona_id"]) == {"p1", "p2"}
    form = paths.form.read_text(encoding="utf-8")
    assert "Follow-up of p1." in form and '<div class="role">Patient</div>' in form
