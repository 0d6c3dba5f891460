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


def _candidate(body: str) -> Mutate:
    """One more candidate `x` (the fourth, `candidates[3]`) with the TOML `body`."""
    return _append(f'\n[[candidates]]\nname = "x"\n{body}\n')


def _warm(line: str) -> Mutate:
    """A line added to the first candidate (`candidates[0](name=warm)`)."""
    return lambda t, c: _edit(c, 'name = "warm"', f'name = "warm"\n{line}')


def _folder(key: str, name: str) -> Mutate:
    """`[data] key` (or the scenarios path) names a folder."""
    def mutate(t: Path, c: Path) -> None:
        (t / name).mkdir()
        if key == "scenarios":
            _edit(c, f'scenarios = "{t / "scenarios.jsonl"}"', f'scenarios = "{t / name}"')
        else:
            _edit(c, "[data]\n", f'[data]\n{key} = "{t / name}"\n')
    return mutate


def _responses_folder(t: Path, c: Path) -> None:
    (t / "v.jsonl").mkdir()
    c.write_text(c.read_text() + '\n[[candidates]]\nname = "vendor"\nresponses = "v.jsonl"\n')


ZW = "\u200b\u2060\u200d"  # zero-width space, word joiner, zero-width joiner
PLANTED = ("abcdef123456secret", "sk-PLANTEDxyz0123456789", "pa55w0rdPLANTED", "PLANTEDtok123456")
"""Secret-looking values the cases below plant: no error message may show them."""

