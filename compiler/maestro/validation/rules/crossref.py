"""Rules, cross-object references of Argo workflows to core objects.

In: a Workflow, WorkflowTemplate or CronWorkflow body and the `Corpus`.
Out: `Diagnostic`s about paths of the body, each checked only when the workflow names its
namespace explicitly and that namespace has objects of the referenced kind in the set
(objects without a namespace get theirs at apply time, perhaps different ones):
* `serviceAccountName` (workflow-level, executor, per template) names a ServiceAccount;
* `synchronization.semaphores[].configMapKeyRef` (workflow- and template-level)
  names a ConfigMap holding that key;
* `artifactRepositoryRef` names a ConfigMap (default `artifact-repositories`)
  holding its key (default: the key named by the ConfigMap's annotation
  `workflows.argoproj.io/default-artifact-repository`).
"""

from __future__ import annotations

from typing import Iterator

from ...errors import Diagnostic
from .argo import workflow_spec
from .corpus import CORE, Corpus, items, mapping, namespace_of, text, where

DEFAULT_ARTIFACT_CONFIGMAP = "artifact-repositories"
DEFAULT_REPOSITORY_ANNOTATION = "workflows.argoproj.io/default-artifact-repository"




def service_accounts(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    namespace = namespace_of(body)
    if not namespace or not corpus.has_any(CORE, "ServiceAccount", namespace):
        return
    for path, name in _service_account_sites(*workflow_spec(body)):
        if corpus.named(CORE, "ServiceAccount", namespace, name) is None:
            yield Diagnostic.about(path, f"ServiceAccount {name!r} is not in {where(namespace)}")


def _service_account_sites(spec: dict, base: tuple) -> Iterator[tuple[tuple, str]]:
    owners = [(spec, base)] + [(mapping(t), base + ("templates", i)) for i, t in enumerate(items(spec.get("templates")))]
    for owner, path in owners:
        if text(owner.get("serviceAccountName")):
            yield path + ("serviceAccountName",), owner["serviceAccountName"]
        executor = mapping(owner.get("executor"))
        if text(executor.get("serviceAccountName")):
            yield path + ("executor", "serviceAccountName"), executor["serviceAccountName"]


def _configmap_keys(configmap: dict) -> set[str]:
    return set(mapping(configmap.get("data"))) | set(mapping(configmap.get("binaryData")))


def semaphores(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    namespace = namespace_of(body)
    if not namespace or not corpus.has_any(CORE, "ConfigMap", namespace):
        return
    for path, ref in _semaphore_sites(*workflow_spec(body)):
        yield from _configmap_key(corpus, namespace, path, text(ref.get("name")), text(ref.get("key")))


def _semaphore_sites(spec: dict, base: tuple) -> Iterator[tuple[tuple, dict]]:
    owners = [(spec, base)] + [(mapping(t), base + ("templates", i)) for i, t in enumerate(items(spec.get("templates")))]
    for owner, path in owners:
        sync = mapping(owner.get("synchronization"))
        for k, semaphore in enumerate(items(sync.get("semaphores"))):
            if "configMapKeyRef" in mapping(semaphore):
                yield path + ("synchronization", "semaphores", k, "configMapKeyRef"), mapping(semaphore["configMapKeyRef"])
        if "configMapKeyRef" in mapping(sync.get("semaphore")):
            yield path + ("synchronization", "semaphore", "configMapKeyRef"), mapping(sync["semaphore"]["configMapKeyRef"])


def _configmap_key(corpus: Corpus, namespace: str, path: tuple, name: str, key: str) -> Iterator[Diagnostic]:
    configmap = corpus.named(CORE, "ConfigMap", namespace, name)
    if configmap is None:
        yield Diagnostic.about(path + ("name",), f"ConfigMap {name!r} is not in {where(namespace)}")
    else:
        yield from _key_problem(configmap, name, key, path + ("key",))


def _key_problem(configmap: dict, name: str, key: str, path: tuple) -> Iterator[Diagnostic]:
    keys = _configmap_keys(configmap)
    if key not in keys:
        yield Diagnostic.about(path, f"ConfigMap {name!r} has no key {key!r} (keys: {', '.join(sorted(keys)) or 'none'})")


def artifact_repository(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    namespace = namespace_of(body)
    spec, base = workflow_spec(body)
    if not namespace or "artifactRepositoryRef" not in spec or not corpus.has_any(CORE, "ConfigMap", namespace):
        return
    ref, path = mapping(spec["artifactRepositoryRef"]), base + ("artifactRepositoryRef",)
    name = text(ref.get("configMap")) or DEFAULT_ARTIFACT_CONFIGMAP
    configmap = corpus.named(CORE, "ConfigMap", namespace, name)
    if configmap is None:
        yield Diagnostic.about(path + ("configMap",), f"ConfigMap {name!r} is not in {where(namespace)}")
        return
    key = text(ref.get("key")) or _default_key(configmap)
    if not key:
        yield Diagnostic.about(path, f"no key given and ConfigMap {name!r} has no annotation {DEFAULT_REPOSITORY_ANNOTATION!r} naming a default")
    else:
        yield from _key_problem(configmap, name, key, path + ("key",))


def _default_key(configmap: dict) -> str:
    annotations = mapping(mapping(configmap.get("metadata")).get("annotations"))
    return text(annotations.get(DEFAULT_REPOSITORY_ANNOTATION))
