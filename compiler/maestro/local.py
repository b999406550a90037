"""The local executor behind `maestro run`: the lowered pipeline plan in-process, with the pod's step code.

In: one `PipelinePlan` (the plan the emitters lower, of one pipeline in one environment), an output
dir and whether to use the cache. Out: `<output>/spec.json` (the plan's spec.json, what the pods get),
`<output>/work/<step>/` (what the pods write), `<output>/summary.json`, and a `RunOutcome`. The steps
run in the plan's dependency order and read the spec from spec.json, as the pods do. A step is reused
when its spec section, the content of its inputs and the step code are unchanged since it last ran
there and its outputs are intact. Custom container steps are listed as skipped: they run only in the
cluster, except the steps of a custom (bring-your-own) pipeline that give a `local` command, which
run here as a process (`local_process`), every time. A train step that spans nodes (a TrainJob in the cluster) runs here as one node, and says so.
What a step prints itself, and what its libraries print, goes to `<output>/logs/<step>.log`; the
display (`progress`) shows only the steps, their progress and their results.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from .ir import PipelinePlan, StepPlan
from .progress import Display, PlainDisplay
from .steps.context import MANIFEST, StepContext, StepError, file_hashes, parse_spec, read_json, sha256_json, spec_hash
from .steps.registry import step_function
from .steps.reporting import listening
from .stray_output import into_log

CACHE_FILE = "cache.json"
TRIALS = "trials.json"   # the trial registry of this output folder: every distinct run that reached the gate
LOGS = "logs"            # <output>/logs/<step>.log: what each step and its libraries printed


@dataclass
class StepResult:
    name: str
    status: str                  # ran | cached | skipped | failed | not-run
    seconds: float = 0.0
    detail: str = ""


@dataclass
class RunOutcome:
    run_id: str
    output: Path
    results: list[StepResult] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    error: Optional[str] = None

    @property
    def failed(self) -> bool:
        return self.error is not None


# ---- the order ----------------------------------------------------------------------------

def run_order(steps: Sequence[StepPlan]) -> list[StepPlan]:
    """The plan's steps in an order that runs every step after its dependencies: each is placed
    right after its last dependency (the built-in chain stays in order, a custom step follows the
    step it waits for)."""
    order: list[StepPlan] = []
    pending = list(steps)
    while pending:
        placed = [s for s in pending if _place(order, s)]
        if not placed:   # an unknown name or a cycle: the compiler reports it; list them at the end
            return order + pending
        pending = [s for s in pending if s not in placed]
    return order


def _place(order: list[StepPlan], step: StepPlan) -> bool:
    names = [s.name for s in order]
    if not set(step.depends) <= set(names):
        return False
    at = max((names.index(n) for n in step.depends), default=len(names) - 1)
    order.insert(at + 1, step)
    return True


def run_id_for(plan: PipelinePlan) -> str:
    digest = sha256_json(json.loads(plan.spec_json))[:6]
    return f"{plan.name}-{digest}"


# ---- running -------------------------------------------------------------------------------

def execute(plan: PipelinePlan, output: Path, root: Path, use_cache: bool = True,
            display: Optional[Display] = None, debug: bool = False, **settings) -> RunOutcome:
    """Run the plan; `display` shows each step as it starts, its progress, then its result (default:
    plain lines on stdout). `settings`: the StepContext's templates and torch_threads, as the command
    read them."""
    display = display or PlainDisplay(lambda text: print(text, end="", flush=True))
    output.mkdir(parents=True, exist_ok=True)
    (output / "spec.json").write_text(plan.spec_json, encoding="utf-8")
    pipeline, environment = parse_spec(plan.spec_json)
    ctx = StepContext(pipeline, environment, output / "work", run_id_for(plan), root=root, **settings)
    outcome = RunOutcome(ctx.run_id, output)
    cache = _load_cache(output) if use_cache else {}
    for step in run_order(plan.steps):
        result = _skip_reason(step, ctx, outcome)
        if step.nodes > 1 and result is None:
            display.line(f"  ({step.name} spans {step.nodes} nodes in {plan.env}; here it runs on this machine alone)")
        display.step_started(step.name)
        if step.name == "gate" and result is None and not plan_is_custom(ctx):   # a custom step may be "trials"
            _bring_trials(output, ctx.workdir)
        if result is None:
            with listening(display), into_log(output / LOGS / f"{step.name}.log"):
                result = _run_step(step, ctx, cache, use_cache, debug, outcome)
        if step.name == "gate" and result.status == "ran" and (ctx.workdir / "gate" / TRIALS).is_file():
            shutil.copyfile(ctx.workdir / "gate" / TRIALS, output / TRIALS)
        outcome.results.append(result)
        display.step_finished(step.name, result.status, _line(result))
    (output / CACHE_FILE).write_text(json.dumps(cache, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return outcome


def _skip_reason(step: StepPlan, ctx: StepContext, outcome: RunOutcome) -> Optional[StepResult]:
    if outcome.failed:
        return StepResult(step.name, "not-run", detail="an earlier step failed")
    if not step.builtin and step.local_command is None:
        detail = f"custom container step ({step.image}); runs only in the cluster"
        if plan_is_custom(ctx):
            outcome.error = f"step {step.name} gives no local command, so the pipeline cannot run here"
            return StepResult(step.name, "failed", detail=outcome.error + " (add local: [...] to the step)")
        return StepResult(step.name, "skipped", detail=detail)
    if step.when_gate_passed and read_json(ctx.workdir / "gate" / "gate.json")["passed"] is not True:
        return StepResult(step.name, "skipped", detail="the gate refused the model")
    return None


def _run_step(step: StepPlan, ctx: StepContext, cache: dict, use_cache: bool, debug: bool,
              outcome: RunOutcome) -> StepResult:
    name, started = step.name, time.perf_counter()
    if not step.builtin:
        return _run_process(step, ctx, outcome, started)
    key = cache_key(step, ctx)
    if use_cache and cache.get(name) == key and outputs_intact(ctx.workdir, name):
        return StepResult(name, "cached", time.perf_counter() - started, "inputs unchanged")
    cache.pop(name, None)
    try:
        step_function(name)(ctx)
    except StepError as exc:
        outcome.error = f"step {name} failed: {exc}"
        return StepResult(name, "failed", time.perf_counter() - started, str(exc))
    except Exception as exc:  # a bug, not a data problem: say so briefly; the traceback only on --debug
        outcome.error = f"internal error in step {name}: {type(exc).__name__}: {exc}"
        if debug:
            outcome.error += "\n" + traceback.format_exc()
        return StepResult(name, "failed", time.perf_counter() - started, outcome.error)
    cache[name] = key
    return StepResult(name, "ran", time.perf_counter() - started)


def plan_is_custom(ctx: StepContext) -> bool:
    from .language.workflow import is_custom

    return is_custom(ctx.pipeline)


def _run_process(step: StepPlan, ctx: StepContext, outcome: RunOutcome, started: float) -> StepResult:
    """A custom step's local command; never cached (its inputs are whatever the command reads)."""
    from .local_process import run_process_step

    try:
        run_process_step(step, ctx.workdir, ctx.root, ctx.run_id)
    except StepError as exc:
        outcome.error = f"step {step.name} failed: {exc}"
        return StepResult(step.name, "failed", time.perf_counter() - started, str(exc))
    return StepResult(step.name, "ran", time.perf_counter() - started)


