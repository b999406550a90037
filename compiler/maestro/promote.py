"""Promote: edit a pipeline spec so a model version becomes the candidate or the default.

In: the spec file's text and the requested change, optionally scoped to one environment. Out: the
edited text, with comments, key order and formatting kept (ruamel.yaml round trip), so the pull
request touches only the lines that change. Without an environment the edit goes to `spec.serving`
(every environment); with one it goes to `spec.overrides.<env>.serving` only, which no other
environment reads. The spec is always parsed, never matched with a regex: a quoted `default: "v3"`
is a default and a `name: v9` inside a comment is no version. Checking the result against every
environment is the caller's job (see commands/promote.py and writeback.py).

Also here: reading and replacing a spec file without following a symbolic link.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .errors import Diagnostic, MaestroError, UsageError

VERSION_NUMBER = re.compile(r"v(\d+)")


@dataclass(frozen=True)
class Promotion:
    version: str
    role: str                      # candidate | default
    run: Optional[str] = None
    weight: Optional[int] = None
    mode: Optional[str] = None


def promote_text(text: str, file: str, change: Promotion, environment: Optional[str] = None) -> str:
    """`text` with `change` applied to `spec.serving`, or to `spec.overrides.<environment>.serving`."""
    yaml = _round_trip()
    document = yaml.load(text)
    spec = _spec(document, file)
    if environment is None:
        serving = _base_serving(spec)
        _add_version(serving, file, change)
        if change.role == "candidate":
            _make_candidate(serving, file, change)
        else:
            _make_default(serving, change)
    else:
        _promote_in(spec, file, change, environment)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def rollback_text(text: str, file: str, environment: Optional[str] = None) -> tuple[str, str, str]:
    """(`text` with default and previous_default swapped, the version now default, the one it
    replaced), in `spec.serving` or, for `environment`, judged on what it serves and written to
    its override. A running experiment ends: its candidate was tested against the other default."""
    yaml = _round_trip()
    document = yaml.load(text)
    spec = _spec(document, file)
    served = (_effective(spec, environment) if environment else _plain(spec.get("serving"))) or {}
    where = f"spec.overrides.{environment}.serving" if environment else "spec.serving"
    previous, current = served.get("previous_default"), served.get("default")
    if previous is None:
        node = _override_serving(spec, file, environment) if environment else spec.get("serving") or spec
        raise _error(file, node, f"{where}.previous_default",
                     f"{environment or 'spec.serving'} records no previous default to roll back to",
                     "a rollback needs a default replaced by `maestro promote --as default` first")
    if environment:
        _promote_in(spec, file, Promotion(previous, "default"), environment)
    else:
        _make_default(spec["serving"], Promotion(previous, "default"))
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue(), previous, current


def served_runs(text: str, file: str, environment: str) -> dict[str, str]:
    """{run: version} of the versions `environment` sends traffic to: its default and candidate."""
    served = effective_serving(text, file, environment) or {}
    runs = {v.get("name"): v.get("run") for v in served.get("versions") or [] if isinstance(v, dict)}
    experiment = served.get("experiment") or {}
    taking = [served.get("default"), experiment.get("candidate") if isinstance(experiment, dict) else None]
    return {runs[v]: v for v in taking if v is not None and runs.get(v) is not None}


def next_version(text: str, file: str) -> str:
    """`v<N+1>`, N the highest `vN` named in `serving.versions` or in any environment's override of it,
    so that one version name means one run in every environment."""
    spec = _spec(_round_trip().load(text), file)
    numbers = [int(match.group(1)) for name in _all_version_names(spec) if (match := VERSION_NUMBER.fullmatch(name))]
    return f"v{max(numbers, default=0) + 1}"


def effective_serving(text: str, file: str, environment: str) -> Optional[dict]:
    """What `environment` serves: `spec.serving` with `spec.overrides.<environment>.serving` merged
    over it (mappings key by key, lists replace, null removes), as plain values; None if nothing."""
    spec = _spec(_round_trip().load(text), file)
    return _effective(spec, environment)


# ---- the edit -------------------------------------------------------------------------------

def _round_trip():
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    # Keep an explicit `null` (it removes a key in an override); ruamel would write an empty value.
    yaml.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return yaml


def _spec(document, file: str):
    spec = document.get("spec") if hasattr(document, "get") else None
    if not hasattr(spec, "get"):
        raise _error(file, document, "spec", "the file has no spec mapping")
    return spec


def _base_serving(spec):
    from ruamel.yaml.comments import CommentedMap

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
    return _styled(entry, versions[-1] if versions else None)


def _styled(entry: dict, like):
    """`entry` as a mapping in the style (flow or block) of `like`."""
    from ruamel.yaml.comments import CommentedMap

    item = CommentedMap(entry)
    if getattr(like, "fa", None) is not None and like.fa.flow_style():
        item.fa.set_flow_style()
    return item


def _make_candidate(serving, file: str, change: Promotion) -> None:
    if serving.get("default") is None:
        raise _error(file, serving, "spec.serving.default", "there is no default version to test a candidate against",
                     "promote a version --as default first")
    if serving.get("default") == change.version:
        raise _error(file, serving, "spec.serving.default", f"'{change.version}' is already the default",
                     "a candidate must differ from the default")
    current = serving.get("experiment") or {}
    serving["experiment"] = _experiment(change, current, current or None)


def _make_default(serving, change: Promotion) -> None:
    old = serving.get("default")
    serving["default"] = change.version
    _keep_previous(serving, old, change.version)
    if "experiment" in serving:
        del serving["experiment"]


def _keep_previous(layer, old: Optional[str], new: str) -> None:
    """Record the default being replaced as `previous_default`, next to `default`, so that
    `--rollback` is one edit; the old version stays in `versions`."""
    if old is None or old == new:
        return
    if "previous_default" in layer:
        layer["previous_default"] = old
    else:
        layer.insert(list(layer).index("default") + 1, "previous_default", old)


def _promote_in(spec, file: str, change: Promotion, environment: str) -> None:
    """The edit of `_add_version` and `_make_*`, judged on what `environment` serves and written to
    `spec.overrides.<environment>.serving` only. Lists replace in an override, so the first edit
    there copies the versions the environment serves today and appends the new one."""
    from ruamel.yaml.comments import CommentedSeq

    path = f"spec.overrides.{environment}.serving"
    override = _override_serving(spec, file, environment)
    served = _effective(spec, environment) or {}
    versions = {v.get("name"): v for v in served.get("versions") or [] if isinstance(v, dict)}
    if change.run is None and change.version not in versions:
        raise _error(file, override, f"{path}.versions",
                     f"version '{change.version}' is not among the versions {environment} serves "
                     f"(known: {', '.join(map(str, versions)) or 'none'})", "pass --run RUN to add it")
    if change.run is not None and change.version in versions and versions[change.version].get("run") != change.run:
        raise _error(file, override, f"{path}.versions",
                     f"version '{change.version}' already points at run '{versions[change.version].get('run')}'",
                     "choose a new version name")
    if change.run is not None and change.version not in versions:
        if not isinstance(override.get("versions"), list):
            override["versions"] = CommentedSeq(
                _styled({"name": name, "run": v.get("run")}, _version_entry(spec, name)) for name, v in versions.items())
        listed = override["versions"]
        like = listed[-1] if listed else _version_entry(spec, None)
        listed.append(_styled({"name": change.version, "run": change.run}, like))
    default = served.get("default")
    if change.role == "default":
        override["default"] = change.version
        _keep_previous(override, default, change.version)
        if served.get("experiment") is not None:
            if _plain((spec.get("serving") or {}).get("experiment")) is not None:
                override["experiment"] = None      # the base experiment no longer applies here
            else:
                del override["experiment"]
        return
    if default is None:
        raise _error(file, override, f"{path}.default",
                     f"{environment} serves no default version to test a candidate against",
                     "promote a version --as default first")
    if default == change.version:
        raise _error(file, override, f"{path}.default", f"'{change.version}' is already the default in {environment}",
                     "a candidate must differ from the default")
    source = override.get("experiment") or (spec.get("serving") or {}).get("experiment")
    override["experiment"] = _experiment(change, served.get("experiment") or {}, source)


def _experiment(change: Promotion, current, style_of):
    """The experiment testing `change.version`: mode and weight as given, else as `current` has them;
    written in flow style where `style_of` (the mapping it replaces) was."""
    from ruamel.yaml.comments import CommentedMap

    experiment = CommentedMap([
        ("mode", change.mode or current.get("mode", "ab")),
        ("candidate", change.version),
        ("candidate_weight", change.weight if change.weight is not None else current.get("candidate_weight", 10)),
    ])
    if getattr(style_of, "fa", None) is not None and style_of.fa.flow_style():
        experiment.fa.set_flow_style()
    return experiment


def _override_serving(spec, file: str, environment: str):
    """`spec.overrides.<environment>.serving`, created (as block mappings) where missing."""
    from ruamel.yaml.comments import CommentedMap

    node, path = spec, "spec"
    for key in ("overrides", environment, "serving"):
        path = f"{path}.{key}"
        value = node.get(key)
        if value is None:
            if key == "serving" and key in node:
                raise _error(file, node, path, f"serving is switched off in {environment} (serving: null)",
                             "remove the null to serve this pipeline there")
            node[key] = value = CommentedMap()
        if not isinstance(value, dict):
            raise _error(file, node, path, "expected a mapping here")
        node = value
    return node


def _effective(spec, environment: str) -> Optional[dict]:
    base = _plain(spec.get("serving"))
    overrides = spec.get("overrides")
    layer = overrides.get(environment) if hasattr(overrides, "get") else None
    if hasattr(layer, "get") and "serving" in layer:
        over = _plain(layer.get("serving"))
        if over is None:
            return None
        base = _merge(base if isinstance(base, dict) else {}, over)
    return base


def _merge(base: Any, over: Any) -> Any:
    """overlay.merge_values with `null` removing the key, as the models read it."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    merged = dict(base)
    for key, value in over.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(base.get(key), value)
    return merged


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _serving_layers(spec) -> list:
    """`spec.serving` and every `spec.overrides.<env>.serving` that is a mapping."""
    layers = [spec.get("serving")]
    overrides = spec.get("overrides")
    if hasattr(overrides, "values"):
        layers += [layer.get("serving") for layer in overrides.values() if hasattr(layer, "get")]
    return [layer for layer in layers if hasattr(layer, "get")]


