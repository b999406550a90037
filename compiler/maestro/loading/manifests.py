"""Stage 1b, parsing: manifest text to documents, the way Kubernetes tooling reads it.

In: the text of one file (or stdin) and its display name.
Out: `Document`s (bodies as plain dicts/lists/scalars, with the line of every
path and any duplicated keys) and error `Result`s for documents that do not parse.

Rules, as `sigs.k8s.io/yaml` and kubeconform read manifests: the stream is cut at
`---` lines so one broken document does not hide the others; unquoted dates stay
strings; a bare `=` is a string; non-string keys become strings; blank and
comment-only documents are dropped; `kind: List` is expanded into its items.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import yaml

from ..errors import Diagnostic
from ..validation.model import ERROR, Document, Result

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DROPPED_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
_SEPARATOR = re.compile(r"^---(?:[ \t]|$)")
_MERGE = "tag:yaml.org,2002:merge"
# The spec loader's defences (maestro.loading.positions), sized for manifests. Aliases may add at most
# ALIAS_NODES nodes to a whole file beyond what its text could hold written out (at most two nodes
# per character, e.g. `{a,b}`), so eight "billion laughs" documents cost what one small file does.
ALIAS_NODES = 100_000
# The largest upstream CRD bundle is under 3 MiB; the API server takes about 1.5 MiB per object.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 100                     # the deepest upstream CRD nests 48 levels


class _Refused(ValueError):
    """A document over a bound; `line` is where it was noticed (1-based, in the file)."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


class _Budget:
    """Nodes one file may still expand to."""

    def __init__(self, text: str):
        self.left = ALIAS_NODES + 2 * len(text)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader without timestamp and `=` resolution."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED_TAGS]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


class _Tree:
    """Builds plain values from a node tree, noting lines and duplicate keys."""

    def __init__(self, loader: Any, offset: int, budget: _Budget):
        self.loader, self.offset, self.budget = loader, offset, budget
        self.lines: dict[tuple, int] = {}
        self.duplicates: list[Diagnostic] = []

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + self.offset + 1

    def build(self, node: yaml.Node, path: tuple) -> Any:
        self.budget.left -= 1
        if self.budget.left < 0:
            raise _Refused(f"the file expands to more than {ALIAS_NODES} nodes beyond its text (aliases repeat "
                           "content); write the values out or use fewer aliases", self.line(node))
        if len(path) >= MAX_DEPTH:
            raise _Refused(f"nesting is deeper than {MAX_DEPTH} levels", self.line(node))
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return self.sequence(node, path)
        return self.loader.construct_object(node, deep=True)

    def sequence(self, node: yaml.SequenceNode, path: tuple) -> list:
        items = []
        for i, child in enumerate(node.value):
            self.lines[path + (i,)] = self.line(child)
            items.append(self.build(child, path + (i,)))
        return items

    def mapping(self, node: yaml.MappingNode, path: tuple) -> dict:
        result: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self.merge_sources(value_node, path))
                continue
            key = _key_text(self.build(key_node, path))
            if key in result:
                self.duplicates.append(Diagnostic("", self.line(key_node), None, path + (key,), f"duplicate key {key!r}"))
            self.lines[path + (key,)] = self.line(key_node)
            result[key] = self.build(value_node, path + (key,))
        return {**merged, **result}

    def merge_sources(self, node: yaml.Node, path: tuple) -> dict:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict = {}
        for source in reversed(sources):
            value = self.build(source, path)
            if not isinstance(value, dict):
                raise ValueError(f"line {self.line(source)}: a merge key '<<' needs a mapping")
            merged.update(value)
        return merged


