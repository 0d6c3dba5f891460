"""Shared fixtures for the reward-judge tests: the bundled judge (one encoder load per session)."""

from __future__ import annotations

import pytest
from judges_fakes import HashEncoder

from harness.reward_heads import RewardHeads


@pytest.fixture(scope="session")
def judge() -> RewardHeads:
    """The bundled heads on the real MiniLM encoder (loaded once, ~2-5 s)."""
    return RewardHeads.load()


@pytest.fixture
def hash_encoder() -> HashEncoder:
    return HashEncoder()
