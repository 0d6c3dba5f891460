"""The direct judge client's call journal (`harness.run._direct_judge.CallJournal`): answers written by several
processes are found again, from the right file and line, and a line cut by a kill is not an answer until whole."""

from __future__ import annotations

from pathlib import Path

from harness.run._direct_judge import CallJournal


def test_answers_of_several_files_are_read_back_and_a_cut_line_waits(tmp_path: Path) -> None:
    folder = tmp_path / "judge-journal"
    first = CallJournal(folder)  # "process 1": its own file
    for i in range(3):
        first.append(f"k{i}", {"content": f"answer {i}", "stop_reason": "stop"})
    other = folder / "999-other.jsonl"  # "process 2": two whole lines, then one cut mid-write by a kill
    whole = b'k3\t{"content":"answer 3 \xc3\xa9","stop_reason":"stop"}\nk4\t{"content":"four","stop_reason":"stop"}\n'
    other.write_bytes(whole + b'k5\t{"content":"fi')
    second = CallJournal(folder)  # a later process reads both files
    assert len(second) == 5 and second.get("k5") is None
    assert [second.get(f"k{i}") for i in (0, 2, 3, 4)] == [
        {"content": "answer 0", "stop_reason": "stop"}, {"content": "answer 2", "stop_reason": "stop"},
        {"content": "answer 3 é", "stop_reason": "stop"}, {"content": "four", "stop_reason": "stop"}]
    with other.open("ab") as fh:  # the cut line completes (it was being written): the next refresh finds it
        fh.write(b've","stop_reason":"stop"}\n')
    second.refresh()
    first.refresh()
    assert second.get("k5") == first.get("k5") == {"content": "five", "stop_reason": "stop"}
    second.append("k6", {"content": "six", "stop_reason": "stop"})  # its own file, after the two it read
    assert second.get("k6") == {"content": "six", "stop_reason": "stop"} and len(second) == 7
    assert second.get("k1") == first.get("k1") == {"content": "answer 1", "stop_reason": "stop"}
