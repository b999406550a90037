#!/usr/bin/env python3
"""Build the schema bundle Maestro ships (compiler/maestro/schemas/) from the upstream sources.

In: `<shared>/schemas/crd-sources/<group>/*.yaml` (CustomResourceDefinitions as published upstream),
`<shared>/schemas/kubernetes/v1.37.0-standalone-strict/*.json` (built-in kinds, references inlined)
and `<shared>/schemas/licenses/`.
Out: one gzip-compressed, compact JSON Schema per kind, laid out as shared/schemas is
(`crds/<group>/<kind>_<version>.json.gz`, `kubernetes/<version>-standalone-strict/<file>.json.gz`),
an `index.json` naming every kind and the upstream version it comes from, the license texts, and
`packed.json.gz`: all the schemas again, pre-parsed with identical parts stored once, which is what
maestro reads (`maestro.validation.packed`).

CRDs are converted the way kubeconform's openapi2jsonschema.py does it (one schema per served
version's openAPIV3Schema; `additionalProperties: false` on every object node listing `properties`
except the root and combinator branches; `format: int-or-string` as string-or-integer), with the
corrections shared/schemas/README.md lists: `$schema` draft-04, `nullable` honoured, nodes with
`x-kubernetes-preserve-unknown-fields` left open, a field literally named `properties` not mistaken
for the keyword, and the one RE2-only pattern rewritten. Descriptions and other prose are dropped;
every constraint is kept. Output bytes depend only on the sources.

    python3 scripts/build_schema_bundle.py              # ../shared beside the repository
    python3 scripts/build_schema_bundle.py --shared /path/to/shared --check   # exit 1 when stale
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "compiler"))
from maestro.validation import packed  # noqa: E402 (the package this script builds data for)

BUNDLE = REPO / "compiler" / "maestro" / "schemas"
KUBERNETES_FOLDER = "v1.37.0-standalone-strict"
DRAFT_04 = "http://json-schema.org/draft-04/schema#"

# Which upstream release each CRD source file comes from (shared/schemas/PROVENANCE.md).
PROJECTS = (
    # (name, version, group, source file prefixes)
    ("Argo Workflows", "v4.1.2", "argoproj.io", ("argoproj.io_",)),
    ("Argo CD", "v3.5.1", "argoproj.io", ("application-crd", "applicationset-crd", "appproject-crd")),
    ("Seldon Core", "2.10.2", "mlops.seldon.io", ("",)),
    ("Kubeflow Trainer", "v2.3.0", "trainer.kubeflow.org", ("",)),
    ("prometheus-operator", "v0.93.0", "monitoring.coreos.com", ("",)),
    ("External Secrets Operator", "v2.9.0", "external-secrets.io", ("",)),
)
KUBERNETES = ("Kubernetes", "1.37.0")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 18 MB of CRDs in seconds, not minutes

# Keywords that are prose, not constraints.
TEXT_KEYWORDS = frozenset({"description", "title", "example", "examples", "$comment", "externalDocs"})
# Keywords whose value is a map of names to schemas, a schema, or a list of schemas.
SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")
SCHEMA_VALUES = ("additionalProperties", "items", "not", "additionalItems", "contains", "propertyNames",
                 "unevaluatedProperties", "unevaluatedItems", "if", "then", "else")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
# Go's RE2 accepts flags after `^`; Python's re does not (shared/schemas/README.md, "Regex dialect").
PATTERN_FIXES = {"^(?i)(abort|warn)?$": "(?i)^(abort|warn)?$"}


def strip_text(schema: object) -> object:
    """`schema` without prose keywords, walking only schema positions (a field named `description` stays)."""
    if isinstance(schema, list):
        return [strip_text(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in TEXT_KEYWORDS:
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strip_text(sub) for name, sub in value.items()}
        elif key in SCHEMA_VALUES or key in SCHEMA_LISTS:
            out[key] = strip_text(value)
        else:
            out[key] = value
    return out


def crd_schema(open_api: dict) -> dict:
    """One openAPIV3Schema as a standalone draft-04 JSON Schema, kubeconform's way."""
    return {"$schema": DRAFT_04, **_convert(open_api, root=True)}


