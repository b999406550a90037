"""Load, fastest path: the plain values of an ordinary spec file straight from libyaml's events.

In: the decoded text of a spec file. Out: the values of its one document (plain dicts, lists and
scalars), or None when this path declines.

A valid spec never has its positions read: they only say where a problem is. So the loader first
reads just the values, without node objects or position maps, and works the positions out from the
text later, should a diagnostic need them (`positions.load_bytes`). For that to be sound this path
gives exactly the values the located loader gives, and only where that loader succeeds: it declines
everything `yaml12` declines and everything the located builder refuses or treats specially (an
anchor, an alias, any explicit tag, a merge key, a key that is no plain string, a duplicate key, more
nodes than the bound), so the located loader then reads the text and words the refusal.
"""

from __future__ import annotations

from typing import Any, Callable

import yaml
from yaml import events

from .yaml12 import CParser, DECLINED_CHARACTERS, STR, Decline, resolve

_NO_KEY = object()   # a mapping waiting for its next key


def plain_document(text: str, max_depth: int, max_nodes: int,
                   scalar: Callable[[str, str, str | None], Any]) -> list[Any] | None:
    """The values of the text's document (a list of none or one), or None when this path declines.
    `scalar(tag, value, style)`: the located loader's value of a scalar, which declines by raising `Decline`."""
    if CParser is None or any(c in text for c in DECLINED_CHARACTERS):
        return None
    parser = CParser(text)
    try:
        return _Values(max_depth, max_nodes, scalar).read(parser)
    except (Decline, yaml.YAMLError):
        return None
    finally:
        parser.dispose()


class _Values:
    """Values from events, with an explicit stack of the collections still open (no recursion)."""

    def __init__(self, max_depth: int, max_nodes: int, scalar: Callable[[str, str, str | None], Any]):
        self.max_depth, self.nodes_left, self.scalar = max_depth, max_nodes, scalar
        self.open: list[Any] = []   # collections not yet ended, outermost first
        self.keys: list[Any] = []   # for each: its pending key (mappings), or _NO_KEY
        self.roots: list[Any] = []

    def read(self, parser: Any) -> list[Any]:
        started = False
        ScalarEvent, MappingStart, SequenceStart = events.ScalarEvent, events.MappingStartEvent, events.SequenceStartEvent
        MappingEnd, SequenceEnd = events.MappingEndEvent, events.SequenceEndEvent
        for event in iter(parser.get_event, None):
            kind = type(event)
            if kind is ScalarEvent:
                self._scalar(event)
            elif kind is MappingStart or kind is SequenceStart:
                self._start(event, {} if kind is MappingStart else [])
            elif kind is MappingEnd or kind is SequenceEnd:
                self.open.pop()   # already in its parent, which `_start` added it to
                self.keys.pop()
            elif kind is events.DocumentStartEvent:
                if event.version or event.tags or started:
                    raise Decline()   # directives, or a second document
                started = True
            elif kind is events.DocumentEndEvent:
                if event.explicit:
                    raise Decline()
            elif kind is events.StreamEndEvent:
                break
            elif kind is not events.StreamStartEvent:
                raise Decline()   # an alias
        return self.roots

    def _scalar(self, event: Any) -> None:
        value, style = event.value, event.style
        if event.anchor is not None or event.tag is not None or (value == "" and style in (None, "")):
            raise Decline()
        tag = resolve(value, event.implicit[0])
        if self.open and self.keys[-1] is _NO_KEY and type(self.open[-1]) is dict:
            if tag != STR:
                raise Decline()   # merge keys, and keys that are no plain string
            key = self.scalar(tag, value, style)
            if key in self.open[-1]:
                raise Decline()   # a duplicate key
            self.keys[-1] = key
            return
        self._count()
        self._add(self.scalar(tag, value, style))

    def _start(self, event: Any, collection: Any) -> None:
        if event.anchor is not None or event.tag is not None or len(self.open) >= self.max_depth:
            raise Decline()
        if self.open and self.keys[-1] is _NO_KEY and type(self.open[-1]) is dict:
            raise Decline()   # a collection as a key
        self._count()
        self._add(collection)
        self.open.append(collection)
        self.keys.append(_NO_KEY)

    def _add(self, value: Any) -> None:
        if not self.open:
            self.roots.append(value)
        elif type(self.open[-1]) is dict:
            self.open[-1][self.keys[-1]] = value
            self.keys[-1] = _NO_KEY
        else:
            self.open[-1].append(value)

    def _count(self) -> None:
        self.nodes_left -= 1
        if self.nodes_left < 0:
            raise Decline()
