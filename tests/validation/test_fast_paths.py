"""The compile's fast paths agree with the slow ones they stand in for.

* `plain_manifest` (embedded TrainJob manifests read line by line) gives what `parse_yaml` gives,
  or gives up (None) so that `parse_yaml` reads the text;
* `may_name_inputs` (the argo input-parameter rule's marshal pre-check) never hides a finding the
  full walk makes, however deep the reference or the inline template is.
"""

from __future__ import annotations

import copy
import math

import pytest

from maestro.loading.manifests import parse_yaml
from maestro.validation import Document
from maestro.validation.embedded import plain_manifest, read_manifest, resource_manifests
from maestro.validation.rules.argo import _template_inputs, input_parameters, may_name_inputs, workflow_spec
from maestro.validation.rules.corpus import Corpus

from .conftest import REPO

GOLDEN = REPO / "gitops" / "staging" / "quant-research-staging" / "workflowtemplate-msft-return-multinode.yaml"


def _golden_workflow() -> dict:
    return [d.body for d in parse_yaml(GOLDEN.read_text(), str(GOLDEN)) if isinstance(d, Document)][0]


def _golden_manifest() -> str:
    spec, _ = workflow_spec(_golden_workflow())
    return next(t["resource"]["manifest"] for t in spec["templates"] if "resource" in t)


def _slow(text: str) -> dict | None:
    parsed = parse_yaml(text, "manifest")
    return parsed[0].body if len(parsed) == 1 and isinstance(parsed[0], Document) else None


def _same(a: object, b: object) -> bool:
    """Equal, with types and key order (repr), NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return repr(a) == repr(b)


def _agrees(text: str) -> dict | None:
    fast, slow = plain_manifest(text), _slow(text)
    if fast is not None:
        assert _same(fast, slow), text
    assert _same(read_manifest(text), slow)
    return fast


# --- embedded manifests ------------------------------------------------------------------------


def test_maestro_trainjob_takes_the_fast_path_and_matches():
    text = _golden_manifest()
    fast = _agrees(text)
    assert fast is not None and fast["kind"] == "TrainJob"


def test_resource_manifests_are_those_parse_yaml_reads():
    body = _golden_workflow()
    found = resource_manifests(body)
    assert found and all(_same(manifest, _slow(_golden_manifest())) for _, manifest in found)


VALUES = ["yes", "No", "on", "OFF", "true", "~", "null", "Null", "", "0x1F", "0o17", "017", "0b101", "1:20", "190:20:30",
          "1_000", "-12", "+3", "1e3", "1.5e3", "6.8523015e+5", ".inf", "-.Inf", ".NaN", "2024-01-01", "2001-12-14t21:59:43.10-05:00",
          "=", "<<", "'a''b'", "'it''s'", "''", "'", "'a' b", "{}", "[]", "{a: 1}", "[1, 2]", "&a x", "*a", "!!str 1", "|", ">",
          "a #c", "a# c", "a: b", "a:b", "\"q\"", "'{{inputs.parameters.x}}'", "{{workflow.name}}", "- x", "-", "-x", "--flag",
          "?x", ":x", "@x", "`x", "%x", "a\tb", "x ", " x", "café", "a,b", "[a", "a]"]


@pytest.mark.parametrize("value", VALUES)
def test_scalars_agree(value):
    for text in (f"apiVersion: v1\nkind: ConfigMap\ndata:\n  k: {value}\n",
                 f"apiVersion: v1\nkind: X\nspec:\n  args:\n  - {value}\n  - b\n"):
        _agrees(text)


@pytest.mark.parametrize("key", ["on", "1", "1.5", "null", "true", "0x10", "a.b/c-d_e", "'q'", "<<", "? k", "a b", "-k"])
def test_keys_agree(key):
    _agrees(f"kind: X\nspec:\n  {key}: 1\n  z: 2\n")


LINE_EDITS = [
    lambda lines, i: lines[:i] + ["# a comment"] + lines[i:],
    lambda lines, i: lines[:i] + [""] + lines[i:],
    lambda lines, i: lines[:i] + ["   "] + lines[i:],
    lambda lines, i: lines[:i] + [" " + lines[i]] + lines[i + 1:],
    lambda lines, i: lines[:i] + [lines[i][1:] if lines[i].startswith(" ") else lines[i]] + lines[i + 1:],
    lambda lines, i: lines[:i] + [lines[i] + " "] + lines[i + 1:],
    lambda lines, i: lines[:i] + [lines[i] + " # why"] + lines[i + 1:],
    lambda lines, i: lines[:i] + [lines[i], lines[i]] + lines[i + 1:],          # a duplicate key or entry
    lambda lines, i: lines[:i] + [lines[i].replace(" ", "\t", 1)] + lines[i + 1:],
    lambda lines, i: lines[:i] + [lines[i], " " * (len(lines[i]) - len(lines[i].lstrip()) + 2) + "more"] + lines[i + 1:],
    lambda lines, i: lines[:i] + ["---"] + lines[i:],
    lambda lines, i: lines[:i] + [lines[i].replace(": ", ": &anchor ", 1)] + lines[i + 1:],
    lambda lines, i: lines[:i] + [lines[i].replace("- ", "- - ", 1)] + lines[i + 1:],
]


@pytest.mark.parametrize("edit", range(len(LINE_EDITS)))
def test_edited_manifests_agree_line_by_line(edit):
    lines = _golden_manifest().rstrip("\n").split("\n")
    for i in range(len(lines)):
        _agrees("\n".join(LINE_EDITS[edit](lines, i)) + "\n")


def test_what_the_subset_refuses_is_read_by_parse_yaml():
    for text in ("kind: X\n# note\n", "kind: X\nspec: {a: 1}\n", "kind: X\nspec: |\n  text\n", "kind: X\n\nspec: 1\n",
                 "kind: X\nspec: 1\nspec: 2\n", "kind: X\n1: a\n", "a: &x 1\nb: *x\n"):
        assert plain_manifest(text) is None
        assert _same(read_manifest(text), _slow(text))


def test_lists_broken_and_deep_texts_agree():
    list_text = "apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  metadata:\n    name: a\n"
    assert plain_manifest(list_text) is None and _agrees(list_text) is None
    deep = "kind: X\n" + "".join("  " * d + f"k{d}:\n" for d in range(120)) + "  " * 120 + "leaf: 1\n"
    assert plain_manifest(deep) is None and read_manifest(deep) is None   # over parse_yaml's depth bound
    for text in ("kind: X\n  bad: indent\n", "- a\n- b\n", "just text\n", "kind: X\nspec:\n  - a\n  b: c\n", "k: 'open\n"):
        _agrees(text)


# --- argo input parameters -------------------------------------------------------------------------


def _walked(body: dict) -> list:
    """The rule's findings without its pre-check: every template walked."""
    spec, base = workflow_spec(body)
    return [p for i, t in enumerate(spec.get("templates") or []) for p in _template_inputs(t, base + ("templates", i))]


