"""Helpers shared by the test folders: copies of the example project and real git repositories."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping, NamedTuple

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


class Invoked(NamedTuple):
    exit_code: int
    stdout: str
    stderr: str
    output: str    # both, interleaved as a terminal shows them


def invoke_maestro(*args: object, input: str | None = None, env: Mapping[str, str | None] | None = None) -> Invoked:
    """`maestro ARGS` in-process, through the real entry point and its error funnel (`maestro.cli.run`):
    the exit code is the one a shell would see."""
    from click.testing import CliRunner

    from maestro.cli import run

    with CliRunner().isolation(input=input, env=env) as streams:
        code = run([str(a) for a in args])
        sys.stdout.flush()
        sys.stderr.flush()
        return Invoked(code, *(stream.getvalue().decode() for stream in streams))


def copy_examples(root: Path, source: Path = REPO) -> Path:
    """`root` holding a copy of the example pipelines and environments (no compiled tree)."""
    for folder in ("pipelines", "environments"):
        shutil.copytree(source / folder, root / folder)
    return root


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def seed_bare_repository(tmp_path: Path, project: Path) -> Path:
    """A bare repository whose main holds `project`'s specs and their compiled gitops/."""
    bare, seed = tmp_path / "origin.git", tmp_path / "seed"
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(bare))
    git(tmp_path, "clone", "--quiet", str(bare), str(seed))
    copy_examples(seed, project)
    subprocess.run([sys.executable, "-m", "maestro", "compile", "--no-validate"], cwd=seed, check=True, capture_output=True)
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "seed")
    git(seed, "push", "--quiet", "origin", "HEAD:main")
    return bare
