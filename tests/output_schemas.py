"""The JSON Schemas of `--output json` (docs/schemas/output/), for the tests that check real output."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

OUTPUT_SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas" / "output"


def conforming(text: str, kind: str) -> dict:
    """`text` parsed, once it validates against docs/schemas/output/<kind>.schema.json."""
    document = json.loads(text)
    schema = json.loads((OUTPUT_SCHEMAS / f"{kind}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)
    return document
