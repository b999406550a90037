"""JSON Schemas of the spec kinds, generated from the models, for editors (yaml-language-server)."""

from __future__ import annotations

import json

TITLES = {"pipeline": "Maestro Pipeline (maestro/v1)", "environment": "Maestro Environment (maestro/v1)",
          "teams": "Maestro Teams (maestro/v1)"}


def schema(kind: str) -> dict:
    from typing import Union

    from pydantic import TypeAdapter

    from .environment import Environment
    from .pipeline import Pipeline
    from .teams import Teams
    from .workflow import CustomPipeline

    if kind == "pipeline":
        document = _by_template(TypeAdapter(Union[Pipeline, CustomPipeline]).json_schema(mode="validation"))
    else:
        document = {"environment": Environment, "teams": Teams}[kind].model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": TITLES[kind], **{
        k: v for k, v in document.items() if k != "title"}}


def _by_template(union: dict) -> dict:
    """Either template, chosen by `spec.template` as maestro chooses it, so an editor's errors are
    about the template the file asks for (an `anyOf` would report the other's)."""
    template = {"const": "custom", "description": "custom: the DAG is spec.steps."}
    custom = {"properties": {"spec": {"description": "The pipeline's spec.", "properties": {"template": template},
                                      "required": ["template"]}}, "required": ["spec"]}
    return {"$defs": union["$defs"], "if": custom, "then": {"$ref": "#/$defs/CustomPipeline"},
            "else": {"$ref": "#/$defs/Pipeline"}}


def schema_text(kind: str) -> str:
    return json.dumps(schema(kind), indent=2, sort_keys=True) + "\n"
