"""Cross-fitted validation of the default judge's recipe (`judges validate ... --cross-fit K`): on a small
AnnoMI-shaped file with a planted signal (project-written: it tests the machinery, it is not evidence), no session
is scored by a judge trained on it, the folds cover every session once, and the pooled figures are the validator's
own on the same out-of-fold verdicts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.core import InputError
from harness.judge_validity import (
    BEATS,
    CrossFit,
    JudgedPair,
    OutOfFoldJudge,
    RewardHeadJudge,
    ValidationPair,
    annomi_session_folds,
    annomi_sessions,
    build_evidence_judge,
    credit,
    cross_fit_annomi,
    validate,
)
from harness.reward_heads import RewardHeads
from tests.support import ANNOMI, requires_shared
from tests.support.judge_validity import write_annomi_csv
from tests.support.run import write_config

FOLDS = 3


@pytest.fixture(scope="module")
def annomi_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_annomi_csv(tmp_path_factory.mktemp("annomi") / "AnnoMI-synthetic.csv")  # 3 low, 6 high sessions


@pytest.fixture(scope="module")
def cross_fit(annomi_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[CrossFit, Path]:
    work = tmp_path_factory.mktemp("folds")
    return cross_fit_annomi(annomi_csv, folds=FOLDS, n_boot=200, work=work), work


def test_folds_are_stratified_disjoint_and_cover_every_session(annomi_csv: Path) -> None:
    import csv

    with annomi_csv.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    quality = {r["transcript_id"]: r["mi_quality"] for r in rows}
    folds = annomi_session_folds(rows, FOLDS, seed=0)
    flat = [s for f in folds for s in f]
    assert sorted(flat) == sorted(quality) and len(set(flat)) == len(flat)  # every session exactly once
    assert [sum(quality[s] == "low" for s in f) for f in folds] == [1, 1, 1]  # 3 low sessions over 3 folds
    assert [len(f) for f in folds] == [3, 3, 3]
    assert annomi_session_folds(rows, FOLDS, seed=0) == folds  # deterministic
    assert annomi_session_folds(rows, FOLDS, seed=1) != folds  # the seed draws other folds
    with pytest.raises(InputError, match="needs 2 to 3 folds"):
        annomi_session_folds(rows, 4)  # a fold would have no low-quality session
    with pytest.raises(InputError, match="needs 2 to 3 folds"):
        annomi_session_folds(rows, 1)


def test_no_session_is_scored_by_a_judge_trained_on_it(cross_fit: tuple[CrossFit, Path], annomi_csv: Path) -> None:
    import csv

    cf, work = cross_fit
    with annomi_csv.open(encoding="utf-8", newline="") as fh:
        therapist = [r["transcript_id"] for r in csv.DictReader(fh) if r["interlocutor"] == "therapist"]
    every = {s for f in cf.folds for s in f}
    assert len(every) == 9 and sum(len(f) for f in cf.folds) == 9
    for f, held in enumerate(cf.folds):
        manifest = json.loads((work / f"fold-{f + 1}" / "heads.json").read_text())
        built = manifest["annomi"]  # what the build used
        assert list(cf.trained_on[f]) == built["train_sessions"] and built["heldout_sessions"] == list(held)
        # the classifier saw exactly the training sessions' therapist turns, and measured itself on the fold's
        assert manifest["behaviour_classifier"]["n_train"] == sum(s not in held for s in therapist)
        assert manifest["behaviour_classifier"]["n_heldout"] == sum(s in held for s in therapist)
        assert not set(built["train_sessions"]) & set(held)
        assert set(built["train_sessions"]) | set(held) == every  # trained on all the other folds
        assert cf.scored[f] and cf.scored[f] <= set(held)  # the fold's judge scored only its own sessions
    assert set().union(*cf.scored) == every  # pooling covers every session
    for p in cf.pooled.pairs:  # each pair's sessions (read from its id) lie in the fold whose judge scored it
        assert annomi_sessions(p) <= set(cf.folds[cf.fold_of[p]])
    assert len(set(cf.pooled.pairs)) == len(cf.pooled.pairs)
    # 1 low vs 2 high sessions per fold: 2 session-quality pairs a fold
    assert len(cf.pooled.of("overall")) == 2 * FOLDS


def test_a_leak_is_caught(cross_fit: tuple[CrossFit, Path]) -> None:
    """Routing a pair to a fold judge that trained on its session raises instead of scoring it."""
    cf, _ = cross_fit
    pair = cf.pooled.of("active_listening")[0]
    other = (cf.fold_of[pair] + 1) % FOLDS
    judges = [RewardHeadJudge(RewardHeads.load(cross_fit[1] / f"fold-{f + 1}")) for f in range(FOLDS)]
    leaky = OutOfFoldJudge(judges, cf.trained_on, {pair: other}, "leaky")
    with pytest.raises(RuntimeError, match="trained on"):
        leaky.judge("active_listening", [pair])


class _Replay:
    """A judge that answers recorded verdicts."""

    kind, name = "rm", "replay"

    def __init__(self, verdicts: dict[ValidationPair, str]) -> None:
        self.verdicts = verdicts

    def judge(self, criterion: str, pairs: Sequence[ValidationPair]) -> list[JudgedPair]:
        return [JudgedPair(self.verdicts[p], False) for p in pairs]

    def pointwise(self, criterion: str, contexts: Sequence[str], responses: Sequence[str]) -> None:
        return None


def test_pooled_figures_are_the_validators_on_the_out_of_fold_verdicts(cross_fit: tuple[CrossFit, Path]) -> None:
    """Each fold's judge, loaded on its own, scores its fold's pairs; the validator on those verdicts gives the
    cross-fit's figures exactly (so the routing kept every verdict with its pair), and the planted signal shows."""
    cf, work = cross_fit
    verdicts: dict[ValidationPair, str] = {}
    for f in range(FOLDS):
        judge = RewardHeadJudge(RewardHeads.load(work / f"fold-{f + 1}"))
        for crit in cf.pooled.criteria:
            mine = [p for p in cf.pooled.of(crit) if cf.fold_of[p] == f]
            verdicts |= {p: j.verdict for p, j in zip(mine, judge.judge(crit, mine), strict=True)}
    replayed = validate([cf.pooled], _Replay(verdicts), n_boot=200)["criteria"]
    assert replayed == cf.report["criteria"]
    for crit, c in cf.report["criteria"].items():
        pairs = cf.pooled.of(crit)
        assert c["n"] == len(pairs) and c["unscored"] == 0
        assert c["accuracy"] == round(float(np.mean([credit(verdicts[p], p.label) for p in pairs])), 4)
    # planted: complex reflections beat closed questions/advice, reflections and open questions beat advice
    for crit in ("active_listening", "patient_autonomy"):
        assert cf.report["criteria"][crit]["accuracy"] >= 0.9 and cf.report["criteria"][crit]["status"] == BEATS
    assert cf.report["criteria"]["overall"]["accuracy"] == 1.0  # every high session above its fold's low one
    assert cf.report["cross_fit"]["fold_low_quality"] == [1, 1, 1]


