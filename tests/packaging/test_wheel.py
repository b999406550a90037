"""The package as a user installs it: the wheel and the sdist build, and the wheel, installed into a
fresh virtual environment (no checkout on its path), compiles the examples from a folder outside the
checkout into exactly the committed gitops/, validated against the schemas inside the wheel.

Needs the package registry (the fresh venv installs the wheel's dependencies); marked `packaging`,
left out of a bare `pytest`, run by `make test` and CI. The fixtures are session-scoped so that the
suite's scheduler keeps these tests on one worker: one build, one venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.support import EXAMPLE_ENVIRONMENTS, EXAMPLE_PIPELINES, REPO

pytestmark = pytest.mark.packaging
TIMEOUT = 900


def run(*args: object, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """The wheel and the sdist, built from the checkout as `python -m build` builds them."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, REPO, cwd=out)
    return out


@pytest.fixture(scope="session")
def venv(dist: Path, tmp_path_factory) -> Path:
    """A fresh virtual environment (not the one running the tests) with the wheel installed."""
    env = tmp_path_factory.mktemp("venv") / "v"
    run(sys.executable, "-m", "venv", env, cwd=dist)
    (wheel,) = dist.glob("*.whl")
    run(env / "bin" / "pip", "install", "--quiet", wheel, cwd=dist)
    return env


def outside_env() -> dict[str, str]:
    """This process's environment without anything that would put the checkout on the path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "MAESTRO_SCHEMA_LOCATION")}


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """The example specs, copied into a folder outside the checkout."""
    root = tmp_path_factory.mktemp("outside")
    for folder in ("pipelines", "environments"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copyfile(REPO / "teams.yaml", root / "teams.yaml")
    return root


def test_the_distributions_carry_what_runs(dist: Path) -> None:
    (wheel,) = dist.glob("maestro_mlops_compiler-*.whl")
    (sdist,) = dist.glob("maestro_mlops_compiler-*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {p.relative_to(REPO / "compiler").as_posix() for p in (REPO / "compiler/maestro/schemas").rglob("*")
               if p.is_file()}
    assert shipped and shipped <= set(names), sorted(shipped - set(names))[:5]
    assert "maestro/resources/init/pipelines/ibm-direction.yaml" in names
    assert any(n.endswith(".data/data/share/maestro/templates/model_card.md.j2") for n in names)
    assert not any(n.startswith(("pipelines/", "environments/", "gitops/", "tests/")) for n in names)
    members = tarfile.open(sdist).getnames()
    assert any(m.endswith("/templates/model_card.md.j2") for m in members)


def test_the_installed_wheel_compiles_the_examples_outside_the_checkout(venv: Path, project: Path) -> None:
    python, maestro = venv / "bin" / "python", venv / "bin" / "maestro"
    where = run(python, "-c", "import maestro; print(maestro.__file__)", cwd=project, env=outside_env()).stdout
    assert Path(where.strip()).is_relative_to(venv), where
    compiled = run(maestro, "compile", cwd=project, env=outside_env())
    assert f"{len(EXAMPLE_ENVIRONMENTS)} environments, {len(EXAMPLE_PIPELINES)} pipelines" in compiled.stdout
    committed = {p.relative_to(REPO / "gitops").as_posix(): p.read_bytes()
                 for p in (REPO / "gitops").rglob("*") if p.is_file()}
    written = {p.relative_to(project / "gitops").as_posix(): p.read_bytes()
               for p in (project / "gitops").rglob("*") if p.is_file()}
    assert written == committed
    run(maestro, "compile", "--check", cwd=project, env=outside_env())
    assert "Invalid: 0, Errors: 0" in run(maestro, "validate", "gitops/", "--summary", cwd=project, env=outside_env()).stdout


def test_the_installed_wheel_finds_its_model_card_template_and_version(venv: Path, project: Path) -> None:
    probe = ("from pathlib import Path; from maestro.steps.card import template_dirs; "
             "print(template_dirs(Path('.'))[0])")
    found = Path(run(venv / "bin" / "python", "-c", probe, cwd=project, env=outside_env()).stdout.strip())
    assert found.is_relative_to(venv) and (found / "model_card.md.j2").read_bytes() == \
        (REPO / "templates/model_card.md.j2").read_bytes()
    assert run(venv / "bin" / "maestro", "version", cwd=project, env=outside_env()).stdout.startswith("maestro 0.")
