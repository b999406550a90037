"""Rules, Seldon Core v2 (mlops.seldon.io/v1alpha1): what the scheduler refuses.

In: a Model, Experiment or Pipeline body and the `Corpus` of every object given.
Out: `Diagnostic`s about paths of the body: names that are not lowercase RFC 1123
labels (Seldon forbids dots); an Experiment whose `default` is not a candidate,
whose `mirror` is one, or that lists a candidate twice; a model (or pipeline)
that is the `default` of more than one Experiment in a namespace; candidates and
mirrors naming Models (or Pipelines) missing from the set, checked only when that
namespace has some. The scheduler's rules (scheduler/pkg/store/experiment/validate.go)
are written here only: `maestro validate` and the compile's output check both run them.
"""

from __future__ import annotations

from typing import Iterator

from ...errors import Diagnostic
from ...names import RFC1123_LABEL
from .corpus import SELDON, Corpus, items, mapping, name_of, namespace_of, text, where

NAMED_KINDS = ("Model", "Experiment", "Pipeline")


def resource_kind(experiment: dict) -> str:
    """'Model' or 'Pipeline': what an Experiment's candidates are."""
    return "Pipeline" if mapping(experiment.get("spec")).get("resourceType") == "pipeline" else "Model"


def name_format(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    name = name_of(body)
    if name and not RFC1123_LABEL.match(name):
        yield Diagnostic.about(("metadata", "name"), f"Seldon {body['kind']} name {name!r} must consist of lowercase letters, digits and '-', starting and ending with a letter or digit (no dots)")


def default_is_candidate(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    spec = mapping(body.get("spec"))
    candidates = _candidates(spec)
    default = spec.get("default")
    if isinstance(default, str) and default and default not in candidates:
        yield Diagnostic.about(("spec", "default"), f"default {default!r} is not one of the candidates ({', '.join(candidates) or 'none'})")
    mirror = text(mapping(spec.get("mirror")).get("name"))
    if mirror and mirror in candidates:
        yield Diagnostic.about(("spec", "mirror", "name"), f"mirror {mirror!r} is also a candidate; a mirror must not be a candidate")


def unique_candidates(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    candidates = _candidates(mapping(body.get("spec")))
    what = resource_kind(body).lower()
    for k, name in enumerate(candidates):
        if name and name in candidates[:k]:
            yield Diagnostic.about(("spec", "candidates", k, "name"),
                                   f"candidate {name!r} is listed twice; a {what} is a candidate of an experiment once")


def _candidates(spec: dict) -> list[str]:
    return [text(mapping(c).get("name")) for c in items(spec.get("candidates"))]


def single_baseline(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    default = mapping(body.get("spec")).get("default")
    if not isinstance(default, str) or not default:
        return
    others = sorted(name_of(e) for e in _experiments_with_default(body, corpus, default) if e is not body)
    if others:
        what = resource_kind(body).lower()
        yield Diagnostic.about(("spec", "default"), f"{what} {default!r} is already the default of experiment(s) {', '.join(others)}; a {what} may be the baseline of at most one experiment")


def _experiments_with_default(body: dict, corpus: Corpus, default: str) -> Iterator[dict]:
    for other in corpus.in_namespace(SELDON, "Experiment", namespace_of(body)):
        if resource_kind(other) == resource_kind(body) and mapping(other.get("spec")).get("default") == default:
            yield other


def candidates_exist(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    kind, namespace = resource_kind(body), namespace_of(body)
    if not corpus.has_any(SELDON, kind, namespace):
        return
    spec = mapping(body.get("spec"))
    for k, name in enumerate(_candidates(spec)):
        if name and corpus.named(SELDON, kind, namespace, name) is None:
            yield Diagnostic.about(("spec", "candidates", k, "name"), f"{kind} {name!r} is not in {where(namespace)}{_known(corpus, kind, namespace)}")
    mirror = text(mapping(spec.get("mirror")).get("name"))
    if mirror and corpus.named(SELDON, kind, namespace, mirror) is None:
        yield Diagnostic.about(("spec", "mirror", "name"), f"{kind} {mirror!r} is not in {where(namespace)}{_known(corpus, kind, namespace)}")



def _known(corpus: Corpus, kind: str, namespace: str) -> str:
    return f" (known: {', '.join(sorted(corpus.names(SELDON, kind, namespace)))})"