def _convert(node: object, root: bool = False, in_combinator: bool = False) -> object:
    if isinstance(node, list):
        return [_convert(item, in_combinator=True) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "int-or-string" and not root:
        return {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    out = {}
    for key, value in node.items():
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        elif key in SCHEMA_LISTS:
            out[key] = _convert(value)
        elif key in SCHEMA_VALUES:
            out[key] = _convert(value)
        elif key == "pattern" and value in PATTERN_FIXES:
            out[key] = PATTERN_FIXES[value]
        else:
            out[key] = value
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    opens = out.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in out and not root and not in_combinator and not opens:
        out.setdefault("additionalProperties", False)
    return out


def crd_entries(sources: Path) -> list[dict]:
    """Every served version of every CRD under `sources`, with its schema and upstream release."""
    entries = []
    for path in sorted(sources.glob("*/*.yaml")):
        for crd in yaml.load_all(path.read_text(), Loader=_LOADER):
            if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            project, version = _project(spec["group"], path.name)
            for served in spec.get("versions", []):
                open_api = (served.get("schema") or {}).get("openAPIV3Schema")
                if not served.get("served") or not open_api:
                    continue
                kind = spec["names"]["kind"]
                entries.append({
                    "apiVersion": f"{spec['group']}/{served['name']}", "kind": kind,
                    "file": f"crds/{spec['group']}/{kind.lower()}_{served['name']}.json.gz",
                    "source": f"crd-sources/{path.parent.name}/{path.name}",
                    "project": project, "version": version,
                    "schema": crd_schema(open_api),
                })
    return entries


def _project(group: str, filename: str) -> tuple[str, str]:
    for name, version, project_group, prefixes in PROJECTS:
        if group == project_group and filename.startswith(prefixes):
            return name, version
    raise SystemExit(f"error: {filename}: CRD of group {group} from no known upstream release; add it to PROJECTS")


def builtin_entries(folder: Path) -> list[dict]:
    entries = []
    for path in sorted(folder.glob("*.json")):
        schema = json.loads(path.read_text())
        props = schema.get("properties", {})
        kind = (props.get("kind", {}).get("enum") or [path.stem])[0]
        api_version = (props.get("apiVersion", {}).get("enum") or [""])[0]
        entries.append({
            "apiVersion": api_version, "kind": kind,
            "file": f"kubernetes/{folder.name}/{path.stem}.json.gz",
            "source": f"kubernetes/{folder.name}/{path.name}",
            "project": KUBERNETES[0], "version": KUBERNETES[1],
            "schema": schema,
        })
    return entries


def schema_bytes(schema: dict) -> bytes:
    """The text stored for one schema: prose stripped, compact, deterministic."""
    return json.dumps(strip_text(schema), separators=(",", ":"), ensure_ascii=False).encode()


def build(shared: Path) -> dict[str, bytes]:
    """Bundle-relative path -> contents (uncompressed for .json.gz entries) of the whole bundle."""
    schemas = shared / "schemas"
    entries = crd_entries(schemas / "crd-sources") + builtin_entries(schemas / "kubernetes" / KUBERNETES_FOLDER)
    files = {entry["file"]: schema_bytes(entry["schema"]) for entry in entries}
    targets = {}
    for entry in entries:
        targets.setdefault((entry["project"], entry["version"]), []).append(f"{entry['apiVersion']}/{entry['kind']}")
    index = {
        "targets": [{"project": p, "version": v, "kinds": sorted(k)} for (p, v), k in targets.items()],
        "schemas": [{k: e[k] for k in ("apiVersion", "kind", "file", "source")} for e in entries],
    }
    files["index.json"] = (json.dumps(index, indent=1) + "\n").encode()
    files[packed.FILE] = packed.pack({entry["file"]: json.loads(files[entry["file"]]) for entry in entries})
    for license_file in sorted((schemas / "licenses").iterdir()):
        files[f"licenses/{license_file.name}"] = license_file.read_bytes()
    files["licenses/NOTICE.md"] = NOTICE.encode()
    return files


NOTICE = """\
# Notice: third-party material in this folder

The JSON Schemas here are derived (converted, prose removed) from CustomResourceDefinitions and
OpenAPI definitions published by these projects, under their licenses, whose texts are in licenses/:

- Argo Workflows v4.1.2, Argo CD v3.5.1: Apache License 2.0 (`argoproj.Apache-2.0.LICENSE.txt`).
- prometheus-operator v0.93.0: Apache License 2.0, with its NOTICE (`prometheus-operator.NOTICE.txt`).
- External Secrets Operator v2.9.0, Kubeflow Trainer v2.3.0: Apache License 2.0.
- Kubernetes 1.37 built-in kinds, via the kubernetes-validate package: Apache License 2.0.

**Seldon Core 2.10.2 (`crds/mlops.seldon.io/`) is licensed under the Business Source License 1.1,
not an open-source license.** Licensor: Seldon Technologies Limited. Licensed Work: Seldon Core v2,
(c) January 2024 Seldon Technologies Limited. The license grants the right to copy, modify, create
derivative works, redistribute, and make non-production use of the Licensed Work; production use
beyond its Additional Use Grant needs a commercial license from Seldon. Change Date: four years from
the release date of each version; Change License: Apache License, Version 2.0. The full text is in
`seldon-core-v2.10.2.LICENSE.txt` and applies to every file under `crds/mlops.seldon.io/`.
"""


def write(files: dict[str, bytes], bundle: Path) -> None:
    if bundle.exists():
        shutil.rmtree(bundle)
    for name, data in sorted(files.items()):
        target = bundle / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(data, compresslevel=9, mtime=0) if name.endswith(".gz") else data)


def stale(files: dict[str, bytes], bundle: Path) -> list[str]:
    """Bundle-relative paths that differ from `files`, are missing, or should not be there."""
    present = {p.relative_to(bundle).as_posix(): p for p in bundle.rglob("*") if p.is_file()} if bundle.is_dir() else {}
    differ = [name for name in sorted(set(files) | set(present)) if name not in files or name not in present
              or _stored(present[name]) != files[name]]
    return differ


def _stored(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="the shared/ folder (default: ../shared)")
    parser.add_argument("--out", type=Path, default=BUNDLE, help="bundle folder (default: compiler/maestro/schemas)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 listing what is out of date")
    args = parser.parse_args(argv)
    if not (args.shared / "schemas" / "crd-sources").is_dir():
        print(f"error: {args.shared / 'schemas' / 'crd-sources'} not found; pass --shared", file=sys.stderr)
        return 2
    files = build(args.shared.resolve())
    if args.check:
        differ = stale(files, args.out)
        for name in differ:
            print(f"out of date: {name}")
        return 1 if differ else 0
    write(files, args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {len(files)} files, {size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
