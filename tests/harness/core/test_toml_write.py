"""`dump_toml`: TOML text that reads back as the same table, or a ValueError (never a silently different file)."""

from __future__ import annotations

import math
import tomllib

import pytest

from harness.core import dump_toml


def test_round_trip_of_a_config_shaped_table() -> None:
    data = {
        "run": {"name": "r1", "output_dir": "/abs/runs", "max_connections": 32, "seed": 0, "log_realtime": False},
        "data": {"scenarios": "C:\\data\\s.jsonl", "criteria_ids": ["empathy", "safety"], "personas_per_scenario": 2},
        "judge": {"model": "openai/gpt-4o", "temperature": 0.0, "model_args": {"default_headers": {"X-A": "1"}}},
        "pricing": {"openai/gpt-4o": {"input": 2.5, "output": 10.0}},  # a key that needs quoting
        "candidates": [{"name": "a", "model": "m/a"}, {"name": "b", "responses": 'quote " and ünïcode\nnewline'}],
    }
    text = dump_toml(data)
    assert tomllib.loads(text) == data
    assert '[pricing]\n"openai/gpt-4o" = {input = 2.5, output = 10.0}' in text  # quoted key, inline table
    assert text.count("[[candidates]]") == 2


def test_a_value_toml_cannot_hold_is_an_error_not_a_different_file() -> None:
    with pytest.raises(ValueError, match="cannot write"):
        dump_toml({"run": {"when": object()}})
    with pytest.raises(ValueError, match="read back"):
        dump_toml({"x": math.nan})  # nan != nan: the read-back check refuses it rather than claim a round trip
