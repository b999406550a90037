"""Merging with provenance: environment.defaults < pipeline.spec < pipeline.overrides[env].

Mappings merge key by key, lists replace, null removes (the field's default applies, or "none" where
the field accepts null), and every effective value remembers the line that supplied it.
"""

from __future__ import annotations

import pytest

from maestro.project import effective_document
from maestro.loading.positions import load_bytes
from maestro.language.diagnose import validate_model
from maestro.language.pipeline import Pipeline

BASE_SPEC = {"data": "{source: sample, tickers: [AAPL], start: 2005-01-01}", "features": "[{kind: returns}]"}
OVERRIDE_LINE = 6


def pipeline_text(spec: dict[str, str], override: str, env: str) -> str:
    lines = ["apiVersion: maestro/v1", "kind: Pipeline", "metadata: {name: p, team: t}", "spec:",
             "  overrides:", f"    {env}: {override}"]            # the override is on line 6
    lines += [f"  {key}: {value}" for key, value in {**BASE_SPEC, **spec}.items()]
    return "\n".join(lines) + "\n"


def effective(defaults: str, spec: dict[str, str], override: str, env: str = "prod"):
    env_doc = load_bytes(f"spec:\n  defaults: {defaults}\n".encode(), "environments/prod.yaml")[0]
    doc = load_bytes(pipeline_text(spec, override, env).encode(), "pipelines/p.yaml")[0]
    merged = effective_document(doc, env_doc, "prod")
    model, problems = validate_model(merged, Pipeline)
    assert problems == []
    return merged, model


def value_at(model: Pipeline, path: tuple):
    value = model
    for part in path:
        value = value[part] if isinstance(part, int) else getattr(value, part)
    return value


def supplier(merged, path: tuple) -> str:
    """Which layer supplied the value at `path`: 'defaults', 'spec' or 'override'."""
    pos = merged.at(path)
    if pos.file.startswith("environments/"):
        return "defaults"
    return "override" if pos.line == OVERRIDE_LINE else "spec"


TRAINING = ("spec", "training")
CASES = [
    # id, defaults, spec, override, path, value, supplier
    ("override-beats-spec-beats-defaults", "{training: {epochs: 5}}", {"training": "{epochs: 10}"},
     "{training: {epochs: 2}}", TRAINING + ("epochs",), 2, "override"),
    ("spec-beats-defaults", "{training: {epochs: 5}}", {"training": "{epochs: 10}"}, "{}",
     TRAINING + ("epochs",), 10, "spec"),
    ("defaults-fill-what-spec-leaves-out", "{training: {retries: 0}}", {"training": "{epochs: 10}"}, "{}",
     TRAINING + ("retries",), 0, "defaults"),
    ("mappings-merge-key-by-key-kept", "{}", {"training": "{resources: {gpus: 1, cpu: '4'}}"},
     "{training: {resources: {gpus: 0}}}", TRAINING + ("resources", "cpu"), "4", "spec"),
    ("mappings-merge-key-by-key-replaced", "{}", {"training": "{resources: {gpus: 1, cpu: '4'}}"},
     "{training: {resources: {gpus: 0}}}", TRAINING + ("resources", "gpus"), 0, "override"),
    ("lists-replace", "{}", {"data": "{source: sample, tickers: [AAPL, MSFT], start: 2005-01-01}"},
     "{data: {tickers: [GOOG]}}", ("spec", "data", "tickers"), ["GOOG"], "override"),
    ("lists-of-mappings-replace", "{}", {"features": "[{kind: returns}, {kind: rsi}]"},
     "{features: [{kind: atr}]}", ("spec", "features", 0, "kind"), "atr", "override"),
    ("defaults-list-replaced-by-spec", "{data: {tickers: [SPY, QQQ]}}", {}, "{}",
     ("spec", "data", "tickers"), ["AAPL"], "spec"),
    ("override-adds-a-key", "{}", {}, "{monitoring: {max_hours_since_success: 12}}",
     ("spec", "monitoring", "max_hours_since_success"), 12, "override"),
    ("null-removes-a-spec-value", "{}", {"schedule": "{cron: '0 6 * * *'}"}, "{schedule: null}",
     ("spec", "schedule"), None, "override"),
    ("null-removes-a-default", "{training: {retries: 0}}", {}, "{training: {retries: null}}",
     TRAINING + ("retries",), 2, "override"),
    ("null-removes-a-whole-mapping", "{training: {epochs: 5}}", {"training": "{epochs: 10}"}, "{training: null}",
     TRAINING + ("epochs",), 20, "override"),
    ("null-in-spec-removes-a-default", "{training: {retries: 0}}", {"training": "{retries: null}"}, "{}",
     TRAINING + ("retries",), 2, "spec"),
    ("null-gate-means-no-gate", "{}", {"evaluation": "{gate: {min_accuracy: 0.6}}"}, "{evaluation: {gate: null}}",
     ("spec", "evaluation", "gate"), None, "override"),
    ("null-under-a-new-key", "{}", {}, "{quality: {min_rows: null}}",
     ("spec", "quality", "min_rows"), 250, "override"),
    ("defaults-null-is-overridden", "{schedule: null}", {"schedule": "{cron: '0 6 * * *'}"}, "{}",
     ("spec", "schedule", "cron"), "0 6 * * *", "spec"),
]


@pytest.mark.parametrize("defaults, spec, override, path, value, layer", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_merge_semantics_and_provenance(defaults, spec, override, path, value, layer) -> None:
    merged, model = effective(defaults, spec, override)
    assert value_at(model, path) == value
    assert supplier(merged, path) == layer


def test_an_override_for_another_environment_does_not_apply() -> None:
    merged, model = effective("{}", {"training": "{epochs: 10}"}, "{training: {epochs: 2}}", env="dev")
    assert (model.spec.training.epochs, supplier(merged, TRAINING + ("epochs",))) == (10, "spec")


def test_the_overrides_are_not_part_of_the_effective_spec() -> None:
    merged, model = effective("{}", {}, "{training: {epochs: 2}}")
    assert model.spec.overrides == {} and "overrides" not in merged.data["spec"]


def test_a_removed_value_leaves_no_stale_position() -> None:
    merged, _ = effective("{}", {"training": "{epochs: 10, resources: {gpus: 2}}"}, "{training: null}")
    assert ("spec", "training", "resources", "gpus") not in merged.values
    assert supplier(merged, TRAINING + ("resources", "gpus")) == "override"