# issue 16: blank text, generation settings, model_args, imported-response ids, folders, API keys, secrets
RUN_CASES |= {
    "scenarios: whitespace-only text": (_data("scenarios", "s.jsonl", json.dumps({"id": "a", "text": " \t "}) + "\n"),
                                        "s.jsonl", "line 1 text", "zero-width characters"),
    "scenarios: zero-width-only text": (_data("scenarios", "s.jsonl", json.dumps({"id": "a", "text": ZW}) + "\n"),
                                        "s.jsonl", "line 1 text", repr(ZW)),
    "personas: zero-width gender": (_data("personas", "p.jsonl", json.dumps(PERSONA | {"gender": ZW}) + "\n"),
                                    "p.jsonl", "line 1 gender", repr(ZW)),
    "criteria: blank description": (_data("criteria", "crit.toml", 'name = "c"\nversion = "1"\n[[criteria]]\n'
                                          + CRITERION.replace('description = "d"', 'description = "\\u200b "')),
                                    "crit.toml", "description", "zero-width characters"),
    "responses: zero-width response": (_responses("v.jsonl", _all_scenarios(ZW)), "v.jsonl", "line 1 response",
                                       repr(ZW)),
    "candidate: blank system_prompt": (_warm('system_prompt = " \\u200b "'), "t.toml",
                                       "candidates[0](name=warm).system_prompt", "zero-width characters"),
    "dialogue: blank system_prompt": (_append('\n[dialogue]\nsystem_prompt = "\\u2060"\n'), "t.toml",
                                      "dialogue.system_prompt", "zero-width characters"),
    "candidate: temperature nan": (_warm("temperature = nan"), "t.toml", "candidates[0](name=warm).temperature",
                                   "finite number"),
    "candidate: temperature -0.5": (_warm("temperature = -0.5"), "t.toml", "candidates[0](name=warm).temperature",
                                    "-0.5"),
    "candidate: temperature 7": (_warm("temperature = 7.0"), "t.toml", "candidates[0](name=warm).temperature",
                                 "less than or equal to 2"),
    "candidate: top_p 1.5": (_warm("top_p = 1.5"), "t.toml", "candidates[0](name=warm).top_p", "1.5"),
    "candidate: seed -1": (_warm("seed = -1"), "t.toml", "candidates[0](name=warm).seed", "-1"),
    "judge: temperature inf": (lambda t, c: _edit(c, "[judge]\n", "[judge]\ntemperature = inf\n"), "t.toml",
                               "judge.temperature", "finite number"),
    "patient: top_p 0": (_append('\n[patient]\nmodel = "scripted/patient"\ntop_p = 0.0\n'), "t.toml",
                         "patient.top_p", "greater than 0"),
    "candidate: max_tokens nan": (_warm("max_tokens = nan"), "t.toml", "candidates[0](name=warm).max_tokens", "nan"),
    "candidate: unknown hf model_args": (_candidate('model = "builtin/smollm2"\nmodel_args = {devise = "cpu"}'),
                                         "t.toml", "candidates[3](name=x).model_args.devise", "'cpu'"),
    "candidate: unknown hf/local model_args": (
        _candidate('model = "hf/local"\nmodel_args = {model_path = "m", temprature = 0.2}'), "t.toml",
        "candidates[3](name=x).model_args.temprature", "not an argument the 'hf' provider takes"),
    "candidate: unknown openai-api model_args": (
        _candidate('model = "openai-api/local/m"\napi_key_env = "none"\nmodel_args = {stream = true, retries = 3}'),
        "t.toml", "candidates[3](name=x).model_args.retries", "use one of"),
    "responses: unknown scenario ids": (
        _responses("v.jsonl", _all_scenarios() + "".join(json.dumps({"scenario_id": f"s-typo{i}", "response": "r"})
                                                         + "\n" for i in range(5))),
        "v.jsonl", "scenario_id", "5 row(s) name scenarios that are not in the run's scenario set: 's-typo0', "
                                  "'s-typo1', 's-typo2', ..."),
    "scenarios: a folder": (_folder("scenarios", "sdir"), "sdir", "path", "is a directory"),
    "personas: a folder": (_folder("personas", "pdir.jsonl"), "pdir.jsonl", "path", "is a directory"),
    "criteria: a folder": (_folder("criteria", "cdir.toml"), "cdir.toml", "criteria", "is a directory"),
    "responses: a folder": (_responses_folder, "v.jsonl", "responses", "is a directory"),
    "api key: missing for openai-api": (
        _candidate('model = "openai-api/nokeysvc/m"\nbase_url = "http://127.0.0.1:9/v1"'), "t.toml",
        "candidates[3](name=x).model", "$NOKEYSVC_API_KEY is not set"),
    "api key: api_key_env unset": (_candidate('model = "openai-api/local/m"\napi_key_env = "THERAEVAL_UNSET_KEY"'),
                                   "t.toml", "candidates[3](name=x).model", "$THERAEVAL_UNSET_KEY is not set"),
    "api key: api_key_env not a variable name": (_candidate('model = "openai-api/local/m"\napi_key_env = "my key"'),
                                                 "t.toml", "candidates[3](name=x).api_key_env", "<hidden>"),
    "secret: Authorization header in model_args": (
        _candidate('model = "openai-api/local/m"\nmodel_args = {default_headers = {Authorization = "Bearer '
                   'abcdef123456secret"}}'), "t.toml", "candidates[3](name=x).model_args.default_headers.Authorization",
        "<hidden>"),
    "secret: api-key header in model_args": (
        _candidate('model = "openai-api/local/m"\nmodel_args = {default_headers = {"api-key" = "abcdef123456secret"}}'),
        "t.toml", "model_args.default_headers.api-key", "<hidden>"),
    "secret: key in a base_url query": (
        _candidate('model = "openai-api/local/m"\nbase_url = "https://h.example/v1?api_key=abcdef123456secret"'),
        "t.toml", "candidates[3](name=x).base_url", "<hidden>"),
    "secret: user and password in a base_url": (
        _candidate('model = "openai-api/local/m"\nbase_url = "https://me:pa55w0rdPLANTED@h.example/v1"'),
        "t.toml", "candidates[3](name=x).base_url", "<hidden>"),
    "secret: a key-shaped string in a system prompt": (_warm('system_prompt = "Use sk-PLANTEDxyz0123456789."'),
                                                      "t.toml", "candidates[0](name=warm).system_prompt", "<hidden>"),
    "secret: an unknown api_key field": (lambda t, c: _edit(c, "[judge]\n", '[judge]\napi_key = "PLANTEDtok123456"\n'),
                                         "t.toml", "judge.api_key", "<hidden>"),
    "secret: a token in model_args": (_candidate('model = "openai-api/local/m"\nmodel_args = {token = '
                                                 '"PLANTEDtok123456"}'), "t.toml", "model_args.token", "<hidden>"),
    "secret: a token in a scenarios URL": (
        lambda t, c: _edit(c, f'scenarios = "{t / "scenarios.jsonl"}"',
                           'scenarios = "hf://datasets/x/y?token=PLANTEDtok123456"'), "t.toml", "data.scenarios",
        "<hidden>"),
}
NEW_CASES = [k for k in RUN_CASES if k.split(":")[0] in ("api key", "secret") or any(
    w in k for w in ("blank", "zero-width", "whitespace", "temperature", "top_p", "seed", "max_tokens nan",
                     "model_args", "unknown scenario ids", "a folder"))]

