"""Measurement helpers: child processes timed with their peak memory, medians, and the machine.

In: command lines and callables. Out: `Sample`s (wall seconds, peak RSS, exit code, output) and
medians of repeated runs. Figures are medians because a 2-core machine shared with other work has
outliers in both directions; a ratio is only ever taken between figures measured in the same run.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BIN = Path(sys.executable).parent
MAESTRO = str(BIN / "maestro")


@dataclass(frozen=True)
class Sample:
    wall: float          # seconds
    rss_mib: float       # peak resident set size of the child (or of its largest descendant)
    code: int
    stdout: str
    stderr: str
    cpu: float = 0.0     # user + system seconds of the child and the descendants it reaped
    pss_mib: float = 0.0  # peak proportional set size of the child and its descendants together, sampled


# PYTHONDONTWRITEBYTECODE: an installed Maestro has its bytecode compiled (pip does it at install), so
# a timed command must not recompile every module it imports. MAESTRO_SCHEMA_LOCATION: timed commands
# use the schemas shipped with Maestro, as a user's do, whatever the shell points at.
_NOT_PASSED = ("PYTHONDONTWRITEBYTECODE", "MAESTRO_SCHEMA_LOCATION")


def child_environment() -> dict:
    """The shell's environment without the variables that would change what is measured."""
    return {k: v for k, v in os.environ.items() if k not in _NOT_PASSED}


def compile_bytecode(package: Path) -> None:
    """Write the package's bytecode before anything is timed, as pip does when it installs."""
    import compileall
    compileall.compile_dir(str(package), quiet=1)


def run(argv: Sequence[str], cwd: Path | None = None, env: dict | None = None, timeout: float = 1800,
        memory: bool = True) -> Sample:
    """Run a command to completion; wall time from fork to reaping, peak RSS and CPU time from wait4,
    and (`memory`) the peak memory of its whole process tree (worker processes included) from /proc.
    Sampling that costs a large process time (the kernel walks its mappings, holding its memory map's
    lock, 20 times a second: +15% on a 450 MB compile), so timed runs of one turn it off."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(argv), cwd=cwd, env={**child_environment(), **(env or {})}, stdout=out, stderr=err)
        sampler = _TreeMemory(process.pid) if memory else _NoMemory()
        try:
            _, status, usage = _reap(process, timeout)
        finally:
            sampler.stop()
        wall = time.perf_counter() - start
        out.seek(0), err.seek(0)
        return Sample(wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status),
                      out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                      usage.ru_utime + usage.ru_stime, sampler.peak_kib / 1024)


class _NoMemory:
    peak_kib = 0

    def stop(self) -> None:
        return None


class _TreeMemory:
    """The peak, over samples every 50 ms, of the summed PSS of a process and its descendants: RSS
    would count the pages forked workers share with their parent once per process."""

    INTERVAL = 0.05

    def __init__(self, pid: int):
        self.pid, self.peak_kib = pid, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(self.INTERVAL):
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(pid) for pid in _tree(self.pid)))


def _tree(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def checked(argv: Sequence[str], cwd: Path | None = None, env: dict | None = None, timeout: float = 1800,
            ok: tuple[int, ...] = (0,), memory: bool = True) -> Sample:
    """`run`, failing the benchmark unless the command exits with one of `ok`: a failed command is
    never timed as if it had done the work."""
    sample = run(argv, cwd, env, timeout, memory)
    if sample.code not in ok:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {sample.code} in {cwd}:\n{sample.stderr[-2000:]}")
    return sample


def spread(values: Sequence[float]) -> dict:
    """Median with min and max: a machine shared with other work moves single figures by 10-30%."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _reap(process: subprocess.Popen, timeout: float):
    """Block in wait4 (exact wall time, and the child's own rusage); a timer kills a hung child."""
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    try:
        pid, status, usage = os.wait4(process.pid, 0)
    finally:
        watchdog.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    return pid, status, usage


def repeat(command: Callable[[], Sample], times: int) -> list[Sample]:
    return [command() for _ in range(times)]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def median_wall(samples: Sequence[Sample]) -> float:
    return median([s.wall for s in samples])


def timed(function: Callable[[], object], times: int) -> float:
    """The median wall time of calling `function` in this process."""
    return median([once(function) for _ in range(times)])


def once(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def machine() -> dict:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _commit(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return result.stdout.strip() + ("+changes" if dirty else "") if result.returncode == 0 else "unknown"
