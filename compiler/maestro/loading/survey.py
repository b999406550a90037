"""Survey: a spec file's `metadata` name and team, read from the top of its text alone.

In: a spec file. Out: its `metadata.name` and `metadata.team` if both are plain strings, else None.

A large compile places each pipeline in its team's namespace before it builds anything, and gives
the namespaces to worker processes that load their own pipelines (compile.py). Placing needs these
two strings only: libyaml's events up to the end of the top-level `metadata` mapping, a tenth of a
file's parse. What this reads is a guess: the worker that loads the file in full checks the guess
against what the load found, and anything unusual here (a tag, an anchor, a key that is no plain
string, an oversized or unreadable file) answers None, which sends the compile to the full load.
"""

from __future__ import annotations

import os
from pathlib import Path

from yaml import YAMLError, events

from .positions import MAX_FILE_BYTES
from .yaml12 import CParser, DECLINED_CHARACTERS, resolve, STR

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_WANTED = ("name", "team")


def name_and_team(path: Path) -> tuple[str, str] | None:
    """The file's `metadata.name` and `metadata.team`, or None when this cannot tell them cheaply.
    A link is not followed (the caller lists only files it may read, and reads a link in full)."""
    try:
        fd = os.open(path, _READ_FLAGS)
        try:
            raw = os.read(fd, MAX_FILE_BYTES + 1)
        finally:
            os.close(fd)
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    return None if len(raw) > MAX_FILE_BYTES else name_and_team_of(text)


def name_and_team_of(text: str) -> tuple[str, str] | None:
    """`name_and_team` of a spec file's decoded text."""
    if CParser is None or any(c in text for c in DECLINED_CHARACTERS):
        return None
    found = _metadata_strings(text)
    return (found["name"], found["team"]) if found and all(key in found for key in _WANTED) else None


def _metadata_strings(text: str) -> dict[str, str] | None:
    """The plain string values of `name` and `team` in the top-level `metadata` mapping."""
    parser = CParser(text)
    try:
        depth, key, in_metadata, found = 0, None, False, {}
        for event in iter(parser.get_event, None):
            kind = type(event)
            if kind is events.ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    return None
                value = event.value
                if depth == 1 or (depth == 2 and in_metadata):
                    if key is None:
                        if resolve(value, event.implicit[0]) != STR:
                            return None
                        key = value
                        continue
                    if in_metadata and key in _WANTED:
                        if key in found or resolve(value, event.implicit[0]) != STR:
                            return None
                        found[key] = value
                    key = None
            elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
                if event.anchor is not None or event.tag is not None:
                    return None
                depth += 1
                if depth == 1 and kind is not events.MappingStartEvent:
                    return None   # not a spec: the full load words it
                if depth == 2:
                    in_metadata, key = key == "metadata" and kind is events.MappingStartEvent, None
            elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                depth -= 1
                if depth == 1 and in_metadata:
                    return found
                if depth in (1, 2):
                    key = None   # the collection that ended was the value of the key
            elif kind is events.AliasEvent:
                return None
        return None
    except YAMLError:
        return None
    finally:
        parser.dispose()
