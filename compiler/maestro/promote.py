"""Promote: edit a pipeline spec so a model version becomes the candidate or the default.

In: the spec file's text and the requested change. Out: the edited text, with comments, key order
and formatting kept (ruamel.yaml round trip), so the pull request touches only the lines that change.
Checking the result against every environment is the caller's job (see commands/promote.py).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Optional

from .errors import Diagnostic, MaestroError


@dataclass(frozen=True)
class Promotion:
    version: str
    role: str                      # candidate | default
    run: Optional[str] = None
    weight: Optional[int] = None
    mode: Optional[str] = None


def promote_text(text: str, file: str, change: Promotion) -> str:
    from ruamel.yaml import YAML

    yaml = _round_trip(YAML)
    document = yaml.load(text)
    serving = _serving(document, file)
    _add_version(serving, file, change)
    if change.role == "candidate":
        _make_candidate(serving, file, change)
    else:
        _make_default(serving, change)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _round_trip(yaml_class):
    yaml = yaml_class(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    # Keep an explicit `null` (it removes a key in an override); ruamel would write an empty value.
    yaml.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return yaml


def _serving(document, file: str):
    from ruamel.yaml.comments import CommentedMap

    spec = document.get("spec") if hasattr(document, "get") else None
    if spec is None:
        raise _error(file, document, "spec", "the file has no spec")
    if spec.get("serving") is None:
        spec["serving"] = CommentedMap([("versions", []), ("default", None)])
    return spec["serving"]


def _add_version(serving, file: str, change: Promotion) -> None:
    versions = serving.setdefault("versions", [])
    existing = {v["name"]: v for v in versions}
    if change.run is None:
        if change.version not in existing:
            known = ", ".join(existing) or "none"
            raise _error(file, serving, "spec.serving.versions",
                         f"version '{change.version}' is not among serving.versions (known: {known})",
                         "pass --run RUN to add it")
        return
    if change.version in existing:
        if existing[change.version]["run"] != change.run:
            raise _error(file, existing[change.version], "spec.serving.versions",
                         f"version '{change.version}' already points at run '{existing[change.version]['run']}'",
                         "choose a new version name")
        return
    versions.append(_like_siblings(versions, {"name": change.version, "run": change.run}))


def _like_siblings(versions, entry: dict):
    from ruamel.yaml.comments import CommentedMap

    item = CommentedMap(entry)
    if versions and getattr(versions[-1], "fa", None) is not None and versions[-1].fa.flow_style():
        item.fa.set_flow_style()
    return item


def _make_candidate(serving, file: str, change: Promotion) -> None:
    from ruamel.yaml.comments import CommentedMap

    if serving.get("default") is None:
        raise _error(file, serving, "spec.serving.default", "there is no default version to test a candidate against",
                     "promote a version --as default first")
    if serving.get("default") == change.version:
        raise _error(file, serving, "spec.serving.default", f"'{change.version}' is already the default",
                     "a candidate must differ from the default")
    current = serving.get("experiment") or {}
    experiment = CommentedMap([
        ("mode", change.mode or current.get("mode", "ab")),
        ("candidate", change.version),
        ("candidate_weight", change.weight if change.weight is not None else current.get("candidate_weight", 10)),
    ])
    if current and getattr(current, "fa", None) is not None and current.fa.flow_style():
        experiment.fa.set_flow_style()
    serving["experiment"] = experiment


def _make_default(serving, change: Promotion) -> None:
    serving["default"] = change.version
    if "experiment" in serving:
        del serving["experiment"]


def _error(file: str, node, path: str, message: str, hint: str = "") -> MaestroError:
    line, col = 1, 1
    if getattr(node, "lc", None) is not None and node.lc.line is not None:
        line, col = node.lc.line + 1, node.lc.col + 1
    return MaestroError([Diagnostic(file, line, col, path, message, hint)])
