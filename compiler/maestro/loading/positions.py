"""Load: YAML text to plain values, with the line and column of every key and value.

In: a spec file's bytes. Out: `Located` documents (plain dicts, lists and scalars plus position
maps), or a `MaestroError` with located diagnostics. Duplicate keys, bad encodings, oversized files,
over-deep nesting and alias expansion beyond a fixed bound are refused here, before any model sees
the data, so hostile input fails fast instead of hanging. An ordinary file is read for its values
alone (`plain_values`); its position maps are worked out from its text when first read, which for
a valid spec is never.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import Diagnostic, MaestroError
from .plain_values import plain_document
from .yaml12 import Decline, compose_all, resolve

MAX_FILE_BYTES = 256 * 1024  # a real spec is a few KiB; the parser reads ~100 KiB/s, so this bounds the wait
MAX_NODES = 100_000  # after alias expansion: a real spec has a few hundred
MAX_DEPTH = 64

Key = str | int
NodePath = tuple[Key, ...]


@dataclass(frozen=True)
class Position:
    file: str
    line: int
    col: int


@dataclass
class Located:
    """One YAML document as plain values, with where each value and each key came from."""

    file: str
    data: Any
    values: dict[NodePath, Position] = field(default_factory=dict)
    keys: dict[NodePath, Position] = field(default_factory=dict)

    def at(self, path: NodePath) -> Position:
        """The position of the value at `path`, or of its nearest ancestor that exists."""
        path = tuple(path)
        while path and path not in self.values:
            path = path[:-1]
        return self.values.get(path, Position(self.file, 1, 1))

    def key_at(self, path: NodePath) -> Position:
        return self.keys.get(tuple(path)) or self.at(path)


Positions = dict[NodePath, Position]


class Deferred(Located):
    """A located document whose `values` and `keys` are worked out on first use, by `positions`.
    Most documents never have them read (they say where a problem is, and most files have none);
    `positions` must only read what no longer changes (the text, loaded documents, other merges)."""

    def __init__(self, file: str, data: Any, positions: Callable[[], tuple[Positions, Positions]]):
        self.file, self.data, self._positions = file, data, positions

    @functools.cached_property
    def _maps(self) -> tuple[Positions, Positions]:
        return self._positions()

    @property
    def values(self) -> Positions:   # type: ignore[override]
        return self._maps[0]

    @property
    def keys(self) -> Positions:   # type: ignore[override]
        return self._maps[1]

    def __eq__(self, other: object) -> bool:   # as a Located: what it holds, not how it was worked out
        if not isinstance(other, Located):
            return NotImplemented
        return (self.file, self.data, self.values, self.keys) == (other.file, other.data, other.values, other.keys)

    __hash__ = None   # type: ignore[assignment]

    def __reduce__(self) -> tuple:   # pickled as the plain Located it stands for (a closure does not pickle)
        return Located, (self.file, self.data, self.values, self.keys)


def load_file(path: Path, display: str) -> list[Located]:
    """Every document of one YAML file, located; `display` is the name used in diagnostics."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            raw = handle.read(MAX_FILE_BYTES + 1)   # enough to tell it is too large, never more
    except OSError as exc:
        raise _error(display, None, None, f"cannot read file: {exc.strerror}")
    if len(raw) > MAX_FILE_BYTES:
        raise _too_large(display, max(size, len(raw)))
    return load_bytes(raw, display)


def load_bytes(raw: bytes, display: str) -> list[Located]:
    if len(raw) > MAX_FILE_BYTES:
        raise _too_large(display, len(raw))
    text = _decode(raw, display)
    plain = plain_document(text, MAX_DEPTH, MAX_NODES, _plain_scalar)
    if plain is not None:   # what the located loader below would give, but its positions only if read
        return [Deferred(display, data, functools.partial(_positions, text, display)) for data in plain]
    return [_build(node, display) for node in _compose(text, display) if node is not None]


