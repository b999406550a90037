"""Rules, Argo Workflows: what the workflow controller rejects that the CRD schema allows.

In: a Workflow, WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow body (the
CronWorkflow's `spec.workflowSpec`) and the `Corpus` of every object given.
Out: `Diagnostic`s about paths of the body: DAG `dependencies`/`depends` naming missing
tasks or forming cycles; `template`, `entrypoint`, `onExit`, hook and `templateRef`
targets that do not exist; `{{inputs.parameters.x}}` not declared by its template;
names too long (63, CronWorkflow 52); cron schedules and time zones that do not parse.
"""

from __future__ import annotations

import functools
import marshal
import re
from typing import Any, Iterator

from ...errors import Diagnostic
from ..memo import passed
from .corpus import ARGO, Corpus, items, mapping, name_of, namespace_of, text
from .cron import schedule_problem, timezone_problem
from .depends import DependsError, operands

WORKFLOW_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
NAME_LIMITS = {"Workflow": 63, "WorkflowTemplate": 63, "ClusterWorkflowTemplate": 63, "CronWorkflow": 52}
_SIMPLE_INPUT = re.compile(r"\{\{\s*inputs\.parameters\.([A-Za-z0-9_-]+)\s*\}\}")
_EXPRESSION = re.compile(r"\{\{=(.*?)\}\}", re.S)
_EXPR_INPUT = re.compile(r"inputs\.parameters(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")



def workflow_spec(body: dict) -> tuple[dict, tuple]:
    """The workflow spec of any Argo workflow kind, and its path."""
    if body.get("kind") == "CronWorkflow":
        return mapping(mapping(body.get("spec")).get("workflowSpec")), ("spec", "workflowSpec")
    return mapping(body.get("spec")), ("spec",)


def _templates(spec: dict) -> list[dict]:
    return [mapping(t) for t in items(spec.get("templates"))]


# --- names -------------------------------------------------------------------


