"""kubeconform's own acceptance cases (acceptance.bats of yannh/kubeconform), ported to `maestro
validate` as kubeconform users type them: single-dash long flags, the exit codes, the summary line
word for word. Fixtures: `kubeconform_fixtures` (bob is a Deployment, not a ReplicationController).

`AGREED` are the cases where maestro does what kubeconform's test asserts. Lines naming one document
are compared in maestro's form, `file:line: Kind name is valid`, where kubeconform writes
`file - Kind name is valid` (and `file - name Kind skipped`): maestro locates findings by line, like
its compile errors. `DIFFERENT` are the cases where maestro deliberately answers otherwise, each with
kubeconform's answer and why. Not ported: the cases that need the network (http schema locations,
the OpenShift schemas, -cache, HTTPS_PROXY, a CRD catalogue), xmllint's check of the JUnit report,
and the 100,000-resource file (minutes of CPU here; benchmarks/ measures speed).

A `conformance` test then runs the real kubeconform v0.7.0 (../shared/apiserver) and maestro on the
same fixtures with the same schemas (../shared/schemas) and compares the JSON reports and the summary.
"""

from __future__ import annotations

import gzip
import json
import stat
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.output_schemas import conforming
from tests.support import SHARED, maestro

from .kubeconform_fixtures import FIXTURES, write_fixtures


class Case(NamedTuple):
    args: tuple[str, ...]
    code: int
    lines: tuple[str, ...] | None = None    # stdout, exactly
    contains: str = ""                      # in stdout or stderr
    stdin: str | None = None


def summary(found: str, valid: int = 0, invalid: int = 0, errors: int = 0, where: str = "in 1 file") -> str:
    return f"Summary: {found} found {where} - Valid: {valid}, Invalid: {invalid}, Errors: {errors}, Skipped: 0"