def _key_text(key: Any) -> str:
    """Mapping keys as JSON sees them (Go's YAML-to-JSON turns `1:` into `"1"`)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def chunks(text: str) -> Iterator[tuple[int, str]]:
    """(0-based line offset, text) for each `---`-separated part of a stream."""
    start, lines = 0, text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if number > start and _SEPARATOR.match(line):
            yield start, "".join(lines[start:number])
            start = number
    yield start, "".join(lines[start:])


def parse_yaml(text: str, source: str) -> list[Document | Result]:
    """Every manifest in a YAML stream, in order; parse errors become error Results."""
    out: list[Document | Result] = []
    budget = _Budget(text)
    for offset, part in chunks(text):
        out.extend(_parse_part(part, offset, source, _next_index(out), budget))
        if budget.left < 0:
            break   # the rest would only repeat the refusal, at the same cost
    return out


def _next_index(found: list, first: int = 0) -> int:
    return found[-1].index + 1 if found else first


def _parse_part(part: str, offset: int, source: str, index: int, budget: _Budget) -> list[Document | Result]:
    loader = _Loader(part)
    found: list[Document | Result] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if not _is_empty(node):
                found.extend(_document(loader, node, offset, source, _next_index(found, index), budget))
    except _Refused as exc:
        found.append(error_result(source, _next_index(found, index), exc.line, f"cannot parse YAML: {exc}"))
    except yaml.MarkedYAMLError as exc:
        found.append(_yaml_error(exc, _start_line(part, offset), offset, source, _next_index(found, index)))
    except RecursionError:
        message = f"cannot parse YAML: nesting is deeper than {MAX_DEPTH} levels"
        found.append(error_result(source, _next_index(found, index), _start_line(part, offset), message))
    except (yaml.YAMLError, ValueError) as exc:
        message = f"cannot parse YAML: {exc}"
        found.append(error_result(source, _next_index(found, index), _start_line(part, offset), message))
    finally:
        loader.dispose()
    return found


def _is_empty(node: yaml.Node | None) -> bool:
    return node is None or (node.tag == "tag:yaml.org,2002:null" and isinstance(node, yaml.ScalarNode))


def _document(loader: Any, node: yaml.Node, offset: int, source: str, index: int,
              budget: _Budget) -> list[Document | Result]:
    tree = _Tree(loader, offset, budget)
    line = tree.line(node)
    body = tree.build(node, ())
    if not isinstance(body, dict):
        return [error_result(source, index, line, f"a manifest must be a mapping, not {_type_name(body)}")]
    doc = Document(source, index, line, body, tree.lines, tuple(tree.duplicates))
    return expand_list(doc)


def _start_line(part: str, offset: int) -> int:
    """The 1-based line of the first line of `part` that is not blank, a comment or `---`."""
    for number, line in enumerate(part.splitlines()):
        text = line.strip()
        if text and not text.startswith("#") and text != "---":
            return offset + number + 1
    return offset + 1


def _yaml_error(exc: yaml.MarkedYAMLError, start: int, offset: int, source: str, index: int) -> Result:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + offset + 1 if mark else start
    where = f" (line {line}, column {mark.column + 1})" if mark else ""
    what = " ".join(part for part in (exc.context, exc.problem) if part)
    return error_result(source, index, start, f"cannot parse YAML: {what}{where}", line=line)


def parse_json(text: str, source: str) -> list[Document | Result]:
    """A `.json` file: one manifest (or a `kind: List`)."""
    duplicates: list[str] = []
    try:
        body = json.loads(text, object_pairs_hook=lambda pairs: _pairs(pairs, duplicates))
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        return [error_result(source, 0, line, f"cannot parse JSON: {exc}")]
    except RecursionError:   # the decoder recurses per '[' or '{'
        return [error_result(source, 0, _line_of_depth(text, MAX_DEPTH), f"cannot parse JSON: nesting is deeper "
                                                                         f"than {MAX_DEPTH} levels")]
    if _deeper_than(body, MAX_DEPTH):
        return [error_result(source, 0, _line_of_depth(text, MAX_DEPTH),
                             f"cannot parse JSON: nesting is deeper than {MAX_DEPTH} levels")]
    if not isinstance(body, dict):
        return [error_result(source, 0, 1, f"a manifest must be a JSON object, not {_type_name(body)}")]
    found = tuple(Diagnostic(source, 1, None, (), f"duplicate key {key!r}") for key in duplicates)
    return expand_list(Document(source, 0, 1, body, {}, found))


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests more than `limit` lists and objects deep; iterative, as later stages are not."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _line_of_depth(text: str, limit: int) -> int:
    """The line where brackets outside strings first open more than `limit` deep (1 if never)."""
    depth, quoted, escaped, line = 0, False, False, 1
    for char in text:
        if char == "\n":
            line += 1
        elif quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line
        elif char in "]}":
            depth -= 1
    return 1


def _pairs(pairs: list[tuple[str, Any]], duplicates: list[str]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            duplicates.append(key)
        result[key] = value
    return result


def expand_list(doc: Document) -> list[Document | Result]:
    """A `kind: List` document as its items; any other document as itself."""
    if doc.body.get("kind") != "List" or not isinstance(doc.body.get("items"), list):
        return [doc]
    return [_list_item(doc, i, item) for i, item in enumerate(doc.body["items"])]


def _list_item(doc: Document, i: int, item: Any) -> Document | Result:
    prefix = ("items", i)
    line = doc.lines.get(prefix, doc.line)
    if not isinstance(item, dict):
        return error_result(doc.source, doc.index, line, f"List item {i} must be a mapping, not {_type_name(item)}")
    lines = {path[2:]: n for path, n in doc.lines.items() if path[:2] == prefix}
    dups = tuple(f for f in doc.duplicate_keys if f.path[:len(prefix)] == prefix)
    return Document(doc.source, doc.index, line, item, lines, dups)


def error_result(source: str, index: int, start: int, message: str, *, line: int | None = None) -> Result:
    """A document that cannot be checked: one finding about the whole of it, at `line` (default: where it starts)."""
    at = line if line is not None else start
    return Result(source, index, start, "", "", ERROR, [Diagnostic(source, at or None, None, (), message)])


def _type_name(value: Any) -> str:
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}
    return names.get(type(value), type(value).__name__)
