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
from contextlib import contextmanager
from typing import Any, Iterator

from yaml.resolver import Resolver

BEST_WIDTH = 4096
# Past this many characters on a line libyaml folds a quoted or plain scalar at a space; such lines
# are left to PyYAML (generous: key and indent are counted as if 200 columns wide).
_FOLD_SAFE = BEST_WIDTH - 200
_MAX_SIMPLE_KEY = 128      # bytes: a longer key is written as a complex `? key` entry
_MAX_CACHED = 200_000
_MAX_BLOCK_CHARS = 64_000_000   # multi-line texts kept: scripts are long, and each indent is one more copy
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
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"   # what the two searches above pass in ASCII


class Unsupported(Exception):
    """A value outside the subset, or a scalar whose bytes only libyaml itself decides."""


# How each one-line scalar and each key is written, kept across documents: outputs repeat most of them.
_values: dict[str, str] = {}    # scalar -> its text after "key:" or "-", through the line's end
_keys: dict[str, str] = {}      # key -> "key:"
# A multi-line string's text depends on its indent, and a block scalar decides how the document ends.
_blocks: dict[tuple[str, int], tuple[str, bool | None]] = {}   # (string, indent) -> (text, open_ended)
# Objects repeat a few shapes (key tuples), so a mapping's entry order and the text before each value
# are worked out once per shape and place: (top_keys, first_keys) -> (shape, indent, place) -> layout.
_layouts: dict[tuple, dict[tuple, tuple[tuple[str, str], ...]]] = {}
_dashes: dict[int, tuple[str, str]] = {}   # indent -> (" " * indent + "-", the same after a break)
IN_MAPPING, IN_SEQUENCE, AT_TOP = 0, 1, 2   # where a mapping stands: how its first entry begins
_CACHES = (_values, _keys, _blocks, _layouts, _dashes)
_block_chars = [0]   # characters held by `_blocks`
# While `shared_subtrees()` is open: the mappings met as sequence items (by identity, each held so
# that its id is not reused), and the text of each met more than once, by (id, indent, key orders).
_shared: list[tuple[dict[int, dict], dict[tuple, tuple[str, bool | None]]]] = []


@contextmanager
def shared_subtrees() -> Iterator[None]:
    """Within it, a mapping object that is an item of several sequences (a compile shares one Argo step
    template among the WorkflowTemplates that hold it) is written once per indent and reused. The
    caller promises that no body written within changes meanwhile: identity stands for content."""
    _shared.append(({}, {}))
    try:
        yield
    finally:
        _shared.pop()


def document_text(body: Any, top_keys: tuple[str, ...], first_keys: tuple[str, ...]) -> str:
    """`body`'s YAML text, keys of the top mapping in `top_keys` order and of the others in
    `first_keys` order, then sorted; raises `Unsupported`."""
    if (any(len(cache) > _MAX_CACHED for cache in _CACHES) or _block_chars[0] > _MAX_BLOCK_CHARS
            or sum(map(len, _layouts.values())) > _MAX_CACHED):
        for cache in _CACHES:
            cache.clear()
        _block_chars[0] = 0
    if type(body) is not dict:
        raise Unsupported("a document that is not a mapping")
    if not body:
        return "{}\n"
    return _write(body, top_keys, first_keys)


def _write(body: dict, top_keys: tuple[str, ...], first_keys: tuple[str, ...]) -> str:
    """The text of a non-empty mapping as a document.

    One closure per document, with the caches and `out.append` as its free variables: this is the
    hot loop of a compile, and attribute look-ups and a call per value cost more than the writing.
    """
    out: list[str] = []
    append = out.append
    values_get = _values.get
    layouts = _layouts.get((top_keys, first_keys))
    if layouts is None:
        layouts = _layouts[(top_keys, first_keys)] = {}
    layouts_get = layouts.get
    open_ended: bool | None = False    # the last block scalar so far kept its trailing breaks (`|+`)
    seen, texts = _shared[-1] if _shared else (None, None)

    def string(value: str, scalar_indent: int) -> str:
        """A string not in `_values`: a multi-line one (by its indent) or one not seen yet."""
        nonlocal open_ended
        if "\n" not in value:
            return _one_line_value(value, scalar_indent)
        block = _blocks.get((value, scalar_indent))
        if block is None:
            block = _blocks[(value, scalar_indent)] = multi_line(value, scalar_indent)
            _block_chars[0] += len(block[0])
        text, ends_open = block
        if ends_open is not None:
            open_ended = ends_open
        return text

    def mapping(value: dict, indent: int, place: int) -> None:
        """Entries at `indent`, through the end of the last line."""
        shape = (tuple(value), indent, place)
        layout = layouts_get(shape)
        if layout is None:
            layout = layouts[shape] = _layout(shape[0], indent, place, top_keys if place == AT_TOP else first_keys)
        inner = indent + 2
        for key, head in layout:
            append(head)
            item = value[key]
            kind = type(item)
            if kind is str:
                text = values_get(item)
                append(text if text is not None else string(item, inner))
            elif kind is dict:
                if item:
                    mapping(item, inner, IN_MAPPING)
                else:
                    append(" {}\n")
            elif kind is list or kind is tuple:
                if item:   # a sequence in a mapping is not indented
                    sequence(item, indent, False)
                else:
                    append(" []\n")
            elif kind is bool:
                append(" true\n" if item else " false\n")
            elif kind is int:
                append(f" {item}\n")
            else:
                append(_other_scalar(item))

    def sequence(value: list | tuple, indent: int, in_sequence: bool) -> None:
        """Items at `indent`, through the end of the last line. The dispatch on each value's type is
        `mapping`'s again, on purpose: one helper for both would be a call per value."""
        dashes = _dashes.get(indent) or _dash(indent)
        head = dashes[0]
        prefix = " -" if in_sequence else dashes[1]
        inner = indent + 2
        for item in value:
            append(prefix)
            prefix = head
            kind = type(item)
            if kind is str:
                text = values_get(item)
                append(text if text is not None else string(item, inner))
            elif kind is dict:
                if not item:
                    append(" {}\n")
                elif seen is None:
                    mapping(item, inner, IN_SEQUENCE)
                else:
                    shared_item(item, inner)
            elif kind is list or kind is tuple:
                if item:   # a sequence in a sequence is indented
                    sequence(item, inner, True)
                else:
                    append(" []\n")
            elif kind is bool:
                append(" true\n" if item else " false\n")
            elif kind is int:
                append(f" {item}\n")
            else:
                append(_other_scalar(item))

    def shared_item(item: dict, indent: int) -> None:
        """A mapping in a sequence: written as any other when first met; when met again (by identity),
        its text is kept per indent and key orders, and reused."""
        nonlocal open_ended
        if id(item) not in seen:
            seen[id(item)] = item
            mapping(item, indent, IN_SEQUENCE)
            return
        place = (id(item), indent, top_keys, first_keys)
        known = texts.get(place)
        if known is None:
            before, open_ended = open_ended, None
            start = len(out)
            mapping(item, indent, IN_SEQUENCE)
            known = texts[place] = ("".join(out[start:]), open_ended)
            del out[start:]
            append(known[0])
            if open_ended is None:
                open_ended = before
            return
        append(known[0])
        if known[1] is not None:
            open_ended = known[1]

    try:
        mapping(body, 0, AT_TOP)
        if open_ended:
            append("...\n")   # libyaml ends a document whose last block scalar is `|+` explicitly
        return "".join(out)
    finally:
        # The closures call each other through their cells, a cycle that only the collector frees (a
        # compile runs without it); emptying the cells frees them, and `out`, now.
        del string, mapping, sequence, shared_item


