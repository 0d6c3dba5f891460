"""Bad input sweep, extending tests/harness/cli/test_bad_input.py: every file kind a run reads (criteria, personas,
scenarios, candidates, imported responses) and the other commands' files (ratings, preference pairs, survey CSVs)
and arguments. Each is one line naming file, field, value and fix, exit code 2, and nothing written."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from harness.cli import main
from tests.support import REPO
from tests.support.run import write_config

Mutate = Callable[[Path, Path], object]
PERSONA = json.loads((REPO / "harness" / "inputs" / "data" / "personas.jsonl")
                     .read_text().splitlines()[0])
CRITERION = 'id = "warmth"\nname = "W"\ndescription = "d"\nbetter_when = "b"\nworse_when = "w"\n'


def _edit(cfg: Path, old: str, new: str) -> None:
    text = cfg.read_text()
    assert old in text, old
    cfg.write_text(text.replace(old, new, 1))


def _append(text: str) -> Mutate:
    return lambda t, c: c.write_text(c.read_text() + text)


def _data(key: str, name: str, body: str) -> Mutate:
    """Write `body` to `name` and point `[data] key` at it."""
    def mutate(t: Path, c: Path) -> None:
        (t / name).write_text(body)
        if key == "scenarios":
            _edit(c, f'scenarios = "{t / "scenarios.jsonl"}"', f'scenarios = "{t / name}"')
        else:
            _edit(c, "[data]\n", f'[data]\n{key} = "{t / name}"\n')
    return mutate


def _responses(name: str, body: str, extra: str = "") -> Mutate:
    """An imported-responses candidate `vendor` reading `name`."""
    def mutate(t: Path, c: Path) -> None:
        (t / name).write_text(body)
        c.write_text(c.read_text() + f'\n[[candidates]]\nname = "vendor"\nresponses = "{name}"\n' + extra)
    return mutate


def _all_scenarios(text: str = "r") -> str:
    return "".join(json.dumps({"scenario_id": s, "response": text}) + "\n" for s in ("s-anx", "s-grief", "s-crisis"))


# case: (mutation of a valid config, file named, field named, value shown)
RUN_CASES: dict[str, tuple[Mutate, str, str, str]] = {
    # criteria files
    "criteria: malformed TOML": (_data("criteria", "crit.toml", "name = [\n"), "crit.toml", "toml", "malformed TOML"),
    "criteria: duplicate id": (_data("criteria", "crit.toml", 'name = "c"\nversion = "1"\n'
                                     + f"[[criteria]]\n{CRITERION}" * 2), "crit.toml", "criteria.id", "'warmth'"),
    "criteria: empty set": (_data("criteria", "crit.toml", 'name = "c"\nversion = "1"\ncriteria = []\n'),
                            "crit.toml", "criteria", "no criteria"),
    # persona files
    "personas: duplicate id": (_data("personas", "p.jsonl", (json.dumps(PERSONA) + "\n") * 2), "p.jsonl", "line 2 id",
                               repr(PERSONA["id"])),
    "personas: invalid JSON": (_data("personas", "p.jsonl", "{'id': 1}\n"), "p.jsonl", "line 1", "invalid JSON"),
    "personas: bad value": (_data("personas", "p.jsonl", json.dumps(PERSONA | {"severity": "extreme"}) + "\n"),
                            "p.jsonl", "line 1 severity", "'extreme'"),
    "personas: wrong file type": (_data("personas", "p.csv", "id\np1\n"), "p.csv", "suffix", "'.csv'"),
    "personas: empty file": (_data("personas", "p.jsonl", "\n"), "p.jsonl", "rows", "no personas found"),
    "personas: missing file": (lambda t, c: _edit(c, "[data]\n", f'[data]\npersonas = "{t / "gone.jsonl"}"\n'),
                               "gone.jsonl", "path", "file not found"),
    # scenario files
    "scenarios: CSV without text": (_data("scenarios", "s.csv", "id,prompt\na,b\n"), "s.csv", "header", "['text']"),
    "scenarios: JSON not a list": (_data("scenarios", "s.json", '{"id": "a"}'), "s.json", "top level", "not a list"),
    "scenarios: wrong file type": (_data("scenarios", "s.txt", "hi"), "s.txt", "suffix", "'.txt'"),
    "scenarios: empty file": (_data("scenarios", "s.jsonl", ""), "s.jsonl", "rows", "no scenarios found"),
    "scenarios: missing text": (_data("scenarios", "s.jsonl", '{"id": "a"}\n'), "s.jsonl", "line 1 text",
                                "Field required"),
    "scenarios: empty text": (_data("scenarios", "s.jsonl", '{"id": "a", "text": ""}\n'), "s.jsonl", "line 1 text",
                              "at least 1 character"),
    "scenarios: id with a path": (_data("scenarios", "s.jsonl", '{"id": "../x", "text": "t"}\n'), "s.jsonl",
                                  "line 1 id", "'../x'"),
    "scenarios: CSV bad risk": (_data("scenarios", "s.csv", "id,text,risk\na,b,severe\n"), "s.csv", "row 2 risk",
                                "'severe'"),
    "scenarios: missing file": (lambda t, c: _edit(c, str(t / "scenarios.jsonl"), str(t / "gone.jsonl")),
                                "gone.jsonl", "path", "file not found"),
    # candidates and run fields
    "candidate: name with a path": (lambda t, c: _edit(c, 'name = "warm"', 'name = "../warm"'), "t.toml",
                                    "candidates[0](name=../warm).name", "'../warm'"),
    "candidate: only one": (lambda t, c: c.write_text(c.read_text().split("[[candidates]]")[0]
                                                      + '[[candidates]]\nname = "a"\nmodel = "scripted/patient"\n'),
                            "t.toml", "candidates", "at least 2 candidates"),
    "candidate: max_tokens 0": (_append('\n[[candidates]]\nname = "x"\nmodel = "scripted/patient"\nmax_tokens = 0\n'),
                                "t.toml", "candidates[3](name=x).max_tokens", "greater than 0"),
    "run: name with a path": (lambda t, c: _edit(c, 'name = "t"', 'name = "../../etc"'), "t.toml", "run.name",
                              "'../../etc'"),
    "run: attempt_timeout 0": (lambda t, c: _edit(c, "[run]\n", "[run]\nattempt_timeout = 0\n"), "t.toml",
                               "run.attempt_timeout", "greater than 0"),
    "dialogue: 0 turns": (_append("\n[dialogue]\nturns = 0\n"), "t.toml", "dialogue.turns", "= 0"),
    "judge: unknown kind": (lambda t, c: _edit(c, "[judge]\n", '[judge]\nkind = "magic"\n'), "t.toml", "judge.kind",
                            "'magic'"),
    "judge: missing reward heads": (lambda t, c: _edit(c, 'model = "scripted/judge-longer"',
                                                       'kind = "rm"\nheads = "no-heads"'),
                                    "no-heads", "heads.json", "no heads manifest"),
    # imported responses
    "responses: invalid JSON": (_responses("v.jsonl", "{x\n"), "v.jsonl", "line 1", "invalid JSON"),
    "responses: not an object": (_responses("v.jsonl", '["s-anx", "a"]\n'), "v.jsonl", "line 1", "not a JSON object"),
    "responses: duplicate": (_responses("v.jsonl", _all_scenarios() + _all_scenarios().splitlines()[0] + "\n"),
                             "v.jsonl", "line 4 scenario_id", "'s-anx'"),
    "responses: empty text": (_responses("v.jsonl", _all_scenarios("  ")), "v.jsonl", "line 1 response", "'  '"),
    "responses: a scenario missing": (_responses("v.jsonl", _all_scenarios().splitlines()[0] + "\n"), "v.jsonl",
                                      "scenario_id", "'s-grief'"),
    "responses: CSV without scenario_id": (_responses("v.csv", "scenario,response\ns-anx,a\n"), "v.csv", "header",
                                           "['scenario_id']"),
    "responses: wrong file type": (_responses("v.txt", "x"), "v.txt", "suffix", "'.txt'"),
    "candidate: unknown provider": (
        _append('\n[[candidates]]\nname = "x"\nmodel = "nosuchprovider/m"\n'), "t.toml", "candidates",
        "nosuchprovider"),
    "responses: multi-turn run": (
        _responses("v.jsonl", _all_scenarios(), '\n[dialogue]\nturns = 2\n\n[patient]\nmodel = "scripted/patient"\n'),
        "", "turns", "2"),
}

# Found by this sweep, not fixed here (the files belong to others): strict, so they fail once fixed.


def _one_line(err: str, file: str, field: str, value: str) -> None:
    assert "\n" not in err, err
    assert err.startswith("error: ") and "Fix: " in err, err
    assert file in err and field in err and value in err, err


def _run_case(case: tuple[Mutate, str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mutate, file, field, value = case
    cfg = write_config(tmp_path)
    mutate(tmp_path, cfg)
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        rc = main(["run", str(cfg), "--display", "none"])
    except ValueError as e:  # a library error that escaped the CLI (a known gap)
        pytest.fail(f"traceback instead of a one-line error: {e!r}")
    assert rc == 2
    _one_line(capsys.readouterr().err.strip(), file, field, value)
    assert not (tmp_path / "runs").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_bad_run_input_is_one_clear_line_and_writes_nothing(case: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    _run_case(RUN_CASES[case], tmp_path, capsys)


# -- the other commands: their files and arguments ----------------------------------------------------------------

@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-candidate run with a rating packet (for leaderboard, report, packets and agreement)."""
    tmp = tmp_path_factory.mktemp("small")
    cfg = write_config(tmp, candidates={"warm": "scripted/therapist-warm", "terse": "scripted/therapist-terse"},
                       personas_per_scenario=1, data='criteria_ids = ["empathy", "safety"]\n')
    run = tmp / "runs" / "t"
    with redirect_stdout(io.StringIO()):
        assert main(["run", str(cfg), "--display", "none"]) == 0
        assert main(["packets", str(run), "--n-items", "3"]) == 0
    return run


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


