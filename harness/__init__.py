"""theraeval's core library, one sub-package per pipeline stage, in data-flow order.

Data flows one way, through files, and imports follow it (enforced by import-linter, see ``.importlinter``):

``core`` (errors, JSONL, atomic files) → ``inputs`` (config, scenarios, personas, criteria) and ``stats`` (pure
statistics) → ``reward_heads`` → ``scorers`` (the judges) → ``tasks`` (inspect tasks) → ``run`` (stage 1 and
stage 2) → ``verdicts`` → ``leaderboard`` → ``calibration`` and ``preferences`` → ``reports`` → ``cli``.
``testing`` holds the scripted provider, fake servers and tiny models used by tests and benchmarks.

CONTRIBUTING.md has the room map: which package to open for which change, and what it may import.
"""

__all__: list[str] = []
