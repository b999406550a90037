"""The `Teams` kind: the platform-owned `teams.yaml` at the project root that says who the tenants are.

Each team has the owners whose review its changes need and the paths its members may edit; the
platform owners review everything else. Maestro refuses a pipeline of a team not declared here, or
whose file is outside its team's paths (its CODEOWNERS review would then be another team's).
Without a `teams.yaml` every team is accepted: a repository without tenancy.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, Optional

from pydantic import Field

from ..errors import did_you_mean
from .pipeline import Pipeline, SpecSection
from .types import Name, OwnedPath, Owner

TEAMS_FILE = "teams.yaml"


class Team(SpecSection):
    owners: list[Owner] = Field(
        min_length=1, description="GitHub owners (@org/team, @user or an e-mail address) whose review a change "
                                  "to the team's files needs (CODEOWNERS).")
    paths: list[OwnedPath] = Field(
        min_length=1, description="Files the team's members may edit, relative to the repository root "
                                  "(CODEOWNERS patterns, e.g. pipelines/aapl-*.yaml); its pipelines must be among them.")


class TeamsSpec(SpecSection):
    owners: list[Owner] = Field(
        min_length=1, description="The platform: owners of teams.yaml, environments/, the Argo CD folders and "
                                  "every file no team owns.")
    teams: dict[Name, Team] = Field(description="The tenants, by name (a pipeline's metadata.team).")


class Teams(SpecSection):
    apiVersion: Literal["maestro/v1"] = Field(description="Always maestro/v1.")
    kind: Literal["Teams"] = Field(description="Always Teams.")
    spec: TeamsSpec = Field(description="The platform's owners and the teams.")


def check_team(teams: Optional[Teams], p: Pipeline, file: str) -> Optional[tuple[str, tuple]]:
    """(message, the path in teams.yaml that states the rule), or None when the pipeline may be the team's."""
    if teams is None:
        return None
    declared, team = teams.spec.teams, p.metadata.team
    if team not in declared:
        hint = did_you_mean(team, declared)
        return (f"team '{team}' is not declared in {TEAMS_FILE}; known teams: {', '.join(sorted(declared))}"
                + (f" ({hint})" if hint else ""), ("spec", "teams"))
    owned = declared[team].paths
    if not any(owns(pattern, file) for pattern in owned):
        return (f"{file} is not among the paths team '{team}' owns ({', '.join(owned)}), so its review would "
                "not be the team's; move it, or ask the platform to add it to the team's paths",
                ("spec", "teams", team, "paths"))
    return None


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