def _bring_trials(output: Path, workdir: Path) -> None:
    """The gate reads the registry from work/trials/, where a cluster would mount its artifact."""
    folder = workdir / "trials"
    if folder.exists():
        shutil.rmtree(folder)
    if (output / TRIALS).is_file() and not (output / TRIALS).is_symlink():
        folder.mkdir(parents=True)
        shutil.copyfile(output / TRIALS, folder / TRIALS)


def _other_trials(registry: Path, run_id: str) -> Optional[str]:
    """The registry without this run (None when it holds no other): rerunning a run is the same
    trial, so the gate stays cached."""
    try:
        entries = json.loads(registry.read_text(encoding="utf-8"))
        others = [e for e in entries if not (isinstance(e, dict) and e.get("run_id") == run_id)]
    except (OSError, UnicodeDecodeError, ValueError, TypeError):
        return hashlib.sha256(registry.read_bytes()).hexdigest()   # the gate will say what is wrong
    return sha256_json(others) if others else None


def cache_key(step: StepPlan, ctx: StepContext) -> str:
    name = step.name
    upstreams = step.inputs + tuple(source for source, _ in step.artifact_inputs)
    parts = {"spec": spec_hash(ctx, name), "inputs": _inputs_or_none(ctx.workdir, upstreams),
             "code": code_fingerprint(ctx.root, ctx.templates)}
    if name in ("gate", "publish"):
        parts["run_id"] = ctx.run_id   # the storage URI they record names the run
    registry = ctx.workdir / "trials" / TRIALS
    if name == "gate" and registry.is_file() and (others := _other_trials(registry, ctx.run_id)):
        parts["trials"] = others
    return sha256_json(parts)


