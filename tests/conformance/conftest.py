"""Package fixtures for conformance tests: one real kube-apiserver (with etcd) for all of them, stopped
after the last of them rather than at the end of the whole run.

The binaries come from ../shared/apiserver, unpacked into a temporary folder; without that folder
every test here is skipped with a one-line reason (tests/conftest.py, the `conformance` marker). The server gets every upstream CRD of
../shared/schemas/crd-sources and the `argocd` namespace (where Argo CD itself would be installed),
then each compiled tree is applied once, and the tests read what that run recorded.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.support import REPO, SHARED, copy_examples

from .cluster import start_control_plane, unpack_binaries
from .kube import Kube, Rejected, sync_order

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

APISERVER = (SHARED / "apiserver").resolve()
SCHEMAS = (SHARED / "schemas").resolve()
CRD_SOURCES = SCHEMAS / "crd-sources"
CORPUS = (SHARED / "corpora" / "argo-workflows-examples").resolve()
EDGE_GOLDEN = REPO / "tests" / "compile" / "golden" / "edge"


@pytest.fixture(scope="package")
def binaries(tmp_path_factory) -> dict[str, Path]:
    return unpack_binaries(APISERVER, tmp_path_factory.mktemp("conformance-bin"))


@pytest.fixture(scope="package")
def kube(binaries, tmp_path_factory):
    """An admin client of a fresh control plane; both processes are stopped by PID at the end."""
    plane = start_control_plane(binaries, tmp_path_factory.mktemp("conformance-plane"))
    try:
        api = plane.api_client()
        try:
            yield Kube(api)
        finally:
            api.close()
    finally:
        plane.stop()


@pytest.fixture(scope="package")
def established_crds(kube: Kube) -> dict[str, bool]:
    """Every upstream CRD installed; CRD name -> Established."""
    def create(source: Path) -> dict:
        # Sent as the YAML it is: the server parses it faster than Python would (tens of MB in all).
        return kube.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                            source.read_bytes(), content_type="application/yaml")

    # Two at a time: the server's work per CRD overlaps the transfer of the next.
    with ThreadPoolExecutor(max_workers=2) as pool:
        created = list(pool.map(create, sorted(CRD_SOURCES.rglob("*.yaml"))))
    established = kube.wait_established(created)
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}})
    return established


# -- compiled trees ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Manifest:
    source: str            # tree-relative path, with the document index when a file holds several
    body: dict

    @property
    def key(self) -> tuple:
        m = self.body["metadata"]
        return (self.body["apiVersion"], self.body["kind"], m.get("namespace", ""), m["name"])


def manifests_of(root: Path) -> list[Manifest]:
    """Every object under `root`, in Argo CD's sync order; patches and READMEs are not objects."""
    found = []
    for path in sorted(root.rglob("*.yaml")):
        if path.name.endswith(".patch.yaml"):
            continue
        documents = [d for d in yaml.load_all(path.read_text(), Loader=SafeLoader) if d]
        for index, body in enumerate(documents):
            name = path.relative_to(root).as_posix() + (f"#{index}" if len(documents) > 1 else "")
            found.append(Manifest(name, body))
    return sorted(found, key=lambda m: sync_order(m.body))


@pytest.fixture(scope="package")
def compiled_trees(tmp_path_factory) -> dict[str, Path]:
    """tree name -> folder: the example project compiled into a temporary copy, and the edge golden tree."""
    from maestro.compile import compile_project

    project = copy_examples(tmp_path_factory.mktemp("conformance-examples"))
    gitops = project / "gitops"
    for relative, data in compile_project(project, validate=False).tree.files.items():
        (gitops / relative).parent.mkdir(parents=True, exist_ok=True)
        (gitops / relative).write_bytes(data)
    edge = tmp_path_factory.mktemp("conformance-edge") / "gitops"
    shutil.copytree(EDGE_GOLDEN, edge)
    return {"examples": gitops, "edge": edge}


# -- one apply run per tree ----------------------------------------------------------------------
@dataclass
class ApplyRun:
    manifests: list[Manifest]
    dry_run_rejections: list[tuple[str, str]] = field(default_factory=list)
    apply_rejections: list[tuple[str, str]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)                 # sources in the order applied
    first_versions: dict[tuple, str] = field(default_factory=dict)
    second_versions: dict[tuple, str] = field(default_factory=dict)
    read_back: dict[tuple, dict] = field(default_factory=dict)


def apply_tree(kube: Kube, manifests: list[Manifest]) -> ApplyRun:
    """Dry-run every object, apply them for real in sync order, apply again, read each back.

    Namespaces are dry-run and applied first: a dry run of a namespaced object needs its namespace.
    """
    run = ApplyRun(manifests)
    namespaces = [m for m in manifests if m.body["kind"] == "Namespace"]
    others = [m for m in manifests if m.body["kind"] != "Namespace"]

    def attempt(manifest: Manifest, dry_run: bool) -> dict | None:
        try:
            return kube.apply(manifest.body, dry_run=dry_run)
        except Rejected as rejection:
            (run.dry_run_rejections if dry_run else run.apply_rejections).append((manifest.source, str(rejection)))
            return None

    def apply_for_real(batch: list[Manifest], versions: dict[tuple, str], record_order: bool) -> None:
        for manifest in batch:
            answer = attempt(manifest, dry_run=False)
            if answer is not None:
                versions[manifest.key] = answer["metadata"]["resourceVersion"]
            if record_order:
                run.order.append(manifest.source)

    for manifest in namespaces:
        attempt(manifest, dry_run=True)
    apply_for_real(namespaces, run.first_versions, record_order=True)
    for manifest in others:
        attempt(manifest, dry_run=True)
    apply_for_real(others, run.first_versions, record_order=True)
    apply_for_real(manifests, run.second_versions, record_order=False)
    for manifest in manifests:
        try:
            run.read_back[manifest.key] = kube.get(manifest.body)
        except Rejected:
            pass
    return run


@pytest.fixture(scope="package")
def applied(kube: Kube, established_crds, compiled_trees):
    """tree name -> its ApplyRun, computed once per session on first use."""
    runs: dict[str, ApplyRun] = {}

    def run_of(tree: str) -> ApplyRun:
        if tree not in runs:
            runs[tree] = apply_tree(kube, manifests_of(compiled_trees[tree]))
        return runs[tree]

    return run_of
