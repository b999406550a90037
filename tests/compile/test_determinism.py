"""The same inputs give the same bytes: twice in a row, and whatever the key order of the specs."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from maestro.compile import compile_project


def _reverse_keys(node):
    if isinstance(node, dict):
        reordered = CommentedMap()
        for key in reversed(list(node)):
            reordered[key] = _reverse_keys(node[key])
        return reordered
    if isinstance(node, list):
        return [_reverse_keys(item) for item in node]
    return node


def test_compiling_twice_gives_the_same_bytes(project: Path) -> None:
    assert compile_project(project, validate=False).tree.files == compile_project(project, validate=False).tree.files


def test_key_order_of_the_specs_does_not_matter(project: Path) -> None:
    before = compile_project(project, validate=False).tree.files
    yaml = YAML()
    for spec in sorted((project / "pipelines").glob("*.yaml")) + sorted((project / "environments").glob("*.yaml")):
        data = yaml.load(spec.read_text())
        with spec.open("w") as handle:
            yaml.dump(_reverse_keys(data), handle)
    after = compile_project(project, validate=False).tree.files
    assert after.keys() == before.keys()
    changed = [path for path in before if before[path] != after[path]]
    assert changed == []


def test_output_has_no_timestamps_users_or_versions(project: Path) -> None:
    import getpass

    from maestro import __name__ as package

    files = compile_project(project, validate=False).tree.files
    text = b"".join(files.values()).decode()
    assert getpass.getuser() not in text.replace("runAsUser", "")
    assert "2026-" not in text and package + " 0." not in text
    assert all(data.endswith(b"\n") and b"\r\n" not in data for data in files.values())