def test_cli_prints_the_shipped_figures_then_the_recipe(annomi_csv: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    heads = tmp_path / "judge"
    build_evidence_judge(annomi_csv, heads)  # the recipe, on the synthetic file (its own 30% held out)
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('[judge]\nmodel = "scripted/judge-longer"',
                                           f'[judge]\nkind = "rm"\nheads = "{heads}"'))
    out = tmp_path / "out.json"
    base = ["judges", "validate", str(cfg), f"annomi:{annomi_csv}", "--n-boot", "200", "--criterion",
            "active_listening", "--json", str(out)]
    assert main([*base, "--cross-fit", "4"]) == 2  # 3 low-quality sessions: at most 3 folds
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--cross-fit = 4" in err[0] and "Fix: " in err[0] and not out.exists()
    assert main([*base, "--cross-fit", "3"]) == 0
    text = capsys.readouterr().out
    shipped, _, recipe = text.partition("CROSS-FITTED RECIPE")
    assert "[active_listening]" in shipped and "[active_listening]" in recipe
    assert "not the shipped weights" in recipe and "retrained per fold (3-fold cross-fit)" in recipe
    doc = json.loads(out.read_text())
    assert doc["criteria"]["active_listening"]["n"] < doc["recipe_cross_fit"]["criteria"]["active_listening"]["n"]
    assert doc["recipe_cross_fit"]["cross_fit"]["folds"] == 3


@requires_shared("data/annomi/AnnoMI-full.csv")
def test_real_annomi_folds() -> None:
    """The 106 AnnoMI sessions (17 of low quality) in 5 folds: 21-22 sessions, 3-4 low-quality ones each."""
    import csv

    with ANNOMI.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    folds = annomi_session_folds(rows, 5)
    quality = {r["transcript_id"]: r["mi_quality"] for r in rows}
    assert sorted(s for f in folds for s in f) == sorted(quality) and len(quality) == 106
    assert sorted(len(f) for f in folds) == [21, 21, 21, 21, 22]
    assert sorted(sum(quality[s] == "low" for s in f) for f in folds) == [3, 3, 3, 4, 4]
