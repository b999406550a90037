"""Write-back: after a gate passes in the cluster, propose the new model version through git.

In: the environment's gitops settings, the run id, its metrics, and git credentials in the
process environment. Out: a pushed commit that adds the version as the candidate and updates
gitops/, on a branch for a pull request or straight to the revision (`gitops.promotion`).
Credentials reach git only through GIT_ASKPASS, so they appear in no URL, log line or commit.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

USERNAME_VARIABLE = "MAESTRO_GIT_USERNAME"
PASSWORD_VARIABLE = "MAESTRO_GIT_PASSWORD"
AUTHOR = ("maestro", "maestro@users.noreply.local")
ASKPASS = f"""#!/bin/sh
case "$1" in
  Username*) printf '%s' "${USERNAME_VARIABLE}" ;;
  *) printf '%s' "${PASSWORD_VARIABLE}" ;;
esac
"""


@dataclass(frozen=True)
class WriteBack:
    repo_url: str
    revision: str
    gitops_path: str
    promotion: str           # pull-request | direct
    pipeline: str
    run_id: str
    metrics: dict


@dataclass(frozen=True)
class Pushed:
    version: str
    ref: str
    commit: str
    message: str


def write_back(request: WriteBack, scratch: Path | None = None) -> Pushed:
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(scratch or temporary) / "repo"
        env = _git_environment(Path(temporary))
        _git(env, None, "clone", "--quiet", "--branch", request.revision, request.repo_url, str(work))
        root = work / Path(request.gitops_path).parent
        version = propose(root, request)
        message = commit_message(request, version)
        _git(env, work, "add", "-A")
        _git(env, work, "-c", f"user.name={AUTHOR[0]}", "-c", f"user.email={AUTHOR[1]}", "commit", "--quiet", "-m", message)
        ref = request.revision if request.promotion == "direct" else f"maestro/{request.pipeline}-{request.run_id}"
        _git(env, work, "push", "--quiet", "origin", f"HEAD:refs/heads/{ref}")
        commit = _git(env, work, "rev-parse", "HEAD").strip()
        return Pushed(version, ref, commit, message)


def propose(root: Path, request: WriteBack) -> str:
    """Add the run as the next version and make it the candidate; recompile gitops/."""
    from . import gitops
    from .compile import build_tree
    from .promote import Promotion, promote_text

    spec = root / "pipelines" / f"{request.pipeline}.yaml"
    text = spec.read_text()
    version = next_version(text)
    role = "candidate" if _has_default(text) else "default"
    spec.write_text(promote_text(text, spec.relative_to(root).as_posix(), Promotion(version, role, request.run_id)))
    tree = build_tree(root)
    with gitops.locked(root):
        gitops.write(root, root / "gitops", tree)
    return version


def next_version(text: str) -> str:
    numbers = [int(n) for n in re.findall(r"name:\s*v(\d+)\b", text)]
    return f"v{max(numbers, default=0) + 1}"


def _has_default(text: str) -> bool:
    return re.search(r"^\s+default:\s*[a-z0-9]", text, re.M) is not None


def commit_message(request: WriteBack, version: str) -> str:
    figures = ", ".join(f"{k} {_figure(v)}" for k, v in sorted(request.metrics.items()) if v is not None)
    return (f"maestro: propose {request.pipeline} {version} from run {request.run_id}\n\n"
            f"The run passed its promotion gate ({figures}).\n"
            f"Compiled with `maestro compile`; merging starts the experiment.\n")


def _figure(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _git_environment(folder: Path) -> dict:
    askpass = folder / "askpass.sh"
    askpass.write_text(ASKPASS)
    askpass.chmod(stat.S_IRWXU)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_ASKPASS": str(askpass), "GIT_TERMINAL_PROMPT": "0"})
    return env


def _git(env: dict, cwd: Path | None, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode:
        raise UsageError(f"git {args[0] if args[0] != '-c' else 'commit'} failed: {_redact(result.stderr.strip(), env)}")
    return result.stdout


def _redact(text: str, env: dict) -> str:
    for variable in (USERNAME_VARIABLE, PASSWORD_VARIABLE):
        secret = env.get(variable)
        if secret:
            text = text.replace(secret, "***")
    return text
