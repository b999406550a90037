"""The local executor, continued: a custom (bring-your-own) step's `local` command run as a process.

In: the step's plan, the run's work dir and the project root. Out: the step's folder
`<work>/<step>/` with its declared output folders, as the process wrote them, and its manifest. The
process runs with its own folder as working directory and an environment built here, never
inherited: PATH, HOME and TMPDIR (folders of its own under the run), the step's `env` and the
MAESTRO_* variables that name its folders (`contract.artifact_variables`). Its Secrets are not
handed over: they exist only in the cluster. `python` as the command's first word is this
interpreter; an argument that is the relative path of a file of the repository is passed as its
absolute path (never a file outside it, or in a hidden folder of it). This is not a sandbox: the
command is the pipeline author's code, run as you. After it exits, an output that is missing, or a
symbolic link anywhere in its folder, fails the step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .contract import artifact_variables
from .ir import StepPlan
from .steps.context import MANIFEST, StepError, file_hashes, write_json

SCRATCH = ".scratch"    # <work>/<step>/.scratch: HOME and TMPDIR of the process, removed after


def run_process_step(step: StepPlan, workdir: Path, root: Path, run_id: str) -> None:
    folder = _fresh(workdir / step.name)
    for output in step.outputs:
        (folder / output).mkdir()
    scratch = folder / SCRATCH
    scratch.mkdir()
    try:
        completed = subprocess.run(command_line(step.local_command, root), cwd=folder, stdin=subprocess.DEVNULL,
                                   env=process_env(step, workdir, scratch), timeout=step.timeout_seconds)
    except FileNotFoundError as exc:
        raise StepError(f"cannot start the local command of step '{step.name}': {exc.strerror}: "
                        f"{step.local_command[0]}") from None
    except subprocess.TimeoutExpired:
        raise StepError(f"step '{step.name}' ran longer than its timeout ({step.timeout_seconds}s)") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if completed.returncode != 0:
        raise StepError(f"the local command of step '{step.name}' exited with status {completed.returncode}; "
                        f"its output is in logs/{step.name}.log")
    _check_outputs(step, folder)
    write_json(folder / MANIFEST, {"step": step.name, "run_id": run_id, "outputs": file_hashes(workdir, step.name)})


def command_line(command: tuple[str, ...], root: Path) -> list[str]:
    first, *rest = command
    return [sys.executable if first == "python" else first, *(_repository_file(arg, root) for arg in rest)]


def _repository_file(arg: str, root: Path) -> str:
    """`arg` as an absolute path when it is the relative path of a regular file of the repository."""
    if not arg or arg.startswith(("-", "/")) or "\0" in arg:
        return arg
    real_root = root.resolve()
    candidate = Path(os.path.realpath(root / arg))
    inside = candidate.is_relative_to(real_root) and not any(
        part.startswith(".") for part in candidate.relative_to(real_root).parts)
    return str(candidate) if inside and candidate.is_file() else arg


def process_env(step: StepPlan, workdir: Path, scratch: Path) -> dict[str, str]:
    """Only what the step is meant to see: nothing of this shell's environment but PATH."""
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(scratch), "TMPDIR": str(scratch),
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(dict(step.env))
    env.update(artifact_variables(step.name, step.outputs, step.artifact_inputs, str(workdir)))
    return env


def _fresh(folder: Path) -> Path:
    if folder.is_symlink():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _check_outputs(step: StepPlan, folder: Path) -> None:
    for path in (folder, *folder.rglob("*")):
        if path.is_symlink():
            path.unlink()
            raise StepError(f"step '{step.name}' left a symbolic link at {path}; outputs must be files it wrote "
                            "(the link was removed)")
    missing = [o for o in step.outputs if not (folder / o).is_dir()]
    if missing:
        raise StepError(f"step '{step.name}' removed its output folder(s) {', '.join(missing)}")