VALID_1 = summary("1 resource", valid=1)
AGREED = [
    pytest.param(Case(("-h",), 0, contains="Usage: maestro validate"), id="help with -h"),
    pytest.param(Case(("-summary", "fixtures/valid.yaml"), 0, (VALID_1,)), id="valid YAML file"),
    pytest.param(Case(("-summary", "fixtures/folder"), 0, (summary("7 resources", 7, where="in 2 files"),)),
                 id="folder of valid YAML files"),
    pytest.param(Case(("-verbose", "fixtures/int_or_string.yaml"), 0,
                      ("fixtures/int_or_string.yaml:1: Service heapster is valid",)), id="int_or_string values"),
    pytest.param(Case(("-kubernetes-version", "1.37.0", "-summary", "fixtures/valid.json"), 0, (VALID_1,)),
                 id="valid JSON file"),
    pytest.param(Case(("-verbose", "fixtures/generate_name.yaml"), 0, ("fixtures/generate_name.yaml:1: Job pi-* is valid",)),
                 id="generateName instead of name"),
    pytest.param(Case(("-verbose", "fixtures/quantity.yaml"), 0,
                      ("fixtures/quantity.yaml:1: LimitRange mem-limit-range is valid",)), id="string and integer quantities"),
    pytest.param(Case(("-verbose", "fixtures/null_string.yaml"), 0, ("fixtures/null_string.yaml:1: Service frontend is valid",)),
                 id="null arrays"),
    pytest.param(Case(("-summary", "fixtures/null_string.yaml"), 0, (VALID_1,)), id="null strings"),
    pytest.param(Case(("-summary", "fixtures/multi_valid.yaml"), 0, (summary("6 resources", 6),)), id="multi-document file"),
    pytest.param(Case(("fixtures/multi_invalid.yaml",), 1), id="multi-document file with one invalid resource"),
    pytest.param(Case(("fixtures/invalid.yaml",), 1), id="invalid file"),
    pytest.param(Case(("-summary", "fixtures/blank.yaml"), 0, (summary("0 resource"),)), id="blank file"),
    pytest.param(Case(("-summary", "fixtures/comment.yaml"), 0, (summary("0 resource"),)), id="blank file with a comment"),
    pytest.param(Case(("-summary", "fixtures/missing_kind.yaml"), 1, contains="missing kind"), id="missing kind"),
    pytest.param(Case(("-summary", "fixtures/missing_apiversion.yaml"), 1, contains="missing apiVersion"),
                 id="missing apiVersion"),
    pytest.param(Case(("-summary", "fixtures/missing_kind_value.yaml"), 1, contains="missing kind"),
                 id="missing kind value"),
    pytest.param(Case(("fixtures/test_crd.yaml",), 1), id="custom resource without a schema"),
    pytest.param(Case(("-ignore-missing-schemas", "fixtures/test_crd.yaml"), 0),
                 id="custom resource, ignoring missing schemas"),
    pytest.param(Case(("-summary", "fixtures/extra_property.yaml"), 0, (VALID_1,)), id="additional property"),
    pytest.param(Case(("-strict", "-kubernetes-version", "1.37.0", "fixtures/extra_property.yaml"), 1),
                 id="additional property with -strict"),
    pytest.param(Case(("-strict", "-kubernetes-version", "1.37.0", "fixtures/duplicate_property.yaml"), 1),
                 id="duplicate property with -strict"),
    pytest.param(Case(("-kubernetes-version", "1.37.0", "fixtures/duplicate_property.yaml"), 0),
                 id="duplicate property without -strict"),
    pytest.param(Case(("-schema-location", "default", "fixtures/valid.yaml"), 0), id="preset -schema-location"),
    pytest.param(Case(("-summary", "-"), 0, (summary("1 resource", 1, where="parsing stdin"),), stdin=FIXTURES["valid.yaml"]),
                 id="valid file on stdin"),
    pytest.param(Case(("-",), 1, stdin=FIXTURES["invalid.yaml"]), id="invalid file on stdin"),
    pytest.param(Case(("-verbose", "-skip", "Deployment", "fixtures/valid.yaml"), 0,
                      ("fixtures/valid.yaml:1: Deployment bob is skipped",)), id="kind to skip"),
    pytest.param(Case(("-verbose", "-skip", "apps/v1/Deployment", "fixtures/valid.yaml"), 0,
                      ("fixtures/valid.yaml:1: Deployment bob is skipped",)), id="GVK to skip"),
    pytest.param(Case(("-verbose", "-skip", "apps/v2/Deployment", "fixtures/valid.yaml"), 0,
                      ("fixtures/valid.yaml:1: Deployment bob is valid",)), id="GVK to skip, another version"),
    pytest.param(Case(("-verbose", "-reject", "Deployment", "fixtures/valid.yaml"), 1,
                      contains="Deployment bob failed validation: $.kind: prohibited resource kind Deployment"),
                 id="kind to reject"),
    pytest.param(Case(("-summary", "--ignore-filename-pattern", "crd", "-ignore-filename-pattern", ".*invalid.*",
                       "fixtures/multi_invalid.yaml", "fixtures/list_invalid.yaml", "fixtures/quantity.yaml",
                       "fixtures/test_crd.yaml"), 0, (VALID_1,)), id="ignore-filename-pattern"),
    pytest.param(Case(("-output", "tap", "fixtures/valid.yaml"), 0,
                      ("TAP version 13", "1..1", "ok 1 - fixtures/valid.yaml - Deployment bob")), id="TAP output"),
    pytest.param(Case(("-summary", "fixtures/list_valid.yaml"), 0, (summary("6 resources", 6),)), id="List"),
    pytest.param(Case(("-summary", "-"), 0, (summary("6 resources", 6, where="parsing stdin"),),
                      stdin=FIXTURES["list_valid.yaml"]), id="List on stdin"),
    pytest.param(Case(("-summary", "fixtures/list_invalid.yaml"), 1,
                      ("fixtures/list_invalid.yaml:29: Deployment bob is invalid: $.spec.replicas: expected integer, got string",
                       summary("2 resources", 1, 1))), id="List with an invalid resource"),
    pytest.param(Case(("-summary", "-"), 1,
                      ("-:29: Deployment bob is invalid: $.spec.replicas: expected integer, got string",
                       summary("2 resources", 1, 1, where="parsing stdin")), stdin=FIXTURES["list_invalid.yaml"]),
                 id="List with an invalid resource on stdin"),
    pytest.param(Case(("-summary", "fixtures/list_empty_valid.yaml"), 0, (summary("0 resource"),)), id="empty List"),
    pytest.param(Case(("-summary", "fixtures/multi_with_list.yaml"), 0, (summary("2 resources", 2),)),
                 id="one resource and one List"),
]


class Different(NamedTuple):
    case: Case              # maestro's answer
    kubeconform: int        # kubeconform's exit code
    why: str


DIFFERENT = [
    pytest.param(Different(Case(("-xyz", "fixtures/valid.yaml"), 2, contains="No such option '-x'"), 1,
                           "a usage error exits 2, as every maestro command"), id="incorrect flag"),
    pytest.param(Different(Case(("fixtures/not-here",), 2, contains="'fixtures/not-here' does not exist"), 1,
                           "a path that does not exist is a usage error, reported before anything is read"),
                 id="non-existent file"),
    pytest.param(Different(Case(("-kubernetes-version", "1.20.0", "fixtures/valid.json"), 2, contains="1.20.0"), 0,
                           "built-in schemas are bundled for 1.25-1.37, never fetched: an older version is refused"),
                 id="valid JSON file against Kubernetes 1.20.0"),
    pytest.param(Different(Case(("-kubernetes-version", "1.25", "fixtures/valid.yaml"), 0), 1,
                           "1.25 is read as the newest bundled 1.25.x, where kubeconform wants x.y.z"),
                 id="kubernetes version without its patch number"),
    pytest.param(Different(Case(("-schema-location", "foo", "fixtures/valid.yaml"), 2, contains="foo"), 1,
                           "a schema location that is neither a folder nor a template is a usage error"),
                 id="invalid non-HTTP schema location"),
    pytest.param(Different(Case(("-schema-location", "foo {{ .Foo }}", "fixtures/valid.yaml"), 2, contains="Foo"), 1,
                           "a template that does not parse is a usage error, found before anything is read"),
                 id="invalid schema location template"),
    pytest.param(Different(Case(("-summary",), 2, contains="give at least one PATH, or - to read stdin",
                                stdin=FIXTURES["valid.yaml"]), 0,
                           "stdin is read only when named, `-`: a forgotten path never waits on a terminal"),
                 id="valid file on stdin, no path"),
]


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    return write_fixtures(tmp_path)


