"""Checks and rules, shared subtrees: which exact objects (by identity) already passed a check.

In: a scope opened by a caller whose bodies cannot change while it lasts (`maestro compile`
validating what it has just emitted: an environment's Argo step templates are one dict shared by
up to a thousand WorkflowTemplates). Out: per check, a table `id(object) -> object` of the objects
that passed it in this scope, or None outside a scope, where every check runs as it always did.

Only a pass is remembered: a subtree that fails is checked again in each document that holds it,
so every document gets its own findings, with its own paths. The table keeps each object it names
alive, so no other object can take its id() while the scope lasts; the scope's end drops them all.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

# check key -> {id(object): object}; None: no scope, nothing is remembered
_scope: ContextVar[dict[Any, dict[int, Any]] | None] = ContextVar("maestro_validation_passed", default=None)


@contextmanager
def unchanging_bodies() -> Iterator[None]:
    """A scope in which no body being validated is mutated: what passed a check once passes it again."""
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def passed(check: Any) -> dict[int, Any] | None:
    """The objects that passed `check` (any hashable key naming one check) in this scope; None outside one.

    The caller tests `id(obj) in table` before checking `obj`, and sets `table[id(obj)] = obj` after a pass.
    """
    scope = _scope.get()
    if scope is None:
        return None
    table = scope.get(check)
    if table is None:
        table = scope[check] = {}
    return table
