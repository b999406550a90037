"""Merge: environment defaults < pipeline spec < pipeline overrides[env], keeping provenance.

In: located documents. Out: one located effective document whose every value still knows the file,
line and column that supplied it. Mappings merge key by key, lists and scalars replace, and an
explicit `null` replaces whatever lower layers supplied. The models then read a null as "the
default" (the key is removed), or as "none" where a field accepts it (`schedule`, `evaluation.gate`).
The null's position is kept, so a now-missing required field is reported at the `null` that removed it.

The data is merged at once; the positions only when first read. A valid pipeline never reads them
(they name where a problem is), and working them out costs more than the merge and the model together,
once per pipeline and environment.
"""

from __future__ import annotations

from typing import Any

from .loading.positions import Deferred, Located, NodePath


def with_positions_of(doc: Located, file: str, data: Any) -> Located:
    """`data` located by the position maps of `doc`, read only when needed."""
    return Deferred(file, data, lambda: (doc.values, doc.keys))


def subtree(doc: Located, path: NodePath) -> Located:
    """The part of `doc` at `path`, with positions re-rooted to it."""
    data = doc.data
    for part in path:
        data = data[part]
    n = len(path)
    return Deferred(doc.file, data, lambda: (
        {p[n:]: pos for p, pos in doc.values.items() if p[:n] == path},
        {p[n:]: pos for p, pos in doc.keys.items() if p[:n] == path},
    ))


def graft(base: Located, path: NodePath, part: Located) -> Located:
    """`base` with `part` placed at `path` (which must be a mapping key path)."""
    data = _copy_set(base.data, path, part.data)
    return Deferred(base.file, data, lambda: (
        {**base.values, **{path + p: pos for p, pos in part.values.items()}},
        {**base.keys, **{path + p: pos for p, pos in part.keys.items()}},
    ))


def deep_merge(base: Located, over: Located) -> Located:
    """`over` merged onto `base`. Positions of `over` win wherever both define a path; positions
    of what `over` replaced are dropped, so nothing points at a line that no longer applies."""
    data = merge_values(base.data, over.data)
    return Deferred(base.file, data, lambda: (
        {p: pos for p, pos in {**base.values, **over.values}.items() if _exists(data, p)},
        {p: pos for p, pos in {**base.keys, **over.keys}.items() if _exists(data, p)},
    ))


def merge_values(base: Any, over: Any) -> Any:
    """Subtrees only one side has are shared, not copied: merged documents are only read."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        merged[key] = merge_values(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return merged


def _exists(data: Any, path: NodePath) -> bool:
    for part in path:
        if isinstance(data, dict) and part in data or isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return False
    return True


def _copy_set(data: Any, path: NodePath, value: Any) -> Any:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else {}
    copy[path[0]] = _copy_set(copy.get(path[0]), path[1:], value)
    return copy
