"""Manifests inside manifests: the objects Argo resource templates create (a TrainJob, for maestro).

In: an Argo workflow-kind body (Workflow, WorkflowTemplate, ClusterWorkflowTemplate, CronWorkflow).
Out: each resource template's `manifest` that is one YAML mapping, parsed, with the path of the
field that holds it, so the compile validates the object it will create against that object's own
schema. A manifest that does not parse is not returned: Argo's `{{...}}` placeholders make many a
hand-written one YAML only after substitution, and the controller is what reads it. The text is
read as every other manifest is (libyaml, with the alias and depth bounds): a workflow under
`maestro validate` is anybody's, and PyYAML's pure-Python loader took a fifth of a large compile.
"""

from __future__ import annotations

from ..loading.manifests import parse_yaml
from .model import Document
from .rules.argo import WORKFLOW_KINDS, workflow_spec


def resource_manifests(body: dict) -> list[tuple[tuple, dict]]:
    if body.get("kind") not in WORKFLOW_KINDS:
        return []
    spec, base = workflow_spec(body)
    found = []
    for i, template in enumerate(spec.get("templates") or []):
        text = (template.get("resource") or {}).get("manifest") if isinstance(template, dict) else None
        parsed = parse_yaml(text, "manifest") if isinstance(text, str) else []
        if len(parsed) == 1 and isinstance(parsed[0], Document):
            found.append((base + ("templates", i, "resource", "manifest"), parsed[0].body))
    return found
