"""The Python API (`maestro.*`, docs/api.md): the commands' behaviour as values, one error type, and an
`import maestro` that costs nothing until a function is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import maestro
from tests.support import EXAMPLE_ENVIRONMENTS, EXAMPLE_PIPELINES, REPO, copy_examples
from tests.support import maestro as cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "project")


def test_compile_then_check_then_compile_again(project: Path) -> None:
    first = maestro.compile_gitops(project)
    files = {p.relative_to(project / "gitops").as_posix() for p in (project / "gitops").rglob("*") if p.is_file()}
    assert set(first.written) == files and first.unchanged == 0 and (first.pipelines, first.environments) == \
        (len(EXAMPLE_PIPELINES), len(EXAMPLE_ENVIRONMENTS))
    assert maestro.check_gitops(project).up_to_date
    again = maestro.compile_gitops(project)
    assert again.written == () and again.unchanged == len(files)


def test_the_api_and_the_command_write_the_same_tree(project: Path, tmp_path: Path) -> None:
    other = copy_examples(tmp_path / "other")
    maestro.compile_gitops(project)
    cli(other, "compile", check=True)
    read = lambda root: {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "gitops").rglob("*")
                         if p.is_file()}
    assert read(project) == read(other)


def test_a_refused_spec_raises_every_finding_located_and_writes_nothing(project: Path) -> None:
    spec = project / "pipelines" / "msft-momentum.yaml"
    spec.write_text(spec.read_text().replace("apiVersion: maestro/v1", "apiVersion: maestro/v2"))
    with pytest.raises(maestro.MaestroError) as caught:
        maestro.compile_gitops(project)
    assert caught.value.diagnostics and all(d.file == "pipelines/msft-momentum.yaml" and d.line
                                            for d in caught.value.diagnostics)
    assert isinstance(caught.value.diagnostics, tuple) and not (project / "gitops").exists()


@pytest.mark.parametrize("kind", [maestro.UsageError, maestro.Failure, maestro.UnsafePath], ids=lambda k: k.__name__)
def test_every_error_kind_is_a_maestro_error_with_its_message_as_a_diagnostic(kind) -> None:
    error = kind("what went wrong")
    assert isinstance(error, maestro.MaestroError)
    assert [d.format() for d in error.diagnostics] == ["error: what went wrong"]


def test_an_unknown_environment_is_a_usage_error_for_the_api_and_exit_2_for_the_command(project: Path) -> None:
    with pytest.raises(maestro.UsageError):
        maestro.compile_gitops(project, envs=["qa"])
    done = cli(project, "compile", "--env", "qa")
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "error(s)" not in done.stderr


def test_a_symbolic_link_under_gitops_is_refused_as_an_unsafe_path(project: Path, tmp_path: Path) -> None:
    (project / "gitops").mkdir()
    (project / "gitops" / "dev").symlink_to(tmp_path)
    with pytest.raises(maestro.UnsafePath) as caught:
        maestro.check_gitops(project)
    assert isinstance(caught.value, OSError) and "symbolic link" in caught.value.diagnostics[0].message
    done = cli(project, "compile", "--check")
    assert done.returncode == 1 and "symbolic link" in done.stderr and "error(s)" not in done.stderr


def test_validate_returns_invalid_manifests_as_results_and_refuses_a_bad_option(tmp_path: Path) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n")
    (result,) = maestro.validate_manifests([manifest])
    assert result.failed and result.kind == "ConfigMap" and result.errors
    with pytest.raises(maestro.UsageError):
        maestro.validate_manifests([manifest], kubernetes_version="0.1")


def test_diff_after_a_promotion_names_the_changed_resources(project: Path) -> None:
    maestro.compile_gitops(project)
    promoted = maestro.promote_version("aapl-direction", "v4", role="default", root=project)
    assert promoted.spec == "pipelines/aapl-direction.yaml"
    diff = maestro.diff_gitops(project)
    assert [c.title for c in diff.changes] == [c.title for c in promoted.changes]
    assert "v4" in diff.format("text") and diff.format("markdown").startswith("### maestro diff")


def test_run_names_the_pipeline_it_does_not_know(project: Path) -> None:
    with pytest.raises(maestro.UsageError, match="did you mean 'aapl-direction'"):
        maestro.run_pipeline("aapl-directoin", root=project)


def test_the_exports_are_listed_and_an_unknown_name_is_an_attribute_error() -> None:
    assert {"compile_gitops", "run_pipeline", "MaestroError", "Diagnostic"} <= set(dir(maestro))
    with pytest.raises(AttributeError, match="no attribute 'compile_everything'"):
        maestro.compile_everything   # noqa: B018


def test_import_maestro_loads_no_dependency() -> None:
    """`maestro --help` and `import maestro` stay cheap: the names load their modules when used."""
    probe = ("import sys, maestro\nmaestro.MaestroError\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'click', 'pydantic', 'jsonschema', 'ruamel', "
             "'yaml', 'torch', 'pandas'}))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
