"""Validate: a located document against a pydantic model, every error turned into a Diagnostic.

In: a `Located` document and a model class. Out: the model instance, or diagnostics that name the
line and column of the offending key or value, the field path, and what would be accepted.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic, did_you_mean, one_of
from ..loading.positions import Located, NodePath, Position


def validate_model(doc: Located, model: type[BaseModel], root: NodePath = ()) -> tuple[Any, list[Diagnostic]]:
    """`model` validated from the data at `root` of `doc`; on failure, (None, diagnostics)."""
    data = doc.data
    for part in root:
        data = data[part]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_diagnostic(doc, model, root, err, data) for err in exc.errors()]


def _diagnostic(doc: Located, model: type[BaseModel], root: NodePath, err: dict, data: Any) -> Diagnostic:
    loc = _data_path(data, err["loc"])
    path = tuple(root) + loc
    if err["type"] == "extra_forbidden":
        pos = doc.key_at(path)
        allowed = _fields_at(model, err["loc"][:-1])
        message, hint = f"unknown field '{loc[-1]}'", did_you_mean(loc[-1], allowed) or one_of(allowed)
    else:
        pos = _position(doc, path, err)
        message, hint = _describe(err)
    return Diagnostic(pos.file, pos.line, pos.col, path, message, hint)


def _position(doc: Located, path: tuple, err: dict) -> Position:
    if err["type"] == "missing":   # at the null that removed it, else at the key that lacks it
        return doc.values.get(path) or doc.key_at(path[:-1])
    if err["loc"][-1:] == ("[key]",):   # a mapping key failed its own validation
        return doc.key_at(path)
    return doc.at(path)


def _data_path(data: Any, loc: tuple) -> tuple:
    """The loc of a pydantic error without the union tags it adds, so it follows the data."""
    path, node = [], data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and not isinstance(part, int) and _is_field_name(part):
            path.append(part)
            node = None
    return tuple(path)


def _is_field_name(part: str) -> bool:
    return "[" not in part and "," not in part and not part.startswith("function-")


def _describe(err: dict) -> tuple[str, str]:
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "missing":
        return "required field is missing", ""
    if kind == "literal_error":
        expected = [e.strip(" '") for e in ctx.get("expected", "").replace(" or ", ",").split(",")]
        return f"'{value}' is not accepted", did_you_mean(value, expected) or one_of(expected)
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in ctx.get("expected_tags", "").split(",")]
        return f"'{ctx.get('tag')}' is not a known kind", did_you_mean(ctx.get("tag"), tags) or one_of(tags)
    if kind == "union_tag_not_found":
        return f"'{ctx.get('discriminator', 'kind').strip(chr(39))}' is required", ""
    if kind == "value_error":
        return str(ctx.get("error", err["msg"])), ""
    if kind in ("too_short", "too_long"):
        bound = f"at least {ctx['min_length']}" if kind == "too_short" else f"at most {ctx['max_length']}"
        return f"got {ctx['actual_length']} item(s): expected {bound}", ""
    if kind == "list_type" and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return f"{_shown(value)}: {err['msg'][0].lower()}{err['msg'][1:]}", f"a list: [{value}]"   # tickers: MSFT
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{_shown(value)}: expected a mapping", ""   # pydantic's message names a class
    return f"{_shown(value)}: {err['msg'][0].lower()}{err['msg'][1:]}", ""


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "got a " + ("mapping" if isinstance(value, dict) else "list")
    return f"got {value!r}" if not isinstance(value, str) else f"got '{value}'"


def _fields_at(model: type[BaseModel], loc: tuple) -> set[str]:
    """Field names of the model(s) reached by following `loc` from `model`."""
    candidates = [model]
    for part in loc:
        fields = [c.model_fields[part] for c in candidates if part in c.model_fields]
        if fields:
            candidates = [m for f in fields for m in _models_in(f.annotation)]
        else:
            tagged = [c for c in candidates if _tag(c) == part]
            candidates = tagged or candidates
    return {name for c in candidates for name in c.model_fields}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("kind")
    args = typing.get_args(field.annotation) if field else ()
    return args[0] if len(args) == 1 else None
