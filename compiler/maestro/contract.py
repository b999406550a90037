"""The pod contract: what the compiled workflows and the step runtime must agree on, written once.

A leaf module (it imports nothing of maestro), read by the lowering and the emitters on one side and
by the pod-side code (`maestro step`, `maestro run`, the write-back) on the other, so the cluster and
the laptop cannot drift apart: where the spec and the work directory are mounted, the names of the
git and artifact store credential variables, and the built-in steps of SPEC-v1 with their order and
their inputs.
"""

from __future__ import annotations

SPEC_PATH = "/maestro/spec/spec.json"   # the effective spec of one pipeline in one environment
WORKDIR = "/maestro/work"               # each step writes WORKDIR/<step>; its inputs are mounted beside

# The write-back's git credentials, handed only to the publish step (through GIT_ASKPASS, never argv).
USERNAME_VARIABLE = "MAESTRO_GIT_USERNAME"
PASSWORD_VARIABLE = "MAESTRO_GIT_PASSWORD"

# The artifact store's keys, handed only to the pods of a TrainJob (train spanning nodes), which read
# their inputs from and write their output to the store themselves (`maestro step train --exchange`).
ACCESS_KEY_VARIABLE = "MAESTRO_ARTIFACT_ACCESS_KEY"
SECRET_KEY_VARIABLE = "MAESTRO_ARTIFACT_SECRET_KEY"

# A custom trainer spanning nodes (a TrainJob) reads its inputs from and writes its outputs to the
# artifact store itself: `<exchange>/<step>/<output>/`, one object per file, under this s3:// URI;
# the store's endpoint (empty for AWS) and region beside it.
EXCHANGE_VARIABLE = "MAESTRO_EXCHANGE"
ENDPOINT_VARIABLE = "MAESTRO_ARTIFACT_ENDPOINT"
REGION_VARIABLE = "MAESTRO_ARTIFACT_REGION"

# The built-in steps of SPEC-v1, in order: each runs after the one before it.
BUILTIN_STEPS = ("ingest", "validate", "features", "train", "evaluate", "gate", "publish")

# The upstream folders a step reads (Argo mounts each at WORKDIR/<upstream>).
READS: dict[str, tuple[str, ...]] = {
    "ingest": (),
    "validate": ("ingest",),
    "features": ("ingest",),
    "train": ("features",),
    "evaluate": ("features", "train"),
    "gate": ("train", "evaluate"),     # train: the model card describes the served model
    "publish": ("train", "evaluate", "gate"),
}

# The step that must finish before each one (the chain of BUILTIN_STEPS).
AFTER: dict[str, tuple[str, ...]] = {name: BUILTIN_STEPS[i - 1:i] for i, name in enumerate(BUILTIN_STEPS)}

# Custom (bring-your-own) steps find their folders through these variables, in the cluster and under
# `maestro run` alike: MAESTRO_WORKDIR, MAESTRO_OUTPUT_<OUTPUT> for each output it declares and
# MAESTRO_INPUT_<STEP>_<OUTPUT> for each input, each a folder (upper case, `-` as `_`).
WORKDIR_VARIABLE = "MAESTRO_WORKDIR"


def output_variable(output: str) -> str:
    return "MAESTRO_OUTPUT_" + output.upper().replace("-", "_")


def input_variable(step: str, output: str) -> str:
    return "MAESTRO_INPUT_" + f"{step}_{output}".upper().replace("-", "_")


def artifact_variables(step: str, outputs, inputs, workdir: str = WORKDIR) -> dict[str, str]:
    """The variables a custom step gets: its outputs' folders and its inputs' folders under `workdir`."""
    variables = {WORKDIR_VARIABLE: workdir}
    variables.update({output_variable(o): f"{workdir}/{step}/{o}" for o in outputs})
    variables.update({input_variable(s, o): f"{workdir}/{s}/{o}" for s, o in inputs})
    return variables
