"""The compile façade: specs on disk to the whole gitops tree in memory.

In: the project root and an optional list of environments. Out: a `Tree` mapping gitops-relative
paths to rendered bytes, and the scope of paths this compile owns (for prune and check).
load -> validate -> merge -> lower -> emit -> render; nothing here touches the gitops folder.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from .targets.codeowners import codeowners
from .errors import Diagnostic, MaestroError
from .ir import Plan
from .lower import lower
from .project import load_project
from .render import header, render
from .targets.argocd_health import GITOPS_PATH as HEALTH_PATCH_PATH, seldon_health_patch
from .targets import Output, emit_all
from .targets.readme import readme


@dataclass(frozen=True)
class Tree:
    files: dict[str, bytes]
    outputs: tuple[Output, ...]
    scope: tuple[str, ...]        # path prefixes this compile owns; "" means all of gitops/
    plan: Plan


def build_tree(root: Path, envs: Sequence[str] = ()) -> Tree:
    with paused_gc():
        plan = lower(load_project(root, envs))
        outputs = tuple(o for env in plan.environments for o in emit_all(env))
        files = render_outputs(outputs)
        if not envs:
            files.update(tree_files(plan, outputs))
        return Tree(dict(sorted(files.items())), outputs, scope_of(envs), plan)


def render_outputs(outputs: Iterable[Output], rendered: Callable[[Output], bytes | None] = lambda o: None) -> dict[str, bytes]:
    """Each output's bytes; `rendered` may know them already (a cache), or answers None."""
    files: dict[str, bytes] = {}
    for output in outputs:
        if output.path in files:
            raise MaestroError([Diagnostic(output.sources[0], None, None, (),
                                           f"two objects would be written to gitops/{output.path}")])
        known = rendered(output)
        files[output.path] = known if known is not None else render(output.body, output.sources)
    return files


def tree_files(plan: Plan, outputs: Sequence[Output]) -> dict[str, bytes]:
    """The files of a whole-tree compile that belong to no single object."""
    return {
        "README.md": readme(plan, tuple(outputs)),
        "CODEOWNERS": codeowners(plan),
        HEALTH_PATCH_PATH: (header(sorted({e.source for e in plan.environments})) + seldon_health_patch()).encode(),
    }


@contextmanager
def paused_gc() -> Iterator[None]:
    """A compile allocates millions of small objects and frees almost none before it ends; the cyclic
    collector's full passes over that growing heap took 40% of a 1,000-pipeline compile. Reference
    counting still frees everything acyclic, and the collector, enabled again, takes the rest later."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def scope_of(envs: Sequence[str]) -> tuple[str, ...]:
    if not envs:
        return ("",)
    return tuple(sorted(p for env in envs for p in (f"{env}/", f"bootstrap/{env}.yaml")))


def in_scope(path: str, scope: Sequence[str]) -> bool:
    return any(path == s or path.startswith(s) for s in scope)
