"""`maestro graph`: the DAG drawn is the one in the compiled WorkflowTemplate (the committed gitops/
tree is compared, which `make check` keeps current), with its GPU steps, custom steps, the gate's
`when`, the schedule and the Seldon objects; Mermaid and DOT say the same; errors name what exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from maestro.graph.mermaid import text
from tests.support import EXAMPLE_PIPELINES, REPO, copy_examples, maestro

GITOPS = REPO / "gitops"


def graph(*args: str, root: Path = REPO) -> str:
    return maestro(root, "graph", *args, check=True).stdout


def compiled(env: str, namespace: str, kind: str, name: str) -> dict:
    return yaml.safe_load((GITOPS / env / namespace / f"{kind.lower()}-{name}.yaml").read_text())


def node_labels(source: str) -> dict[str, str]:
    """Node id -> its label text (entity codes and <br/> kept), for the step nodes."""
    return dict(re.findall(r'^\s+(step_\w+)[\[{]"(.*)"[\]}]', source, re.M))


def mermaid_edges(source: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^\s+(step_\w+) --> (step_\w+)$", source, re.M))


def dot_edges(source: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^\s+(step_\w+) -> (step_\w+);$", source, re.M))


def test_the_graph_is_the_compiled_workflow_template() -> None:
    source = graph("msft-momentum", "--env", "prod")
    template = compiled("prod", "quant-research-prod", "WorkflowTemplate", "msft-momentum")
    tasks = template["spec"]["templates"][0]["dag"]["tasks"]
    labels = node_labels(source)
    assert list(labels) == [f"step_{t['name']}" for t in tasks]   # every task, in the DAG's order
    assert mermaid_edges(source) == {(f"step_{d.strip()}", f"step_{t['name']}")
                                     for t in tasks if "depends" in t for d in t["depends"].split("&&")}
    publish = next(t for t in tasks if t["name"] == "publish")
    assert labels["step_publish"] == f"publish<br/>when {publish['when']}"
    containers = {t["name"]: t["container"] for t in template["spec"]["templates"][1:]}
    gpus = {name for name, c in containers.items() if "nvidia.com/gpu" in c["resources"]["limits"]}
    assert gpus == {"train", "evaluate"}
    assert {n for n in labels if re.search(rf"^\s+{n}\[.*:::gpu$", source, re.M)} == {f"step_{n}" for n in gpus}
    assert re.search(r'^\s+step_backtest\["backtest<br/>custom step<br/>ghcr.io/acme/backtest@sha256:4be1a7c9d2e0\.\.\."\]'
                     r":::custom$", source, re.M)
    assert re.search(r'^\s+step_gate\{"gate"\}$', source, re.M)   # the decision


def test_the_serving_objects_and_the_schedule_are_the_compiled_ones() -> None:
    source = graph("msft-momentum", "--env", "prod")
    models = sorted(p.name for p in (GITOPS / "prod/quant-research-prod").glob("model-msft-momentum-*.yaml"))
    assert models == ["model-msft-momentum-v11.yaml", "model-msft-momentum-v12.yaml"]
    assert 'model_msft_momentum_v11[("Model msft-momentum-v11<br/>v11, default")]:::serving' in source
    assert 'model_msft_momentum_v12[("Model msft-momentum-v12<br/>v12, candidate")]:::serving' in source
    [experiment] = (GITOPS / "prod/quant-research-prod").glob("experiment-msft-momentum-*.yaml")
    spec = yaml.safe_load(experiment.read_text())["spec"]
    name = experiment.stem.removeprefix("experiment-")
    assert f'{{{{"Experiment {name}<br/>shadow, mirrors {spec["mirror"]["percent"]}%"}}}}' in source
    assert f'-.->|"mirror {spec["mirror"]["percent"]}%"| model_{spec["mirror"]["name"].replace("-", "_")}' in source
    cron = compiled("prod", "quant-research-prod", "CronWorkflow", "msft-momentum")["spec"]
    assert f'schedule(["CronWorkflow msft-momentum<br/>{cron["schedules"][0]} ({cron["timezone"]})"]):::schedule' in source
    assert 'step_publish -.->|"uploads the model, promote serves it"| serving' in source


def test_an_environment_s_overrides_change_the_graph() -> None:
    dev = graph("msft-momentum", "--env", "dev")   # dev: no GPUs, no schedule
    assert ":::gpu" not in dev.replace("classDef gpu", "") and "schedule([" not in dev
    unserved = graph("goog-volatility", "--env", "prod")   # no serving section in its spec
    assert 'step_train["train<br/>2 GPUs"]:::gpu' in unserved and "subgraph serving" not in unserved


def test_dot_draws_the_same_nodes_and_edges() -> None:
    mermaid, dot = graph("msft-momentum", "--env", "prod"), graph("msft-momentum", "--env", "prod", "--format", "dot")
    assert dot_edges(dot) == mermaid_edges(mermaid)
    assert re.findall(r"^\s+(step_\w+) \[label=", dot, re.M) == list(node_labels(mermaid))
    assert dot.startswith('// maestro graph msft-momentum --env prod\ndigraph "msft-momentum" {') and dot.endswith("}\n")
    assert 'step_train [label="train\\n1 GPU", shape=box' in dot
    assert "step_publish -> model_msft_momentum_v11 [label=" in dot and "lhead=cluster_serving];" in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (apt-get install graphviz)")
@pytest.mark.parametrize("pipeline, env", [("msft-momentum", "prod"), ("msft-momentum", "dev"), ("goog-volatility", "prod")])
def test_graphviz_reads_the_dot(pipeline: str, env: str) -> None:
    answer = subprocess.run(["dot", "-Tsvg"], input=graph(pipeline, "--env", env, "--format", "dot"),
                            capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0 and answer.stderr == "" and "<svg" in answer.stdout


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "html"])
def test_output_is_deterministic(fmt: str) -> None:
    assert graph("aapl-direction", "--env", "prod", "--format", fmt) == graph("aapl-direction", "--env", "prod", "--format", fmt)


def test_labels_escape_what_mermaid_would_read_as_syntax() -> None:
    assert text(['say "hi" #1 <b> & `x`', "next"]) == '"say #34;hi#34; #35;1 #60;b#62; #38; #96;x#96;<br/>next"'


@pytest.mark.parametrize("args, message", [
    (("msft-momentun", "--env", "prod"), "(did you mean 'msft-momentum'?)"),
    (("nope", "--env", "prod"), f"(expected one of: {', '.join(EXAMPLE_PIPELINES)})"),
    (("msft-momentum", "--env", "prd"), "no environment named 'prd' (did you mean 'prod'?)"),
    (("msft-momentum", "--env", "nope"), "(expected one of: dev, prod, staging)"),
    (("msft-momentum", "--format", "png"), "'png' is not one of 'mermaid', 'dot', 'html'"),
], ids=["misspelled-pipeline", "unknown-pipeline", "misspelled-env", "unknown-env", "format"])
def test_unknown_names_are_usage_errors_naming_the_accepted_ones(args: tuple[str, ...], message: str) -> None:
    result = maestro(REPO, "graph", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr


def test_an_invalid_spec_is_a_located_error(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "project")
    spec = root / "pipelines" / "msft-momentum.yaml"
    spec.write_text(spec.read_text().replace("epochs: 25", "epochz: 25"))
    result = maestro(root, "graph", "msft-momentum", "--env", "prod")
    assert result.returncode == 1 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1
    assert errors[0].startswith("pipelines/msft-momentum.yaml:22:5: error: spec.training.epochz: unknown field")


def test_the_markdown_diff_embeds_the_graph_of_each_changed_pipeline(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "project")
    maestro(root, "compile", check=True)
    for args in (("init", "-q", "-b", "main"), ("add", "-A"),
                 ("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "compiled")):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    spec = root / "pipelines" / "msft-momentum.yaml"
    spec.write_text(spec.read_text().replace("candidate_weight: 15", "candidate_weight: 10"))
    comment = maestro(root, "diff", "--against", "HEAD", "--format", "markdown", "--graph", check=True).stdout
    blocks = re.findall(r"<details><summary>(.*?)</summary>\n\n```mermaid\n(.*?)```", comment, re.S)
    assert [title for title, _ in blocks] == [f"msft-momentum in {env}" for env in ("dev", "prod", "staging")]
    assert dict(blocks)["msft-momentum in prod"] == graph("msft-momentum", "--env", "prod", root=root)
    assert "aapl-direction" not in comment   # unchanged: not drawn
    assert "```mermaid" not in maestro(root, "diff", "--against", "HEAD", "--format", "markdown", check=True).stdout
    refused = maestro(root, "diff", "--against", "HEAD", "--graph")
    assert refused.returncode == 2 and "add --format markdown" in refused.stderr


def test_the_command_offers_the_formats_the_package_draws() -> None:
    from maestro.commands.graph import FORMATS as OFFERED
    from maestro.graph import FORMATS

    assert OFFERED == FORMATS
