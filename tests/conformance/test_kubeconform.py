"""`maestro validate --strict` against the real kubeconform, file by file, the API server as referee.

Both run over the compiled trees (examples and edge) and the Argo Workflows examples corpus with the
schemas of ../shared/schemas. A file is `accepted` when each of its documents is valid (or skipped),
else `rejected`. Where the two disagree, the disagreement must be listed below with the verdict of a
real kube-apiserver, and Maestro must agree with the server; any other disagreement fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .conftest import CORPUS, SCHEMAS, SafeLoader
from .kube import Kube, Rejected

pytestmark = [pytest.mark.conformance, pytest.mark.corpus]

ACCEPTED, REJECTED = "accepted", "rejected"


@dataclass(frozen=True)
class Disagreement:
    kubeconform: str
    maestro: str
    server: str
    why: str


# file (corpus-relative, or <tree>/<path>) -> the known disagreement, refereed by the API server.
KNOWN_DISAGREEMENTS = {
    "corpus/fun-with-gifs.yaml": Disagreement(
        ACCEPTED, REJECTED, REJECTED,
        "`generateName` sits under metadata.labels, so the Workflow has neither name nor generateName, and "
        "the label value 'fun-with-gifs-' ends in '-'; kubeconform checks no metadata rules"),
    "corpus/k8s-jobs.yaml": Disagreement(
        ACCEPTED, REJECTED, REJECTED,
        "the Workflow has neither metadata.name nor metadata.generateName; kubeconform checks no metadata rules"),
    **{f"{tree}/bootstrap/argocd-cm-seldon-health.patch.yaml": Disagreement(
        REJECTED, ACCEPTED, ACCEPTED,
        "Maestro's own argocd-cm merge patch has no apiVersion or kind: kubeconform cannot tell what it is, "
        "maestro validate recognises it by its header and checks it as the ConfigMap it patches; the server "
        "applies it as a merge patch (test_apiserver.py)") for tree in ("edge", "examples")},
}


@pytest.fixture(scope="package")
def inputs(compiled_trees) -> dict[str, Path]:
    """label -> folder, for every tree both validators read."""
    return {"corpus": CORPUS, **compiled_trees}


def label_of(filename: str, inputs: dict[str, Path]) -> str:
    path = Path(filename).resolve()
    for label, root in inputs.items():
        if path.is_relative_to(root.resolve()):
            return f"{label}/{path.relative_to(root.resolve()).as_posix()}"
    raise AssertionError(f"{filename} is under none of the inputs")


def file_verdicts(resources: list[dict], status_key: str, good: set[str], inputs: dict[str, Path]) -> dict[str, str]:
    verdicts: dict[str, str] = {}
    for resource in resources:
        label = label_of(resource["filename"], inputs)
        ok = resource[status_key] in good and verdicts.get(label, ACCEPTED) == ACCEPTED
        verdicts[label] = ACCEPTED if ok else REJECTED
    return verdicts


@pytest.fixture(scope="package")
def kubeconform_verdicts(binaries, inputs) -> dict[str, str]:
    answer = subprocess.run([
        str(binaries["kubeconform"]), "-strict", "-summary", "-output", "json", "-verbose",
        "-kubernetes-version", "1.37.0",
        "-schema-location", str(SCHEMAS / "kubernetes"),
        "-schema-location", str(SCHEMAS / "crds") + "/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json",
        *map(str, inputs.values()),
    ], capture_output=True, text=True, timeout=300)
    assert answer.returncode in (0, 1), answer.stderr
    report = json.loads(answer.stdout)
    assert sum(report["summary"].values()) == len(report["resources"]) > 300
    return file_verdicts(report["resources"], "status", {"statusValid", "statusSkipped", "statusEmpty"}, inputs)


@pytest.fixture(scope="package")
def maestro_verdicts(inputs) -> dict[str, str]:
    answer = subprocess.run([sys.executable, "-m", "maestro", "validate", "--strict", "-s", str(SCHEMAS),
                             "-o", "json", "--verbose", *map(str, inputs.values())], capture_output=True, text=True,
                            timeout=300)
    assert answer.returncode in (0, 1), answer.stderr
    report = json.loads(answer.stdout)
    return file_verdicts(report["resources"], "status", {"statusValid", "statusSkipped"}, inputs)


def test_maestro_and_kubeconform_agree_file_by_file_but_for_the_known_cases(kubeconform_verdicts, maestro_verdicts) -> None:
    assert sorted(kubeconform_verdicts) == sorted(maestro_verdicts)
    assert len([label for label in maestro_verdicts if label.startswith("corpus/")]) > 200
    disagreements = {label: (kubeconform_verdicts[label], maestro_verdicts[label])
                     for label in maestro_verdicts if kubeconform_verdicts[label] != maestro_verdicts[label]}
    assert disagreements == {label: (d.kubeconform, d.maestro) for label, d in KNOWN_DISAGREEMENTS.items()}


def raw_documents(path: Path) -> list[str]:
    """The non-empty YAML documents of a file, as text (the server, not Python, should parse them)."""
    return [part for part in re.split(r"(?m)^---[ \t]*$", path.read_text()) if yaml.load(part, Loader=SafeLoader)]


def server_verdict(kube: Kube, path: Path) -> str:
    """Dry-run create of each document, as the YAML it is, into `default` (the corpus names no namespace)."""
    for text in raw_documents(path):
        body = yaml.load(text, Loader=SafeLoader)
        addressable = {**body, "metadata": {**(body.get("metadata") or {}), "name": "x", "namespace": "default"}}
        collection = kube.path_of(addressable).rsplit("/", 1)[0]
        try:
            kube.request("POST", collection, text.encode(), "application/yaml",
                         [("dryRun", "All"), ("fieldValidation", "Strict")])
        except Rejected:
            return REJECTED
    return ACCEPTED


def test_the_api_server_referees_the_corpus_as_maestro_does(kube: Kube, established_crds, maestro_verdicts) -> None:
    """Every corpus file, dry-run created on the real server: its verdict is Maestro's."""
    server = {f"corpus/{p.relative_to(CORPUS).as_posix()}": server_verdict(kube, p) for p in sorted(CORPUS.rglob("*.yaml"))}
    known = {label: d.server for label, d in KNOWN_DISAGREEMENTS.items() if label.startswith("corpus/")}
    assert known == {label: server[label] for label in known}
    assert {label: (verdict, maestro_verdicts[label]) for label, verdict in server.items()
            if verdict != maestro_verdicts[label]} == {}
    assert list(server.values()).count(REJECTED) >= len(known)
