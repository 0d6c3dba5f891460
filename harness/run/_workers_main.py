"""The entry point of a stage-2 worker process (`python -m harness.run._workers_main`; see `harness.run._workers`).

It reads its `Job` from stdin, tells the parent it is ready, judges its shard with the stage-2 runner and writes
its index entries to `Job.result`. It exits as soon as stdin closes (the parent went away, kill -9 included).
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import sys
import threading
from pathlib import Path

from harness.core import InputError, atomic_write_text
from harness.run._plan import StageError
from harness.run._stage2 import PairTasks, judge_here
from harness.run._workers import _LEN, _READY, PARENT_GONE_EXIT, Job

logger = logging.getLogger(__name__)


def _exit_when_parent_goes(fd: int) -> None:
    while os.read(fd, 4096):  # blocks until EOF: the parent closed the pipe or died (raw fd: no buffer lock)
        pass
    os._exit(PARENT_GONE_EXIT)


def main() -> int:
    """Run the job read from stdin; exit status 0 when its shard was judged, 1 when it failed."""
    stdin = sys.stdin.buffer
    head = stdin.read(_LEN.size)
    if len(head) < _LEN.size:  # started ahead of its job and then not needed (an empty shard, or the parent failed)
        return 0
    (size,) = _LEN.unpack(head)
    job: Job = pickle.loads(stdin.read(size))
    threading.Thread(target=_exit_when_parent_goes, args=(stdin.fileno(),), daemon=True).start()
    ready = os.dup(1)  # the pipe the parent reads one "ready" byte from
    os.dup2(2, 1)  # anything printed goes to stderr, not into that pipe (inspect prints while it builds a task)
    try:
        tasks = PairTasks(job.plan)
        for a, b in job.units:  # build the tasks (read the stage-1 logs) and the judge before saying ready, as
            tasks.task(a, b)    # the parent's shard 0 has them built already: then the shards start together
        tasks.roles()
        os.write(ready, _READY)  # the parent starts its own shard now
        os.close(ready)
        entries = judge_here(tasks, job.units, Path(job.folder), job.connections, "none", job.label)
    except (InputError, StageError) as e:
        logger.error("%s: %s", job.label, e)
        return 1
    atomic_write_text(Path(job.result), json.dumps(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
