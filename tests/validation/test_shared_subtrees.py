"""Shared subtrees: a compile checks an object that many of its outputs hold (by identity) once per
check, with the findings of the unremembered path: the same errors, in the same order, for every
document holding a bad subtree; nothing remembered outlives its scope; `maestro validate` is as before."""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from pathlib import Path

import pytest

from benchmarks.generate import make_project
from maestro.compile import compile_project, validate_outputs
from maestro.errors import MaestroError
from maestro.render import render
from maestro.validation import Document, validate_documents
from maestro.validation import engine, memo
from maestro.validation.fastcheck import compile_check
from maestro.validation.rules import argo

from .conftest import SCHEMAS, run_cli


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("shared") / "project", 8, seed=3, teams=2)


@pytest.fixture
def outputs(project: Path) -> list:
    """Freshly emitted objects of one environment (fresh each test: the tests mutate them)."""
    return list(compile_project(project, ["dev"], validate=False).tree.outputs)


def _workflow_templates(outputs: list) -> list:
    return [o for o in outputs if o.body["kind"] == "WorkflowTemplate"]


def _shared_template(outputs: list) -> tuple[dict, int]:
    """The step template dict held by the most WorkflowTemplates, and how many hold it."""
    held = Counter(id(t) for o in _workflow_templates(outputs) for t in o.body["spec"]["templates"])
    by_id = {id(t): t for o in _workflow_templates(outputs) for t in o.body["spec"]["templates"]}
    key, count = held.most_common(1)[0]
    assert count > 1, "the emitter no longer shares step templates: these tests would prove nothing"
    return by_id[key], count


def _diagnostics(outputs: list) -> list:
    try:
        validate_outputs(outputs, ())
    except MaestroError as exc:
        return list(exc.diagnostics)
    return []


def _unremembered_diagnostics(outputs: list, monkeypatch) -> list:
    """What validate_outputs reports with no scope: every object checked again in every document."""
    with monkeypatch.context() as patched:
        patched.setattr(engine, "unchanging_bodies", nullcontext)
        return _diagnostics(outputs)


def _corrupt_schema(template: dict) -> str:
    template["notAField"] = True
    return 'unknown field "notAField"'


def _corrupt_inputs(template: dict) -> str:
    template["container"]["args"].append("{{inputs.parameters.ghost}}")
    return "declares no input parameter 'ghost'"


@pytest.mark.parametrize("corrupt", [_corrupt_schema, _corrupt_inputs], ids=["schema", "input-parameter-rule"])
def test_a_bad_shared_template_is_reported_in_every_workflow_template_holding_it(outputs, monkeypatch, corrupt):
    template, holders = _shared_template(outputs)
    words = corrupt(template)
    found = _diagnostics(outputs)
    assert found == _unremembered_diagnostics(outputs, monkeypatch)
    named = {d.file for d in found if words in d.message}
    assert len(named) == holders, found


def test_valid_outputs_give_the_unremembered_results_in_order(outputs, monkeypatch):
    documents = [Document(f"gitops/{o.path}", 0, 0, o.body) for o in outputs]
    remembered = validate_documents(documents, unchanging=True)
    assert remembered == validate_documents(documents)
    assert all(not r.failed for r in remembered)


def test_a_mixed_tree_gives_the_unremembered_results_in_order(outputs, monkeypatch):
    """Some shared templates bad, some good, one document-level problem: the same findings, in order."""
    templates = {id(t): t for o in _workflow_templates(outputs) for t in o.body["spec"]["templates"]}
    for i, template in enumerate(templates.values()):
        if i % 3 == 0:
            (_corrupt_inputs if i % 2 and "container" in template else _corrupt_schema)(template)
    _workflow_templates(outputs)[0].body["spec"]["entrypoint"] = "nowhere"
    found = _diagnostics(outputs)
    assert found and found == _unremembered_diagnostics(outputs, monkeypatch)


def test_nothing_remembered_outlives_the_validation(outputs):
    assert _diagnostics(outputs) == []
    template, holders = _shared_template(outputs)
    words = _corrupt_schema(template)   # after one scope ended, before the next
    assert len({d.file for d in _diagnostics(outputs) if words in d.message}) == holders


def test_maestro_validate_on_files_keeps_its_own_path(outputs, tmp_path, monkeypatch):
    """The command reads files (no shared objects) and opens no scope: no rule is handed a table."""
    template, holders = _shared_template(outputs)
    _corrupt_inputs(template)
    for o in _workflow_templates(outputs):
        (tmp_path / o.path.replace("/", "_")).write_bytes(render(o.body, o.sources))
    tables = []
    monkeypatch.setattr(argo, "passed", lambda check: tables.append(memo.passed(check)) or tables[-1])
    outcome = run_cli("-s", str(SCHEMAS), "--summary", str(tmp_path))
    assert outcome.exit_code == 1
    assert outcome.stdout.count("declares no input parameter 'ghost'") == holders
    assert tables and all(table is None for table in tables)


def test_the_library_opens_no_scope_unless_asked(outputs, monkeypatch):
    documents = [Document(f"gitops/{o.path}", 0, 0, o.body) for o in _workflow_templates(outputs)]
    tables = []
    monkeypatch.setattr(argo, "passed", lambda check: tables.append(memo.passed(check)) or tables[-1])
    validate_documents(documents)
    assert tables and all(table is None for table in tables)
    validate_documents(documents, unchanging=True)
    assert any(table is not None for table in tables)


# --- the scope itself -----------------------------------------------------------------------------

_ITEMS_OF_OBJECTS = {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                                  "properties": {"a": {"type": "string"}}}}


def test_within_a_scope_an_object_that_passed_is_not_checked_again():
    check, item = compile_check(_ITEMS_OF_OBJECTS, True, {}), {"a": "x"}
    with memo.unchanging_bodies():
        assert check([item])
        item["a"] = 1              # breaks the scope's promise, to show what it buys
        assert check([item])       # remembered: not checked again
    assert not check([item])       # no scope: checked
    with memo.unchanging_bodies():
        assert not check([item])   # a new scope remembers nothing of the last


def test_a_failure_is_not_remembered():
    check, item = compile_check(_ITEMS_OF_OBJECTS, True, {}), {"a": 1}
    with memo.unchanging_bodies():
        assert not check([item])
        item["a"] = "x"
        assert check([item])


def test_the_table_keeps_what_it_names_and_goes_with_its_scope():
    assert memo.passed("check") is None
    with memo.unchanging_bodies():
        table = memo.passed("check")
        assert table == {} and memo.passed("check") is table and memo.passed("other") is not table
        with memo.unchanging_bodies():
            assert memo.passed("check") == {}     # a nested scope starts empty...
        assert memo.passed("check") is table      # ...and the outer one is back after it
    assert memo.passed("check") is None
