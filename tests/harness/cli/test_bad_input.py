"""Bad input: one line naming file, field and value (and a fix), exit code 2, nothing written."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness.cli import main
from tests.support.run import write_config


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the socket goes


def _edit(cfg: Path, old: str, new: str) -> None:
    text = cfg.read_text()
    assert old in text
    cfg.write_text(text.replace(old, new, 1))


def _append(cfg: Path, text: str) -> None:
    cfg.write_text(cfg.read_text() + text)


CASES = {
    "malformed toml": (lambda t, c: _append(c, "\n[run\n"), "t.toml", "toml", "malformed TOML"),
    "unknown criterion": (lambda t, c: _edit(c, "[data]\n", '[data]\ncriteria_ids = ["empathy", "kindness"]\n'),
                          "t.toml", "criteria", "'kindness'"),
    "unknown criteria set": (lambda t, c: _edit(c, "[data]\n", '[data]\ncriteria = "nosuchset"\n'),
                             "nosuchset", "criteria", "no such criteria set"),
    "duplicate candidate": (lambda t, c: _append(c, '\n[[candidates]]\nname = "warm"\nmodel = "scripted/patient"\n'),
                            "t.toml", "candidates", "duplicate candidate name 'warm'"),
    "typo in a key": (lambda t, c: _edit(c, "[judge]\n", "[judge]\nmodle = 1\n"), "t.toml", "judge.modle",
                      "Extra inputs are not permitted"),
    "model and responses": (lambda t, c: _append(c, '\n[[candidates]]\nname = "x"\nmodel = "scripted/patient"\n'
                                                    'responses = "r.jsonl"\n'), "t.toml", "candidates[3](name=x)",
                            "exactly one of"),
    "secret in config": (lambda t, c: _append(c, '\n[[candidates]]\nname = "x"\nmodel = "openai/gpt-4o-mini"\n'
                                                 'model_args = {api_key = "sk-SECRET123"}\n'), "t.toml",
                         "candidates[3](name=x)", "looks like a secret"),
    "openai/ with base_url": (lambda t, c: _append(c, '\n[[candidates]]\nname = "x"\nmodel = "openai/my-model"\n'
                                                      'base_url = "http://127.0.0.1:1/v1"\n'), "t.toml",
                              "candidates[3](name=x)", "openai-api/<service>/<model>"),
    "bad provider string": (lambda t, c: _edit(c, 'model = "scripted/judge-longer"', 'model = "gpt4"'), "t.toml",
                            "judge", "'gpt4'"),
    "more workers than connections": (lambda t, c: _edit(c, "[run]\n", "[run]\nworkers = 9\nmax_connections = 4\n"),
                                     "t.toml", "run", "workers = 9 is more than max_connections = 4"),
    "unknown scenario id": (lambda t, c: _edit(c, "[data]\n", '[data]\nscenario_ids = ["s-anx", "s-nope"]\n'),
                            "t.toml", "data.scenario_ids", "'s-nope'"),
    "duplicate scenario": (lambda t, c: (t / "scenarios.jsonl").write_text(
        '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n'), "scenarios.jsonl", "line 2 id", "'a'"),
    "unknown risk": (lambda t, c: (t / "scenarios.jsonl").write_text('{"id": "a", "text": "x", "risk": "high"}\n'),
                     "scenarios.jsonl", "line 1 risk", "'high'"),
    "bad scenario json": (lambda t, c: (t / "scenarios.jsonl").write_text('{"id": "a", "text": \n'),
                          "scenarios.jsonl", "line 1", "invalid JSON"),
    "criteria file missing field": (lambda t, c: (
        (t / "crit.toml").write_text('name = "c"\nversion = "1"\n[[criteria]]\nid = "warmth"\nname = "W"\n'
                                     'description = "d"\nbetter_when = "b"\n'),
        _edit(c, "[data]\n", f'[data]\ncriteria = "{t / "crit.toml"}"\n')), "crit.toml",
        "criteria[0] (id=warmth) worse_when", "Field required"),
    "personas bad line": (lambda t, c: ((t / "p.jsonl").write_text('{"id": "p1"}\n'),
                                        _edit(c, "[data]\n", f'[data]\npersonas = "{t / "p.jsonl"}"\n')),
                          "p.jsonl", "line 1", "Field required"),
    "missing responses file": (lambda t, c: _append(c, '\n[[candidates]]\nname = "v"\nresponses = "nope.jsonl"\n'),
                               "nope.jsonl", "responses", "file not found"),
    "unreachable endpoint": (lambda t, c: _append(c, f'\n[[candidates]]\nname = "api"\nmodel = '
                                                     f'"openai-api/local/m"\nbase_url = '
                                                     f'"http://127.0.0.1:{_closed_port()}/v1"\n'
                                                     'api_key_env = "none"\n'),
                             "t.toml", "candidates[3](name=api).base_url", "unreachable"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_clear_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    mutate, file, field, value = CASES[case]
    mutate(tmp_path, cfg)
    assert main(["run", str(cfg), "--display", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert err.startswith("error: ") and file in err and field in err and value in err and "Fix: " in err, err
    assert "SECRET123" not in err
    assert not (tmp_path / "runs").exists()


def test_missing_config_and_stage_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: path" in capsys.readouterr().err
    cfg = write_config(tmp_path)
    assert main(["stage2", str(cfg), "--display", "none"]) == 2  # judging before any dialogue
    assert "run `theraeval stage1` first" in capsys.readouterr().err
    assert main(["verdicts", str(tmp_path / "nowhere")]) == 2
    assert "not a run directory" in capsys.readouterr().err
