"""Emit the artifact store wiring of a namespace: Argo's artifact repository and the credentials.

In: the environment's `artifacts` settings and one namespace. Out: the `artifact-repositories`
ConfigMap (Argo's convention) and, when `artifacts.external_secret` is set, ExternalSecrets from
the same store key: the S3 Secret (`accessKey`/`secretKey`) for Argo, and, where models are served,
the rclone-format Secret that Seldon's agents read through `Model.spec.secretName`. The store key
is per namespace (`{team}`, `{env}`), so one team's credentials are not another's. Only Argo's
executor (the init and wait containers) and Seldon's agents read these Secrets; no step container
does. A Secret with values is never emitted.
"""

from __future__ import annotations

import functools
import json

import yaml

from .. import names
from ..ir import ArtifactStore
from .objects import NamespacePlan, metadata, resource

ESO_API = "external-secrets.io/v1"
RCLONE_REMOTE = "s3"          # must equal the scheme of Model.spec.storageUri (s3://...)
ARTIFACT_KEY_FORMAT = "artifacts/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}"
REFRESH = "1h"


def artifact_repositories(ns: NamespacePlan, artifacts: ArtifactStore) -> dict:
    meta = metadata("ConfigMap", names.ARTIFACT_REPOSITORIES, ns.labels, ns.name,
                    {"workflows.argoproj.io/default-artifact-repository": names.ARTIFACT_REPOSITORY_KEY})
    return resource("v1", "ConfigMap", meta, data={names.ARTIFACT_REPOSITORY_KEY: repository_text(artifacts)})


@functools.lru_cache(maxsize=64)
def repository_text(artifacts: ArtifactStore) -> str:
    """The repository as Argo reads it: the same in every namespace of an environment, so dumped once."""
    return yaml.safe_dump({"s3": _s3_repository(artifacts)}, sort_keys=True, default_flow_style=False)


def _s3_repository(a: ArtifactStore) -> dict:
    return {
        "bucket": a.bucket, "endpoint": a.endpoint, "region": a.region, "insecure": a.insecure,
        # Models live under models/<team>/ (the publish step), trial registries under trials/<team>/;
        # keep workflow artifacts apart from both.
        "keyFormat": ARTIFACT_KEY_FORMAT,
        "accessKeySecret": {"name": a.credentials_secret, "key": "accessKey"},
        "secretKeySecret": {"name": a.credentials_secret, "key": "secretKey"},
    }


def external_secrets(ns: NamespacePlan, artifacts: ArtifactStore) -> list[dict]:
    if artifacts.external_secret is None:
        return []
    # Only Seldon's agents read the rclone form, and they run only where models are served.
    return [_s3_credentials(ns, artifacts)] + ([_rclone_credentials(ns, artifacts)] if ns.served else [])


def _s3_credentials(ns: NamespacePlan, a: ArtifactStore) -> dict:
    target = {"name": a.credentials_secret, "creationPolicy": "Owner"}
    return _external_secret(ns, a, a.credentials_secret, target)


def _rclone_credentials(ns: NamespacePlan, a: ArtifactStore) -> dict:
    name = names.seldon_storage_secret(a.credentials_secret)
    # Seldon wants exactly one data key holding the whole rclone config, so only the template's
    # key is kept; toJson escapes whatever characters the keys contain.
    template = {"engineVersion": "v2", "type": "Opaque", "data": {RCLONE_REMOTE: rclone_template(a)}}
    target = {"name": name, "creationPolicy": "Owner", "template": template}
    return _external_secret(ns, a, name, target)


def store_key(ns: NamespacePlan, a: ArtifactStore) -> str:
    """The external store key of one namespace's credentials: `{team}` and `{env}` filled in, so each
    team reads its own keys. The environment model refuses `{team}` where teams share a namespace."""
    key = a.external_secret.key.replace("{env}", ns.env)
    return key.replace("{team}", ns.teams[0].team) if "{team}" in key else key


def _external_secret(ns: NamespacePlan, a: ArtifactStore, name: str, target: dict) -> dict:
    ref, key_path = a.external_secret, store_key(ns, a)
    data = [{"secretKey": key, "remoteRef": {"key": key_path, "property": key}}
            for key in ("accessKey", "secretKey")]
    spec = {"refreshInterval": REFRESH, "secretStoreRef": {"name": ref.store, "kind": ref.store_kind},
            "target": target, "data": data}
    return resource(ESO_API, "ExternalSecret", metadata("ExternalSecret", name, ns.labels, ns.name), spec=spec)


def rclone_parameters(a: ArtifactStore) -> dict:
    """The rclone `s3` remote for the artifact store, without the two keys."""
    scheme = "http" if a.insecure else "https"
    aws = a.endpoint.split(":")[0].endswith("amazonaws.com")
    return {"provider": "AWS" if aws else "Other", "env_auth": "false",
            "endpoint": f"{scheme}://{a.endpoint}", "region": a.region}


def rclone_config(a: ArtifactStore, access_key: str, secret_key: str) -> str:
    """The rclone config as Seldon parses it (JSON first, then YAML): one remote named `s3`."""
    params = {**rclone_parameters(a), "access_key_id": access_key, "secret_access_key": secret_key}
    return json.dumps({"name": RCLONE_REMOTE, "type": "s3", "parameters": params}, sort_keys=True)


def rclone_template(a: ArtifactStore) -> str:
    """`rclone_config` with External Secrets template expressions in place of the keys."""
    marker_a, marker_s = "@@ACCESS@@", "@@SECRET@@"
    text = rclone_config(a, marker_a, marker_s)
    return (text.replace(f'"{marker_a}"', "{{ .accessKey | toJson }}")
                .replace(f'"{marker_s}"', "{{ .secretKey | toJson }}"))