def _positions(text: str, display: str) -> tuple[dict, dict]:
    """The position maps of the one document of a text that `plain_document` read."""
    doc = _build(_compose(text, display)[0], display)
    return doc.values, doc.keys


def _too_large(display: str, size: int) -> MaestroError:
    return _error(display, None, None,
                  f"file is {-(-size // 1024)} KiB; spec files are limited to {MAX_FILE_BYTES // 1024} KiB")


def _decode(raw: bytes, display: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _error(display, line, col, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8")


def _compose(text: str, display: str) -> list[Any]:
    fast = compose_all(text, MAX_DEPTH)   # libyaml; None for anything unusual, which ruamel.yaml words
    return fast if fast is not None else _compose_full(text, display)


def _compose_full(text: str, display: str) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")
    yaml.Scanner = _bounded_scanner()
    try:
        with warnings.catch_warnings():
            # YAML lets an anchor be defined again (an alias means the latest); not worth a stray warning.
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            return list(yaml.compose_all(text))
    except _TooDeep as exc:
        raise _error(display, exc.line, exc.col, f"nesting is deeper than {MAX_DEPTH} levels")
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise _error(display, line, col, f"malformed YAML: {problem}")
    except ReaderError as exc:
        line, col = _line_col(text, exc.position)
        raise _error(display, line, col, f"character U+{exc.character:04X} is not allowed in YAML; remove it")
    except YAMLError as exc:
        raise _error(display, None, None, f"malformed YAML: {exc}")
    except RecursionError:
        raise _error(display, None, None, f"nesting is too deep; at most {MAX_DEPTH} levels are accepted")


class _TooDeep(Exception):
    def __init__(self, mark: Any):
        super().__init__()
        self.line, self.col = mark.line + 1, mark.column + 1


@functools.cache
def _bounded_scanner() -> type:
    """The round-trip scanner, refusing nesting beyond MAX_DEPTH as it reads. Checked this early
    because the scanner's own bookkeeping grows quadratically with unclosed '[' and '{'."""
    from ruamel.yaml.scanner import RoundTripScanner

    class BoundedScanner(RoundTripScanner):
        def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
            if self.flow_level + len(self.indents) >= MAX_DEPTH:
                raise _TooDeep(self.reader.get_mark())
            super().fetch_flow_collection_start(TokenClass, to_push)

        def add_indent(self, column: int) -> bool:
            if self.flow_level + len(self.indents) >= MAX_DEPTH:
                raise _TooDeep(self.reader.get_mark())
            return super().add_indent(column)

    return BoundedScanner


def _line_col(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _error(file: str, line: int | None, col: int | None, message: str) -> MaestroError:
    return MaestroError([Diagnostic(file, line, col, (), message)])


class _Builder:
    """Turns a composed node graph into plain values, counting every node it expands."""

    def __init__(self, display: str):
        self.doc = Located(display, None)
        self.count = 0

    def build(self, node: Any, path: NodePath, depth: int) -> Any:
        self._guard(node, depth)
        self.doc.values[path] = self._pos(node)
        kind = type(node).__name__
        if kind == "MappingNode":
            return self._mapping(node, path, depth)
        if kind == "SequenceNode":
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return _scalar(node, self.doc.file)

    def _guard(self, node: Any, depth: int) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            pos = self._pos(node)
            raise _error(pos.file, pos.line, pos.col,
                         f"the document expands to more than {MAX_NODES} nodes (aliases repeat "
                         "content); write the values out or use fewer aliases")
        if depth > MAX_DEPTH:
            pos = self._pos(node)
            raise _error(pos.file, pos.line, pos.col, f"nesting is deeper than {MAX_DEPTH} levels")

    def _mapping(self, node: Any, path: NodePath, depth: int) -> dict:
        result: dict = {}
        for key_node, value_node in self._merged_pairs(node, depth, set()):
            key = _scalar(key_node, self.doc.file) if type(key_node).__name__ == "ScalarNode" else None
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                pos = self._pos(key_node)
                raise _error(pos.file, pos.line, pos.col, "mapping keys must be plain strings")
            key = str(key)
            if key in result:
                pos, first = self._pos(key_node), self.doc.keys[path + (key,)]
                raise _error(pos.file, pos.line, pos.col,
                             f"duplicate key '{key}' (first defined at line {first.line}); keep one")
            self.doc.keys[path + (key,)] = self._pos(key_node)
            result[key] = self.build(value_node, path + (key,), depth + 1)
        return result

    def _merged_pairs(self, node: Any, depth: int, seen: set[int]) -> Iterator[tuple[Any, Any]]:
        """Mapping pairs with YAML merge keys (`<<: *base`) applied, explicit keys winning.
        Each merged mapping counts toward the node bound and is merged once, so merge chains can
        neither loop nor blow up."""
        explicit = [(k, v) for k, v in node.value if k.tag != _MERGE]
        names = {k.value for k, _ in explicit if type(k).__name__ == "ScalarNode"}
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                continue
            for k, v in self._merge_sources(value_node, depth, seen):
                if isinstance(k.value, str) and k.value not in names:
                    names.add(k.value)
                    yield k, v
        yield from explicit

    def _merge_sources(self, value_node: Any, depth: int, seen: set[int]) -> Iterator[tuple[Any, Any]]:
        sources = value_node.value if type(value_node).__name__ == "SequenceNode" else [value_node]
        for source in sources:
            self._guard(source, depth + 1)
            if type(source).__name__ != "MappingNode":
                pos = self._pos(source)
                raise _error(pos.file, pos.line, pos.col,
                             "'<<' merges mappings only; give it a mapping or a list of mappings")
            if id(source) not in seen:
                seen.add(id(source))
                yield from self._merged_pairs(source, depth + 1, seen)

    def _pos(self, node: Any) -> Position:
        mark = node.start_mark
        return Position(self.doc.file, mark.line + 1, mark.column + 1)


_MERGE = "tag:yaml.org,2002:merge"
_BOOLS = {"true": True, "false": False}


def _scalar(node: Any, file: str) -> Any:
    value = _scalar_value(node.tag, node.value, node.style)
    if value is _UNSUPPORTED:
        mark = node.start_mark
        raise _error(file, mark.line + 1, mark.column + 1, f"unsupported YAML tag {node.tag}; use plain values")
    return value


def _plain_scalar(text: str, plain: bool, style: str | None) -> tuple[str, Any]:
    """The tag and value of an untagged scalar, for `plain_document`, which leaves what the located
    loader refuses to it. Short ones are cached: spec files repeat their keys and many of their values
    (long ones are not, so the cache stays small whatever files a long-lived process reads)."""
    return _short_scalar(text, plain, style) if len(text) <= 64 else _tagged_scalar(text, plain, style)


def _tagged_scalar(text: str, plain: bool, style: str | None) -> tuple[str, Any]:
    tag = resolve(text, plain)
    value = _scalar_value(tag, text, style)
    if value is _UNSUPPORTED:
        raise Decline()
    return tag, value


_short_scalar = functools.lru_cache(maxsize=4096)(_tagged_scalar)
_UNSUPPORTED = object()


def _scalar_value(tag: str, value: str, style: str | None) -> Any:
    if style == ">":   # ruamel.yaml marks the fold points of a folded scalar with BEL; they are not content
        value = value.replace("\a", "")
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _BOOLS.get(value.lower(), value)
    if tag == "tag:yaml.org,2002:int":
        return _number(value, int)
    if tag == "tag:yaml.org,2002:float":
        return _number(value, float)
    if tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
        return value
    return _UNSUPPORTED


def _number(text: str, kind: type) -> Any:
    cleaned = text.replace("_", "")
    try:
        return int(cleaned, 0) if kind is int else float(cleaned)
    except ValueError:
        lowered = cleaned.lower().lstrip("+")
        specials = {".inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
        return specials.get(lowered, text)


def _build(node: Any, display: str) -> Located:
    builder = _Builder(display)
    builder.doc.data = builder.build(node, (), 0)
    return builder.doc
