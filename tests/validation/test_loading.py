"""Reading manifests: streams, stdin, Lists, empty documents, YAML quirks, JSON, bad input."""

from __future__ import annotations

import io
import json

import pytest

from maestro.validation import Document, Result, load_documents, validate_documents
from maestro.validation.model import json_path

from .conftest import run_cli, validate_text

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def _load(text: str) -> list[Document | Result]:
    return load_documents(["-"], stdin=io.StringIO(text))


STREAMS = [
    # id, text, expected (index, line) of each manifest, or "error" for parse-error Results
    ("single", CONFIGMAP.format(name="a"), [(0, 1)]),
    ("leading-separator", "---\n" + CONFIGMAP.format(name="a"), [(0, 2)]),
    ("comment-only-documents", "# header\n---\n# nothing here\n---\n" + CONFIGMAP.format(name="a") + "---\n---\n# end\n",
     [(0, 5)]),
    ("blank-documents", "\n\n---\n\n---\n" + CONFIGMAP.format(name="a") + "---\n" + CONFIGMAP.format(name="b"),
     [(0, 6), (1, 13)]),
    ("document-end-marker", CONFIGMAP.format(name="a") + "...\n---\n" + CONFIGMAP.format(name="b"), [(0, 1), (1, 9)]),
    ("broken-document-isolated", CONFIGMAP.format(name="a") + "---\nkind: [unclosed\n---\n" + CONFIGMAP.format(name="b"),
     [(0, 1), "error", (2, 10)]),
    ("empty-stream", "", []),
]


@pytest.mark.parametrize("text, expected", [s[1:] for s in STREAMS], ids=[s[0] for s in STREAMS])
def test_stream_splitting(text, expected):
    got = [(d.index, d.line) if isinstance(d, Document) else "error" for d in _load(text)]
    assert got == expected


def test_kind_list_is_expanded_with_item_lines():
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            "- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: a}\n"
            "- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: b}\n")
    docs = _load(text)
    assert [(d.body["metadata"]["name"], d.index, d.line) for d in docs] == [("a", 0, 4), ("b", 0, 7)]
    results = validate_documents(docs)
    assert [(r.kind, r.name, r.status, r.line) for r in results] == [
        ("ServiceAccount", "a", "valid", 4), ("ServiceAccount", "b", "valid", 7)]


def test_list_item_that_is_not_a_mapping_is_an_error():
    results = validate_documents(_load("apiVersion: v1\nkind: List\nitems:\n- just text\n"))
    assert [(r.status, r.errors[0].message) for r in results] == [("error", "List item 0 must be a mapping, not a string")]


def test_yaml_dates_stay_strings_and_bare_equals_is_a_string():
    body = _load("a: 2024-05-01\nb: 2024-05-01T10:00:00Z\nc: =\nd: 1.5\ne: yes\n1: one\n")[0].body
    assert body == {"a": "2024-05-01", "b": "2024-05-01T10:00:00Z", "c": "=", "d": 1.5, "e": True, "1": "one"}


def test_merge_keys_and_anchors():
    body = _load("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n")[0].body
    assert body["m"] == {"x": 1, "y": 3}


@pytest.mark.parametrize("strict, status", [(True, "error"), (False, "valid")], ids=["strict", "no-strict"])
def test_duplicate_keys(strict, status):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: one\n  k: two\n"
    [result] = validate_text(text, strict=strict)
    assert result.status == status
    if strict:
        assert [(json_path(f.path), f.message, f.line) for f in result.errors] == [("$.data.k", "duplicate key 'k'", 7)]


MISSING = [
    ("missing-kind", "apiVersion: v1\nmetadata: {name: a}\n", "$.kind", "missing kind"),
    ("missing-api-version", "kind: ConfigMap\nmetadata: {name: a}\n", "$.apiVersion", "missing apiVersion"),
    ("empty-kind", "apiVersion: v1\nkind: ''\nmetadata: {name: a}\n", "$.kind", "missing kind"),
    ("not-a-mapping", "- a\n- b\n", "$", "a manifest must be a mapping, not a list"),
    ("scalar", "just words\n", "$", "a manifest must be a mapping, not a string"),
    ("yaml-syntax", "a: b: c\n", "$", "cannot parse YAML"),
    ("custom-tag", "apiVersion: v1\nkind: !Ref x\n", "$", "cannot parse YAML"),
]


