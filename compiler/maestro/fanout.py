"""Fan-out: shards of independent work run in forked worker processes, for a compile large enough to gain.

In: a function of one shard, the shards, and how many processes may run at once. Out: each shard's
result, in shard order; or None when a shard raised, so that the caller does the work itself and
reports exactly what a serial run would.

The workers are forked: they inherit the loaded, checked specs as they are in memory, so nothing is
sent to them but a shard's index, and only the results come back. Where fork is not available
(Windows), `can_fork` is False and callers stay in one process.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Sequence, TypeVar

Shard = TypeVar("Shard")
Result = TypeVar("Result")

_work: Callable | None = None     # the shard function, set in the parent just before the fork
_shards: Sequence = ()


def available_cpus() -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota (a container
    limited to 1.5 CPUs of a 64-core host gets 2, not 64)."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        allowed = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    return max(1, min(allowed, quota) if quota else allowed)


def cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """CPUs allowed by the cgroup quota, rounded up; None without a quota (cgroup v2 `cpu.max`, or v1
    `cpu.cfs_quota_us` and `cpu.cfs_period_us`)."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        if quota != "max":
            return math.ceil(int(quota) / int(period))
        return None
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return math.ceil(quota / period) if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def can_fork() -> bool:
    import multiprocessing   # here: most compiles are too small to fork, and need not import it

    return "fork" in multiprocessing.get_all_start_methods()


def balanced(weights: dict[Shard, int], count: int) -> list[list[Shard]]:
    """`count` shards (fewer if there are fewer items) of about equal total weight, heaviest items
    placed first, each shard and the order of shards fixed by the items alone."""
    shards: list[list[Shard]] = [[] for _ in range(max(1, min(count, len(weights))))]
    totals = [0] * len(shards)
    for item, weight in sorted(weights.items(), key=lambda pair: (-pair[1], repr(pair[0]))):
        lightest = min(range(len(shards)), key=lambda i: (totals[i], i))
        shards[lightest].append(item)
        totals[lightest] += weight
    return shards


def fan_out(work: Callable[[Shard], Result], shards: Sequence[Shard], jobs: int,
            meanwhile: Callable[[], None] | None = None) -> list[Result] | None:
    """`work` of every shard, `jobs` processes at a time; None if any shard raised. `meanwhile` runs
    in this process while the workers do (they are forked first: no thread is ever forked)."""
    import multiprocessing

    global _work, _shards
    _work, _shards = work, shards
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            running = pool.map_async(_run_shard, range(len(shards)), chunksize=1)
            if meanwhile is not None:
                meanwhile()
            answers = running.get()
    finally:
        _work, _shards = None, ()
    if any(answer is None for answer in answers):
        return None
    return [result for (result,) in answers]


def _run_shard(index: int):
    try:
        result = _work(_shards[index])
    except BaseException:   # reported by the caller's serial run, with its own message
        return None
    return (result,)   # a 1-tuple, so that a shard whose result is None is told from one that failed
