"""`theraeval validate` catches what `run` would fail on: the run directory (where it resolves, writable), and
with `--check-endpoints` every model server (answers, accepts the key); it prints the run directory first."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from harness.cli import main
from harness.run import plan_run
from harness.testing import fake_openai
from tests.support.run import write_config

KEY = "sk-test-validate-not-a-secret"


def _relative_config(folder: Path, output_dir: str) -> Path:
    cfg = write_config(folder)
    text = cfg.read_text().replace(f'output_dir = "{folder / "runs"}"', f'output_dir = "{output_dir}"')
    cfg.write_text(text)
    return cfg


def test_output_dir_is_relative_to_the_config_and_printed_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    cfg = _relative_config(project, "runs")
    monkeypatch.chdir(elsewhere)
    assert main(["validate", str(cfg)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Run directory: {(project / 'runs' / 't').resolve()}"  # beside the config, not the cwd
    assert out[1].startswith("OK: 3 candidates")
    assert not (project / "runs").exists() and not (elsewhere / "runs").exists()  # validate writes nothing


def test_bundled_config_writes_under_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`theraeval run quickstart` keeps writing ./runs/quickstart (README, scripts/quickstart.sh), never into the
    installed package."""
    monkeypatch.chdir(tmp_path)
    assert plan_run("quickstart").run_dir == (tmp_path / "runs" / "quickstart").resolve()


def test_output_dir_that_cannot_be_written_is_one_line_exit_2(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    cfg = _relative_config(tmp_path, "a-file/runs")
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "run.output_dir" in err and "a-file/runs" in err and "is a file, not a folder" in err
    assert len(err.strip().splitlines()) == 1


def test_read_only_output_dir_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: a read-only mode does not stop root from writing")
        cfg = _relative_config(tmp_path, "locked/runs")
        assert main(["run", str(cfg), "--display", "none"]) == 2  # run refuses before any work
        err = capsys.readouterr().err
        assert "run.output_dir" in err and "is not writable" in err
        assert not (locked / "runs").exists()
    finally:
        locked.chmod(0o755)


def _endpoint_config(tmp_path: Path) -> Path:
    return write_config(tmp_path, candidates={"served": "openai-api/testsrv/cand-x",
                                              "warm": "scripted/therapist-warm"})


def test_check_endpoints_asks_each_server_with_its_key_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _endpoint_config(tmp_path)
    with fake_openai(api_key=KEY) as server:
        monkeypatch.setenv("TESTSRV_BASE_URL", server.url)
        monkeypatch.setenv("TESTSRV_API_KEY", KEY)
        assert main(["validate", str(cfg), "--check-endpoints"]) == 0
        out = capsys.readouterr().out
        assert f"candidates[0](name=served): {server.url}: GET /models answered HTTP 200" in out
        assert "judge: scripted/judge-longer: no server URL to probe" in out
        assert server.model_list_auth == [f"Bearer {KEY}"]  # sent to the server ...

        monkeypatch.setenv("TESTSRV_API_KEY", "sk-wrong-key")
        assert main(["validate", str(cfg), "--check-endpoints"]) == 2
        err = capsys.readouterr().err
    assert "refused the API key (HTTP 401" in err and "TESTSRV_API_KEY" in err
    assert KEY not in out + err and "sk-wrong-key" not in err  # ... and never printed
    assert server.calls == []  # a probe is not a chat call


def test_check_endpoints_sends_the_key_named_by_api_key_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _endpoint_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('model = "openai-api/testsrv/cand-x"\n',
                                           'model = "openai-api/testsrv/cand-x"\napi_key_env = "MY_SERVED_KEY"\n'))
    with fake_openai(api_key=KEY) as server:
        monkeypatch.setenv("TESTSRV_BASE_URL", server.url)
        monkeypatch.delenv("TESTSRV_API_KEY", raising=False)
        monkeypatch.setenv("MY_SERVED_KEY", KEY)  # the run sends this key, so the probe must too
        assert main(["validate", str(cfg), "--check-endpoints"]) == 0
        out = capsys.readouterr().out
    assert "GET /models answered HTTP 200" in out
    assert server.model_list_auth == [f"Bearer {KEY}"] and KEY not in out


def test_check_endpoints_catches_a_server_that_accepts_but_never_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _endpoint_config(tmp_path)
    with socket.socket() as hung:  # listens (the TCP check passes) and never replies
        hung.bind(("127.0.0.1", 0))
        hung.listen(4)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}/v1"
        monkeypatch.setenv("TESTSRV_BASE_URL", url)
        monkeypatch.setenv("TESTSRV_API_KEY", "test-key")  # validate checks the key is there
        assert main(["validate", str(cfg)]) == 0  # a connect alone cannot tell
        capsys.readouterr()
        assert main(["validate", str(cfg), "--check-endpoints", "--endpoint-timeout", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "candidates[0](name=served) ($TESTSRV_BASE_URL)" in err and "did not answer GET /models in 0.5 s" in err


def test_closed_port_fails_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _endpoint_config(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    monkeypatch.setenv("TESTSRV_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("TESTSRV_API_KEY", "test-key")
    assert main(["validate", str(cfg), "--check-endpoints"]) == 2
    err = capsys.readouterr().err
    assert "model server unreachable" in err and str(port) in err and len(err.strip().splitlines()) == 1