# Found by this sweep, not fixed here (the files belong to others): strict, so they fail once fixed.


def _one_line(err: str, file: str, field: str, value: str) -> None:
    assert "\n" not in err, err
    assert not any(secret in err for secret in PLANTED), err  # a secret is never echoed
    assert err.startswith("error: ") and "Fix: " in err, err
    assert file in err and field in err and value in err, err


def _run_case(case: tuple[Mutate, str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
              command: str = "run") -> None:
    mutate, file, field, value = case
    cfg = write_config(tmp_path)
    mutate(tmp_path, cfg)
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        rc = main([command, str(cfg), "--display", "none"])
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


@pytest.mark.parametrize("case", NEW_CASES)
def test_validate_catches_what_run_catches(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`theraeval validate` gives the same one line as `theraeval run` (the run checks before any work)."""
    _run_case(RUN_CASES[case], tmp_path, capsys, command="validate")


def test_a_utf8_bom_is_tolerated_in_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Config, scenarios (JSONL, CSV), personas, criteria and imported responses (CSV) saved with a byte-order mark
    (as spreadsheet and Windows editors do) validate."""
    bom = "\ufeff"
    cfg = write_config(tmp_path)
    (tmp_path / "s.csv").write_text(bom + "id,text,risk\ns-anx,I feel sick before work.,low\n", encoding="utf-8")
    (tmp_path / "p.jsonl").write_text(bom + json.dumps(PERSONA) + "\n", encoding="utf-8")
    (tmp_path / "crit.toml").write_text(bom + 'name = "c"\nversion = "1"\n[[criteria]]\n' + CRITERION,
                                        encoding="utf-8")
    (tmp_path / "v.csv").write_text(bom + "scenario_id,response\ns-anx,That sounds hard.\n", encoding="utf-8")
    text = cfg.read_text().replace(str(tmp_path / "scenarios.jsonl"), str(tmp_path / "s.csv"))
    text = text.replace("[data]\n", f'[data]\npersonas = "{tmp_path / "p.jsonl"}"\n'
                                     f'criteria = "{tmp_path / "crit.toml"}"\n')
    cfg.write_text(bom + text + '\n[[candidates]]\nname = "vendor"\nresponses = "v.csv"\n', encoding="utf-8")
    assert main(["validate", str(cfg)]) == 0, capsys.readouterr().err
    assert "OK: 4 candidates, 1 scenarios" in capsys.readouterr().out
    (tmp_path / "s.jsonl").write_text(bom + json.dumps({"id": "s-anx", "text": "t"}) + "\n", encoding="utf-8")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("s.csv", "s.jsonl"), encoding="utf-8")
    assert main(["validate", str(cfg)]) == 0, capsys.readouterr().err


def test_a_folder_given_as_the_config_is_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cfg.toml").mkdir()
    for command in ("validate", "run"):
        assert main([command, str(tmp_path / "cfg.toml")]) == 2
        _one_line(capsys.readouterr().err.strip(), "cfg.toml", "path", "is a directory")


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