def _layout(keys: tuple, indent: int, place: int, first: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each key of a mapping in writing order, with the text before its value: the indent and "key:",
    after a break for the first entry of a mapping in a mapping, after "- " in a sequence."""
    ordered = [k for k in first if k in keys] + sorted(k for k in keys if k not in first)
    pad = " " * indent
    heads = [pad + (_keys.get(key) or _key(key)) for key in ordered]
    heads[0] = ("\n" + heads[0], " " + heads[0][indent:], heads[0])[place]
    return tuple(zip(ordered, heads))


def _dash(indent: int) -> tuple[str, str]:
    dashes = _dashes[indent] = (" " * indent + "-", "\n" + " " * indent + "-")
    return dashes


def _key(key: Any) -> str:
    if type(key) is not str:
        raise Unsupported(f"a {type(key).__name__} key")
    if _KEY_BREAKS.search(key) or len(key.encode("utf-8")) > _MAX_SIMPLE_KEY:
        raise Unsupported("a key libyaml writes as a complex key")
    text = _keys[key] = one_line(key) + ":"
    return text


def _one_line_value(value: str, scalar_indent: int) -> str:
    if _UNSUPPORTED.search(value):
        raise Unsupported("a line separator, or a lone surrogate")
    text = one_line(value)
    if len(text) > _FOLD_SAFE - scalar_indent and " " in value:
        raise Unsupported("a line libyaml may fold")
    text = _values[value] = f" {text}\n"
    return text


def _other_scalar(value: Any) -> str:
    if value is None:
        return " null\n"
    if type(value) is float:
        return f" {float_text(value)}\n"
    raise Unsupported(f"a {type(value).__name__} value")


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


def multi_line(value: str, indent: int) -> tuple[str, bool | None]:
    """A string with LF breaks, after "key:" or "-": a literal block scalar unless libyaml refuses one
    (trailing space, a space before a break, a character only escapes can write), then double-quoted.
    With it, whether the document is left open-ended (a `|+` block), None for a quoted string."""
    # Most are printable ASCII (scripts, spec.json): one C pass answers both searches, 20x faster.
    plain = value.isascii() and not value.encode("ascii").translate(None, _PRINTABLE_ASCII)
    if not plain and _UNSUPPORTED.search(value):
        raise Unsupported("a line separator, or a lone surrogate")
    if value[-1] == " " or " \n" in value or (not plain and _SPECIAL.search(value)):
        text = double_quoted(value)
        if len(text) > _FOLD_SAFE - indent and " " in value:
            raise Unsupported("a line libyaml may fold")
        return f" {text}\n", None
    hints = "|2" if value[0] in " \n" else "|"
    open_ended = False
    if value[-1] != "\n":
        hints += "-"
    elif len(value) == 1 or value[-2] == "\n":
        hints += "+"
        open_ended = True
    pad = " " * indent
    if value[0] != "\n" and "\n\n" not in value:   # no empty line but maybe the last: each break is indented
        body = pad + value.replace("\n", "\n" + pad)
        body = body[:-indent] if indent and value[-1] == "\n" else body
    else:
        body = "\n".join(pad + line if line else "" for line in value.split("\n"))
    return f" {hints}\n{body}" + ("" if value[-1] == "\n" else "\n"), open_ended


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
