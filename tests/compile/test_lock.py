"""Two compiles at once are serialized by the lock; a lock left by a killed process is recovered."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from maestro import gitops
from tests.support import wait_at_the_lock

from .conftest import MAESTRO, maestro

HOLD = "import sys, time; from pathlib import Path; from maestro import gitops\n" \
       "with gitops.locked(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n"
STILL_WAITING = 0.5   # seconds the compile must keep waiting once it is at the lock: ten of its retries


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see a waiting compile")
def test_a_second_compile_waits_for_the_first(project: Path) -> None:
    with gitops.locked(project):
        waiting = subprocess.Popen([*MAESTRO, "compile"], cwd=project, stdout=subprocess.DEVNULL)
        wait_at_the_lock(project, waiting)   # it has compiled the specs and opened the lock file
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=STILL_WAITING)
        assert not (project / "gitops").exists(), "the compile should wait while the lock is held"
    assert waiting.wait(timeout=120) == 0
    assert (project / "gitops/README.md").exists()


def test_a_lock_left_by_a_killed_process_is_recovered(project: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(project)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    assert (project / ".maestro/lock").exists()
    result = maestro(project, "compile")
    assert result.returncode == 0, result.stderr
