"""A secret planted anywhere a run config can hold one is refused before any work: exit 2, one line naming the field,
the value never shown, nothing written (`harness/inputs/_secrets.py`)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.inputs import load_run_config
from harness.inputs._secrets import find_secret, secret_name, secret_value
from tests.support.faults import fault_config

KEY = "sk-PLANTED0123456789abcdef"
"""Key-shaped (caught by its value wherever it is)."""
OPAQUE = "q7PLANTEDzz91"
"""Not key-shaped (caught by the name of the field or the URL part that holds it)."""
MODEL_TABLES = ("judge", "patient", "candidates[0]", "candidates[1]")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"


def _toml(cfg: dict[str, Any]) -> str:
    out = []
    for name, table in cfg.items():
        rows = table if isinstance(table, list) else [table]
        for row in rows:
            out.append(f"[[{name}]]" if isinstance(table, list) else f"[{name}]")
            out += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in row.items()]
            out.append("")
    return "\n".join(out)


def _table(cfg: dict[str, Any], where: str) -> dict[str, Any]:
    name, _, index = where.partition("[")
    return cfg[name][int(index[:-1])] if index else cfg[name]  # type: ignore[no-any-return]


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    elif isinstance(node, str):
        yield path


def _set(cfg: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = cfg
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def _places(base: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(case, config with one secret planted, field the error must name)."""
    for path in _leaves(base):  # every string the config holds, replaced or extended by a key
        cfg = json.loads(json.dumps(base))
        _set(cfg, path, KEY)
        yield f"value at {path}", cfg, str(path[-1])
    extra = {  # fields a config can add to a model table: (field, value, name in the error)
        "base_url query": ("base_url", f"https://h.example/v1?api_key={OPAQUE}", "base_url"),
        "base_url token query": ("base_url", f"https://h.example/v1?x=1&access_token={OPAQUE}", "base_url"),
        "base_url user:password": ("base_url", f"https://me:{OPAQUE}@h.example/v1", "base_url"),
        "base_url token as user": ("base_url", f"https://{OPAQUE}@h.example/v1", "base_url"),
        "api_key field": ("api_key", OPAQUE, "api_key"),
        "model_args api_key": ("model_args", {"api_key": OPAQUE}, "model_args.api_key"),
        "Authorization header": ("model_args", {"default_headers": {"Authorization": f"Bearer {OPAQUE}"}},
                                 "default_headers.Authorization"),
        "api-key header": ("model_args", {"default_headers": {"api-key": OPAQUE}}, "default_headers.api-key"),
        "x-api-key header": ("model_args", {"default_headers": {"X-Api-Key": OPAQUE}}, "default_headers.X-Api-Key"),
        "query key": ("model_args", {"default_query": {"key": OPAQUE, "api_key": OPAQUE}}, "default_query.api_key"),
        "password": ("model_args", {"password": OPAQUE}, "model_args.password"),
        "system prompt": ("system_prompt", f"Bearer {OPAQUE}", "system_prompt"),
    }
    for table in MODEL_TABLES:
        for case, (field, value, named) in extra.items():
            cfg = json.loads(json.dumps(base))
            _table(cfg, table)[field] = value
            yield f"{table} {case}", cfg, named
    for table, field in (("run", "token"), ("data", "secret"), ("dialogue", "system_prompt"),
                         ("dialogue", "stop_token")):
        cfg = json.loads(json.dumps(base))
        cfg[table][field] = OPAQUE if secret_name(field) else KEY
        yield f"{table}.{field}", cfg, field


def test_a_secret_anywhere_in_a_config_is_refused_and_never_shown(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    base = tomllib.loads(fault_config(tmp_path).read_text())
    base["candidates"][0]["system_prompt"] = "Be kind."
    assert load_run_config(fault_config(tmp_path))  # the unplanted config is valid
    cases = list(_places(base))
    assert len(cases) > 60
    cfg_path = tmp_path / "planted.toml"
    for case, cfg, named in cases:
        cfg_path.write_text(_toml(cfg))
        before = sorted(p.name for p in tmp_path.iterdir())
        for command in ("validate", "run"):
            assert main([command, str(cfg_path)]) == 2, case
            captured = capsys.readouterr()
            err = captured.err.strip()
            assert "\n" not in err and err.startswith("error: ") and "<hidden>" in err and named in err, (case, err)
            assert KEY not in captured.out + err and OPAQUE not in captured.out + err, (case, err)
        assert sorted(p.name for p in tmp_path.iterdir()) == before, case  # nothing written


def test_schema_fields_and_variable_names_are_not_secrets() -> None:
    for name in ("stop_token", "max_tokens", "tokenizer_path", "tokenizer_call_args", "judge_max_tokens", "keyword"):
        assert not secret_name(name), name
    for text in ("http://127.0.0.1:8000/v1", "I ask-for help", "runs", "builtin/smollm2", "hf://datasets/x/y"):
        assert not secret_value(text), text
    assert find_secret({"judge": {"api_key_env": "TEAM_B_KEY"}, "c": [{"model_args": {"api_key_var": "K"}}]}) is None
    assert find_secret({"judge": {"api_key_env": "sk-PLANTED0123456789"}}) == "judge.api_key_env"
