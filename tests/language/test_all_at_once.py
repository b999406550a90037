"""One compile reports every mistake it can check, of every stage and every file; what it cannot
check it names in a note (issue 16, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro.errors import Diagnostic, MaestroError, format_path
from maestro.language.checks import check_dates, check_serving_references
from maestro.language.hints import with_hints
from maestro.language.partial import SECTIONS, bad_sections, partial_pipeline, run_checks
from maestro.loading.positions import Located
from maestro.project import load_project

from .test_cases import project_for

# The nine mistakes of cases/all-at-once/pipelines/forecast.yaml: (line, field, stage).
FORECAST = {
    (11, "spec.data.tickers", "model"),
    (15, "spec.model.kind", "model"),
    (17, "spec.training.resources.gpus", "policy"),
    (19, "spec.evaluation.gate.min_accuracy", "policy"),
    (23, "spec.steps[0].after[0]", "reference"),
    (24, "spec.steps[0].env.DB_PASSWORD", "spec check"),
    (26, "spec.schedule.cron", "cron"),
    (33, "spec.serving.experiment.candidate", "model"),
    (35, "spec.overrides.prdo", "reference"),
}


def diagnostics_of(root: Path) -> tuple[Diagnostic, ...]:
    with pytest.raises(MaestroError) as raised:
        load_project(root)
    return raised.value.diagnostics


def test_one_compile_reports_every_stage_of_every_file(tmp_path: Path) -> None:
    found = diagnostics_of(project_for("all-at-once", tmp_path))
    errors = {(d.file, d.line, format_path(d.path)) for d in found if d.severity == "error"}
    assert {("pipelines/forecast.yaml", line, path) for line, path, _ in FORECAST} <= errors
    assert ("pipelines/returns.yaml", 20, "spec.serving.default") in errors   # beside a model error
    notes = sorted(d.file for d in found if d.severity == "note")
    assert notes == ["pipelines/forecast.yaml", "pipelines/returns.yaml"]


def test_the_note_names_what_was_not_checked_and_why(tmp_path: Path) -> None:
    found = diagnostics_of(project_for("all-at-once", tmp_path))
    [note] = [d for d in found if d.severity == "note" and d.file == "pipelines/returns.yaml"]
    assert note.message == ("4 check(s) were not run (cpu nodes, gpu quota, gpus, nodes): they read "
                            "spec.training, which has errors in this file")


DATA = {"spec": {"data": {"tickers": ["AAPL"], "start": "2010-01-01", "end": "2009-01-01"},
                 "serving": {"versions": [{"name": "v1", "run": "x-1"}], "default": "v2"}}}


@pytest.mark.parametrize("bad, ran, not_run", [
    pytest.param(set(), ["spec.data.end", "spec.serving.default"], {}, id="all-valid"),
    pytest.param({"serving"}, ["spec.data.end"], {"serving references": ("serving",)}, id="serving-bad"),
    pytest.param({"data"}, ["spec.serving.default"], {"dates": ("data",)}, id="data-bad"),
])
def test_a_check_runs_only_when_the_sections_it_reads_are_valid(bad, ran, not_run) -> None:
    partial, found_bad = partial_pipeline(DATA, bad)
    findings, skipped = run_checks((check_dates, check_serving_references), (partial,), found_bad)
    assert sorted(format_path(f.path) for f in findings) == ran
    assert skipped == not_run


@pytest.mark.parametrize("path, sections", [
    pytest.param(("spec", "data", "tickers"), {"data"}, id="in-a-section"),
    pytest.param(("spec", "trainig"), set(), id="unknown-key-beside-the-sections"),
    pytest.param(("metadata", "name"), set(), id="metadata"),
    pytest.param(("spec",), set(SECTIONS), id="the-spec-itself"),
])
def test_bad_sections(path, sections) -> None:
    assert bad_sections([Diagnostic.about(path, "bad")]) == sections


@pytest.mark.parametrize("versions, hint", [
    pytest.param([{"name": "v3"}, {"name": "v4"}], "a version name, one of v3, v4", id="declared"),
    pytest.param([], "a version name, listed in serving.versions first", id="none-declared"),
    pytest.param("v3", "a version name, listed in serving.versions first", id="versions-unreadable"),
])
def test_a_version_reference_names_the_declared_versions(versions, hint) -> None:
    doc = Located("p.yaml", {"spec": {"serving": {"versions": versions}}})
    problem = Diagnostic("p.yaml", 3, 5, ("spec", "serving", "experiment", "candidate"), "got 2: not a string")
    assert [d.hint for d in with_hints(doc, [problem])] == [hint]
