"""Rules helper: every object given together, indexed for cross-object lookups.

In: the bodies of all documents of one run (valid or not, skipped or not).
Out: `Corpus`, which answers "is there a ConfigMap `x` in namespace `n`?" and
"does namespace `n` have any ConfigMap in the set?"; plus tolerant accessors
(`mapping`, `items`, `text`) so rules never fail on malformed bodies, which the
schema stage reports instead.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Iterator

ARGO = "argoproj.io"
SELDON = "mlops.seldon.io"
CORE = ""


def mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list:
    return value if isinstance(value, list) else []


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def group_of(body: dict) -> str:
    api_version = text(body.get("apiVersion"))
    return api_version.split("/")[0] if "/" in api_version else CORE


def type_of(body: dict) -> tuple[str, str]:
    return group_of(body), text(body.get("kind"))


def name_of(body: dict) -> str:
    return text(mapping(body.get("metadata")).get("name"))


def namespace_of(body: dict) -> str:
    """metadata.namespace, or "" (objects applied together without one share a namespace)."""
    return text(mapping(body.get("metadata")).get("namespace"))


def where(namespace: str) -> str:
    """How messages name a namespace."""
    return f"namespace {namespace!r}" if namespace else "the set (no namespace)"


class Corpus:
    """The objects of one run, by (group, kind), namespace and name."""

    def __init__(self, bodies: Iterable[dict]):
        self._named: dict[tuple, dict[str, dict]] = defaultdict(dict)
        self._by_type: dict[tuple, list[dict]] = defaultdict(list)
        self._by_place: dict[tuple, list[dict]] = defaultdict(list)
        for body in bodies:
            self.add(body)

    def add(self, body: dict) -> None:
        self._by_type[type_of(body)].append(body)
        self._by_place[type_of(body) + (namespace_of(body),)].append(body)
        if name_of(body):
            self._named[type_of(body) + (namespace_of(body),)].setdefault(name_of(body), body)

    def named(self, group: str, kind: str, namespace: str, name: str) -> dict | None:
        return self._named.get((group, kind, namespace), {}).get(name)

    def names(self, group: str, kind: str, namespace: str) -> dict[str, dict]:
        return self._named.get((group, kind, namespace), {})

    def has_any(self, group: str, kind: str, namespace: str) -> bool:
        return bool(self._named.get((group, kind, namespace)))

    def in_namespace(self, group: str, kind: str, namespace: str) -> Iterator[dict]:
        """Every object of that type in that namespace, named or not (cross-object rules stay linear)."""
        return iter(self._by_place.get((group, kind, namespace), ()))

    def of_type(self, group: str, kind: str) -> Iterator[dict]:
        return iter(self._by_type.get((group, kind), ()))
