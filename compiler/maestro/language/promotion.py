"""Validate `spec.promotion.from` across the environments: the graph a version climbs to reach prod.

In: the valid environments by name and their located documents. Out: located diagnostics for a
`from` naming its own environment, an unknown environment, or closing a cycle (reported once, at
the `from` whose edge returns to an environment already walked, starting from the first
environment by name). Each environment has at
most one `from`, so the graph is a set of chains; a cycle would make every promotion in it
unverifiable.

Also the `PromotionRecord` kind: the runs that passed an environment's gate, committed by the
write-back, which `maestro promote` reads when the artifact store is out of reach.
"""

from __future__ import annotations

from typing import Collection, Iterator, Literal, Mapping

from pydantic import Field

from ..errors import Diagnostic, did_you_mean, one_of
from ..loading.positions import Located
from .environment import Environment
from .pipeline import SpecSection
from .types import Name, RunId

FROM = ("spec", "promotion", "from")


def check_promotion_sources(environments: Mapping[str, Environment], docs: Mapping[str, Located],
                            declared: Collection[str] = ()) -> list[Diagnostic]:
    """`declared`: every environment name a file states, valid or not: a `from` naming an
    environment whose own file has errors is not reported again (those errors say it all)."""
    edges = {name: env.spec.promotion.source for name, env in environments.items() if env.spec.promotion}
    invalid = set(declared) - set(environments)
    found = list(_bad_names({n: s for n, s in edges.items() if s not in invalid}, environments, docs))
    broken = {name for name, source in edges.items() if source == name or source not in environments}
    found += _cycles({n: s for n, s in edges.items() if n not in broken}, docs)
    return found


def _bad_names(edges: dict, environments: Mapping, docs: Mapping[str, Located]) -> Iterator[Diagnostic]:
    for name, source in sorted(edges.items()):
        if source == name:
            yield _at(docs[name], f"environment '{name}' cannot promote from itself",
                      "name the lower environment a version must pass first, e.g. staging")
        elif source not in environments:
            others = [e for e in environments if e != name]
            hint = did_you_mean(source, others) or (one_of(others) if others else "add that environment first")
            yield _at(docs[name], f"no environment named '{source}' to promote from", hint)


def _cycles(edges: dict[str, str], docs: Mapping[str, Located]) -> list[Diagnostic]:
    found, seen = [], set()
    for start in sorted(edges):
        path, node = [start], start
        while node in edges and edges[node] not in path:
            node = edges[node]
            path.append(node)
        if node not in edges or frozenset(path) & seen:
            seen.update(path)
            continue
        loop = path[path.index(edges[node]):]
        seen.update(path)
        shown = " -> ".join([*loop, loop[0]])
        found.append(_at(docs[node], f"promotion.from closes a cycle: {shown}",
                         "a version must start somewhere: remove promotion.from from one of them"))
    return found


def _at(doc: Located, message: str, hint: str) -> Diagnostic:
    pos = doc.at(FROM)
    return Diagnostic.about(FROM, message, hint).located(pos.file, pos.line, pos.col)


# ---- the committed record of the runs that passed an environment's gate ------------------------

class RecordMetadata(SpecSection):
    pipeline: Name = Field(description="The pipeline whose runs these are.")
    environment: Name = Field(description="The environment whose gate they passed.")


class PassedRun(SpecSection):
    run: RunId = Field(description="The training run (Argo Workflow name) that passed the gate.")
    version: Name = Field(description="The serving version the write-back proposed for it.")


class PromotionRecord(SpecSection):
    """promotions/<pipeline>/<environment>.yaml, appended by the write-back after each passing run."""

    apiVersion: Literal["maestro/v1"] = Field(description="Always maestro/v1.")
    kind: Literal["PromotionRecord"] = Field(description="Always PromotionRecord.")
    metadata: RecordMetadata = Field(description="Whose runs, passed where.")
    passed: list[PassedRun] = Field(max_length=10_000, description="Runs that passed, oldest first.")