def check(root: Path, case: Case) -> None:
    result = maestro(root, "validate", *case.args, input=case.stdin, env={"MAESTRO_SCHEMA_LOCATION": None})
    assert result.returncode == case.code, result.stdout + result.stderr
    if case.lines is not None:
        assert tuple(result.stdout.splitlines()) == case.lines
    assert case.contains in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", AGREED)
def test_kubeconform_acceptance_case(fixtures: Path, case: Case) -> None:
    check(fixtures, case)


@pytest.mark.parametrize("different", DIFFERENT)
def test_kubeconform_acceptance_case_maestro_answers_otherwise(fixtures: Path, different: Different) -> None:
    assert different.case.code != different.kubeconform and different.why
    check(fixtures, different.case)


# -- the real kubeconform on the same files ----------------------------------------------------------
KUBECONFORM = SHARED / "apiserver" / "kubeconform.gz"
# (filename, kubeconform's name, maestro's name): a generateName is shown as kubeconform's
# `pi-{{ generateName }}`, as maestro's `pi-*` (its text output and docs use that form).
NAMED_OTHERWISE = {("fixtures/generate_name.yaml", "pi-{{ generateName }}", "pi-*")}


@pytest.fixture(scope="module")
def kubeconform(tmp_path_factory) -> Path:
    binary = tmp_path_factory.mktemp("kubeconform") / "kubeconform"
    binary.write_bytes(gzip.decompress(KUBECONFORM.read_bytes()))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return binary


def reports(root: Path, kubeconform: Path, *flags: str) -> tuple[subprocess.CompletedProcess, object]:
    theirs = subprocess.run([str(kubeconform), "-n", "1", "-kubernetes-version", "1.37.0", "-schema-location",
                             str(SHARED / "schemas" / "kubernetes"), *flags, "fixtures"],
                            cwd=root, capture_output=True, text=True, timeout=120)
    ours = maestro(root, "validate", "-schema-location", SHARED / "schemas", *flags, "fixtures",
                   env={"MAESTRO_SCHEMA_LOCATION": None})
    return theirs, ours


def identities(resources: list[dict], renames: dict[tuple[str, str], str]) -> list[tuple]:
    """What both reports say of each document; kubeconform's records of empty files (no status) left out."""
    return sorted((r["filename"], r["kind"], renames.get((r["filename"], r["name"]), r["name"]), r["version"],
                   r["status"]) for r in resources if r["status"])


@pytest.mark.conformance
def test_the_real_kubeconform_reports_the_fixtures_as_maestro_does(fixtures: Path, kubeconform: Path) -> None:
    theirs, ours = reports(fixtures, kubeconform, "-strict", "-summary", "-verbose", "-output", "json")
    assert theirs.returncode == ours.returncode == 1, theirs.stderr
    kubeconform_report, maestro_report = json.loads(theirs.stdout), conforming(ours.stdout, "validate")
    assert kubeconform_report["summary"] == maestro_report["summary"] == {"valid": 30, "invalid": 4, "errors": 5,
                                                                           "skipped": 0}
    renames = {(file, theirs_name): ours_name for file, theirs_name, ours_name in NAMED_OTHERWISE}
    assert identities(kubeconform_report["resources"], renames) == identities(maestro_report["resources"], {})
    failed = [r for r in maestro_report["resources"] if r["status"] == "statusInvalid"]
    paths = {(r["filename"], e["path"]) for r in failed for e in r["validationErrors"]}
    theirs_paths = {(r["filename"], e["path"]) for r in kubeconform_report["resources"]
                    for e in r.get("validationErrors", [])}
    assert paths - {("fixtures/extra_property.yaml", "/unknown")} == theirs_paths - {("fixtures/extra_property.yaml", "")}


@pytest.mark.conformance
def test_the_real_kubeconform_prints_the_same_summary_line(fixtures: Path, kubeconform: Path) -> None:
    theirs, ours = reports(fixtures, kubeconform, "-strict", "-summary")
    assert theirs.returncode == ours.returncode == 1
    assert theirs.stdout.splitlines()[-1] == ours.stdout.splitlines()[-1] == \
        "Summary: 39 resources found in 23 files - Valid: 30, Invalid: 4, Errors: 5, Skipped: 0"