def _inputs_or_none(workdir: Path, inputs: tuple[str, ...]) -> Optional[dict]:
    """What the step's upstream folders hold, as its manifest records it; None while one is missing."""
    if any(not (workdir / up / MANIFEST).is_file() for up in inputs):
        return None
    return {path: digest for up in inputs for path, digest in file_hashes(workdir, up).items()}


def outputs_intact(workdir: Path, name: str) -> bool:
    manifest = workdir / name / MANIFEST
    return manifest.is_file() and read_json(manifest)["outputs"] == file_hashes(workdir, name)


def code_fingerprint(root: Path, templates: Optional[Path] = None) -> str:
    """The step code and the model card template: a change to either invalidates the cache."""
    from .steps.card import TEMPLATE, template_dirs

    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "steps").glob("*.py")):
        digest.update(path.read_bytes())
    for folder in template_dirs(root, templates)[:1]:
        digest.update((folder / TEMPLATE).read_bytes())
    return digest.hexdigest()


def _load_cache(output: Path) -> dict:
    try:
        return json.loads((output / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _line(result: StepResult) -> str:
    timing = f"{result.seconds:7.2f}s" if result.status in ("ran", "cached", "failed") else " " * 8
    detail = f"  ({result.detail})" if result.detail and result.status in ("skipped", "cached") else ""
    return f"{result.status:<8} {timing}{detail}"


# ---- the summary ---------------------------------------------------------------------------

def summarize(outcome: RunOutcome, plan: PipelinePlan) -> dict:
    work = outcome.output / "work"
    summary = {
        "run_id": outcome.run_id,
        "pipeline": plan.name,
        "environment": plan.env,
        "status": "failed" if outcome.failed else "succeeded",
        "error": outcome.error,
        "steps": {r.name: {"status": r.status, "seconds": round(r.seconds, 2), **({"detail": r.detail} if r.detail else {})}
                  for r in outcome.results},
    }
    if plan.template == "custom":
        return _custom_summary(outcome, plan, summary)
    summary.update(_evaluation(work))
    summary["gate"] = _read(work / "gate" / "gate.json")
    card = work / "gate" / "model_card.md"
    summary["model_card"] = str(card.resolve()) if card.is_file() else None
    summary["model"] = _model(work)
    summary["data"] = _read(work / "ingest" / "window.json")
    outcome.summary = summary
    text = json.dumps(_clean(summary), indent=2, ensure_ascii=False) + "\n"   # DAG order kept
    (outcome.output / "summary.json").write_text(text, encoding="utf-8")
    return summary


def _custom_summary(outcome: RunOutcome, plan: PipelinePlan, summary: dict) -> dict:
    """A bring-your-own run: the gate's record (with the evaluator's metrics) and where the model is."""
    work = outcome.output / "work"
    gate = _read(work / "gate" / "gate.json")
    published = _read(work / "publish" / "publish.json")
    trainer = dict(plan.roles).get("trainer")
    model = work / trainer / "model" if trainer else None
    summary.update({
        "metrics": gate.get("metrics") if gate else None, "gate": gate, "model_card": None,
        "model": None if model is None or not model.is_dir() else {
            "path": str(model.resolve()), "format": published["format"] if published else None,
            "published": None if published is None else {
                "path": str((work / published["model_path"]).resolve()), "format": published["format"],
                "runtime": published["runtime"], "seldon_requirements": published["seldon_requirements"],
                "storage_uri": published["storage_uri"]}},
    })
    outcome.summary = summary
    text = json.dumps(_clean(summary), indent=2, ensure_ascii=False) + "\n"
    (outcome.output / "summary.json").write_text(text, encoding="utf-8")
    return summary


def _read(path: Path) -> Optional[dict]:
    return read_json(path) if path.is_file() else None


def _evaluation(work: Path) -> dict:
    report = _read(work / "evaluate" / "metrics.json")
    if report is None:
        return {"metrics": None, "baselines": None, "folds": None}
    return {"metrics": report["metrics"], "baselines": report["baselines"], "best_baseline": report["best_baseline"],
            "significance": report["significance"], "folds": report["folds"],
            "served_model": report.get("served_model")}


def _model(work: Path) -> Optional[dict]:
    if not (work / "train" / "model.pt").is_file():
        return None
    published = _read(work / "publish" / "publish.json")
    return {
        "path": str((work / "train" / "model.pt").resolve()),
        "format": "torchscript",
        "published": None if published is None else {
            "path": str((work / published["model_path"]).resolve()), "format": published["format"],
            "runtime": published["runtime"], "seldon_requirements": published["seldon_requirements"],
            "storage_uri": published["storage_uri"]},
    }


def _clean(value):
    from .steps.context import clean

    return clean(value)
