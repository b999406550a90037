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

from .yaml12 import CParser, DECLINED_CHARACTERS, STR, Decline

_NO_KEY = object()   # a mapping waiting for its next key


def plain_document(text: str, max_depth: int, max_nodes: int,
                   scalar: Callable[[str, bool, str | None], tuple[str, Any]]) -> list[Any] | None:
    """The values of the text's document (a list of none or one), or None when this path declines.
    `scalar(value, plain, style)`: the tag and value the located loader gives an untagged scalar; it
    declines by raising `Decline`."""
    if CParser is None or any(c in text for c in DECLINED_CHARACTERS):
        return None
    parser = CParser(text)
    try:
        return _read(parser, max_depth, max_nodes, scalar)
    except (Decline, yaml.YAMLError):
        return None
    finally:
        parser.dispose()


def _read(parser: Any, max_depth: int, nodes_left: int, scalar: Callable) -> list[Any]:
    """Values from events, with an explicit stack of the collections still open (no recursion).
    One loop with local names: it runs once per node of every spec file."""
    roots: list[Any] = []
    open_: list[Any] = []   # collections not yet ended, outermost first (each already in its parent)
    keys: list[Any] = []    # for each: its pending key (mappings), or _NO_KEY
    started = False
    for event in iter(parser.get_event, None):
        kind = type(event)
        if kind is _SCALAR or kind is _MAPPING_START or kind is _SEQUENCE_START:
            if event.anchor is not None or event.tag is not None:
                raise Decline()   # anchors, aliases and tags: the located loader's business
            in_mapping = bool(open_) and type(open_[-1]) is dict
            if kind is _SCALAR:
                text, style = event.value, event.style
                if text == "" and style in (None, ""):
                    raise Decline()   # an empty value: yaml12 declines it
                tag, value = scalar(text, event.implicit[0], style)
                if in_mapping and keys[-1] is _NO_KEY:
                    if tag != STR or value in open_[-1]:
                        raise Decline()   # merge keys, keys that are no plain string, duplicate keys
                    keys[-1] = value
                    continue
            else:
                if in_mapping and keys[-1] is _NO_KEY:
                    raise Decline()   # a collection as a key
                if len(open_) >= max_depth:
                    raise Decline()
                value = {} if kind is _MAPPING_START else []
            nodes_left -= 1
            if nodes_left < 0:
                raise Decline()   # more nodes than the bound: the located loader words it
            if not open_:
                roots.append(value)
            elif in_mapping:
                open_[-1][keys[-1]] = value
                keys[-1] = _NO_KEY
            else:
                open_[-1].append(value)
            if kind is not _SCALAR:
                open_.append(value)
                keys.append(_NO_KEY)
        elif kind is _MAPPING_END or kind is _SEQUENCE_END:
            open_.pop()
            keys.pop()
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
    return roots


_SCALAR, _MAPPING_START, _SEQUENCE_START = events.ScalarEvent, events.MappingStartEvent, events.SequenceStartEvent
_MAPPING_END, _SEQUENCE_END = events.MappingEndEvent, events.SequenceEndEvent
