"""Rules, Argo CD: an Application's AppProject exists and allows its destination.

In: an Application body and the `Corpus` of every object given.
Out: `Diagnostic`s about paths of the body: `spec.project` names no AppProject of the set
(checked only when the set has AppProjects; `default` always exists), or the
project's `destinations` do not allow `spec.destination`. Matching follows Argo
CD: server or name, and namespace, each a glob (`*`, `?`, `[a-z]`, `{a,b}`); a
leading `!` denies.
"""

from __future__ import annotations

import functools
import re
from typing import Iterator

from ...errors import Diagnostic
from .corpus import ARGO, Corpus, items, mapping, name_of, text



@functools.lru_cache(maxsize=1024)
def glob_regex(pattern: str) -> re.Pattern | None:
    """A gobwas-style glob (no separators) as a regex; None if it does not compile."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        piece, i = _glob_piece(pattern, i)
        if piece is None:
            return None
        out.append(piece)
    return re.compile("^" + "".join(out) + "$", re.S)


def _glob_piece(pattern: str, i: int) -> tuple[str | None, int]:
    char = pattern[i]
    if char == "*":
        return ".*", i + 1
    if char == "?":
        return ".", i + 1
    if char in "[{":
        end = pattern.find("]" if char == "[" else "}", i + 1)
        if end < 0:
            return None, i
        body = pattern[i + 1 : end]
        if char == "[":
            return "[" + ("^" + body[1:] if body.startswith("!") else body) + "]", end + 1
        return "(?:" + "|".join(re.escape(alt).replace(r"\*", ".*").replace(r"\?", ".") for alt in body.split(",")) + ")", end + 1
    return re.escape(char), i + 1


def is_deny(pattern: str) -> bool:
    return pattern.startswith("!")


def glob_match(pattern: str, value: str) -> bool:
    """Argo CD's globMatch with negation allowed."""
    if is_deny(pattern):
        regex = glob_regex(pattern[1:])
        return regex is not None and not regex.match(value)
    if pattern == "*":
        return True
    regex = glob_regex(pattern)
    return regex is not None and bool(regex.match(value))


def destination_permitted(destinations: list[dict], server: str, name: str, namespace: str) -> bool:
    """Argo CD's AppProject.isDestinationMatched."""
    matched_any, denied = False, False
    for item in destinations:
        item_name, item_server, item_ns = (text(item.get(k)) for k in ("name", "server", "namespace"))
        name_ok = bool(name) and glob_match(item_name, name)
        server_ok = bool(server) and glob_match(item_server, server)
        ns_ok = glob_match(item_ns, namespace)
        if (server_ok or name_ok) and ns_ok:
            matched_any = True
        elif ((not name_ok and is_deny(item_name)) or (not server_ok and is_deny(item_server))) and ns_ok:
            denied = True
        elif not ns_ok and is_deny(item_ns) and server_ok:
            denied = True
    return matched_any and not denied


def _projects(corpus: Corpus) -> dict[str, dict]:
    return {name_of(p): p for p in corpus.of_type(ARGO, "AppProject") if name_of(p)}


def project_exists(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    project = text(mapping(body.get("spec")).get("project"))
    projects = _projects(corpus)
    if projects and project and project != "default" and project not in projects:
        yield Diagnostic.about(("spec", "project"), f"AppProject {project!r} is not in the set (known: {', '.join(sorted(projects))})")


def destination_allowed(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    spec = mapping(body.get("spec"))
    project = _projects(corpus).get(text(spec.get("project")))
    if project is None:
        return
    dest = mapping(spec.get("destination"))
    server, name, namespace = (text(dest.get(k)) for k in ("server", "name", "namespace"))
    allowed = [mapping(d) for d in items(mapping(project.get("spec")).get("destinations"))]
    if not destination_permitted(allowed, server, name, namespace):
        target = f"server {server!r}" if server else f"cluster {name!r}"
        yield Diagnostic.about(("spec", "destination"), f"AppProject {name_of(project)!r} does not allow destination {target}, namespace {namespace!r}")
