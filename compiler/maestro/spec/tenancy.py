"""Tenancy: which team a pipeline may claim and which Secrets no pipeline may name.

In: an `Environment` and an effective `Pipeline`. Out: `PolicyFinding`s, checked with the other
policy rules. A team is known when the environment declares it under `spec.teams`; its pipeline
files must be among the paths the team owns, so the CODEOWNERS review of the file is the team's
own. The Secrets maestro creates for itself (git push credentials, the artifact store's keys) are
handed only to the built-in steps and Argo's executor; a custom step never gets them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from .. import names
from ..errors import did_you_mean
from .environment import Environment
from .pipeline import Pipeline
from .policy import PolicyFinding

PIPELINE_SUFFIXES = (".yaml", ".yml")


def reserved_secrets(env: Environment) -> dict[str, tuple[str, str]]:
    """Secret name -> (what it holds, the environment field that names it)."""
    git, artifacts = env.spec.gitops.credentials_secret, env.spec.artifacts.credentials_secret
    return {
        names.seldon_storage_secret(artifacts): ("the artifact store's keys for Seldon", "artifacts.credentials_secret"),
        artifacts: ("the artifact store's keys", "artifacts.credentials_secret"),
        git: ("the gitops repository's push credentials", "gitops.credentials_secret"),
    }


def check_reserved_secrets(env: Environment, p: Pipeline) -> Iterator[PolicyFinding]:
    reserved = reserved_secrets(env)
    for i, step in enumerate(p.spec.steps):
        for j, secret in enumerate(step.secrets):
            if secret in reserved:
                held, rule = reserved[secret]
                yield PolicyFinding(
                    ("spec", "steps", i, "secrets", j),
                    f"Secret '{secret}' is reserved in {env.metadata.name}: it holds {held} and only maestro's "
                    f"own steps get it; name a Secret of your own (reserved: {', '.join(sorted(reserved))})", rule)


def check_team(env: Environment, p: Pipeline) -> Iterator[PolicyFinding]:
    teams, team, env_name = env.spec.teams, p.metadata.team, env.metadata.name
    if not teams:
        return
    if team not in teams:
        hint = did_you_mean(team, teams)
        yield PolicyFinding(("metadata", "team"),
                            f"team '{team}' is not one of {env_name}'s teams ({', '.join(sorted(teams))})"
                            + (f"; {hint}" if hint else ""), f"teams.{team}")
        return
    owned = teams[team].paths
    files = [f"pipelines/{p.metadata.name}{suffix}" for suffix in PIPELINE_SUFFIXES]
    if not any(owns(pattern, f) for pattern in owned for f in files):
        yield PolicyFinding(("metadata", "team"),
                            f"{files[0]} is not among the paths team '{team}' owns in {env_name} "
                            f"({', '.join(owned)}), so its review would not be the team's", f"teams.{team}.paths")


def owns(pattern: str, path: str) -> bool:
    """Whether a CODEOWNERS pattern, anchored at the repository root, covers `path`."""
    return _pattern(pattern).match(path) is not None


@lru_cache(maxsize=None)
def _pattern(pattern: str) -> re.Pattern:
    # gitignore rules as CODEOWNERS reads them: `*` and `?` stay within one folder, `**` crosses
    # folders, and a pattern that names a folder covers everything below it.
    text, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            text, i = text + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            text, i = text + ".*", i + 2
        elif pattern[i] == "*":
            text, i = text + "[^/]*", i + 1
        elif pattern[i] == "?":
            text, i = text + "[^/]", i + 1
        else:
            text, i = text + re.escape(pattern[i]), i + 1
    return re.compile(text.rstrip("/") + "(?:/.*)?$")
