"""Reserved Secrets: the ones maestro holds for itself, which no pipeline may name.

In: an `Environment` and an effective `Pipeline`. Out: `Diagnostic`s, checked with the other
policy rules; each hint names the environment field that names the Secret. The git push
credentials go only to the built-in publish step; the artifact store's keys only to Argo's executor
(init and wait containers) and Seldon's agents. A custom step gets artifacts through Argo's artifact
mechanism and never these Secrets.
"""

from __future__ import annotations

from typing import Iterator

from .. import names
from ..errors import Diagnostic
from .environment import Environment
from .pipeline import Pipeline
from .partial import reads


def reserved_secrets(env: Environment) -> dict[str, tuple[str, str]]:
    """Secret name -> (what it holds, the environment field that names it)."""
    git, artifacts = env.spec.gitops.credentials_secret, env.spec.artifacts.credentials_secret
    return {
        names.seldon_storage_secret(artifacts): ("the artifact store's keys for Seldon", "artifacts.credentials_secret"),
        artifacts: ("the artifact store's keys", "artifacts.credentials_secret"),
        git: ("the gitops repository's push credentials", "gitops.credentials_secret"),
    }


@reads("steps")
def check_reserved_secrets(env: Environment, p: Pipeline) -> Iterator[Diagnostic]:
    reserved = reserved_secrets(env)
    for i, step in enumerate(p.spec.steps):
        for j, secret in enumerate(step.secrets):
            if secret in reserved:
                held, rule = reserved[secret]
                yield Diagnostic.about(
                    ("spec", "steps", i, "secrets", j),
                    f"Secret '{secret}' is reserved in {env.metadata.name}: it holds {held} and only maestro's "
                    f"own steps get it; name a Secret of your own (reserved: {', '.join(sorted(reserved))})", rule)
