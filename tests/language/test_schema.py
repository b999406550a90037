"""`maestro schema`: JSON Schemas of both kinds, with descriptions, kept in sync with docs/schemas/."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from maestro.loading.positions import load_file

from .conftest import BASE, REPO

KINDS = ("pipeline", "environment", "teams")
FOLDERS = {"pipeline": "pipelines", "environment": "environments"}


def committed(kind: str) -> Path:
    return REPO / "docs" / "schemas" / f"{kind}.schema.json"


def printed(kind: str, maestro) -> str:
    result = maestro("schema", kind)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_committed_schema_matches_the_command(kind: str, maestro) -> None:
    assert committed(kind).read_text() == printed(kind, maestro), (
        f"docs/schemas/{kind}.schema.json is stale; regenerate it with "
        f"`.venv/bin/maestro schema {kind} > docs/schemas/{kind}.schema.json`")


def properties(node, where: str = ""):
    """Every (path, property schema) in a schema document."""
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            yield f"{where}.{name}", prop
        for key, value in node.items():
            yield from properties(value, f"{where}/{key}" if key != "properties" else where)
    elif isinstance(node, list):
        for item in node:
            yield from properties(item, where)


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_has_a_description(kind: str, maestro) -> None:
    schema = json.loads(printed(kind, maestro))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert [path for path, prop in properties(schema) if not prop.get("description")] == []


def spec_files() -> list:
    files = [(k, p) for k in FOLDERS for p in sorted((REPO / FOLDERS[k]).glob("*.yaml"))]
    files += [("environment", p) for p in sorted((BASE / "environments").glob("*.yaml"))]
    files += [("teams", REPO / "teams.yaml")]
    return [pytest.param(kind, path, id=path.relative_to(REPO).as_posix()) for kind, path in files]


@pytest.mark.parametrize("kind, path", spec_files())
def test_the_example_specs_satisfy_the_schema(kind: str, path: Path) -> None:
    (doc,) = load_file(path, path.name)
    jsonschema.validate(doc.data, json.loads(committed(kind).read_text()))


@pytest.mark.parametrize("kind, path", spec_files())
def test_the_example_specs_point_editors_at_the_schema(kind: str, path: Path) -> None:
    first = path.read_text().splitlines()[0]
    target = (path.parent / first.partition("$schema=")[2]).resolve()
    assert first.startswith("# yaml-language-server: $schema=") and target == committed(kind)


def test_the_schema_refuses_an_unknown_key() -> None:
    (doc,) = load_file(REPO / "pipelines" / "aapl-direction.yaml", "aapl-direction.yaml")
    doc.data["spec"]["trainig"] = doc.data["spec"].pop("training")
    with pytest.raises(jsonschema.ValidationError, match="trainig"):
        jsonschema.validate(doc.data, json.loads(committed("pipeline").read_text()))
