"""Helpers shared by the test folders: the `maestro` command, copies of the example project, real git
repositories, and the switch that regenerates golden files."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, NamedTuple

from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
# The example project's size, as counted from its files: tests compare a compile's counts with these.
EXAMPLE_PIPELINES = tuple(sorted(p.stem for p in (REPO / "pipelines").glob("*.yaml")))
EXAMPLE_ENVIRONMENTS = tuple(sorted(p.stem for p in (REPO / "environments").glob("*.yaml")))
SHARED = REPO.parent / "shared"
# A real command, in a fresh interpreter: for the tests whose subject is the process itself (the entry
# point, what an import costs, signals, kill -9, another user). Everything else runs in-process.
MAESTRO = [sys.executable, "-m", "maestro"]
WATCHDOG = 300   # seconds; only a hang gets near it
REGEN_VARIABLE = "MAESTRO_REGEN_GOLDEN"


class Outcome(NamedTuple):
    """What one `maestro` command did; the fields of subprocess.CompletedProcess, so either passes,
    and click's Result names (`exit_code`, `output`: both streams interleaved as a terminal shows them)."""
    returncode: int
    stdout: str
    stderr: str
    output: str = ""

    @property
    def exit_code(self) -> int:
        return self.returncode


class Hung(BaseException):
    """Raised into a command that outlived the watchdog; a BaseException, so no handler of maestro's takes it."""


def maestro(root: Path | None, *args: object, env: Mapping[str, str | None] | None = None,
            input: str | None = None, check: bool = False) -> Outcome:
    """`maestro ARGS` run in `root` (None: the current directory), in-process through the real entry
    point and its error funnel, `maestro.cli.run`. `env` is laid over os.environ (None unsets a
    variable) and `input` is the standard input, both for this call only. `check`: fail unless it exits 0."""
    from maestro.cli import run

    argv = [str(arg) for arg in args]
    with _working_directory(root), CliRunner().isolation(input=input, env=env) as (out, err, both), _watchdog(argv):
        try:
            code = run(argv)
        except SystemExit as exc:   # a command that still leaves through sys.exit
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
    outcome = Outcome(code, *(stream.getvalue().decode(errors="backslashreplace") for stream in (out, err, both)))
    if check and outcome.returncode:
        raise AssertionError(f"maestro {' '.join(argv)} exited {outcome.returncode}:\n{outcome.stderr}")
    return outcome


@contextmanager
def _working_directory(root: Path | None) -> Iterator[None]:
    before = os.getcwd()
    if root is not None:
        os.chdir(root)
    try:
        yield
    finally:
        os.chdir(before)


@contextmanager
def _watchdog(argv: list[str]) -> Iterator[None]:
    """What a subprocess's timeout was: a command that hangs fails its test instead of the whole run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise Hung(f"maestro {' '.join(argv)} did not finish within {WATCHDOG} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, WATCHDOG)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def wait_at_the_lock(root: Path, *processes: subprocess.Popen) -> None:
    """Until every process has `root`'s compile lock file open: the readiness signal of a compile that
    has read and compiled every spec and now takes (or waits for) the lock. Needs /proc."""
    lock = str((root / ".maestro/lock").resolve())
    deadline = time.monotonic() + WATCHDOG
    for process in processes:
        while not _has_open(process.pid, lock):
            assert process.poll() is None, f"the compile ended ({process.returncode}) without waiting for the lock"
            assert time.monotonic() < deadline, "the compile never reached the lock"
            time.sleep(0.01)


def _has_open(pid: int, path: str) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == path for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:   # a descriptor closed while listing
        return False


def regenerating_golden() -> bool:
    """Whether this run rewrites the golden files it compares against: only on purpose, with
    MAESTRO_REGEN_GOLDEN=1, and never under CI, where asking for it is an error."""
    if os.environ.get(REGEN_VARIABLE) != "1":
        return False
    assert os.environ.get("CI") != "true", "golden files are never regenerated under CI"
    return True


def golden_hint(name: str = "the golden file") -> str:
    return f"regenerate {name} with {REGEN_VARIABLE}=1 if the change is intended"


def copy_examples(root: Path, source: Path = REPO) -> Path:
    """`root` holding a copy of the example pipelines and environments, and the promotions/ records
    when there are any (no compiled tree). Links are copied as links."""
    for folder in ("pipelines", "environments"):
        shutil.copytree(source / folder, root / folder)
    if (source / "promotions").is_dir():
        shutil.copytree(source / "promotions", root / "promotions", symlinks=True)
    return root


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def seed_bare_repository(tmp_path: Path, project: Path) -> Path:
    """A bare repository whose main holds `project`'s specs and their compiled gitops/."""
    bare, seed = tmp_path / "origin.git", tmp_path / "seed"
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(bare))
    git(tmp_path, "clone", "--quiet", str(bare), str(seed))
    copy_examples(seed, project)
    maestro(seed, "compile", "--no-validate", check=True)
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "seed")
    git(seed, "push", "--quiet", "origin", "HEAD:main")
    return bare


def on_terminal(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """`python -m maestro ARGS` in a fresh interpreter whose stdin, stdout and stderr are a real
    pseudo-terminal, 160 columns wide; its exit code and everything it drew, escapes included."""
    import pty

    pid, descriptor = pty.fork()
    if pid == 0:   # the child: nothing of pytest's capture is inherited
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "maestro", *args],
                  {**os.environ, "COLUMNS": "160", "TERM": "xterm-256color", **(env or {})})
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 65536)
        except OSError:   # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    os.close(descriptor)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", errors="replace")
