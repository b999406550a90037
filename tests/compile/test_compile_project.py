"""`compile_project`, the one compile entry point: reuse changes no byte, the namespace-by-namespace
build is the whole plan's, output validation fails closed, settings arrive as values (never from the
environment), and the paused collector is running again afterwards."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from maestro.compile import compile_project, paused_gc, render_outputs
from maestro.errors import MaestroError
from maestro.incremental import NamespaceCache
from maestro.lower import lower
from maestro.project import load_project
from maestro.targets import emit_all
from maestro.targets.argocd_health import GITOPS_PATH as HEALTH_PATCH_PATH

from tests.support import maestro

from .conftest import refusing_model_schemas


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_reusing_earlier_compiles_changes_no_byte(project: Path) -> None:
    cache = NamespaceCache(project)
    first = compile_project(project, cache=cache)
    assert list((project / ".maestro/cache").glob("*.unit"))
    assert compile_project(project, cache=cache).tree.files == first.tree.files == compile_project(project).tree.files
    _edit(project / "pipelines/msft-momentum.yaml", "candidate_weight: 15", "candidate_weight: 10")
    edited = compile_project(project, cache=cache)
    assert edited.tree.files == compile_project(project).tree.files != first.tree.files
    assert (edited.pipelines, edited.environments) == (5, 3)   # the examples: 4 market-data, 1 custom


def test_the_namespace_by_namespace_build_is_the_whole_plans(project: Path) -> None:
    """Objects outside the namespace folders come from a plan of the teams alone; they must be what
    the whole plan emits, and so must every other object."""
    plan = lower(load_project(project))
    whole = render_outputs([o for env in plan.environments for o in emit_all(env)], lambda o: None)
    files = compile_project(project, validate=False).tree.files
    assert {p: d for p, d in files.items() if p in whole} == whole
    assert sorted(set(files) - set(whole)) == sorted(["CODEOWNERS", "README.md", HEALTH_PATCH_PATH])


def test_an_invalid_output_is_refused_with_every_object_named(project: Path, tmp_path: Path) -> None:
    schemas = str(refusing_model_schemas(tmp_path / "schemas"))
    with pytest.raises(MaestroError) as refused:
        compile_project(project, schema_locations=[schemas])
    models = {d.file for d in refused.value.diagnostics}
    assert len(models) == 12 and all(f.startswith("gitops/") and "/model-" in f for f in models)
    assert all(d.path == ("spec", "storageUri") and "does not match" in d.message for d in refused.value.diagnostics)
    assert compile_project(project, validate=False, schema_locations=[schemas]).tree.files


def test_settings_come_as_values_never_from_the_environment(project: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MAESTRO_SCHEMA_LOCATION", str(refusing_model_schemas(tmp_path / "schemas")))
    monkeypatch.delenv("MAESTRO_NO_CACHE", raising=False)
    compile_project(project)                        # the shipped schemas only: valid
    assert not (project / ".maestro").exists()      # no cache unless one is given


def test_the_collector_runs_again_after_a_compile_and_after_a_refused_one(project: Path) -> None:
    assert gc.isenabled()
    compile_project(project, validate=False)
    assert gc.isenabled()
    _edit(project / "pipelines/msft-momentum.yaml", "candidate_weight: 15", "candidate_weight: many")
    with pytest.raises(MaestroError):
        compile_project(project, validate=False)
    assert gc.isenabled()


def test_the_compile_commands_keep_the_collector_off_until_they_return(project: Path, monkeypatch) -> None:
    import maestro.api as api

    seen = []
    for name in ("compile_gitops", "check_gitops", "diff_gitops"):
        def observed(*args, _real=getattr(api, name), **kwargs):
            seen.append(gc.isenabled())
            return _real(*args, **kwargs)
        monkeypatch.setattr(api, name, observed)
    assert maestro(project, "compile").returncode == 0
    assert maestro(project, "compile", "--check").returncode == 0
    assert maestro(project, "diff").returncode == 0
    _edit(project / "pipelines/msft-momentum.yaml", "candidate_weight: 15", "candidate_weight: many")
    assert maestro(project, "compile").returncode != 0
    assert seen == [False] * 4 and gc.isenabled()


def test_overlapping_pauses_resume_the_collector_when_the_last_one_ends() -> None:
    first_in, second_out = threading.Event(), threading.Event()

    def second() -> None:
        first_in.wait()
        with paused_gc():
            pass
        second_out.set()

    other = threading.Thread(target=second)
    other.start()
    with paused_gc():
        first_in.set()
        second_out.wait()
        assert not gc.isenabled()     # the other compile ended first: this one still runs without it
    other.join()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()     # switched off before: left off
    finally:
        gc.enable()
