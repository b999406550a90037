"""Bring-your-own pipelines (`template: custom`): every refusal, located, with what would be accepted.

Each case edits one line of a valid custom pipeline (SPEC below, laid over the frozen example
environments) and names the exact diagnostic `maestro compile` must print; nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import BASE, lay_out

IMAGE = "ghcr.io/acme/byo@sha256:" + "a" * 64
SPEC = f"""\
apiVersion: maestro/v1
kind: Pipeline
metadata: {{name: byo, team: lab}}
spec:
  template: custom
  steps:
    - name: prepare
      image: {IMAGE}
      outputs: [table]
    - name: fit
      role: trainer
      image: {IMAGE}
      after: [prepare]
      inputs: [prepare.table]
      outputs: [model]
    - name: score
      role: evaluator
      image: {IMAGE}
      inputs: [prepare.table, fit.model]
      outputs: [metrics]
  gate: {{min: {{r2: 0.5}}}}
"""
FILE = "pipelines/byo.yaml"


def compile_spec(tmp_path: Path, maestro, text: str):
    root = lay_out(tmp_path / "project", BASE)
    (root / FILE).write_text(text)
    return root, maestro("compile", "--root", root)


def edited(old: str, new: str) -> str:
    assert old in SPEC, old
    return SPEC.replace(old, new, 1)


def test_the_valid_spec_compiles(tmp_path: Path, maestro) -> None:
    root, result = compile_spec(tmp_path, maestro, SPEC)
    assert result.returncode == 0, result.stderr
    assert (root / "gitops/prod/lab-prod/workflowtemplate-byo.yaml").is_file()


CASES = [
    pytest.param("      after: [prepare]\n", "      after: [prepare, score]\n",
                 f"{FILE}:19:31: error: spec.steps[2].inputs[1]: this dependency closes a cycle: "
                 "score -> fit -> score (each step waits for the next) (remove one of these dependencies)",
                 id="cycle-at-the-closing-edge"),
    pytest.param("    - name: prepare\n      image: " + IMAGE + "\n",
                 "    - name: prepare\n      image: " + IMAGE + "\n      after: [score]\n",
                 f"{FILE}:20:16: error: spec.steps[2].inputs[0]: this dependency closes a cycle: "
                 "score -> prepare -> score (each step waits for the next) (remove one of these dependencies)",
                 id="cycle-of-an-after-and-an-input"),
    pytest.param("      after: [prepare]\n", "      after: [prepar]\n",
                 f"{FILE}:13:15: error: spec.steps[1].after[0]: unknown step 'prepar' (did you mean 'prepare'?)",
                 id="unknown-step-in-after"),
    pytest.param("      after: [prepare]\n", "      after: [fit]\n",
                 f"{FILE}:13:15: error: spec.steps[1].after[0]: step 'fit' cannot depend on itself (remove it)",
                 id="self-dependency"),
    pytest.param("inputs: [prepare.table]\n", "inputs: [prepare.tabel]\n",
                 f"{FILE}:14:16: error: spec.steps[1].inputs[0]: step 'prepare' has no output 'tabel' "
                 "(did you mean 'table'?)", id="unknown-artifact"),
    pytest.param("inputs: [prepare.table]\n", "inputs: [prepare]\n",
                 f"{FILE}:14:16: error: spec.steps[1].inputs[0]: 'prepare' names no artifact "
                 "(an input is step.artifact, e.g. prepare.table)", id="input-without-artifact"),
    pytest.param("inputs: [prepare.table]\n", "inputs: [clean.table]\n",
                 f"{FILE}:14:16: error: spec.steps[1].inputs[0]: unknown step 'clean' "
                 "(expected one of: fit, prepare, score)", id="input-of-an-unknown-step"),
    pytest.param("      outputs: [table]\n", "      outputs: []\n",
                 f"{FILE}:14:16: error: spec.steps[1].inputs[0]: step 'prepare' has no output 'table' "
                 "(step 'prepare' declares no outputs)", id="missing-artifact"),
    pytest.param("      role: trainer\n", "",
                 f"{FILE}:7:5: error: spec.steps: no step has role: trainer "
                 "(give exactly one of the steps (prepare, fit, score) role: trainer)", id="no-trainer"),
    pytest.param("      role: evaluator\n", "",
                 f"{FILE}:7:5: error: spec.steps: no step has role: evaluator "
                 "(give exactly one of the steps (prepare, fit, score) role: evaluator)", id="no-evaluator"),
    pytest.param("      role: evaluator\n", "      role: trainer\n",
                 f"{FILE}:17:13: error: spec.steps[2].role: step 'fit' already has role: trainer "
                 "(exactly one step is the trainer)", id="two-trainers"),
    pytest.param("      outputs: [model]\n", "      outputs: [weights]\n",
                 f"{FILE}:11:13: error: spec.steps[1].role: the trainer 'fit' declares no output 'model' "
                 "(add outputs: [weights, model])", id="trainer-without-model"),
    pytest.param("    - name: score\n", "    - name: fit\n",
                 f"{FILE}:16:13: error: spec.steps[2].name: step 'fit' is defined twice (give each step its own name)",
                 id="duplicate-step-name"),
    pytest.param("    - name: score\n", "    - name: gate\n",
                 f"{FILE}:16:13: error: spec.steps[2].name: 'gate' is the name of a step maestro adds "
                 "(maestro adds: gate, publish; choose another name)", id="maestro-step-name"),
    pytest.param("      outputs: [metrics]\n", "      outputs: [metrics, metrics]\n",
                 f"{FILE}:20:26: error: spec.steps[2].outputs[1]: output 'metrics' is listed twice",
                 id="duplicate-output"),
    pytest.param("      outputs: [table]\n", "      outputs: [table]\n      resources: {nodes: 2}\n",
                 f"{FILE}:10:26: error: spec.steps[0].resources.nodes: 2 nodes: only the trainer may span nodes "
                 "(nodes: 1, or role: trainer on this step (docs/multinode.md))",
                 id="nodes-off-the-trainer"),
    pytest.param("      outputs: [model]\n", "      outputs: [model]\n      resources: {nodes: 2}\n",
                 f"{FILE}:16:26: error: spec.steps[1].resources.nodes: 2 nodes but no GPUs in prod: each node would "
                 "train on CPU (give the nodes GPUs (gpus: N), set nodes: 1, or set allow_cpu_nodes: true)",
                 id="trainer-nodes-without-gpus"),
    pytest.param("      outputs: [model]\n", "      outputs: [model]\n      resources: {nodes: 3, gpus: 1}\n",
                 f"{FILE}:16:35: error: spec.steps[1].resources.gpus: 3 nodes x 1 GPUs = 3 exceed dev's quota.gpus 2; "
                 "the TrainJob's pods would never all be admitted (environments/dev.yaml:30:11)",
                 id="trainer-nodes-over-quota"),
    pytest.param("      outputs: [model]\n", "      outputs: [model]\n      resources: {nodes: 2, gpus: 1}\n"
                 "      secrets: [warehouse]\n",
                 f"{FILE}:17:16: error: spec.steps[1].secrets: secrets on a trainer spanning nodes: a TrainJob's "
                 "trainer cannot take a Secret with envFrom (nodes: 1, or no secrets on the trainer)",
                 id="trainer-nodes-with-secrets"),
    pytest.param("      outputs: [model]\n", "      outputs: [model]\n      env: {DB_PASSWORD: x}\n",
                 f"{FILE}:16:26: error: spec.steps[1].env.DB_PASSWORD: 'DB_PASSWORD' looks like a credential; secret "
                 "values never go in a spec (put it in a Kubernetes Secret and list the Secret under secrets:)",
                 id="credential-in-env"),
    pytest.param("      outputs: [model]\n", "      outputs: [model]\n      env: {MAESTRO_WORKDIR: /x}\n",
                 f"{FILE}:16:30: error: spec.steps[1].env.MAESTRO_WORKDIR: 'MAESTRO_WORKDIR': MAESTRO_* variables are "
                 "set by maestro (choose a name without the MAESTRO_ prefix)", id="maestro-variable"),
    pytest.param("inputs: [prepare.table, fit.model]", "inputs: [prepare.table, fit.model, prepare.table]",
                 f"{FILE}:19:42: error: spec.steps[2].inputs[2]: 'prepare.table' is listed twice (list each input once)",
                 id="duplicate-input"),
    pytest.param("  gate: {min: {r2: 0.5}}\n", "  gate: {min: {r2: 0.5}}\n  serving: {format: sk, requirements: [sklern]}\n",
                 f"{FILE}:22:40: error: spec.serving.requirements[0]: 'sklern' is not a capability of Seldon's "
                 "mlserver servers (did you mean 'sklearn'?)", id="unknown-requirement"),
    pytest.param("  gate: {min: {r2: 0.5}}\n", "  gate: null\n",
                 f"{FILE}:21:9: error: spec.gate: the promotion gate is removed, but prod's policy.require_gate "
                 "requires one (environments/prod.yaml:45:5)", id="gate-removed-in-prod"),
    pytest.param("  template: custom\n", "  template: custom\n  training: {epochs: 3}\n",
                 f"{FILE}:6:3: error: spec.training: unknown field 'training' "
                 "(expected one of: gate, monitoring, overrides, schedule, serving, steps, template)",
                 id="market-data-section"),
]


@pytest.mark.parametrize("old, new, expected", CASES)
def test_a_refused_custom_pipeline_is_located(old: str, new: str, expected: str, tmp_path: Path, maestro) -> None:
    root, result = compile_spec(tmp_path, maestro, edited(old, new))
    assert result.returncode == 1
    assert expected in result.stderr.splitlines(), result.stderr
    assert not (root / "gitops").exists()


def test_a_cycle_is_reported_once(tmp_path: Path, maestro) -> None:
    _, result = compile_spec(tmp_path, maestro, edited("      after: [prepare]\n", "      after: [prepare, score]\n"))
    assert sum("closes a cycle" in line for line in result.stderr.splitlines()) == 1


def test_an_unknown_template_is_the_one_error(tmp_path: Path, maestro) -> None:
    _, result = compile_spec(tmp_path, maestro, edited("template: custom", "template: own"))
    assert result.stderr.splitlines() == [
        f"{FILE}:5:13: error: spec.template: 'own' is not a template (expected one of: market-data, custom)",
        "1 error(s); nothing was written."]


def test_both_cycles_through_a_step_are_reported_once_each(tmp_path: Path, maestro) -> None:
    """prepare waits for score, which reads prepare's table (one cycle) and fit's model, fit reading
    prepare's table too (a second): two errors, not one per reference."""
    text = edited("    - name: prepare\n      image: " + IMAGE + "\n",
                  "    - name: prepare\n      image: " + IMAGE + "\n      after: [score]\n")
    _, result = compile_spec(tmp_path, maestro, text)
    assert [line.split(": error: ")[0] for line in result.stderr.splitlines() if "cycle" in line] == [
        f"{FILE}:14:15", f"{FILE}:20:16"]


def test_a_spec_with_a_type_error_still_gets_its_dag_checked(tmp_path: Path, maestro) -> None:
    """A wrong schedule does not hide the unknown step: every check whose sections validate runs."""
    text = edited("      after: [prepare]\n", "      after: [prepar]\n") + "  schedule: {cron: 7}\n"
    _, result = compile_spec(tmp_path, maestro, text)
    lines = result.stderr.splitlines()
    assert f"{FILE}:13:15: error: spec.steps[1].after[0]: unknown step 'prepar' (did you mean 'prepare'?)" in lines
    assert f"{FILE}:22:20: error: spec.schedule.cron: got 7: input should be a valid string" in lines


def test_checks_that_read_broken_steps_are_counted(tmp_path: Path, maestro) -> None:
    _, result = compile_spec(tmp_path, maestro, edited("      role: trainer\n", "      role: coach\n"))
    assert any(line.startswith(f"{FILE}:4:1: note: ") and "spec.steps" in line for line in result.stderr.splitlines())