@pytest.mark.parametrize("text, path, words", [m[1:] for m in MISSING], ids=[m[0] for m in MISSING])
def test_unusable_documents_are_errors(text, path, words):
    [result] = validate_documents(_load(text))
    assert result.status == "error"
    assert json_path(result.errors[0].path) == path and words in result.errors[0].message


def test_generate_name_instead_of_name():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: settings-\n"
    [result] = validate_documents(_load(text))
    assert (result.status, result.name) == ("valid", "settings-*")


def test_stdin_through_the_command():
    stream = CONFIGMAP.format(name="a") + "---\n# comment only\n---\n" + CONFIGMAP.format(name="b")
    result = run_cli("--summary", "-", input=stream)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Summary: 2 resources found parsing stdin - Valid: 2, Invalid: 0, Errors: 0, Skipped: 0\n"


def test_stdin_mixed_with_files(tmp_path):
    (tmp_path / "a.yaml").write_text(CONFIGMAP.format(name="a"))
    result = run_cli("-o", "json", "--verbose", str(tmp_path / "a.yaml"), "-", input=CONFIGMAP.format(name="b"))
    names = [(r["filename"], r["name"]) for r in json.loads(result.stdout)["resources"]]
    assert names == [(str(tmp_path / "a.yaml"), "a"), ("-", "b")]


def test_directories_are_walked_in_order(tmp_path):
    for relative in ("b/two.yml", "a/one.yaml", "a/three.json", "notes.txt", ".hidden/x.yaml", "a/.x.yaml"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "b/two.yml").write_text(CONFIGMAP.format(name="two"))
    (tmp_path / "a/one.yaml").write_text(CONFIGMAP.format(name="one"))
    (tmp_path / "a/three.json").write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "three"}}))
    for ignored in ("notes.txt", ".hidden/x.yaml", "a/.x.yaml"):
        (tmp_path / ignored).write_text("not: [a manifest")
    docs = load_documents([str(tmp_path)])
    assert [d.body["metadata"]["name"] for d in docs] == ["one", "three", "two"]


def test_json_file_with_duplicate_key(tmp_path):
    path = tmp_path / "cm.json"
    path.write_text('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "1", "k": "2"}}')
    [result] = validate_documents(load_documents([str(path)]))
    assert result.status == "error" and result.errors[0].message == "duplicate key 'k'"


@pytest.mark.parametrize("content, words", [
    (b"{not json", "cannot parse JSON"), (b"[1, 2]", "must be a JSON object"), (b"\xff\xfe\x00bad", "cannot read"),
], ids=["syntax", "array", "not-utf8"])
def test_bad_json_files(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    [result] = load_documents([str(path)])
    assert isinstance(result, Result) and result.status == "error" and words in result.errors[0].message


def test_missing_path_is_a_usage_error():
    result = run_cli("/no/such/manifest.yaml")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_no_path_is_a_usage_error():
    result = run_cli()
    assert result.exit_code == 2 and "give at least one PATH" in result.output


def test_finding_lines_point_at_the_field():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\nbinaryData: 5\n"
    [result] = validate_documents(_load(text))
    assert [(json_path(f.path), f.line) for f in result.errors] == [("$.binaryData", 7)]


def test_ignore_filename_pattern(tmp_path):
    (tmp_path / "app.yaml").write_text(CONFIGMAP.format(name="app"))
    (tmp_path / "app.patch.yaml").write_text("data: {k: v}\n")  # a patch, not a manifest
    assert run_cli(str(tmp_path)).exit_code == 1
    result = run_cli("--ignore-filename-pattern", r"\.patch\.yaml$", "--summary", str(tmp_path))
    assert result.exit_code == 0 and "1 resource found in 1 file" in result.stdout


def test_bad_ignore_filename_pattern_is_a_usage_error():
    result = run_cli("--ignore-filename-pattern", "(", "-", input="")
    assert result.exit_code == 2 and "is not a regular expression" in result.stderr
