"""The compiled tree: what one compile makes of gitops/, and which of its paths it answers for.

In: the rendered files and the objects of a compile, and the environments it covered. Out: a `Tree`,
which `gitops` writes, prunes and checks and `diff` compares. A compile of some environments owns
only their folders and bootstrap files (`scope_of`); everything else in gitops/ it leaves alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .targets.output import Output


@dataclass(frozen=True)
class Tree:
    files: dict[str, bytes]       # gitops-relative path -> rendered bytes, sorted by path
    outputs: tuple[Output, ...]   # the objects this compile rendered (a reused namespace's are not here)
    scope: tuple[str, ...]        # path prefixes this compile owns; "" means all of gitops/
    team_namespaces: frozenset[tuple[str, str]]   # (environment, namespace) of each team: where manual/ is kept


def scope_of(envs: Sequence[str]) -> tuple[str, ...]:
    if not envs:
        return ("",)
    return tuple(sorted(p for env in envs for p in (f"{env}/", f"bootstrap/{env}.yaml")))


def in_scope(path: str, scope: Sequence[str]) -> bool:
    return any(path == s or path.startswith(s) for s in scope)
