"""Offline schema lookup and validation, as shared/schemas/README.md describes it, on the shipped bundle.

Independent of maestro.validation on purpose: plain jsonschema on the bundle's files.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from pathlib import Path

import jsonschema

from .conftest import SCHEMAS

K8S = SCHEMAS / "kubernetes" / "v1.37.0-standalone-strict"
GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("duration")
def _duration(value) -> bool:
    return not isinstance(value, str) or bool(GO_DURATION.match(value) or ISO_DURATION.match(value))


def schema_file(api_version: str, kind: str) -> Path | None:
    group, _, version = api_version.rpartition("/")
    crd = SCHEMAS / "crds" / group / f"{kind.lower()}_{version}.json.gz"
    suffix = f"-{group.split('.')[0]}" if group else ""
    builtin = K8S / f"{kind.lower()}{suffix}-{version}.json.gz"
    return next((p for p in (crd, builtin) if p.exists()), None)


@lru_cache(maxsize=None)
def _validator(path: Path):
    schema = _load(path)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
    return cls(schema, format_checker=FORMATS)


@lru_cache(maxsize=None)
def _metadata_validator():
    # CRD schemas say only `metadata: object`; check names, labels and annotations like ObjectMeta.
    schema = _load(K8S / "configmap-v1.json.gz")
    meta = dict(schema["properties"]["metadata"])
    cls = jsonschema.validators.validator_for(schema)
    return cls({**meta, "$schema": schema.get("$schema")})


def _load(path: Path) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))


def errors(body: dict) -> list[str]:
    path = schema_file(body.get("apiVersion", ""), body.get("kind", ""))
    if path is None:
        return [f"no schema for {body.get('apiVersion')}/{body.get('kind')}"]
    found = list(_validator(path).iter_errors(body)) + list(_metadata_validator().iter_errors(body["metadata"]))
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in found)
