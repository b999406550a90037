"""Stage 3c, object metadata: the ObjectMeta rules the API server applies to every object.

In: a document body (and, for custom resources, the ObjectMeta schema of the
chosen Kubernetes version, since CRD schemas describe `metadata` only as an object).
Out: `Diagnostic`s about fields of `metadata`, not located yet: name or generateName
present and well-formed (DNS-1123 subdomain; DNS-1123 label for Namespace;
DNS-1035 label for Service and TrainJob; path segment for RBAC kinds), namespace a DNS-1123
label, label keys and values and annotation keys well-formed, annotations at most
256 KiB in total.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Any, Iterator

from ..errors import Diagnostic
from ..names import RFC1123_LABEL
from .compiled import CompiledSchema, compiled_schema, schema_findings
from .fetch import fetch_schema
from .locations import Candidate

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = RFC1123_LABEL
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
ANNOTATIONS_MAX_BYTES = 256 * 1024
_RBAC = "rbac.authorization.k8s.io"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"



def dns1123_subdomain(value: str) -> str:
    if len(value) > 253:
        return "must be no more than 253 characters"
    return "" if _SUBDOMAIN.match(value) else "must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"


def dns1123_label(value: str) -> str:
    if len(value) > 63:
        return "must be no more than 63 characters"
    return "" if _LABEL.match(value) else "must be a lowercase RFC 1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit"


def dns1035_label(value: str) -> str:
    if len(value) > 63:
        return "must be no more than 63 characters"
    return "" if _DNS1035.match(value) else "must be an RFC 1035 label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"


def path_segment(value: str) -> str:
    if value in (".", ".."):
        return f"may not be {value!r}"
    return "may not contain '/' or '%'" if ("/" in value or "%" in value) else ""


# A TrainJob's CEL rules: an RFC 1035 label (JobSet names its headless Service after it).
_NAME_RULES = {("", "Namespace"): dns1123_label, ("", "Service"): dns1035_label,
               ("trainer.kubeflow.org", "TrainJob"): dns1035_label}
_NAME_RULES.update({(_RBAC, kind): path_segment for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")})


def metadata_problems(body: dict) -> Iterator[Diagnostic]:
    """Every ObjectMeta problem of `body`."""
    meta = body.get("metadata")
    if meta is None:
        yield Diagnostic.about(("metadata",), "missing required field \"metadata\" (metadata.name or metadata.generateName is required)")
        return
    if not isinstance(meta, dict):
        return  # a type error, reported by the schema
    rule = _NAME_RULES.get((_group(body), body.get("kind")), dns1123_subdomain)
    yield from _name_problems(meta, rule)
    yield from _namespace_problems(meta)
    yield from _label_problems(meta.get("labels"))
    yield from _annotation_problems(meta.get("annotations"))


def _group(body: dict) -> str:
    api_version = body.get("apiVersion")
    return api_version.split("/")[0] if isinstance(api_version, str) and "/" in api_version else ""


def _name_problems(meta: dict, rule: Any) -> Iterator[Diagnostic]:
    name, generate = meta.get("name"), meta.get("generateName")
    if not name and not generate:
        yield Diagnostic.about(("metadata", "name"), "metadata.name or metadata.generateName is required")
    if isinstance(name, str) and name and (problem := rule(name)):
        yield Diagnostic.about(("metadata", "name"), f"invalid name {name!r}: {problem}")
    if isinstance(generate, str) and generate and not name and (problem := rule(_mask_trailing_dash(generate))):
        yield Diagnostic.about(("metadata", "generateName"), f"invalid generateName {generate!r}: {problem}")


def _mask_trailing_dash(prefix: str) -> str:
    """As the API server checks a generateName prefix: a trailing '-' stands for more characters."""
    return prefix[:-1] + "a" if len(prefix) > 1 and prefix.endswith("-") else prefix


def _namespace_problems(meta: dict) -> Iterator[Diagnostic]:
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace and (problem := dns1123_label(namespace)):
        yield Diagnostic.about(("metadata", "namespace"), f"invalid namespace {namespace!r}: {problem}")


# Label and annotation keys and values repeat across nearly every object of a compile: each distinct
# text is checked once (the answers depend on the text alone).
@functools.lru_cache(maxsize=8192)
def qualified_name(key: str) -> str:
    """Problems with a label or annotation key (`[prefix/]name`), or an empty string."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return "prefix part must be non-empty"
    if prefix and (problem := dns1123_subdomain(prefix)):
        return f"prefix part {problem}"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    return "" if _QUALIFIED_NAME.match(name) else "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"


@functools.lru_cache(maxsize=8192)
def label_value(value: str) -> str:
    if len(value) > 63:
        return "must be no more than 63 characters"
    return "" if _LABEL_VALUE.match(value) else "must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"


def _label_problems(labels: Any) -> Iterator[Diagnostic]:
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        if problem := qualified_name(str(key)):
            yield Diagnostic.about(("metadata", "labels", key), f"invalid label key {key!r}: {problem}")
        if isinstance(value, str) and (problem := label_value(value)):
            yield Diagnostic.about(("metadata", "labels", key), f"invalid label value {value!r}: {problem}")


def _annotation_problems(annotations: Any) -> Iterator[Diagnostic]:
    if not isinstance(annotations, dict):
        return
    for key in annotations:
        if problem := qualified_name(str(key)):
            yield Diagnostic.about(("metadata", "annotations", key), f"invalid annotation key {key!r}: {problem}")
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items() if v is not None)
    if size > ANNOTATIONS_MAX_BYTES:
        yield Diagnostic.about(("metadata", "annotations"), f"annotations are {size} bytes; they must be no more than {ANNOTATIONS_MAX_BYTES} bytes in total")


_meta_schemas: dict[str, dict] = {}


def object_meta_schema(definitions: str) -> CompiledSchema:
    """ObjectMeta alone, from a bundled `_definitions.json`, compiled once."""
    if definitions not in _meta_schemas:
        contents = fetch_schema(Candidate(definitions)) or {}
        base = contents.get("$id", "https://kubernetes.io/api/_definitions.json")
        _meta_schemas[definitions] = {"$schema": contents.get("$schema"), "$ref": f"{base}#/$defs/{OBJECT_META}"}
    return compiled_schema(Candidate(f"{definitions}#{OBJECT_META}", definitions), _meta_schemas[definitions])


def object_meta_problems(meta: dict, definitions: str) -> list[Diagnostic]:
    """Type and unknown-field problems of a custom resource's metadata, as for a built-in kind."""
    return [replace(problem, path=("metadata",) + problem.path)
            for problem in schema_findings(object_meta_schema(definitions), meta)]
