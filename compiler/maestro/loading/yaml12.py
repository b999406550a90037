"""Load, fast path: libyaml's event stream composed into nodes with YAML 1.2 core resolution.

In: the decoded text of a spec file. Out: the composed documents (PyYAML node objects carrying the
same tags and marks as ruamel.yaml's round-trip composer gives), or None when this path declines.

ruamel.yaml is pure Python and spends ~12 ms on a pipeline spec; libyaml parses it in well under
one. This path handles only the plain, well-formed case and declines everything else (a parse error,
a %YAML or %TAG directive, an explicit non-core tag, an undefined anchor, a recursive alias,
nesting deeper than the loader accepts, YAML 1.1 line breaks, tabs, an empty value, a second
document), so `source` falls back to ruamel.yaml
and every diagnostic stays exactly what ruamel.yaml's path reports. The composer is an explicit stack
(no recursion), so hostile nesting cannot exhaust the C or the Python stack.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml import events
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

try:
    from yaml.cyaml import CParser
except ImportError:   # PyYAML built without libyaml: every file takes the full loader
    CParser = None

CORE = "tag:yaml.org,2002:"
STR, SEQ, MAP = CORE + "str", CORE + "seq", CORE + "map"
KNOWN_TAGS = {CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")}
# ruamel.yaml's VersionedResolver table for YAML 1.2, in its order (ruamel/yaml/resolver.py).
RESOLVERS = (
    (CORE + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (CORE + "float", re.compile(r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", re.X), "-+0123456789."),
    (CORE + "int", re.compile(r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""", re.X), "-+0123456789"),
    (CORE + "merge", re.compile(r"^(?:<<)$"), "<"),
    (CORE + "null", re.compile(r"^(?: ~ |null|Null|NULL | )$", re.X), "~nN\0"),
    (CORE + "timestamp", re.compile(r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X), "0123456789"),
    (CORE + "value", re.compile(r"^(?:=)$"), "="),
)
_BY_FIRST: dict[str, list[tuple[str, re.Pattern]]] = {}
for _tag, _regex, _firsts in RESOLVERS:
    for _char in _firsts:
        _BY_FIRST.setdefault("" if _char == "\0" else _char, []).append((_tag, _regex))
# YAML 1.1's extra line breaks; and tabs, which ruamel.yaml refuses inside plain scalars where libyaml does not.
DECLINED_CHARACTERS = ("\x85", "\u2028", "\u2029", "\t")


class Decline(Exception):
    """This input is not for the fast path; use the full loader."""


def resolve(value: str, plain: bool) -> str:
    """The tag of a scalar without an explicit one, as YAML 1.2's core schema resolves it."""
    if plain:
        for tag, regex in _BY_FIRST.get(value[:1], ()):
            if regex.match(value):
                return tag
    return STR


def compose_all(text: str, max_depth: int) -> list[Any] | None:
    """Every document's root node, or None when the fast path declines this text."""
    if CParser is None or any(c in text for c in DECLINED_CHARACTERS):
        return None
    parser = CParser(text)
    try:
        return _Composer(parser, max_depth).documents()
    except (Decline, yaml.YAMLError):
        return None
    finally:
        parser.dispose()


class _Composer:
    """Nodes from events, with an explicit stack of the collections still open."""

    def __init__(self, parser: Any, max_depth: int):
        self.parser, self.max_depth = parser, max_depth
        self.anchors: dict[str, Any] = {}
        self.open: list[Any] = []   # collection nodes not yet ended, outermost first
        self.pending: list[list] = []   # their children so far

    def documents(self) -> list[Any]:
        roots, roots_started = [], False
        for event in iter(self.parser.get_event, None):
            kind = type(event)
            if kind is events.DocumentStartEvent and (event.version or event.tags or roots_started):
                raise Decline()   # directives; a second document (a spec file holds one; the full loader words it)
            if kind is events.DocumentEndEvent and event.explicit:
                raise Decline()   # '...': ruamel.yaml reads it as content after a block scalar
            if kind is events.DocumentStartEvent:
                roots_started = True
                self.anchors, root = {}, []
                self.pending = [root]
            elif kind is events.DocumentEndEvent:
                roots.extend(root)
            elif kind is events.StreamEndEvent:
                break
            elif kind is not events.StreamStartEvent:
                self._node_event(event, kind)
        return roots

    def _node_event(self, event: Any, kind: type) -> None:
        if kind is events.ScalarEvent:
            self._add(event, ScalarNode(self._scalar_tag(event), event.value, event.start_mark,
                                        event.end_mark, event.style))
        elif kind is events.AliasEvent:
            self._alias(event)
        elif kind in (events.MappingStartEvent, events.SequenceStartEvent):
            self._start(event, kind)
        else:
            self._end(event)

    def _scalar_tag(self, event: Any) -> str:
        if event.value == "" and event.style in (None, "") and event.tag is None:
            raise Decline()   # an empty value: ruamel.yaml places it at the next token, libyaml after the ':'
        if event.tag is None:
            return resolve(event.value, event.implicit[0])
        if event.tag not in KNOWN_TAGS:   # includes the non-specific "!", which parsers treat unlike
            raise Decline()
        return event.tag

    def _alias(self, event: Any) -> None:
        node = self.anchors.get(event.anchor)
        if node is None or any(node is o for o in self.open):
            raise Decline()   # undefined, or recursive: the full loader words these
        self.pending[-1].append(node)

    def _start(self, event: Any, kind: type) -> None:
        if len(self.open) >= self.max_depth:
            raise Decline()
        default = MAP if kind is events.MappingStartEvent else SEQ
        if event.tag not in (None, default):
            raise Decline()
        node_class = MappingNode if kind is events.MappingStartEvent else SequenceNode
        node = node_class(default, [], event.start_mark, None, event.flow_style)
        self._add(event, node, register_only=True)
        self.open.append(node)
        self.pending.append([])

    def _end(self, event: Any) -> None:
        node, children = self.open.pop(), self.pending.pop()
        node.end_mark = event.end_mark
        if isinstance(node, MappingNode):
            node.value = list(zip(children[0::2], children[1::2]))
        else:
            node.value = children
        self.pending[-1].append(node)

    def _add(self, event: Any, node: Any, register_only: bool = False) -> None:
        if event.anchor is not None:
            self.anchors[event.anchor] = node   # defined again: an alias means the latest, as in ruamel.yaml
        if not register_only:
            self.pending[-1].append(node)
