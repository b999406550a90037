"""`kill -9` of a large compile at chosen and random moments: the next command completes or undoes
it, and the tree is then exactly the compiled one, with no staging, journal, stray or temporary file
left, in gitops/ or in the cache. tests/compile/test_interrupt.py kills a 60-pipeline compile at
random times; this one compiles ~2,000 files, waits for a phase of the write (staging, journal
committed) before killing, checks from what the kill left on disk that it landed in that phase
(retrying a few times, as a kill can land a moment late), and kills the very first compile and
incremental ones too."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from maestro.compile import compile_project

from .conftest import MAESTRO, WATCHDOG, files_under, maestro

PIPELINES = 120
pytestmark = pytest.mark.stress
ATTEMPTS = 3   # a kill can land a moment later than the phase seen; each miss still must converge


def wait_for(condition, what: str, process: subprocess.Popen, limit: float = WATCHDOG) -> None:
    """Until `condition` holds; fails loudly when it never does, or when the compile ends first."""
    deadline = time.monotonic() + limit
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the compile exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {limit} s")
        time.sleep(0.001)


def staging_has_files(root: Path) -> bool:
    staging = root / ".maestro/staging"
    return staging.is_dir() and any(staging.rglob("*.yaml"))


def committed(root: Path) -> bool:
    return (root / ".maestro/journal.json").exists()


def phase_on_disk(root: Path) -> str:
    """Where a killed write stopped, from what it left: nothing yet, staged files, or a commit."""
    if committed(root):
        return "journal-committed"
    return "staging" if staging_has_files(root) else "loading"


def moment(process: subprocess.Popen, seconds: float) -> None:
    """`seconds` after the start, or sooner if the compile has ended (a kill then finds nothing to kill)."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass


PHASES = {
    "loading": lambda root, rng, p: moment(p, rng.uniform(0.05, 0.5)),
    "staging": lambda root, rng, p: wait_for(lambda: staging_has_files(root), "staged file", p),
    "journal-committed": lambda root, rng, p: wait_for(lambda: committed(root), "committed journal", p),
    "random": lambda root, rng, p: moment(p, rng.uniform(0.2, 6.0)),
}


def kill_compile(root: Path, phase: str, seed: int) -> str:
    """Start a compile, kill it in `phase`; returns the phase the kill really landed in."""
    process = subprocess.Popen([*MAESTRO, "compile"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        PHASES[phase](root, random.Random(seed), process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=WATCHDOG)
    if process.returncode != -signal.SIGKILL:   # a random moment may come after the end
        assert phase == "random", f"the compile ended ({process.returncode}) before the kill"
        return "finished"
    return phase_on_disk(root)


def assert_converged(root: Path) -> None:
    result = maestro(root, "compile")
    assert result.returncode == 0, result.stderr
    assert files_under(root / "gitops") == compile_project(root, validate=False).tree.files   # nothing stray, nothing stale
    state = root / ".maestro"
    assert not (state / "staging").exists() and not (state / "journal.json").exists()
    assert not list(state.glob("*.tmp"))
    assert not [p.name for p in (state / "cache").iterdir() if p.name.endswith(".tmp")]


def change_every_file(root: Path) -> None:
    for env in (root / "environments").glob("*.yaml"):
        text = env.read_text()
        env.write_text(re.sub(r"max_concurrent_trainings: (\d+)", lambda m: f"max_concurrent_trainings: {int(m[1]) + 1}",
                              text))


@pytest.mark.parametrize("phase", ["loading", "staging", "journal-committed"])
def test_killing_the_first_compile(generated, phase: str) -> None:
    for attempt in range(ATTEMPTS):
        root = generated(PIPELINES, name=f"generated-{attempt}")
        landed = kill_compile(root, phase, seed=1 + attempt)
        assert_converged(root)
        if landed == phase:
            return
    pytest.fail(f"in {ATTEMPTS} attempts no kill landed while {phase} (last: {landed})")


@pytest.mark.parametrize(("phase", "seed"), [("staging", 0), ("journal-committed", 0), ("random", 1), ("random", 2)])
def test_killing_a_recompile_that_changes_every_file(generated, phase: str, seed: int) -> None:
    root = generated(PIPELINES)
    assert maestro(root, "compile").returncode == 0
    for attempt in range(ATTEMPTS):
        old = files_under(root / "gitops")
        change_every_file(root)
        new = compile_project(root, validate=False).tree.files
        landed = kill_compile(root, phase, seed + attempt)
        torn = [p for p, data in files_under(root / "gitops").items() if data not in (old.get(p), new.get(p))]
        assert torn == []   # every file, even before recovery, is wholly the old or wholly the new one
        assert_converged(root)
        if phase == "random" or landed == phase:
            return
    pytest.fail(f"in {ATTEMPTS} attempts no kill landed while {phase} (last: {landed})")


def test_killing_incremental_compiles_one_after_another(generated) -> None:
    """Edits and kills in a row, each at a random moment, with the cache in use throughout."""
    root, rng = generated(PIPELINES), random.Random(5)
    assert maestro(root, "compile").returncode == 0
    specs = sorted((root / "pipelines").glob("*.yaml"))
    for round_ in range(4):
        spec = rng.choice(specs)
        spec.write_text(re.sub(r"epochs: \d+", f"epochs: {200 + round_}", spec.read_text(), count=1))
        process = subprocess.Popen([*MAESTRO, "compile"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        moment(process, rng.uniform(0.1, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=WATCHDOG)
    assert_converged(root)