def name_length(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    limit, name = NAME_LIMITS[body["kind"]], name_of(body)
    if len(name) > limit:
        why = " (the controller appends an 11-character suffix to each Workflow it creates)" if limit == 52 else ""
        yield Diagnostic.about(("metadata", "name"), f"{body['kind']} names must be no more than {limit} characters, this one has {len(name)}{why}")


# --- DAG dependencies --------------------------------------------------------


def dag_dependencies(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    spec, base = workflow_spec(body)
    for i, template in enumerate(_templates(spec)):
        tasks = [mapping(t) for t in items(mapping(template.get("dag")).get("tasks"))]
        if tasks:   # most templates are steps, not DAGs: no generators for them
            yield from _dag_problems(tasks, base + ("templates", i, "dag", "tasks"))


def _dag_problems(tasks: list[dict], path: tuple) -> Iterator[Diagnostic]:
    names = {text(t.get("name")) for t in tasks}
    graph: dict[str, list[str]] = {}
    for j, task in enumerate(tasks):
        found, problems = _task_dependencies(task, names, path + (j,))
        graph.setdefault(text(task.get("name")), []).extend(found)
        yield from problems
    yield from _cycles(tasks, graph, path)


def _task_dependencies(task: dict, names: set[str], path: tuple) -> tuple[list[str], list[Diagnostic]]:
    """The task names `task` waits for, and the problems with how it names them."""
    found: list[str] = []
    problems: list[Diagnostic] = []
    for k, dep in enumerate(items(task.get("dependencies"))):
        if dep in names:
            found.append(dep)
        else:
            problems.append(Diagnostic.about(path + ("dependencies", k),
                                             f"dependency {dep!r} is not a task of this DAG{_known(names)}"))
    if isinstance(task.get("depends"), str):
        _depends(task["depends"], names, path + ("depends",), found, problems)
    return found, problems


def _depends(expression: str, names: set[str], path: tuple, found: list, problems: list) -> None:
    try:
        named = _operands(expression)
    except DependsError as exc:
        problems.append(Diagnostic.about(path, f"cannot parse depends {expression!r}: {exc}"))
        return
    for task, _result in named:
        if task in names:
            found.append(task)
        else:
            problems.append(Diagnostic.about(path, f"depends names {task!r}, which is not a task of this DAG{_known(names)}"))


@functools.lru_cache(maxsize=4096)
def _operands(expression: str) -> tuple[tuple[str, str], ...]:
    """`operands`, parsed once per distinct expression (most DAGs repeat `depends: a`); errors are not kept."""
    return tuple(operands(expression))


def _known(names: set[str]) -> str:
    shown = sorted(n for n in names if n)
    return f" (tasks: {', '.join(shown)})" if shown else ""


def _cycles(tasks: list[dict], graph: dict[str, list[str]], path: tuple) -> Iterator[Diagnostic]:
    if _acyclic(graph):
        return   # one linear pass, rather than a search from every task
    reported: set[str] = set()
    for j, task in enumerate(tasks):
        name = text(task.get("name"))
        cycle = _cycle_from(name, graph)
        if cycle and name not in reported:
            reported.update(cycle)
            yield Diagnostic.about(path + (j,), "dependency cycle: " + " -> ".join(cycle + [cycle[0]]))


def _acyclic(graph: dict[str, list[str]]) -> bool:
    """Whether every task can run once the tasks it waits for have (Kahn's order reaches them all)."""
    waiting = {node: len(deps) for node, deps in graph.items()}
    dependents: dict[str, list[str]] = {}
    for node, deps in graph.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(node)
    ready = [node for node, count in waiting.items() if count == 0]
    done = 0
    while ready:
        done += 1
        for node in dependents.get(ready.pop(), ()):
            waiting[node] -= 1
            if waiting[node] == 0:
                ready.append(node)
    return done == len(waiting)


def _cycle_from(start: str, graph: dict[str, list[str]]) -> list[str]:
    """A cycle through `start`, as a list of task names, or []."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, trail = stack.pop()
        for dep in graph.get(node, []):
            if dep == start:
                return trail
            if dep not in seen:
                seen.add(dep)
                stack.append((dep, trail + [dep]))
    return []


# --- template references -----------------------------------------------------


def template_references(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    spec, base = workflow_spec(body)
    local = {text(t.get("name")) for t in _templates(spec)}
    available, complete = _available_templates(spec, body, corpus, local)
    for path, field, value in _reference_sites(spec, base):
        if field == "template" and isinstance(value, str) and value not in available and complete:
            yield Diagnostic.about(path, f"template {value!r} is not defined{_listing(available)}")
        elif field == "templateRef":
            yield from _template_ref(mapping(value), path, body, corpus)


def _available_templates(spec: dict, body: dict, corpus: Corpus, local: set[str]) -> tuple[set[str], bool]:
    """Template names callable from `spec`, and whether that list is known to be complete."""
    ref = spec.get("workflowTemplateRef")
    if ref is None:
        return local, True
    target = _referenced_template(mapping(ref), body, corpus)
    if target is None:
        return local, False
    return local | {text(t.get("name")) for t in _templates(mapping(target.get("spec")))}, True


def _referenced_template(ref: dict, body: dict, corpus: Corpus) -> dict | None:
    if ref.get("clusterScope") is True:
        return corpus.named(ARGO, "ClusterWorkflowTemplate", "", text(ref.get("name")))
    return corpus.named(ARGO, "WorkflowTemplate", namespace_of(body), text(ref.get("name")))


def _template_ref(ref: dict, path: tuple, body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    target = _referenced_template(ref, body, corpus)
    wanted = text(ref.get("template"))
    if target is None or not wanted:
        return
    names = {text(t.get("name")) for t in _templates(mapping(target.get("spec")))}
    if wanted not in names:
        yield Diagnostic.about(path + ("template",), f"template {wanted!r} is not defined in {target.get('kind')} {name_of(target)!r}{_listing(names)}")


def _listing(names: set[str]) -> str:
    shown = sorted(n for n in names if n)
    return f" (templates: {', '.join(shown)})" if shown else ""


def _reference_sites(spec: dict, base: tuple) -> Iterator[tuple[tuple, str, Any]]:
    """(path, 'template' or 'templateRef', value) for each place a template is named."""
    for field in ("entrypoint", "onExit"):
        if field in spec:
            yield base + (field,), "template", spec[field]
    yield from _hook_sites(spec.get("hooks"), base + ("hooks",))
    for i, template in enumerate(_templates(spec)):
        path = base + ("templates", i)
        for j, task in enumerate(items(mapping(template.get("dag")).get("tasks"))):
            yield from _step_sites(mapping(task), path + ("dag", "tasks", j))
        for j, group in enumerate(items(template.get("steps"))):
            for k, step in enumerate(items(group)):
                yield from _step_sites(mapping(step), path + ("steps", j, k))


def _step_sites(step: dict, path: tuple) -> Iterator[tuple[tuple, str, Any]]:
    for field, kind in (("template", "template"), ("templateRef", "templateRef"), ("onExit", "template")):
        if field in step:
            yield path + (field,), kind, step[field]
    yield from _hook_sites(step.get("hooks"), path + ("hooks",))


def _hook_sites(hooks: Any, path: tuple) -> Iterator[tuple[tuple, str, Any]]:
    for name, hook in mapping(hooks).items():
        for field in ("template", "templateRef"):
            if field in mapping(hook):
                yield path + (name, field), field, hook[field]


# --- input parameters --------------------------------------------------------


def input_parameters(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    spec, base = workflow_spec(body)
    clean = passed(input_parameters)
    if clean is not None:
        yield from _inputs_once(_templates(spec), base + ("templates",), clean)
        return
    if not may_name_inputs(spec.get("templates")):
        return
    for i, template in enumerate(_templates(spec)):
        if may_name_inputs(template):
            yield from _template_inputs(template, base + ("templates", i))


def _inputs_once(templates: list[dict], path: tuple, clean: dict[int, Any]) -> Iterator[Diagnostic]:
    """The templates' problems, skipping those found clean before in this `memo` scope: a template's
    problems depend on it alone (the path aside), and one step template is shared by many
    WorkflowTemplates. A template with problems is walked again each time, for each document's paths."""
    for i, template in enumerate(templates):
        if id(template) in clean:
            continue
        problems = list(_template_inputs(template, path + (i,))) if may_name_inputs(template) else []
        if not problems:
            clean[id(template)] = template
        yield from problems


def may_name_inputs(value: Any) -> bool:
    """Whether `_strings` could find anything in `value`: a superset test at C speed.

    marshal writes every str, list and dict it meets (exact types only) with each string's
    UTF-8 bytes whole, so every string and key the walk can reach is in its output; when neither
    "inputs.parameters" nor "inline" is there, the walk (the costliest rule of a large compile,
    where most templates name workflow parameters only) would find nothing. A value marshal
    refuses (another type, too deep) is walked.
    """
    try:
        spelled = marshal.dumps(value)
    except (ValueError, TypeError):
        return True
    return b"inputs.parameters" in spelled or b"inline" in spelled


def _template_inputs(template: dict, path: tuple) -> Iterator[Diagnostic]:
    declared = {text(mapping(p).get("name")) for p in items(mapping(template.get("inputs")).get("parameters"))}
    for where, value, inline in _strings(template, path):
        if inline is not None:
            yield from _template_inputs(inline, where)
            continue
        for name in sorted(referenced_inputs(value) - declared):
            yield Diagnostic.about(where, f"{{{{inputs.parameters.{name}}}}} is used, but the template declares no input parameter {name!r}")


def _strings(value: Any, path: tuple) -> list[tuple[tuple, str, dict | None]]:
    """(path, string, None) for strings naming input parameters; (path, '', inline) for inline templates.

    Iterative, with paths kept as (parent, key) links and spelled out only for hits: this
    walks every string of every template, so it is on the hot path of `maestro compile`.
    """
    found: list[tuple[tuple, str, dict | None]] = []
    stack: list[tuple[Any, Any]] = [(value, None)]
    while stack:
        node, link = stack.pop()
        if isinstance(node, str):
            if "inputs.parameters" in node:
                found.append((path + _spell(link), node, None))
        elif isinstance(node, dict):
            for key, child in node.items():
                if key == "inline" and isinstance(child, dict):
                    found.append((path + _spell((link, key)), "", child))
                elif isinstance(child, (str, dict, list)):
                    stack.append((child, (link, key)))
        elif isinstance(node, list):
            stack.extend((child, (link, i)) for i, child in enumerate(node) if isinstance(child, (str, dict, list)))
    return found[::-1]


def _spell(link: Any) -> tuple:
    parts: list = []
    while link is not None:
        link, key = link
        parts.append(key)
    return tuple(reversed(parts))


def referenced_inputs(value: str) -> set[str]:
    """Names used as `{{inputs.parameters.NAME}}` or inside `{{= ... }}` expressions."""
    names = set(_SIMPLE_INPUT.findall(value))
    for expression in _EXPRESSION.findall(value):
        names.update(a or b for a, b in _EXPR_INPUT.findall(expression))
    return names


# --- CronWorkflow schedules --------------------------------------------------


def cron_schedules(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    spec = mapping(body.get("spec"))
    for k, schedule in enumerate(items(spec.get("schedules"))):
        if isinstance(schedule, str) and (problem := schedule_problem(schedule)):
            yield Diagnostic.about(("spec", "schedules", k), f"invalid cron schedule {schedule!r}: {problem}")
    if isinstance(spec.get("schedule"), str) and (problem := schedule_problem(spec["schedule"])):
        yield Diagnostic.about(("spec", "schedule"), f"invalid cron schedule {spec['schedule']!r}: {problem}")


def cron_timezone(body: dict, corpus: Corpus) -> Iterator[Diagnostic]:
    zone = mapping(body.get("spec")).get("timezone")
    if isinstance(zone, str) and (problem := timezone_problem(zone)):
        yield Diagnostic.about(("spec", "timezone"), problem)
