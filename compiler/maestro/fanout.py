"""Fan-out: shards of independent work run in forked worker processes, for a compile large enough to gain.

In: a function of one shard, the shards, and how many processes may run at once. Out: each shard's
result, in shard order; or None when a shard raised, so that the caller does the work itself and
reports exactly what a serial run would.

The workers are forked: they inherit the loaded, checked specs as they are in memory, so nothing is
sent to them but a shard's index, and only the results come back (through files, see `fan_out`).
Where fork is not available (Windows), `can_fork` is False and callers stay in one process.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
from pathlib import Path
from typing import Callable, Sequence, TypeVar

Shard = TypeVar("Shard")
Result = TypeVar("Result")

_work: Callable | None = None     # the shard function, set in the parent just before the fork
_shards: Sequence = ()
_results = ""                     # the folder the workers leave their results in


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
    """`count` shards (fewer if there are fewer items) of about equal total weight."""
    return apportioned(weights, [1.0] * count)


def tapering(jobs: int, rounds: int) -> list[float]:
    """Shares for `rounds` rounds of `jobs` shards, each round's shards half the size of the last's.
    Taken in order by `jobs` workers, the big shards go first and the last ones are small, so the
    workers finish close together even where the weights only approximate the work."""
    return [0.5 ** r for r in range(rounds) for _ in range(jobs)]


def apportioned(weights: dict[Shard, int], shares: Sequence[float]) -> list[list[Shard]]:
    """Shards of the items in `weights` whose totals are about in the proportions of `shares`, in
    the order of `shares`; a shard left empty is dropped. Heaviest items are placed first, each into
    the shard furthest below its share; the shards are fixed by the items alone, not their order."""
    shards: list[list[Shard]] = [[] for _ in range(max(1, min(len(shares), len(weights))))]
    scale = sum(weights.values()) / sum(shares[:len(shards)])
    targets = [share * scale for share in shares[:len(shards)]]
    totals = [0] * len(shards)
    for item, weight in sorted(weights.items(), key=lambda pair: (-pair[1], repr(pair[0]))):
        neediest = max(range(len(shards)), key=lambda i: (targets[i] - totals[i], -i))
        shards[neediest].append(item)
        totals[neediest] += weight
    return [shard for shard in shards if shard]


def fan_out(work: Callable[[Shard], Result], shards: Sequence[Shard], jobs: int,
            meanwhile: Callable[[], None] | None = None) -> list[Result] | None:
    """`work` of every shard, `jobs` processes at a time; None if any shard raised. `meanwhile` runs
    in this process while the workers do (they are forked first: no thread is ever forked).

    A worker leaves its result in a file of a private folder, in memory where the system has one,
    rather than in the pool's pipe: through the pipe, a worker waited for this process to take its
    megabytes (0.1 to 0.2 s a shard at 1,000 pipelines) before it could start the next shard."""
    import multiprocessing
    import shutil
    import tempfile

    global _work, _shards, _results
    results = tempfile.mkdtemp(prefix="maestro-shards-", dir=_memory_folder())   # mode 0700
    _work, _shards, _results = work, shards, results
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            finished = pool.imap(_run_shard, range(len(shards)), chunksize=1)
            if meanwhile is not None:
                meanwhile()
            answers, failed = [], False
            for index, answer in enumerate(finished):   # in shard order, each as soon as it is there
                failed = failed or answer is None
                if not failed:
                    answers.append(answer[0] if answer else _taken(os.path.join(results, str(index))))
    finally:
        _work, _shards, _results = None, (), ""
        shutil.rmtree(results, ignore_errors=True)
    return None if failed else answers


def _memory_folder() -> str | None:
    """Where temporary files stay in memory (Linux's /dev/shm); None: the system's temporary folder."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK) else None


def _run_shard(index: int) -> tuple:
    """() when the result is in its file; (result,) when it could not be written there (a container's
    /dev/shm is often 64 MB), so it comes through the pipe; None when the shard raised."""
    try:
        result = _work(_shards[index])
    except BaseException:   # reported by the caller's serial run, with its own message
        return None
    path = os.path.join(_results, str(index))
    try:
        _leave(path, result)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return (result,)
    return ()


def _leave(path: str, result) -> None:
    with open(path, "xb") as handle:
        pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _taken(path: str):
    """A shard's result, its file removed: only this compile's workers could have written it."""
    with open(path, "rb") as handle:
        data = handle.read()
    os.unlink(path)
    return pickle.loads(data)
