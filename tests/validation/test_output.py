"""Report formats and exit codes: text, json, junit, tap, --summary, --verbose."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from tests.output_schemas import conforming

from .conftest import FIXTURES, run_cli

GOOD = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\ndata:\n  k: v\n"
BAD = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  k: 1\n"
NO_KIND = "apiVersion: v1\nmetadata:\n  name: nokind\n"
SKIPPED = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
MIXED = "---\n".join([GOOD, BAD, NO_KIND, SKIPPED])


def _run(*args: str):
    return run_cli("--skip", "Secret", *args, "-", input=MIXED)


def test_exit_codes():
    assert run_cli("-", input=GOOD).exit_code == 0
    assert run_cli("-", input=BAD).exit_code == 1
    assert run_cli("-", input=NO_KIND).exit_code == 1
    assert run_cli("--skip", "Secret", "-", input=SKIPPED).exit_code == 0
    assert run_cli("--output", "yaml", "-", input=GOOD).exit_code == 2


def test_text_lists_findings_with_file_and_line():
    result = _run("--summary")
    assert result.stdout.splitlines() == [
        "-:13: ConfigMap bad is invalid: $.data.k: expected string, got integer",
        "-:15: document nokind failed validation: $.kind: missing kind: every manifest needs 'kind'",
        "Summary: 4 resources found parsing stdin - Valid: 1, Invalid: 1, Errors: 1, Skipped: 1",
    ]


def test_text_verbose_lists_every_document():
    lines = _run("--verbose").stdout.splitlines()
    assert lines[0] == "-:1: ConfigMap good is valid" and lines[-1] == "-:19: Secret s is skipped"


def test_json_has_kubeconforms_shape_and_lists_the_failures():
    report = conforming(_run("--output", "json").stdout, "validate")
    assert list(report) == ["resources"]   # the counts only with --summary, as kubeconform
    assert [(r["name"], r["status"], r["index"], r["line"]) for r in report["resources"]] == [
        ("bad", "statusInvalid", 1, 8), ("nokind", "statusError", 2, 15)]
    bad = report["resources"][0]
    assert {k: bad[k] for k in ("filename", "kind", "name", "version", "msg")} == {
        "filename": "-", "kind": "ConfigMap", "name": "bad", "version": "v1",
        "msg": "at '/data/k': expected string, got integer"}
    assert bad["validationErrors"] == [{"path": "/data/k", "msg": "expected string, got integer", "line": 13}]


def test_json_verbose_lists_every_document_and_summary_adds_the_counts():
    report = conforming(_run("--output", "json", "--verbose", "--summary").stdout, "validate")
    assert report["summary"] == {"valid": 1, "invalid": 1, "errors": 1, "skipped": 1}
    assert [(r["name"], r["status"]) for r in report["resources"]] == [
        ("good", "statusValid"), ("bad", "statusInvalid"), ("nokind", "statusError"), ("s", "statusSkipped")]
    assert "validationErrors" not in report["resources"][0] and report["resources"][0]["msg"] == ""


def test_junit_is_well_formed_xml():
    result = _run("--output", "junit")
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("4", "1", "1", "1")
    cases = root.findall("./testsuite/testcase")
    assert [c.find("failure") is not None for c in cases] == [False, True, False, False]
    assert cases[2].find("error").get("message") == "missing kind: every manifest needs 'kind'"
    assert cases[3].find("skipped") is not None


def test_junit_escapes_markup():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {'x&<y>': '1'}\n"
    root = ET.fromstring(run_cli("--strict", "-o", "junit", "-", input=text).stdout)
    assert "x&<y>" in root.find("./testsuite/testcase/failure").text


TAP_LINE = re.compile(r"^(TAP version 13|1\.\.\d+|(not )?ok \d+ - .*|  .*|# .*)$")


def test_tap_is_well_formed():
    lines = _run("--output", "tap", "--summary").stdout.splitlines()
    assert lines[:2] == ["TAP version 13", "1..4"]
    assert all(TAP_LINE.match(line) for line in lines), lines
    points = [line for line in lines if re.match(r"^(not )?ok \d+", line)]
    assert [int(p.split()[1 if p.startswith("ok") else 2]) for p in points] == [1, 2, 3, 4]
    assert points[1].startswith("not ok 2") and points[3].endswith("# SKIP")
    assert lines[-1].startswith("# Summary: 4 resources")


@pytest.mark.parametrize("output", ["text", "json", "junit", "tap"])
def test_output_is_deterministic(output):
    args = ("--schema-location", "default", "--ignore-missing-schemas", "--output", output, str(FIXTURES))
    assert run_cli(*args).stdout == run_cli(*args).stdout
