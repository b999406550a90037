"""`maestro validate` through the real `maestro` entry point, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CORPUS, FIXTURES

MAESTRO = Path(sys.executable).parent / "maestro"
pytestmark = pytest.mark.skipif(not MAESTRO.exists(), reason=f"{MAESTRO} not installed (pip install -e .)")


def maestro(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MAESTRO_SCHEMA_LOCATION"}
    return subprocess.run([str(MAESTRO), "validate", *args], input=input, capture_output=True, text=True, env=env,
                          timeout=120)


def test_help_has_an_example():
    result = maestro("--help")
    assert result.returncode == 0
    assert "Examples:" in result.stdout and "maestro validate --schema-location" in result.stdout


def test_valid_fixtures_exit_0(schemas):
    result = maestro("--schema-location", schemas, "--summary", str(FIXTURES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("Valid: 25, Invalid: 0, Errors: 0, Skipped: 0")


@pytest.mark.corpus
def test_corpus_subfolder_exits_0(schemas):
    result = maestro("-s", schemas, "-o", "junit", str(CORPUS / "workflow-template"), str(CORPUS / "cluster-workflow-template"))
    assert result.returncode == 0, result.stdout
    assert 'failures="0" errors="0"' in result.stdout


def test_invalid_stdin_exits_1():
    result = maestro("--strict", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: A}\n")
    assert result.returncode == 1
    assert result.stdout == "-:3: ConfigMap A is invalid: $.metadata.name: invalid name 'A': must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit\n"


@pytest.mark.parametrize("args", [
    ("--schema-location", "s/{{.Kind}}.json", "-"), ("--kubernetes-version", "1.2", "-"), ("--output", "xml", "-"), (),
    ("/does/not/exist.yaml",),
], ids=["bad-template", "bad-version", "bad-output", "no-path", "missing-path"])
def test_usage_errors_exit_2_without_traceback(args):
    result = maestro(*args, input="")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip()
