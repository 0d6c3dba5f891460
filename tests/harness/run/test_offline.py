"""Local and embedded models never touch a model hub, whatever the environment: a run of local models (a tiny
`hf/local` model as candidates and patient, the bundled reward heads as judge) with the offline variables unset
and every non-loopback connection blocked makes no connection attempt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.testing import build_tiny_chat_model
from tests.support import REPO
from tests.support.faults import run_cli

GUARD = '''
import json, os, socket
_LOG = os.environ["THERAEVAL_TEST_NET_LOG"]
_LOCAL = {None, "", "localhost", "127.0.0.1", "::1", "0.0.0.0"}

def _blocked(host, port):
    with open(_LOG, "a") as fh:
        fh.write(json.dumps([str(host), str(port)]) + "\\n")
    raise OSError(f"network blocked by the test: {host}:{port}")

_getaddrinfo, _connect = socket.getaddrinfo, socket.socket.connect

def getaddrinfo(host, port, *args, **kwargs):
    if (host.decode() if isinstance(host, bytes) else host) not in _LOCAL:
        _blocked(host, port)
    return _getaddrinfo(host, port, *args, **kwargs)

def connect(self, address):
    if isinstance(address, tuple) and address[0] not in _LOCAL:
        _blocked(*address[:2])
    return _connect(self, address)

socket.getaddrinfo, socket.socket.connect = getaddrinfo, connect
'''


def _env(tmp: Path) -> dict[str, str]:
    guard = tmp / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(GUARD)
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                                                            "HF_DATASETS_OFFLINE")}
    env.update(PYTHONPATH=os.pathsep.join([str(guard), str(REPO)]), THERAEVAL_TEST_NET_LOG=str(tmp / "net.log"),
               OMP_NUM_THREADS="1")
    return env


def _attempts(tmp: Path) -> list[list[str]]:
    log = tmp / "net.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_the_guard_sees_a_connection_attempt(tmp_path: Path) -> None:
    """The control: the guard records (and blocks) a connection to a model hub."""
    code = ("import socket\ntry:\n    socket.create_connection(('huggingface.co', 443), timeout=1)\n"
            "except OSError:\n    pass")
    subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), check=True, timeout=60)
    assert _attempts(tmp_path) == [["huggingface.co", "443"]]


@pytest.mark.slow
def test_a_local_model_run_makes_no_network_request_without_offline_variables(tmp_path: Path) -> None:
    model = build_tiny_chat_model(tmp_path / "tiny", ["I hear you. That sounds hard.", "It is mostly at night."])
    args = f'model = "hf/local"\nmodel_args = {{model_path = "{model}"}}\nmax_tokens = 8\ntemperature = 0.0\n'
    cfg = tmp_path / "local.toml"
    cfg.write_text(f'[run]\nname = "local"\noutput_dir = "{tmp_path / "runs"}"\n\n'
                   '[data]\nscenario_limit = 2\npersonas_per_scenario = 1\ncriteria_ids = ["empathy"]\n\n'
                   '[dialogue]\nturns = 2\n\n[patient]\n' + args + 'max_tries = 1\n\n[judge]\nkind = "rm"\n'
                   'mode = "clinical"\n\n'
                   + "".join(f'[[candidates]]\nname = "c{i}"\nsystem_prompt = "You are helper {i}."\n{args}\n'
                             for i in range(2)))
    env = _env(tmp_path)
    assert "HF_HUB_OFFLINE" not in env
    done = run_cli(["run", str(cfg), "--display", "none"], env, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "runs" / "local" / "verdicts.parquet").is_file()
    assert _attempts(tmp_path) == []
