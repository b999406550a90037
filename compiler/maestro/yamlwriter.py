"""Render, the fast path: Maestro's closed YAML subset written directly as text.

In: a mapping of str keys whose values are dicts, lists, tuples, str, int, float, bool and None, and
the key order `render` fixes. Out: the text PyYAML's CSafeDumper (libyaml 0.2.x, block style,
allow_unicode, width 4096) writes for the same nodes, byte for byte, or `Unsupported` for anything
whose bytes this module does not know how to match: then `render` takes PyYAML's own path.

Every choice below is libyaml's, by its rules (emitter.c: `analyze_scalar`, `select_scalar_style`
and the scalar writers), with PyYAML's resolver deciding which plain strings would read back as
something else. tests/compile/test_render_differential.py holds the two paths to the same bytes.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.resolver import Resolver

BEST_WIDTH = 4096
# Past this many characters on a line libyaml folds a quoted or plain scalar at a space; such lines
# are left to PyYAML (generous: key and indent are counted as if 200 columns wide).
_FOLD_SAFE = BEST_WIDTH - 200
_MAX_SIMPLE_KEY = 128      # bytes: a longer key is written as a complex `? key` entry
_MAX_CACHED = 200_000
_IMPLICIT = Resolver.yaml_implicit_resolvers
STR_TAG, FLOAT_TAG = "tag:yaml.org,2002:str", "tag:yaml.org,2002:float"

# What libyaml's IS_PRINTABLE refuses (tab, CR and NEL among them: only escapes write them); what this
# module leaves to PyYAML: LS and PS (printable line breaks, which libyaml writes raw inside quotes) and
# lone surrogates (which cannot be encoded at all); and the breaks that make a key a complex key.
_SPECIAL = re.compile("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
_UNSUPPORTED = re.compile("[\u2028\u2029\ud800-\udfff]")
_KEY_BREAKS = re.compile("[\n\r\x85\u2028\u2029\ud800-\udfff]")
_ESCAPED = re.compile('[^\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]|["\\\\]')
_ESCAPES = {"\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r",
            "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P"}
_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


class Unsupported(Exception):
    """A value outside the subset, or a scalar whose bytes only libyaml itself decides."""


# How each one-line scalar and each key is written, kept across documents: outputs repeat most of them.
_values: dict[str, str] = {}    # scalar -> its text after "key:" or "-", through the line's end
_keys: dict[str, str] = {}      # key -> "key:"


def document_text(body: Any, top_keys: tuple[str, ...], first_keys: tuple[str, ...]) -> str:
    """`body`'s YAML text, keys of the top mapping in `top_keys` order and of the others in
    `first_keys` order, then sorted; raises `Unsupported`."""
    if len(_values) > _MAX_CACHED or len(_keys) > _MAX_CACHED:
        _values.clear()
        _keys.clear()
    return _Document(first_keys).text(body, top_keys)


class _Document:
    """One document being written."""

    __slots__ = ("first_keys", "open_ended")

    values, keys = _values, _keys

    def __init__(self, first_keys: tuple[str, ...]):
        self.first_keys = first_keys
        self.open_ended = False    # the last block scalar so far kept its trailing breaks (`|+`)

    def text(self, body: Any, top_keys: tuple[str, ...]) -> str:
        if type(body) is not dict:
            raise Unsupported("a document that is not a mapping")
        if not body:
            return "{}\n"
        out: list[str] = []
        self._mapping(body, 0, "", top_keys, out)
        if self.open_ended:
            out.append("...\n")   # libyaml ends a document whose last block scalar is `|+` explicitly
        return "".join(out)

    def _mapping(self, value: dict, indent: int, first_prefix: str, first: tuple[str, ...], out: list) -> None:
        """Entries at `indent`; the first one after `first_prefix` (the rest of the line before it)."""
        keys = [k for k in first if k in value] + sorted(k for k in value if k not in first)
        pad = " " * indent
        prefix = first_prefix
        for key in keys:
            out.append(prefix)
            out.append(self.keys.get(key) or self._key(key))
            self._node(value[key], indent, False, out)
            prefix = pad

    def _sequence(self, value: list | tuple, indent: int, first_prefix: str, out: list) -> None:
        prefix, pad = first_prefix, " " * indent
        for item in value:
            out.append(prefix)
            out.append("-")
            self._node(item, indent, True, out)
            prefix = pad

    def _node(self, value: Any, indent: int, in_sequence: bool, out: list) -> None:
        """`value` after "key:" or "-" of a collection at `indent`, through the end of its last line."""
        kind = type(value)
        if kind is str:
            text = self.values.get(value)
            out.append(text if text is not None else self._string(value, indent + 2))
        elif kind is dict:
            if not value:
                out.append(" {}\n")
            else:
                self._mapping(value, indent + 2, " " if in_sequence else "\n" + " " * (indent + 2),
                              self.first_keys, out)
        elif kind is list or kind is tuple:
            if not value:
                out.append(" []\n")
            elif in_sequence:   # a sequence in a sequence is indented; in a mapping it is not
                self._sequence(value, indent + 2, " ", out)
            else:
                self._sequence(value, indent, "\n" + " " * indent, out)
        elif kind is bool:
            out.append(" true\n" if value else " false\n")
        elif kind is int:
            out.append(f" {value}\n")
        elif value is None:
            out.append(" null\n")
        elif kind is float:
            out.append(f" {float_text(value)}\n")
        else:
            raise Unsupported(f"a {kind.__name__} value")

    def _key(self, key: Any) -> str:
        if type(key) is not str:
            raise Unsupported(f"a {type(key).__name__} key")
        if _KEY_BREAKS.search(key) or len(key.encode("utf-8")) > _MAX_SIMPLE_KEY:
            raise Unsupported("a key libyaml writes as a complex key")
        text = _keys[key] = one_line(key) + ":"
        return text

    def _string(self, value: str, scalar_indent: int) -> str:
        if _UNSUPPORTED.search(value):
            raise Unsupported("a line separator, or a lone surrogate")
        if "\n" in value:
            return " " + multi_line(value, scalar_indent, self)
        text = one_line(value)
        if len(text) > _FOLD_SAFE - scalar_indent and " " in value:
            raise Unsupported("a line libyaml may fold")
        text = _values[value] = f" {text}\n"
        return text


def one_line(value: str) -> str:
    """A string without line breaks, as libyaml writes it in block context: plain when it reads back
    as the same string, else single-quoted, else (a character only escapes can write) double-quoted."""
    if _SPECIAL.search(value):
        return double_quoted(value)
    if value and plain_allowed(value) and reads_as_string(value):
        return value
    return "'" + value.replace("'", "''") + "'"


def plain_allowed(value: str) -> bool:
    """libyaml's `block_plain_allowed` for a non-empty string of printable characters and no breaks."""
    head = value[0]
    if head == " " or value[-1] == " " or head in _INDICATORS or value.startswith(("---", "...")):
        return False
    if head in "?:-" and (len(value) == 1 or value[1] == " "):
        return False
    return not (": " in value or value[-1] == ":" or " #" in value)


