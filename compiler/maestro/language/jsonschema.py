"""JSON Schemas of the spec kinds, generated from the models, for editors (yaml-language-server)."""

from __future__ import annotations

import json

TITLES = {"pipeline": "Maestro Pipeline (maestro/v1)", "environment": "Maestro Environment (maestro/v1)",
          "teams": "Maestro Teams (maestro/v1)"}


def schema(kind: str) -> dict:
    from .environment import Environment
    from .pipeline import Pipeline
    from .teams import Teams

    model = {"pipeline": Pipeline, "environment": Environment, "teams": Teams}[kind]
    document = model.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": TITLES[kind], **{
        k: v for k, v in document.items() if k != "title"}}


def schema_text(kind: str) -> str:
    return json.dumps(schema(kind), indent=2, sort_keys=True) + "\n"