def _workflow_with(template: dict) -> dict:
    body = copy.deepcopy(_golden_workflow())
    body["spec"]["templates"].append(template)
    return body


def _deep(levels: int, leaf: object) -> object:
    for level in range(levels):
        leaf = {f"level{level}": [leaf]} if level % 2 else {"nested": leaf}
    return leaf


@pytest.mark.parametrize("template", [
    {"name": "deep", "container": {"env": [_deep(40, "{{inputs.parameters.ghost}}")]}},
    {"name": "expression", "script": {"source": _deep(7, "{{= inputs.parameters['no-such'] }}")}},
    {"name": "outer", "steps": [[{"name": "s", "inline": {"container": {"args": [_deep(5, "{{inputs.parameters.y}}")]}}}]]},
    {"name": "in-a-key", "container": {"env": {"{{inputs.parameters.k}}": "v"}}},
    {"name": "odd-types", "container": {"args": [{"a", "b"}, ("{{inputs.parameters.t}}",), "{{inputs.parameters.z}}"]}},
    {"name": "too-deep", "container": {"args": [_deep(2100, "{{inputs.parameters.far}}")]}},
    {"name": "declared", "inputs": {"parameters": [{"name": "ok"}]}, "container": {"args": ["{{inputs.parameters.ok}}"]}},
])
def test_input_parameter_findings_match_the_full_walk(template):
    body = _workflow_with(template)
    found = list(input_parameters(body, Corpus([body])))
    assert found == _walked(body)
    if template["name"] in ("deep", "expression", "outer", "odd-types", "too-deep"):
        assert found, "the undeclared parameter is reported"


def test_the_precheck_skips_only_what_cannot_name_inputs():
    assert not may_name_inputs({"container": {"args": ["{{workflow.parameters.start}}", "pipeline"]}})
    assert may_name_inputs([{"x": _deep(30, "a {{inputs.parameters.b}}")}])
    assert may_name_inputs({"steps": [[{"inline": {}}]]})
    assert may_name_inputs({"args": [object()]})      # a value marshal refuses is walked


# --- argo DAG cycles ---------------------------------------------------------------------------------


def test_the_acyclic_precheck_agrees_with_the_search_from_every_task():
    import random

    from maestro.validation.rules.argo import _acyclic, _cycle_from

    chooser = random.Random(7)
    for _ in range(5000):
        names = [f"t{i}" for i in range(chooser.randint(0, 6))] + ([""] if chooser.random() < 0.2 else [])
        graph = {name: [chooser.choice(names) for _ in range(chooser.randint(0, 3))] for name in names}
        assert _acyclic(graph) == (not any(_cycle_from(name, graph) for name in graph)), graph
