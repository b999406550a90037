"""The schema bundle shipped with maestro: complete, text-free, small, up to date, lazily loaded."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from maestro.validation import packed
from maestro.validation.locations import BUNDLE_DIR

from .conftest import REPO, SHARED

TARGETS = {  # what issue 12 says maestro targets
    "Argo Workflows": "v4.1.2", "Argo CD": "v3.5.1", "Seldon Core": "2.10.2", "Kubeflow Trainer": "v2.3.0",
    "prometheus-operator": "v0.93.0", "External Secrets Operator": "v2.9.0", "Kubernetes": "1.37.0",
}
INDEX = json.loads((BUNDLE_DIR / "index.json").read_text())


def _script():
    spec = importlib.util.spec_from_file_location("build_schema_bundle", REPO / "scripts" / "build_schema_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.corpus
def test_bundle_is_up_to_date_with_its_sources():
    script = _script()
    stale = script.stale(script.build(SHARED), BUNDLE_DIR)
    assert stale == [], f"run `make bundle` (scripts/build_schema_bundle.py): {stale}"


@pytest.mark.corpus
def test_converted_crds_equal_the_reference_conversion_minus_text():
    """shared/schemas/crds/ is the kubeconform-style conversion, descriptions kept: ours is it without them."""
    script = _script()
    for entry in INDEX["schemas"]:
        if not entry["file"].startswith("crds/"):
            continue
        reference = json.loads((SHARED / "schemas" / entry["file"].removesuffix(".gz")).read_text())
        ours = json.loads(gzip.decompress((BUNDLE_DIR / entry["file"]).read_bytes()))
        assert ours == script.strip_text(reference), entry["file"]


@pytest.mark.corpus
def test_every_reference_schema_is_in_the_bundle():
    reference = {e["schema"] for e in json.loads((SHARED / "schemas" / "crds" / "index.json").read_text()) if e["served"]}
    builtins = {f"kubernetes/v1.37.0-standalone-strict/{p.name}"
                for p in (SHARED / "schemas" / "kubernetes" / "v1.37.0-standalone-strict").glob("*.json")}
    shipped = {e["file"].removesuffix(".gz") for e in INDEX["schemas"]}
    assert shipped == {f"crds/{name}" for name in reference} | builtins


def test_targets_name_the_versions_maestro_targets():
    assert {t["project"]: t["version"] for t in INDEX["targets"]} == TARGETS


def test_every_file_in_the_index_exists_and_no_other():
    listed = {e["file"] for e in INDEX["schemas"]}
    present = {p.relative_to(BUNDLE_DIR).as_posix() for p in BUNDLE_DIR.rglob("*.json.gz")} - {packed.FILE}
    assert listed == present and len(listed) == 38


def test_the_packed_table_holds_every_schema_as_its_own_file_does():
    table = packed.unpack(gzip.decompress((BUNDLE_DIR / packed.FILE).read_bytes()))
    assert set(table) == {e["file"] for e in INDEX["schemas"]}
    for name, schema in table.items():
        assert schema == json.loads(gzip.decompress((BUNDLE_DIR / name).read_bytes())), name
    # identical parts are one object: the workflow kinds share their templates' schema
    workflow, cron = table["crds/argoproj.io/workflowtemplate_v1alpha1.json.gz"], table["crds/argoproj.io/cronworkflow_v1alpha1.json.gz"]
    assert workflow["properties"]["spec"]["properties"]["templates"] is \
        cron["properties"]["spec"]["properties"]["workflowSpec"]["properties"]["templates"]
    assert (BUNDLE_DIR / packed.FILE).stat().st_size < 100_000


def test_packing_keeps_every_value_and_refuses_what_it_did_not_write():
    schemas = {"a.json.gz": {"type": "object", "properties": {"n": {"type": "integer", "enum": [1, "1", True, None, 1.5]},
                                                              "m": {"type": "integer", "enum": [1, "1", True, None, 1.5]}},
                             "required": [], "x": [[], {}, [0]]},
               "b.json.gz": {"enum": [0, 1, 2]}}
    assert packed.unpack(packed.pack(schemas)) == schemas
    for bad in (b"{}", b'{"format": "other"}', b"[]"):
        with pytest.raises(ValueError):
            packed.unpack(bad)


def test_only_the_bundles_own_files_are_served_from_the_table(tmp_path):
    copy = tmp_path / "appproject_v1alpha1.json.gz"
    copy.write_bytes((BUNDLE_DIR / "crds/argoproj.io/appproject_v1alpha1.json.gz").read_bytes())
    assert packed.bundled(str(copy)) is None
    assert packed.bundled(str(BUNDLE_DIR / "crds/argoproj.io/appproject_v1alpha1.json.gz"))["type"] == "object"
    assert packed.bundled(str(BUNDLE_DIR / "crds/argoproj.io/nothing.json.gz")) is None


def test_no_prose_is_left_and_constraints_are():
    for path in BUNDLE_DIR.rglob("*.json.gz"):
        text = gzip.decompress(path.read_bytes()).decode()
        # a description keyword has a string value; a field named `description` has a schema object
        assert not re.search(r'"(description|title)":"', text), path
    workflow = gzip.decompress((BUNDLE_DIR / "crds/argoproj.io/workflowtemplate_v1alpha1.json.gz").read_bytes())
    assert b'"additionalProperties":false' in workflow and b'"required":[' in workflow and b'"pattern":' in workflow


def test_bundle_is_small():
    assert sum(p.stat().st_size for p in BUNDLE_DIR.rglob("*") if p.is_file()) < 2_000_000


def test_licenses_travel_with_the_bundle():
    licenses = BUNDLE_DIR / "licenses"
    assert "Business Source License 1.1" in (licenses / "seldon-core-v2.10.2.LICENSE.txt").read_text()
    notice = (licenses / "NOTICE.md").read_text()
    assert "Business Source License 1.1" in notice and "crds/mlops.seldon.io/" in notice
    assert "Apache License" in (licenses / "argoproj.Apache-2.0.LICENSE.txt").read_text()


def test_wheel_carries_the_bundle(tmp_path):
    # offline with the venv's setuptools where it has one (Python < 3.12 venvs do), else pip fetches it
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", *isolation,
                    "--disable-pip-version-check", "-w", str(tmp_path), str(REPO)], check=True, capture_output=True,
                   timeout=600, cwd=tmp_path)
    [wheel] = tmp_path.glob("maestro_mlops_compiler-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = {i.filename: i.compress_size for i in archive.infolist() if i.filename.startswith("maestro/schemas/")}
    expected = {f"maestro/schemas/{p.relative_to(BUNDLE_DIR).as_posix()}" for p in BUNDLE_DIR.rglob("*") if p.is_file()}
    assert set(names) == expected
    assert sum(names.values()) < 2_000_000


def test_loading_is_lazy_per_kind():
    code = ("from maestro.validation import Document, validate_documents\n"
            "from maestro.validation import fetch\n"
            "body = {'apiVersion': 'argoproj.io/v1alpha1', 'kind': 'AppProject', 'metadata': {'name': 'p'}, 'spec': {}}\n"
            "[r] = validate_documents([Document('x', 0, 0, body)])\n"
            "print(r.status, *sorted(k[0].rsplit('/schemas/', 1)[1] for k in fetch._parsed if '/schemas/' in k[0]))\n")
    env = {k: v for k, v in os.environ.items() if k != "MAESTRO_SCHEMA_LOCATION"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["valid", "crds/argoproj.io/appproject_v1alpha1.json.gz"]


def test_version_names_the_targets():
    from click.testing import CliRunner

    from maestro.cli import cli

    for args in (["version"], ["--version"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0
        for project, version in TARGETS.items():
            assert re.search(rf"^  {re.escape(project)} +{re.escape(version)} ", result.output, re.M), (args, project)


def test_fresh_compile_checks_every_document_without_a_warning(tmp_path):
    for folder in ("pipelines", "environments"):
        subprocess.run(["cp", "-r", str(REPO / folder), str(tmp_path / folder)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "MAESTRO_SCHEMA_LOCATION"}
    env["MAESTRO_NO_CACHE"] = "1"
    result = subprocess.run([sys.executable, "-m", "maestro", "compile"], cwd=tmp_path, capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and "written" in result.stdout
