"""`iter_log_samples` gives what inspect's `read_eval_log_samples` gives, in the same order, a few samples per read."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.log import read_eval_log, read_eval_log_samples, write_eval_log
from inspect_ai.model import ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver

from harness.core import iter_log_samples


@solver
def echo() -> Solver:
    """Answers without a model call (inspect's mockllm counts tokens with tiktoken, which needs the network)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.output = ModelOutput.from_content("none", f"echo {state.sample_id}")
        return state

    return solve


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 7 samples x 2 epochs = 14 samples; ids deliberately not in sorted order
    ids = ["s3", "s1", "s10", "s2", "a", "z", "m"]
    task = Task(dataset=[Sample(input=f"say {i}", id=i) for i in ids], solver=echo(), epochs=2)
    out = tmp_path_factory.mktemp("logs")
    [log] = eval(task, model="none", log_dir=str(out), display="none")
    assert log.status == "success"
    return Path(log.location)


@pytest.mark.parametrize("per_read", [1, 3, 256])
def test_same_samples_in_the_same_order_as_inspect(log_file: Path, per_read: int) -> None:
    ours = [(s.id, s.epoch, s.input) for s in iter_log_samples(log_file, per_read=per_read)]
    theirs = [(s.id, s.epoch, s.input) for s in read_eval_log_samples(str(log_file), all_samples_required=True)]
    assert len(ours) == 14
    assert ours == theirs


def test_an_incomplete_log_raises_unless_missing_samples_are_allowed(log_file: Path, tmp_path: Path) -> None:
    full = read_eval_log(str(log_file))
    assert full.samples is not None
    dropped = {("s10", 1), ("m", 2)}
    full.samples = [s for s in full.samples if (s.id, s.epoch) not in dropped]
    full.status = "error"
    broken = tmp_path / "incomplete.eval"
    write_eval_log(full, str(broken))

    with pytest.raises(RuntimeError, match="does not have all samples"):
        next(iter_log_samples(broken))
    got = [(s.id, s.epoch) for s in iter_log_samples(broken, all_samples_required=False, per_read=4)]
    want = [(s.id, s.epoch) for s in read_eval_log_samples(str(broken), all_samples_required=False)]
    assert got == want
    assert len(got) == 12 and not dropped & set(got)


def test_excluded_fields_are_left_unread(log_file: Path) -> None:
    full = next(iter_log_samples(log_file))
    light = next(iter_log_samples(log_file, exclude_fields={"events"}))
    assert full.events and not light.events
    assert (light.id, light.output.completion) == (full.id, full.output.completion)


def test_a_header_the_caller_read_is_used_not_read_again(log_file: Path) -> None:
    header = read_eval_log(str(log_file), header_only=True)
    same = [(s.id, s.epoch) for s in iter_log_samples(log_file, header=header)]
    assert same == [(s.id, s.epoch) for s in iter_log_samples(log_file)]
    # the samples read are the ones the given header lists: a header trimmed to two ids gives their 2 x 2 samples
    assert header.eval.dataset.sample_ids is not None
    header.eval.dataset.sample_ids = ["z", "s1"]
    assert [(s.id, s.epoch) for s in iter_log_samples(log_file, header=header)] == [
        ("z", 1), ("z", 2), ("s1", 1), ("s1", 2)]
