"""Manifests inside manifests: the objects Argo resource templates create (a TrainJob, for maestro).

In: an Argo workflow-kind body (Workflow, WorkflowTemplate, ClusterWorkflowTemplate, CronWorkflow).
Out: each resource template's `manifest` that is one YAML mapping, parsed, with the path of the
field that holds it, so the compile validates the object it will create against that object's own
schema. A manifest that does not parse is not returned: Argo's `{{...}}` placeholders make many a
hand-written one YAML only after substitution, and the controller is what reads it. The text is
read as every other manifest is (libyaml, with the alias and depth bounds): a workflow under
`maestro validate` is anybody's, and PyYAML's pure-Python loader took a fifth of a large compile.

Most manifests are what maestro itself writes: block mappings and sequences of plain and
single-quoted one-line scalars. `plain_manifest` reads exactly that subset, line by line, four
times faster than libyaml's composer (which builds a node and marks per scalar); it gives up
(None) on anything else (comments, blank lines, tabs, anchors, tags, flow collections other
than `{}` and `[]`, block or multi-line scalars, non-string keys, duplicate keys, `kind: List`,
deep nesting), and the text is then read by `parse_yaml`, as before.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from ..loading.manifests import MAX_DEPTH, _Loader, parse_yaml
from .model import Document
from .rules.argo import WORKFLOW_KINDS, workflow_spec


def resource_manifests(body: dict, known: dict[str, dict] | None = None) -> list[tuple[tuple, dict]]:
    """`known`: text -> the object it holds, for texts whose object is at hand (they are not parsed)."""
    if body.get("kind") not in WORKFLOW_KINDS:
        return []
    spec, base = workflow_spec(body)
    found = []
    for i, template in enumerate(spec.get("templates") or []):
        text = (template.get("resource") or {}).get("manifest") if isinstance(template, dict) else None
        parsed = None if not isinstance(text, str) else (known and known.get(text)) or read_manifest(text)
        if parsed is not None:
            found.append((base + ("templates", i, "resource", "manifest"), parsed))
    return found


def read_manifest(text: str) -> dict | None:
    """The one mapping `text` holds, as `parse_yaml` reads it; None if it holds anything else."""
    fast = plain_manifest(text)
    if fast is not None:
        return fast
    parsed = parse_yaml(text, "manifest")
    return parsed[0].body if len(parsed) == 1 and isinstance(parsed[0], Document) else None


# --- the plain subset ----------------------------------------------------------------------------

_OUTSIDE = re.compile(r"[^\x20-\x7e\n]")          # tabs, CR, control and non-ASCII: libyaml decides
_KEY = re.compile(r"([A-Za-z0-9_][-A-Za-z0-9_./]*):(?: |$)")
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
_STR = "tag:yaml.org,2002:str"
_DASH, _PAIR, _ITEM = 0, 1, 2                      # token kinds: '- ', 'key: [value]', a lone value


class _NotPlain(Exception):
    """The text leaves the subset: `parse_yaml` reads it."""


class _Resolver(yaml.resolver.BaseResolver):
    yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers   # without timestamps and '=', as parse_yaml


_resolver = _Resolver()
_constructor = yaml.constructor.SafeConstructor()


def plain_manifest(text: str) -> dict | None:
    """`text` as `parse_yaml` reads it when it is one mapping in the plain subset, else None."""
    if not text or _OUTSIDE.search(text):
        return None
    try:
        tokens = _tokens(text)
        if not tokens or tokens[0][1] != _PAIR or tokens[0][0] != 0:
            return None
        body, end = _block(tokens, 0, 0)
    except _NotPlain:
        return None
    if end != len(tokens) or not isinstance(body, dict) or body.get("kind") == "List":
        return None
    return body


def _tokens(text: str) -> list[tuple[int, int, str, Any, bool]]:
    """(column, kind, key, value, has value) per line part; a '- ' line gives a dash, then its content."""
    tokens: list[tuple[int, int, str, Any, bool]] = []
    for line in text.split("\n"):
        content = line.lstrip(" ")
        column = len(line) - len(content)
        if not content:
            if line:
                raise _NotPlain   # a line of spaces
            continue   # the final newline; blank lines inside end up here too, and are refused below
        if content.startswith("- "):
            tokens.append((column, _DASH, "", None, False))
            content, column = content[2:], column + 2
            if content.startswith(("- ", " ")) or content in ("", "-"):   # `- - x`: nested sequences
                raise _NotPlain
            match = _KEY.match(content)
            if match is None:
                tokens.append((column, _ITEM, "", _value(content), True))
                continue
        else:
            match = _KEY.match(content)
            if match is None:
                raise _NotPlain
        key, rest = match.group(1), content[match.end():]
        if _resolver.resolve(yaml.ScalarNode, key, (True, False)) != _STR:
            raise _NotPlain   # `on:`, `1:`: keys parse_yaml turns into text its own way
        tokens.append((column, _PAIR, key, _value(rest) if rest else None, bool(rest)))
    if "\n\n" in text.rstrip("\n") or text.startswith("\n"):
        raise _NotPlain
    return tokens


def _value(text: str) -> Any:
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if text[0] == "'":
        if not _QUOTED.fullmatch(text):
            raise _NotPlain
        return text[1:-1].replace("''", "'")
    return _plain(text)


@functools.lru_cache(maxsize=4096)
def _plain(text: str) -> Any:
    """A plain scalar as the implicit resolvers and SafeConstructor read it (immutable, so shared)."""
    first = text[0]
    if first == " " or (first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1] != " ")) \
            or text[-1] in ": " or ": " in text or " #" in text:
        raise _NotPlain
    tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))
    if tag == _STR:
        return text
    if tag not in _SCALAR_TAGS:
        raise _NotPlain
    return _constructor.yaml_constructors[tag](_constructor, yaml.ScalarNode(tag, text))


def _block(tokens: list, i: int, depth: int) -> tuple[Any, int]:
    """The collection starting at token i, and the index of the token after it."""
    if depth >= MAX_DEPTH - 10:
        raise _NotPlain
    column, kind = tokens[i][0], tokens[i][1]
    if kind == _DASH:
        return _sequence(tokens, i, column, depth)
    if kind == _PAIR:
        return _mapping(tokens, i, column, depth)
    raise _NotPlain


def _sequence(tokens: list, i: int, column: int, depth: int) -> tuple[list, int]:
    found: list = []
    while i < len(tokens) and tokens[i][0] == column and tokens[i][1] == _DASH:
        i += 1   # the dash's content is the next token, on the same line
        if tokens[i][1] == _ITEM:
            found.append(tokens[i][3])
            i += 1
        else:
            value, i = _block(tokens, i, depth + 1)
            found.append(value)
        if i < len(tokens) and tokens[i][0] > column:
            raise _NotPlain   # a continued scalar, or a misaligned entry
    return found, i


def _mapping(tokens: list, i: int, column: int, depth: int) -> tuple[dict, int]:
    found: dict = {}
    while i < len(tokens) and tokens[i][0] == column and tokens[i][1] == _PAIR:
        _, _, key, value, has_value = tokens[i]
        if key in found:
            raise _NotPlain
        i += 1
        if not has_value:
            nxt = tokens[i] if i < len(tokens) else None
            if nxt is not None and (nxt[0] > column or (nxt[0] == column and nxt[1] == _DASH)):
                value, i = _block(tokens, i, depth + 1)
        found[key] = value
        if i < len(tokens) and (tokens[i][0] > column or (tokens[i][0] == column and tokens[i][1] != _PAIR)):
            raise _NotPlain
    return found, i
