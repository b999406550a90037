"""The compile cache never changes the output: after every kind of edit, a compile that reuses the
cache writes byte for byte what a compile without it gives, and so does one whose cache records
are damaged. Each case edits a compiled 16-pipeline, 4-team project and compiles through the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.generate import make_project
from maestro.cli import run
from maestro.compile import compile_project

from .conftest import files_under


def edit(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text()
    changed = re.sub(pattern, replacement, text, count=1)
    assert changed != text, f"{pattern!r} not in {path}"
    path.write_text(changed)


def first_pipeline(root: Path, team: str | None = None) -> Path:
    specs = sorted((root / "pipelines").glob("*.yaml"))
    return next(p for p in specs if team is None or f"team: {team}\n" in p.read_text())


def renumber(root: Path) -> None:
    edit(first_pipeline(root), r"epochs: \d+", "epochs: 77")


def change_team(root: Path) -> None:
    edit(first_pipeline(root, "team-000"), r"team: team-000", "team: team-001")


def new_team(root: Path) -> None:
    edit(first_pipeline(root), r"team: team-\d+", "team: brand-new")


def add_pipeline(root: Path) -> None:
    source = first_pipeline(root)
    name = source.stem
    (root / "pipelines/added-one.yaml").write_text(source.read_text().replace(f"name: {name}", "name: added-one"))


def remove_pipeline(root: Path) -> None:
    first_pipeline(root).unlink()


def empty_a_team(root: Path) -> None:
    for spec in (root / "pipelines").glob("*.yaml"):
        if "team: team-002\n" in spec.read_text():
            spec.unlink()


def shared_namespace(root: Path) -> None:
    """Every team in one namespace per environment: the namespace folders merge."""
    for env in (root / "environments").glob("*.yaml"):
        edit(env, r'namespace: "\{team\}-\{env\}"', 'namespace: "ml-{env}"')
        if "{team}/artifacts" in env.read_text():   # teams sharing a namespace share its artifact keys
            edit(env, r"\{team\}/artifacts", "shared/artifacts")


def tighten_environment(root: Path) -> None:
    edit(root / "environments/staging.yaml", r"max_concurrent_trainings: \d+", "max_concurrent_trainings: 5")


def damage_records(root: Path) -> None:
    renumber(root)
    for record in sorted((root / ".maestro/cache").glob("*.unit"))[::2]:
        data = bytearray(record.read_bytes())
        data[-10] ^= 0x01   # a flipped bit in the rendered bytes
        record.write_bytes(bytes(data))


def damage_index(root: Path) -> None:
    index = root / ".maestro/cache/index.json"
    index.write_bytes(index.read_bytes().replace(b"team-001", b"team-002", 1))


def truncate_records(root: Path) -> None:
    for record in (root / ".maestro/cache").glob("*.unit"):
        record.write_bytes(record.read_bytes()[: len(record.read_bytes()) // 2])


EDITS = [renumber, change_team, new_team, add_pipeline, remove_pipeline, empty_a_team, shared_namespace,
         tighten_environment, damage_records, damage_index, truncate_records]


@pytest.fixture
def compiled(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "project", 16, seed=3, teams=4)
    assert run(["compile", "--root", str(root)]) == 0
    assert files_under(root / "gitops") == compile_project(root, validate=False).tree.files
    return root


@pytest.mark.parametrize("change", [pytest.param(e, id=e.__name__) for e in EDITS])
def test_a_cached_compile_writes_what_an_uncached_one_does(compiled: Path, change) -> None:
    change(compiled)
    assert run(["compile", "--root", str(compiled)]) == 0
    assert files_under(compiled / "gitops") == compile_project(compiled, validate=False).tree.files


def test_a_compile_of_one_environment_then_of_all(compiled: Path) -> None:
    renumber(compiled)
    change_team(compiled)
    assert run(["compile", "--root", str(compiled), "--env", "prod"]) == 0
    assert run(["compile", "--root", str(compiled)]) == 0
    assert files_under(compiled / "gitops") == compile_project(compiled, validate=False).tree.files


def test_an_unchanged_project_reuses_every_namespace(compiled: Path, capsys) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in (compiled / ".maestro/cache").glob("*.unit")}
    capsys.readouterr()
    assert run(["compile", "--root", str(compiled)]) == 0
    assert capsys.readouterr().out.startswith("gitops/: 0 written, 0 pruned")
    assert {p.name: p.stat().st_mtime_ns for p in (compiled / ".maestro/cache").glob("*.unit")} == before


def test_an_edit_rebuilds_only_the_namespaces_it_touches(compiled: Path) -> None:
    before = {p.name for p in (compiled / ".maestro/cache").glob("*.unit")}
    renumber(compiled)
    assert run(["compile", "--root", str(compiled)]) == 0
    after = {p.name for p in (compiled / ".maestro/cache").glob("*.unit")}
    assert len(after - before) == 3 and len(before - after) == 3   # one team namespace in each environment


def test_without_the_cache_nothing_is_read_or_written(compiled: Path, monkeypatch) -> None:
    monkeypatch.setenv("MAESTRO_NO_CACHE", "1")
    damage_records(compiled)
    listing = sorted(p.name for p in (compiled / ".maestro/cache").iterdir())
    assert run(["compile", "--root", str(compiled)]) == 0
    assert files_under(compiled / "gitops") == compile_project(compiled, validate=False).tree.files
    assert sorted(p.name for p in (compiled / ".maestro/cache").iterdir()) == listing


def test_errors_in_cached_pipelines_are_reported_as_without_the_cache(compiled: Path, capsys, monkeypatch) -> None:
    """A tightened policy refuses pipelines that did not change and were cached; one edited pipeline is
    broken too. The report is the one an uncached compile gives, every error at once."""
    edit(compiled / "environments/prod.yaml", r"max_gpus_per_step: \d+", "max_gpus_per_step: 0")
    edit(first_pipeline(compiled), r"epochs: \d+", "epochs: -1")
    capsys.readouterr()
    assert run(["compile", "--root", str(compiled)]) == 1
    cached = capsys.readouterr().err
    monkeypatch.setenv("MAESTRO_NO_CACHE", "1")
    assert run(["compile", "--root", str(compiled)]) == 1
    assert capsys.readouterr().err == cached
    assert "max_gpus_per_step" in cached and "epochs" in cached
