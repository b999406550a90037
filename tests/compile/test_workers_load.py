"""A large compile's workers load the pipelines they build: the compiling process places each
pipeline by its surveyed metadata and loads none. Whatever the survey cannot place, or placed
wrongly, sends the compile to the full load here, with the serial compile's bytes and errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.generate import make_project
from maestro import project as project_module
from maestro.compile import PARALLEL_MEMBERS, compile_project

from .conftest import refusals_by_jobs

PIPELINES = PARALLEL_MEMBERS // 3 + 4   # over the size where workers are used, in three environments


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("survey") / "large", PIPELINES, seed=11, teams=5)


@pytest.fixture(scope="module")
def serial(large: Path):
    return compile_project(large, jobs=1)


@pytest.fixture
def loaded_here(monkeypatch) -> list[str]:
    """The spec files this process loads (a forked worker's loads stay in the worker's copy)."""
    here, seen = os.getpid(), []
    real = project_module.load_file

    def recording(path, display):
        if os.getpid() == here:
            seen.append(display)
        return real(path, display)

    monkeypatch.setattr(project_module, "load_file", recording)
    return seen


def _pipelines(loaded: list[str]) -> list[str]:
    return [file for file in loaded if file.startswith("pipelines/")]


def test_the_workers_load_the_pipelines_and_this_process_none(large: Path, serial, loaded_here: list[str]) -> None:
    fanned = compile_project(large, jobs=2)
    assert fanned.tree.files == serial.tree.files and fanned.pipelines == serial.pipelines == PIPELINES
    assert _pipelines(loaded_here) == [] and "environments/prod.yaml" in loaded_here


def test_a_survey_the_load_contradicts_is_compiled_from_a_full_load(large: Path, serial, loaded_here: list[str],
                                                                    monkeypatch) -> None:
    """A file that changed between its survey and its load, say: its team is not the surveyed one."""
    real = project_module.name_and_team
    victim = sorted((large / "pipelines").glob("*.yaml"))[PIPELINES // 2]
    teams = sorted({real(p)[1] for p in (large / "pipelines").glob("*.yaml")})

    def misplacing(path):
        name, team = real(path)
        return (name, next(t for t in teams if t != team)) if path == victim else (name, team)

    monkeypatch.setattr(project_module, "name_and_team", misplacing)
    fanned = compile_project(large, jobs=2)
    assert fanned.tree.files == serial.tree.files
    assert len(_pipelines(loaded_here)) == PIPELINES   # the full load, here


def test_a_pipeline_the_survey_cannot_read_is_compiled_from_a_full_load(tmp_path: Path, loaded_here: list[str]) -> None:
    """An anchor in the metadata, and a link to a spec elsewhere in the repository: both are valid."""
    project = make_project(tmp_path / "unusual", PIPELINES, seed=11, teams=5)
    specs = sorted((project / "pipelines").glob("*.yaml"))
    specs[3].write_text(specs[3].read_text().replace("metadata:\n", "metadata: &meta\n", 1))
    (project / "shared").mkdir()
    specs[5].rename(project / "shared" / specs[5].name)
    specs[5].symlink_to(Path("..") / "shared" / specs[5].name)
    serial = compile_project(project, jobs=1)
    loaded_here.clear()
    fanned = compile_project(project, jobs=2)
    assert fanned.tree.files == serial.tree.files
    assert len(_pipelines(loaded_here)) == PIPELINES


@pytest.mark.parametrize("broken", [
    lambda text: text + "metadata:\n  name: again\n  team: twice\n",       # a second metadata: a duplicate key
    lambda text: text.replace("spec:\n", "spec:\n  data: [unclosed\n", 1),  # broken after the metadata
    lambda text: text.replace("spec:\n", "spec:\n  nonsense: 1\n", 1),      # a field the model refuses
])
def test_a_bad_file_the_survey_placed_is_reported_as_the_serial_compile_reports_it(tmp_path: Path, broken) -> None:
    project = make_project(tmp_path / "bad", PIPELINES, seed=11, teams=5)
    spec = sorted((project / "pipelines").glob("*.yaml"))[7]
    spec.write_text(broken(spec.read_text()))
    refusals = refusals_by_jobs(project)
    assert refusals[0] == refusals[1]
    assert {d.file for d in refusals[0]} == {f"pipelines/{spec.name}"}


def test_an_edit_too_small_for_workers_reads_the_cache_once(tmp_path: Path, monkeypatch) -> None:
    """One edited pipeline: its namespaces are too few to fork for, so the surveyed compile stays
    here and loads; the namespaces reused are read from the cache once, not once per attempt."""
    from maestro import incremental

    project = make_project(tmp_path / "cached", PIPELINES, seed=11, teams=5)
    compile_project(project, cache=incremental.NamespaceCache(project), jobs=2)
    spec = sorted((project / "pipelines").glob("*.yaml"))[4]
    spec.write_text(spec.read_text().replace("epochs: ", "epochs: 1", 1))
    asked = []
    real = incremental._Session.reused
    monkeypatch.setattr(incremental._Session, "reused", lambda self, members: asked.append(1) or real(self, members))
    again = compile_project(project, cache=incremental.NamespaceCache(project), jobs=2)
    assert len(asked) == 1
    assert again.tree.files == compile_project(project, jobs=1).tree.files
