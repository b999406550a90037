"""Schema locations: templates, directories, URLs with a cache, the environment, versions, skip/reject."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from maestro.errors import UsageError
from maestro.validation import schema_locations_from_env
from maestro.validation.templates import TemplateError, parse_template, template_values
from maestro.validation.model import json_path

from .conftest import SCHEMAS, fixture_bodies, run_cli, validate_bodies, validate_text

TEMPLATE_VALUES = [
    # id, apiVersion, kind, version, strict, template, expected
    ("crd-catalog", "argoproj.io/v1alpha1", "CronWorkflow", "1.37.0", True,
     "s/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json", "s/argoproj.io/cronworkflow_v1alpha1.json"),
    ("kubeconform-default", "apps/v1", "Deployment", "1.37.0", True,
     "k/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json",
     "k/v1.37.0-standalone-strict/deployment-apps-v1.json"),
    ("core-group", "v1", "ConfigMap", "1.30.0", False, "{{.Group}}/{{.ResourceKind}}{{.KindSuffix}}{{.StrictSuffix}}",
     "v1/configmap-v1"),
    ("first-label-only", "networking.k8s.io/v1", "NetworkPolicy", "1.37.0", True, "{{.ResourceKind}}{{.KindSuffix}}",
     "networkpolicy-networking-v1"),
    ("master", "v1", "Pod", "master", True, "{{.NormalizedKubernetesVersion}}", "master"),
    ("trim-markers", "v1", "Pod", "1.37.0", True, "a {{- .ResourceKind -}} b", "apodb"),
    ("no-actions", "v1", "Pod", "1.37.0", True, "plain.json", "plain.json"),
]


@pytest.mark.parametrize("api_version, kind, version, strict, text, expected", [t[1:] for t in TEMPLATE_VALUES],
                         ids=[t[0] for t in TEMPLATE_VALUES])
def test_template_renders_like_kubeconform(api_version, kind, version, strict, text, expected):
    assert parse_template(text).render(template_values(api_version, kind, version, strict)) == expected


BAD_TEMPLATES = [
    ("unknown-field", "s/{{.Kind}}.json", "unknown field '.Kind'"),
    ("unclosed", "s/{{.Group/x.json", "unclosed action"),
    ("function", "s/{{ printf \"%s\" .Group }}.json", "unsupported action"),
    ("pipeline", "s/{{.Group | lower}}.json", "unsupported action"),
    ("empty", "s/{{}}.json", "unsupported action"),
]


@pytest.mark.parametrize("text, words", [b[1:] for b in BAD_TEMPLATES], ids=[b[0] for b in BAD_TEMPLATES])
def test_bad_template_is_rejected(text, words):
    with pytest.raises(TemplateError, match=words):
        parse_template(text)


@pytest.mark.parametrize("text", [b[1] for b in BAD_TEMPLATES], ids=[b[0] for b in BAD_TEMPLATES])
def test_bad_template_exits_2_before_reading_anything(text):
    result = run_cli("--schema-location", text, "-", input="this is: [not read")
    assert result.exit_code == 2
    assert "schema location template" in result.stderr and result.stdout == ""


def test_bad_template_from_environment_names_the_variable():
    result = run_cli("-", input="", env={"MAESTRO_SCHEMA_LOCATION": "x/{{.Nope}}.json"})
    assert result.exit_code == 2 and "MAESTRO_SCHEMA_LOCATION" in result.stderr


def test_bad_template_in_library_is_a_usage_error():
    from maestro.validation import validate_documents

    with pytest.raises(UsageError, match="unknown field"):
        validate_documents([], schema_locations=["{{.Bad}}.json"])


def test_environment_variable_is_comma_separated(monkeypatch):
    monkeypatch.setenv("MAESTRO_SCHEMA_LOCATION", " ../shared/schemas , https://example.test/{{.Group}}.json,, ")
    assert schema_locations_from_env() == ["../shared/schemas", "https://example.test/{{.Group}}.json"]


def test_environment_variable_used_when_no_flag_given(tmp_path):
    experiment = str(Path(__file__).parent / "fixtures" / "seldon.yaml")
    assert run_cli(experiment).exit_code == 0  # the shipped bundle: no set-up needed
    assert run_cli("-s", "default", experiment).exit_code == 1  # kubernetes-validate's built-ins only
    # the environment's location comes first: a Seldon schema that refuses everything there wins
    refusing = tmp_path / "seldon"
    refusing.mkdir()
    for kind in ("model", "experiment", "pipeline"):
        (refusing / f"{kind}_v1alpha1.json").write_text('{"not": {}}')
    location = str(refusing) + "/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    assert run_cli(experiment, env={"MAESTRO_SCHEMA_LOCATION": location}).exit_code == 1
    # a flag replaces the environment
    assert run_cli("-s", "bundle", experiment, env={"MAESTRO_SCHEMA_LOCATION": location}).exit_code == 0


def test_bundle_is_tried_before_kubernetes_validate_and_after_given_locations():
    from maestro.validation.locations import BUNDLE_DIR, LayoutLocation, BuiltinLocation, build_locations

    locations = build_locations(["/nonexistent/{{.ResourceKind}}.json"], "1.37.0", True)
    assert [type(loc).__name__ for loc in locations] == ["TemplateLocation", "LayoutLocation", "BuiltinLocation"]
    assert locations[1].root == BUNDLE_DIR
    assert [type(loc) for loc in build_locations(["default"], "1.37.0", True)] == [BuiltinLocation]
    assert [type(loc) for loc in build_locations(["bundle"], "1.37.0", True)] == [LayoutLocation]


def _strict_configmap_schema() -> dict:
    """A ConfigMap schema whose data values must be numbers, to tell it from the built-in one."""
    return {"type": "object", "properties": {"data": {"type": "object", "additionalProperties": {"type": "integer"}}}}


def test_kubeconform_directory_layout_is_tried_before_builtins(tmp_path):
    folder = tmp_path / "v1.37.0-standalone-strict"
    folder.mkdir()
    (folder / "configmap-v1.json").write_text(json.dumps(_strict_configmap_schema()))
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"
    [result] = validate_text(text, schema_locations=[str(tmp_path)])
    assert [(json_path(f.path), f.message) for f in result.errors] == [("$.data.k", "expected integer, got string")]
    [result] = validate_text(text, schema_locations=["default", str(tmp_path)])
    assert result.status == "valid"  # `default` listed first: the built-in schema wins


def test_schema_with_another_api_version_is_not_used(tmp_path):
    """A CRD whose kind collides with a built-in file name is not checked against the built-in schema."""
    text = "apiVersion: networking.example.com/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {x: 1}\n"
    [result] = validate_text(text, schema_locations=[])
    assert result.status == "error" and "no schema for networking.example.com/v1/NetworkPolicy" in result.errors[0].message


MISSING = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec: {{size: 3}}\n"


@pytest.mark.parametrize("ignore, name, status", [
    (False, "w", "error"), (True, "w", "skipped"), (True, "W_bad", "invalid"),
], ids=["missing-is-error", "ignored-is-skipped", "ignored-still-checks-metadata"])
def test_missing_schema(ignore, name, status):
    [result] = validate_text(MISSING.format(name=name), schema_locations=[], ignore_missing_schemas=ignore)
    assert result.status == status
    if status == "error":
        assert "no schema for example.com/v1/Widget" in result.errors[0].message


SKIP_REJECT = [
    ("skip-kind", {"skip": ["ConfigMap"]}, "skipped", ""),
    ("skip-gvk", {"skip": ["v1/ConfigMap"]}, "skipped", ""),
    ("skip-other-gvk", {"skip": ["apps/v1/ConfigMap"]}, "valid", ""),
    ("skip-comma-list", {"skip": ["Secret,ConfigMap"]}, "skipped", ""),
    ("reject-kind", {"reject": ["ConfigMap"]}, "error", "prohibited resource kind ConfigMap"),
    ("reject-gvk", {"reject": ["Secret, v1/ConfigMap"]}, "error", "prohibited resource kind ConfigMap"),
    ("skip-wins-over-reject", {"skip": ["ConfigMap"], "reject": ["ConfigMap"]}, "skipped", ""),
]


@pytest.mark.parametrize("options, status, words", [s[1:] for s in SKIP_REJECT], ids=[s[0] for s in SKIP_REJECT])
def test_skip_and_reject(options, status, words):
    [result] = validate_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", schema_locations=[], **options)
    assert result.status == status
    assert words in (result.errors[0].message if result.errors else "")


def test_skip_and_reject_flags():
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n"
    assert run_cli("--skip", "Secret", "-", input=text).exit_code == 0
    result = run_cli("--reject", "ConfigMap,Secret", "-", input=text)
    assert result.exit_code == 1 and "prohibited resource kind Secret" in result.stdout


DEVICE_CLASS = "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: gpu}\nspec: {}\n"


@pytest.mark.parametrize("version, status", [
    ("1.37.0", "valid"), ("v1.37.2", "valid"), ("1.37", "valid"), ("master", "valid"), ("1.30.0", "error"),
], ids=["default", "v-prefix-and-patch", "major-minor", "master", "older-has-no-such-kind"])
def test_kubernetes_version_picks_bundled_schemas(version, status):
    [result] = validate_text(DEVICE_CLASS, schema_locations=[], kubernetes_version=version)
    assert result.status == status


@pytest.mark.parametrize("version, words", [
    ("banana", "is not a version"), ("1.24.0", "no built-in schemas for Kubernetes 1.24.0"), ("1.99", "1.25-1.37"),
], ids=["not-a-version", "too-old", "too-new"])
def test_bad_kubernetes_version_exits_2(version, words):
    result = run_cli("--kubernetes-version", version, "-", input="")
    assert result.exit_code == 2 and words in result.stderr


# --- schemas over http(s), with an on-disk cache ------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def schema_server(tmp_path):
    """A local http server (127.0.0.1 only) serving a copy of the Seldon CRD schemas; yields (base URL, stop)."""
    root = tmp_path / "www" / "mlops.seldon.io"
    root.mkdir(parents=True)
    for packed in (SCHEMAS / "crds" / "mlops.seldon.io").glob("*.json.gz"):
        (root / packed.name.removesuffix(".gz")).write_bytes(gzip.decompress(packed.read_bytes()))
    root = root.parent
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state = {"running": True}

    def stop() -> None:
        if state["running"]:
            server.shutdown()
            server.server_close()
            thread.join()
            state["running"] = False

    yield f"http://127.0.0.1:{server.server_address[1]}", stop
    stop()


def _validate_in_subprocess(*args: str) -> subprocess.CompletedProcess:
    """A fresh process, so no in-process schema cache can hide what the disk cache does."""
    code = "import sys; from maestro.cli import main; main(['validate', *sys.argv[1:]])"
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60)


def test_url_template_downloads_and_caches(schema_server, tmp_path):
    base, stop = schema_server
    template = base + "/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    cache = tmp_path / "cache"
    seldon = str(Path(__file__).parent / "fixtures" / "seldon.yaml")
    first = _validate_in_subprocess("-s", template, "--cache", str(cache), "--summary", seldon)
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(list(cache.iterdir())) == 3  # Model, Experiment, Pipeline
    stop()
    second = _validate_in_subprocess("-s", template, "--cache", str(cache), "--summary", seldon)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Valid: 5" in second.stdout
    without_cache = _validate_in_subprocess("-s", template, seldon)
    assert without_cache.returncode == 1 and "cannot download schema" in without_cache.stdout


def test_url_template_reports_invalid_documents_and_404s(schema_server):
    base, _ = schema_server
    bodies = fixture_bodies("seldon.yaml")
    bodies[3]["spec"]["default"] = 7
    bodies.append({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Gadget", "metadata": {"name": "g"}})
    results = validate_bodies(bodies, schema_locations=[base + "/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"])
    by_kind = {r.kind: r for r in results}
    assert json_path(by_kind["Experiment"].errors[0].path) == "$.spec.default"
    assert by_kind["Gadget"].status == "error" and "no schema for" in by_kind["Gadget"].errors[0].message


@pytest.mark.parametrize("schema, words", [
    ("{not json", "is not valid JSON"),
    ('["a list"]', "is not a JSON object"),
    ('{"type": "object", "properties": {"data": {"type": "banana"}}}', "cannot be used: UnknownType"),
    ('{"type": "object", "properties": {"data": {"$ref": "#/nowhere"}}}', "cannot be used"),
], ids=["not-json", "not-an-object", "unknown-type", "dangling-ref"])
def test_broken_schema_is_an_error_for_the_document(tmp_path, schema, words):
    (tmp_path / "configmap.json").write_text(schema)
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"
    [result] = validate_text(text, schema_locations=[str(tmp_path / "{{.ResourceKind}}.json")])
    assert result.status == "error" and words in result.errors[0].message


def test_missing_schema_directory_is_a_usage_error(tmp_path):
    result = run_cli("-s", str(tmp_path / "no-such-dir"), "-", input="")
    assert result.exit_code == 2 and "is not a directory, a template ending in json" in result.stderr
