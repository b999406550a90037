"""`json.dumps(value, indent=2, sort_keys=True)`, byte for byte, in a fraction of its time.

With `indent`, the standard library encodes in pure Python, one generator step per token; spec.json
(`lower.spec_json`) is written so for every pipeline of every environment. Here only the containers
that hold other non-empty containers are walked in Python: a container of scalars (most of a spec)
goes to the C encoder in one call, its item separator carrying the newline and the indent of its
depth, which is exactly what the indented encoder writes between its items.

Anything out of the ordinary (a subclass of dict or list, a key that is not a string, a value JSON
cannot hold) goes to `json.dumps` itself, so the text or the error is always the standard library's.
"""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring_ascii

_SCALARS = frozenset((str, int, float, bool, type(None)))
_CONTAINERS = frozenset((dict, list, tuple))


def dumps(value) -> str:
    """What `json.dumps(value, indent=2, sort_keys=True)` returns."""
    if c_make_encoder is not None:
        try:
            return _text(value, "")
        except Exception:   # noqa: BLE001 - the standard library decides: its text or its error
            pass
    return json.dumps(value, indent=2, sort_keys=True)


def dumps_remembering(value, memo: dict, levels: int = 2, indent: str = "") -> str:
    """`dumps(value)`, the containers `levels` mappings down looked up in (and added to) `memo`.

    For documents that repeat whole sections (one pipeline in each of its environments): the key of
    a section is its compact text, which the C encoder writes at a fraction of the indented text's
    cost, and which fixes the indented text (the same items in the same order, only the white space
    differs), so a remembered text is always the one `dumps` would write. With `indent`, the text
    nested that deep: every line after the first starts with it."""
    if c_make_encoder is not None:
        try:
            return _remembered(value, indent, memo, levels)
        except Exception:   # noqa: BLE001 - as in dumps
            pass
    return json.dumps(value, indent=2, sort_keys=True).replace("\n", "\n" + indent)


def _remembered(value, indent: str, memo: dict, levels: int) -> str:
    kind = type(value)
    if levels and kind is dict and value:
        if any(type(key) is not str for key in value):
            raise TypeError("a key that is not a string")
        inner = indent + "  "
        items = sorted(value.items())
        return ("{\n" + inner + (",\n" + inner).join([encode_basestring_ascii(k) + ": "
                                                      + _remembered(v, inner, memo, levels - 1)
                                                      for k, v in items]) + "\n" + indent + "}")
    if kind not in _CONTAINERS or not value or _flat(value.values() if kind is dict else value):
        return _text(value, indent)   # one call of the C encoder, as its key would cost
    key = (indent, "".join(_scalar(value, 0)))
    text = memo.get(key)
    if text is None:
        text = memo[key] = _text(value, indent)
    return text


def _text(value, indent: str) -> str:
    kind = type(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = indent + "  "
        if _flat(value.values()):
            return "{\n" + inner + _flat_text(value, inner) + "\n" + indent + "}"
        if any(type(key) is not str for key in value):
            raise TypeError("a key that is not a string")   # json.dumps converts it
        items = sorted(value.items())
        return ("{\n" + inner + (",\n" + inner).join([encode_basestring_ascii(k) + ": " + _text(v, inner)
                                                      for k, v in items]) + "\n" + indent + "}")
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = indent + "  "
        if _flat(value):
            return "[\n" + inner + _flat_text(value, inner) + "\n" + indent + "]"
        return "[\n" + inner + (",\n" + inner).join([_text(v, inner) for v in value]) + "\n" + indent + "]"
    if kind is str:
        return encode_basestring_ascii(value)
    if kind in _SCALARS:
        return "".join(_scalar(value, 0))
    raise TypeError(f"not plain JSON: {kind.__name__}")


def _flat(values) -> bool:
    """Whether every item is a scalar or an empty container: written alike with or without indent."""
    for v in values:
        kind = type(v)
        if kind not in _SCALARS and (v or kind not in _CONTAINERS):
            return False
    return True


_flat_encoders: dict = {}


def _encoder(item_separator: str):
    # (markers, default, encoder, indent, key separator, item separator, sort_keys, skipkeys, allow_nan)
    return c_make_encoder(None, None, encode_basestring_ascii, None, ": ", item_separator, True, False, True)


_scalar = _encoder(", ") if c_make_encoder is not None else None


def _flat_text(value, inner: str) -> str:
    """The C encoder's text of a non-empty container of scalars, `,\\n<inner>` between its items,
    without its brackets."""
    encode = _flat_encoders.get(inner)
    if encode is None:
        encode = _flat_encoders[inner] = _encoder(",\n" + inner)
    return "".join(encode(value, 0))[1:-1]
