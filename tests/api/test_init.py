"""`maestro init`: a repository that compiles right away, with editor modelines and maestro's
pre-commit hooks, written only where nothing is, never through a symbolic link."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
import yaml

from maestro.scaffold import FILES, _create
from tests.support import REPO, maestro

MODELINE = "# yaml-language-server: $schema="


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_init_then_compile_check_and_validate_pass(tmp_path: Path) -> None:
    done = maestro(tmp_path, "init", check=True)
    assert sorted(line.removeprefix("wrote ") for line in done.stdout.splitlines()) == sorted([*FILES, ".gitignore"])
    assert "gitops/: " in maestro(tmp_path, "compile", check=True).stdout
    maestro(tmp_path, "compile", "--check", check=True)
    maestro(tmp_path, "validate", "gitops/", check=True)
    assert ".maestro/" in (tmp_path / ".gitignore").read_text().split()


@pytest.mark.parametrize("spec,kind", [("environments/dev.yaml", "environment"),
                                       ("pipelines/ibm-direction.yaml", "pipeline")])
def test_each_spec_names_the_schema_written_beside_it(tmp_path: Path, spec: str, kind: str) -> None:
    maestro(tmp_path, "init", "new", check=True)
    first = (tmp_path / "new" / spec).read_text().splitlines()[0]
    assert first.startswith(MODELINE)
    schema = (tmp_path / "new" / spec).parent / first.removeprefix(MODELINE)
    assert schema.read_text() == maestro(None, "schema", kind, check=True).stdout


def test_the_pre_commit_hooks_are_maestros_own(tmp_path: Path) -> None:
    maestro(tmp_path, "init", check=True)
    (local,) = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())["repos"]
    shipped = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    keys = ("id", "name", "entry", "pass_filenames", "files")
    assert local["repo"] == "local"
    assert [{k: h[k] for k in keys} for h in local["hooks"]] == [{k: h[k] for k in keys} for h in shipped]


def test_an_existing_file_refuses_the_whole_scaffold_naming_it(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "ibm-direction.yaml").write_text("mine\n")
    before = tree(tmp_path)
    done = maestro(tmp_path, "init")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith("pipelines/ibm-direction.yaml: error: already exists")
    assert tree(tmp_path) == before


def test_an_existing_gitignore_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc\n")
    assert ".gitignore" not in maestro(tmp_path, "init", check=True).stdout
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n"


@pytest.mark.parametrize("link", ["environments", "docs/schemas", ".pre-commit-config.yaml"])
def test_a_symbolic_link_on_the_way_is_refused_and_nothing_lands_outside(tmp_path: Path, link: str) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    outside.mkdir()
    (root / link).parent.mkdir(parents=True)
    (root / link).symlink_to(outside / "target" if link.endswith(".yaml") else outside)
    done = maestro(root, "init")
    assert done.returncode == 1 and done.stderr.startswith(f"{link}: error: ")
    assert list(outside.iterdir()) == [] and not (root / "pipelines").exists()


def test_a_folder_swapped_for_a_link_after_the_checks_is_not_followed(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "environments")
    with pytest.raises(OSError):
        _create(root, PurePosixPath("environments/dev.yaml"), b"x")
    assert list(outside.iterdir()) == []