def reads_as_string(value: str) -> bool:
    """Whether PyYAML's resolver reads the plain scalar as a string (not a bool, number, null, date...)."""
    return resolved_tag(value) == STR_TAG


def resolved_tag(value: str) -> str:
    """The tag PyYAML's resolver gives a plain scalar (Resolver.resolve, for a non-empty value)."""
    for tag, regexp in _IMPLICIT.get(value[0], []) + _IMPLICIT.get(None, []):
        if regexp.match(value):
            return tag
    return STR_TAG


def multi_line(value: str, indent: int, writer: _Document) -> str:
    """A string with LF breaks: a literal block scalar unless libyaml refuses one (trailing space, a
    space before a break, a character only escapes can write), then double-quoted."""
    if value[-1] == " " or " \n" in value or _SPECIAL.search(value):
        text = double_quoted(value)
        if len(text) > _FOLD_SAFE - indent and " " in value:
            raise Unsupported("a line libyaml may fold")
        return text + "\n"
    hints = "|2" if value[0] in " \n" else "|"
    writer.open_ended = False
    if value[-1] != "\n":
        hints += "-"
    elif len(value) == 1 or value[-2] == "\n":
        hints += "+"
        writer.open_ended = True
    pad = " " * indent
    body = "\n".join(pad + line if line else "" for line in value.split("\n"))
    return f"{hints}\n{body}" + ("" if value[-1] == "\n" else "\n")


def double_quoted(value: str) -> str:
    return '"' + _ESCAPED.sub(_escape, value) + '"'


def _escape(match: re.Match) -> str:
    char = match.group()
    code = _ESCAPES.get(char)
    if code is not None:
        return "\\" + code
    point = ord(char)
    if point <= 0xFF:
        return f"\\x{point:02X}"
    return f"\\u{point:04X}" if point <= 0xFFFF else f"\\U{point:08X}"


def float_text(value: float) -> str:
    """SafeRepresenter.represent_float's text, which the resolver must read back as a float."""
    if value != value:
        text = ".nan"
    elif value in (float("inf"), float("-inf")):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = repr(value).lower()
        if "." not in text and "e" in text:
            text = text.replace("e", ".0e", 1)
    if resolved_tag(text) != FLOAT_TAG:
        raise Unsupported("a float PyYAML would tag")
    return text