# case: (files to write into tmp, argv (R = the run, T = tmp), file named, field named, value shown)
CLI_CASES: dict[str, tuple[dict[str, str], list[str], str, str, str]] = {
    "ratings: not a label": ({"r.csv": "item_id,rater_id,criterion,label\nitem-0001,clin-1,empathy,maybe\n"},
                             ["agreement", "R", "T/r.csv"], "r.csv", "line 2 label", "'maybe'"),
    "ratings: wrong columns": ({"r.csv": "item,rater\nx,y\n"}, ["agreement", "R", "T/r.csv"], "r.csv", "columns",
                               "['item', 'rater']"),
    "ratings: unknown item": ({"r.csv": "item_id,rater_id,criterion,label\nitem-9999,clin-1,empathy,A\n"},
                              ["agreement", "R", "T/r.csv"], "r.csv", "line 2 item_id", "'item-9999'"),
    "ratings: missing file": ({}, ["agreement", "R", "T/none.csv"], "none.csv", "ratings", "not found"),
    "ratings: not a packet key": ({"key.csv": "nothing,here\n1,2\n",
                                   "r.csv": "item_id,rater_id,criterion,label\nitem-0001,clin-1,empathy,A\n"},
                                  ["agreement", "R", "T/r.csv", "--key", "T/key.csv"], "key.csv", "columns",
                                  "not a packet key"),
    "agreement: --n-boot 0": ({}, ["agreement", "R", "T/r.csv", "--n-boot", "0"], "<argument>", "n_boot", "= 0"),
    "pairs: missing key": ({"p.jsonl": '{"id": "p1", "criterion": "empathy", "context": "c", "chosen": "a"}\n'},
                           ["judges", "train", "T/p.jsonl", "-o", "T/heads"], "p.jsonl", "line 1 rejected",
                           "missing key 'rejected'"),
    "pairs: unknown criterion": ({"p.jsonl": json.dumps({"id": "p1", "criterion": "charm", "context": "c",
                                                         "chosen": "a", "rejected": "b"}) + "\n"},
                                 ["judges", "train", "T/p.jsonl", "-o", "T/heads"], "p.jsonl", "line 1 criterion",
                                 "'charm'"),
    "pairs: invalid JSON": ({"p.jsonl": "{nope\n"}, ["judges", "train", "T/p.jsonl", "-o", "T/heads"], "p.jsonl",
                            "line 1", "invalid JSON"),
    "survey: missing column": ({"s.csv": "respondent_id,age\n1,30\n"},
                               ["personas", "from-survey", "T/s.csv", "-o", "T/p.jsonl"], "s.csv", "header",
                               "'age_group'"),
    "survey: wrong file type": ({"s.xlsx": "x"}, ["personas", "from-survey", "T/s.xlsx", "-o", "T/p.jsonl"],
                                "s.xlsx", "suffix", "'.xlsx'"),
    "report: not a run": ({}, ["report", "T/nowhere", "--out", "T/site"], "nowhere", "run_dir", "no verdicts"),
    "leaderboard: not a run": ({}, ["leaderboard", "T/nowhere"], "verdicts.parquet", "path", "no verdict table"),
    "packets: --n-items 0": ({}, ["packets", "R", "--n-items", "0", "--out-dir", "T/pk"], "<argument>", "n_items",
                             "= 0"),
    "verdicts: no stage 2": ({}, ["verdicts", "T"], "index.json", "stage2", "no stage-2 results"),
    "personas show: unknown id": ({}, ["personas", "show", "nobody"], "builtin", "persona_id", "'nobody'"),
    "criteria: unknown set": ({}, ["criteria", "nosuchset"], "nosuchset", "criteria", "no such criteria set"),
    "leaderboard: --safety-bar 2": (
        {}, ["leaderboard", "R", "--safety-bar", "2"], "", "safety", "2"),
    "leaderboard: --seed -1": (
        {}, ["leaderboard", "R", "--seed", "-1"], "", "seed", "-1"),
    "stage2 before stage1": (
        {}, ["stage2", "CFG", "--display", "none"], "index.json", "stage1", "no stage-1 results"),
}