def _version_entries(spec) -> list:
    return [v for layer in _serving_layers(spec) for v in layer.get("versions") or [] if hasattr(v, "get")]


def _all_version_names(spec) -> list[str]:
    return [str(v["name"]) for v in _version_entries(spec) if v.get("name") is not None]


def _version_entry(spec, name: Optional[str]):
    """The entry of the spec that names version `name` (any entry for None), to copy its style."""
    return next((v for v in _version_entries(spec) if name is None or v.get("name") == name), None)


def _error(file: str, node, path: str, message: str, hint: str = "") -> MaestroError:
    """`path` is dotted (names have no dots); the position is the node's, when ruamel.yaml knows it."""
    line = col = None
    if getattr(node, "lc", None) is not None and node.lc.line is not None:
        line, col = node.lc.line + 1, node.lc.col + 1
    return MaestroError([Diagnostic(file, line, col, tuple(path.split(".")), message, hint)])


# ---- files ----------------------------------------------------------------------------------

def refuse_symlinks(root: Path, path: Path) -> None:
    """Refuse `path` when it, or any folder between `root` and it, is a symbolic link, or when it
    lies outside `root`: an edit must land in the project's own file, never where a link points."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise UsageError(f"{path} is outside the project {root}") from None
    if ".." in relative.parts:
        raise UsageError(f"{relative.as_posix()} leaves the project; give a path inside it")
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise UsageError(f"{current.relative_to(root).as_posix()} is a symbolic link; maestro reads and "
                             "writes the project's own files only (replace the link with the file itself)")


def read_real(path: Path) -> bytes:
    """The bytes of `path`, refusing a symbolic link in its last component (O_NOFOLLOW)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def replace_file(path: Path, data: bytes) -> None:
    """Put `data` at `path` atomically: a new temporary file in the same folder (O_CREAT | O_EXCL |
    O_NOFOLLOW, a random name, so a planted file or link at a guessable name is never opened),
    then os.replace. Relative to a descriptor of the folder, so swapping the folder for a link
    meanwhile changes nothing. Keeps the file's permission bits; a failure leaves `path` as it was."""
    folder_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        try:
            mode = stat.S_IMODE(os.stat(path.name, dir_fd=folder_fd, follow_symlinks=False).st_mode)
        except FileNotFoundError:
            mode = 0o644
        temporary = f".{path.name}.{secrets.token_hex(8)}.maestro-tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder_fd)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fchmod(handle.fileno(), mode)
                os.fsync(handle.fileno())
            os.replace(temporary, path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=folder_fd)
            except FileNotFoundError:
                pass
            raise
    finally:
        os.close(folder_fd)