def _cli_case(case: tuple[dict[str, str], list[str], str, str, str], run: Path, tmp_path: Path,
              capsys: pytest.CaptureFixture[str]) -> None:
    files, argv, file, field, value = case
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    cfg = write_config(tmp_path, name="fresh") if "CFG" in argv else None
    args = [str(cfg) if a == "CFG" else str(run) if a == "R" else a.replace("T", str(tmp_path), 1)
            if a == "T" or a.startswith("T/") else a for a in argv]
    before = _files(run.parents[1]) | _files(tmp_path)
    capsys.readouterr()
    try:
        rc = main(args)
    except ValueError as e:  # a library error that escaped the CLI (a known gap)
        pytest.fail(f"traceback instead of a one-line error: {e!r}")
    assert rc == 2
    _one_line(capsys.readouterr().err.strip(), file, field, value)
    assert _files(run.parents[1]) | _files(tmp_path) == before  # nothing written, nothing touched


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_bad_command_input_is_one_clear_line_and_writes_nothing(case: str, small_run: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    _cli_case(CLI_CASES[case], small_run, tmp_path, capsys)


def test_argparse_errors_exit_2_and_name_the_argument(capsys: pytest.CaptureFixture[str]) -> None:
    """Argument syntax errors come from argparse: exit 2, a usage line, then one error line naming the argument and
    the accepted values (the usage line is argparse's, so these are two lines, not one)."""
    for argv, named in ((["run", "x.toml", "--display", "bogus"], "--display"),
                        (["leaderboard", "r", "--correction", "fdr"], "--correction"),
                        (["leaderboard", "r", "--n-boot", "many"], "--n-boot")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert "error: argument" in last and named in last, last
