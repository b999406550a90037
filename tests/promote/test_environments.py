"""Issue 16, item 2: promotion per environment, verified where the environment says it must be.

`--env` edits one environment's overrides and nothing another environment compiles from;
`promotion.from` makes `promote` ask for evidence (the run's publish record in the artifact store,
else the committed promotions/ record); `--as default` keeps the previous default for `--rollback`.
Each way to forge the evidence (a link, a record of another pipeline or environment, a wrong shape,
a failed gate) is a case here.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import tarfile
import urllib.request
from pathlib import Path

import pytest
import yaml

from maestro.compile import compile_project
from tests.output_schemas import conforming
from tests.support import copy_examples, maestro

PIPELINE = "aapl-direction"
NEW_RUN = "aapl-direction-5e6f7a"
PROMOTE_PROD = ["promote", PIPELINE, "--env", "prod", "--version", "v5", "--run", NEW_RUN, "--as", "default"]
SPEC = f"pipelines/{PIPELINE}.yaml"


GATE = "  promotion: {from: staging}\n"


@pytest.fixture
def gated(tmp_path: Path) -> Path:
    """The examples, whose prod promotes from staging."""
    root = copy_examples(tmp_path / "project")
    assert GATE in (root / "environments/prod.yaml").read_text()
    return root


@pytest.fixture
def project(gated: Path) -> Path:
    """The examples with no `promotion.from`: any version may be promoted anywhere."""
    prod = gated / "environments/prod.yaml"
    prod.write_text(prod.read_text().replace(GATE, ""))
    return gated


def _from_position(root: Path, env: str = "prod") -> str:
    lines = (root / "environments" / f"{env}.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "promotion: {from:" in text)
    return f"environments/{env}.yaml:{line}:{lines[line - 1].index('from:') + 7}"


def _record(root: Path, runs: dict[str, str], pipeline: str = PIPELINE, env: str = "staging",
            at: str | None = None, extra: str = "") -> Path:
    path = root / (at or f"promotions/{pipeline}/staging.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    passed = "".join(f"  - {{run: {r}, version: {v}}}\n" for r, v in runs.items())
    path.write_text(f"apiVersion: maestro/v1\nkind: PromotionRecord\nmetadata:\n  pipeline: {pipeline}\n"
                    f"  environment: {env}\n{extra}passed:\n{passed}")
    return path


def _store(root: Path, bucket: str, namespace: str, run: str, record: dict) -> Path:
    """A file store laid out as Argo uploads the publish step's `out` artifact."""
    pod = root / bucket / "artifacts" / namespace / run / f"{run}-publish-1234567890"
    pod.mkdir(parents=True)
    data = json.dumps(record).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("publish/publish.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (pod / "out.tgz").write_bytes(buffer.getvalue())
    return root


def _publish_record(run: str = NEW_RUN, env: str = "staging", passed: bool = True, pipeline: str = PIPELINE) -> dict:
    return {"pipeline": pipeline, "environment": env, "run_id": run, "gate": {"passed": passed}}


def _refused(root: Path, *args: str) -> str:
    spec = root / SPEC
    before = spec.read_bytes()
    result = maestro(root, *args)
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert spec.read_bytes() == before
    return result.stderr


# ---- --env edits one environment only ------------------------------------------------------------

@pytest.mark.parametrize("role", ["default", "candidate"])
def test_env_edits_only_that_environment_every_other_compiles_to_the_same_bytes(project: Path, role: str) -> None:
    before = compile_project(project, validate=False).tree.files
    args = ["promote", PIPELINE, "--env", "staging", "--version", "v5", "--run", NEW_RUN, "--as", role]
    result = maestro(project, *args)
    assert result.returncode == 0, result.stderr
    after = compile_project(project, validate=False).tree.files
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed and all(p.startswith("staging/") or p == "README.md" for p in changed), changed
    spec = yaml.safe_load((project / SPEC).read_text())["spec"]
    assert set(spec["overrides"]) == {"dev", "staging"} and spec["serving"]["default"] == "v3"


# ---- promotion.from: the evidence ----------------------------------------------------------------

def test_without_evidence_prod_refuses_at_its_from(gated: Path) -> None:
    message = _refused(gated, *PROMOTE_PROD)
    assert f"{_from_position(gated)}: error: spec.promotion.from: prod serves only versions that passed " \
           f"the gate in staging: no evidence that run '{NEW_RUN}' passed the gate in staging" in message
    assert "promotions/aapl-direction/staging.yaml does not exist" in message


def test_a_base_edit_that_reaches_prod_is_checked_too(gated: Path) -> None:
    message = _refused(gated, "promote", PIPELINE, "--version", "v5", "--run", NEW_RUN, "--as", "candidate")
    assert "prod serves only versions that passed the gate in staging" in message


def test_the_committed_record_lets_a_run_that_passed_staging_through(gated: Path) -> None:
    _record(gated, {"aapl-direction-91be04": "v4", NEW_RUN: "v5"})
    result = maestro(gated, *PROMOTE_PROD, "-o", "json")
    assert result.returncode == 0, result.stderr
    document = conforming(result.stdout, "promote")
    assert document["environment"] == "prod"
    assert document["evidence"] == [{"check": "from", "environment": "prod", "checked_in": "staging", "run": NEW_RUN,
                                     "version": "v5", "source": "promotion-record",
                                     "record": "promotions/aapl-direction/staging.yaml"}]


def test_a_run_missing_from_the_record_is_refused_with_what_would_be_accepted(gated: Path) -> None:
    _record(gated, {"aapl-direction-91be04": "v4"})
    message = _refused(gated, *PROMOTE_PROD)
    assert f"run '{NEW_RUN}' (v5) is not among the runs that passed the gate in staging" in message
    assert "accepted: v4 (aapl-direction-91be04)" in message


def test_the_artifact_store_record_is_the_evidence_when_reachable(gated: Path, tmp_path: Path) -> None:
    store = _store(tmp_path / "store", "acme-ml-staging", "quant-research-staging", NEW_RUN, _publish_record())
    result = maestro(gated, *PROMOTE_PROD, "--store", f"file://{store}", "-o", "json")
    assert result.returncode == 0, result.stderr
    (evidence,) = conforming(result.stdout, "promote")["evidence"]
    assert evidence["source"] == "artifact-store" and evidence["checked_in"] == "staging"
    assert evidence["record"] == (f"s3://acme-ml-staging/artifacts/quant-research-staging/{NEW_RUN}/"
                                  f"{NEW_RUN}-publish-1234567890/out.tgz")


@pytest.mark.parametrize("record, message", [
    pytest.param(_publish_record(passed=False), "failed the gate", id="failed-gate"),
    pytest.param(_publish_record(env="dev"), "whose environment is 'dev', not 'staging'", id="other-environment"),
    pytest.param(_publish_record(pipeline="msft-momentum"), "whose pipeline is 'msft-momentum'", id="other-pipeline"),
    pytest.param(_publish_record(run="aapl-direction-000000"), "whose run_id is 'aapl-direction-000000'", id="other-run"),
    pytest.param(["not", "a", "record"], "has no readable publish record", id="wrong-shape"),
])
def test_a_store_record_that_does_not_prove_the_pass_is_refused(gated: Path, tmp_path: Path, record, message) -> None:
    store = _store(tmp_path / "store", "acme-ml-staging", "quant-research-staging", NEW_RUN, record)
    _record(gated, {NEW_RUN: "v5"})       # the store, reachable, is asked; the committed record is not
    assert message in _refused(gated, *PROMOTE_PROD, "--store", str(store))


def test_run_is_checked_against_its_publish_record_in_the_store(project: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "acme-ml-prod").mkdir(parents=True)
    message = _refused(project, *PROMOTE_PROD, "--store", str(store))
    assert f"prod would serve v5: run '{NEW_RUN}' (v5) has no publish record in prod's artifact store" in message
    _store(store, "acme-ml-prod", "quant-research-prod", NEW_RUN, _publish_record(env="prod", passed=False))
    assert "failed the gate" in _refused(project, *PROMOTE_PROD, "--store", str(store))


# ---- the committed record is read strictly -------------------------------------------------------

def test_a_record_of_another_pipeline_is_refused(gated: Path) -> None:
    _record(gated, {NEW_RUN: "v5"}, pipeline="msft-momentum", at=f"promotions/{PIPELINE}/staging.yaml")
    message = _refused(gated, *PROMOTE_PROD)
    assert "promotions/aapl-direction/staging.yaml:4:13: error: metadata.pipeline: this record is of pipeline " \
           "'msft-momentum'" in message


def test_a_record_of_another_environment_is_refused(gated: Path) -> None:
    _record(gated, {NEW_RUN: "v5"}, env="dev")
    assert "this record is of environment 'dev'" in _refused(gated, *PROMOTE_PROD)


def test_a_record_with_an_unknown_key_is_refused(gated: Path) -> None:
    _record(gated, {NEW_RUN: "v5"}, extra="trusted: true\n")
    assert "promotions/aapl-direction/staging.yaml:6:1: error: trusted" in _refused(gated, *PROMOTE_PROD)


@pytest.mark.parametrize("linked", ["file", "folder"])
def test_a_record_reached_through_a_link_is_never_read(gated: Path, tmp_path: Path, linked: str) -> None:
    outside = _record(tmp_path / "outside", {NEW_RUN: "v5"})
    target = gated / "promotions" / PIPELINE / "staging.yaml"
    target.parent.parent.mkdir(parents=True)
    if linked == "file":
        target.parent.mkdir()
        target.symlink_to(outside)
        shown = "promotions/aapl-direction/staging.yaml"
    else:
        target.parent.symlink_to(outside.parent)
        shown = "promotions/aapl-direction"
    assert f"{shown} is a symbolic link" in _refused(gated, *PROMOTE_PROD)


def test_a_store_record_reached_through_a_link_is_never_read(gated: Path, tmp_path: Path) -> None:
    elsewhere = _store(tmp_path / "elsewhere", "acme-ml-staging", "quant-research-staging", NEW_RUN, _publish_record())
    store = tmp_path / "store"
    (store / "acme-ml-staging" / "artifacts" / "quant-research-staging").mkdir(parents=True)
    (store / "acme-ml-staging" / "artifacts" / "quant-research-staging" / NEW_RUN).symlink_to(
        elsewhere / "acme-ml-staging" / "artifacts" / "quant-research-staging" / NEW_RUN)
    assert "is a symbolic link" in _refused(gated, *PROMOTE_PROD, "--store", str(store))


# ---- previous_default and --rollback -------------------------------------------------------------

def test_default_keeps_the_previous_one_and_rollback_swaps_them(project: Path) -> None:
    assert maestro(project, *PROMOTE_PROD).returncode == 0
    prod = yaml.safe_load((project / SPEC).read_text())["spec"]["overrides"]["prod"]["serving"]
    assert (prod["default"], prod["previous_default"]) == ("v5", "v3")
    assert [v["name"] for v in prod["versions"]] == ["v3", "v4", "v5"]
    result = maestro(project, "promote", PIPELINE, "--env", "prod", "--rollback", "-o", "json")
    assert result.returncode == 0, result.stderr
    document = conforming(result.stdout, "promote")
    assert (document["version"], document["previous_default"], document["rollback"]) == ("v3", "v5", True)
    prod = yaml.safe_load((project / SPEC).read_text())["spec"]["overrides"]["prod"]["serving"]
    assert (prod["default"], prod["previous_default"]) == ("v3", "v5")
    assert maestro(project, "compile").returncode == 0


def test_rollback_of_the_base_serving(project: Path) -> None:
    assert maestro(project, "promote", PIPELINE, "--version", "v4", "--as", "default").returncode == 0
    text = (project / SPEC).read_text()
    assert "    default: v4\n    previous_default: v3\n" in text
    assert maestro(project, "promote", PIPELINE, "--rollback").returncode == 0
    assert "    default: v3\n    previous_default: v4\n" in (project / SPEC).read_text()


def test_rollback_without_a_previous_default_is_refused(project: Path) -> None:
    assert "records no previous default to roll back to" in _refused(project, "promote", PIPELINE, "--rollback")


def test_previous_default_is_checked_at_its_line(project: Path) -> None:
    spec = project / SPEC
    spec.write_text(spec.read_text().replace("    default: v3\n", "    default: v3\n    previous_default: v9\n"))
    line = spec.read_text().splitlines().index("    previous_default: v9") + 1
    result = maestro(project, "compile")
    assert result.returncode == 1
    assert f"{SPEC}:{line}:23: error: spec.serving.previous_default: 'v9' is not among serving.versions" in result.stderr


# ---- the spec.json of a spec without the new fields is unchanged ---------------------------------

def test_new_fields_reach_spec_json_only_when_set(gated: Path) -> None:
    files = compile_project(gated, validate=False).tree.files
    prod = yaml.safe_load(files["prod/quant-research-prod/configmap-aapl-direction-spec.yaml"])
    staging = yaml.safe_load(files["staging/quant-research-staging/configmap-aapl-direction-spec.yaml"])
    assert json.loads(prod["data"]["spec.json"])["environment"]["spec"]["promotion"] == {"from": "staging"}
    assert "promotion" not in json.loads(staging["data"]["spec.json"])["environment"]["spec"]
    assert "previous_default" not in json.loads(staging["data"]["spec.json"])["pipeline"]["spec"]["serving"]


# ---- usage ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    pytest.param(["--env", "prd", "--version", "v4", "--as", "default"], "no environment named 'prd' (did you mean 'prod'?)",
                 id="unknown-env"),
    pytest.param(["--rollback", "--version", "v4"], "--rollback takes no --version", id="rollback-with-version"),
    pytest.param(["--version", "v4"], "promote needs --version and --as", id="no-role"),
])
def test_usage_errors_write_nothing(project: Path, args: list[str], message: str) -> None:
    assert message in _refused(project, "promote", PIPELINE, *args)


# ---- the S3 store, as a real S3 server on loopback (moto's) answers ------------------------------

@pytest.fixture
def s3(gated: Path, monkeypatch):
    """The examples with staging's and prod's stores on a local S3 server, and credentials for it."""
    from moto.server import ThreadedMotoServer
    import boto3

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    # moto's buckets live in this process, not in the server: start each test without any
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")).close()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sk")
    for env in ("staging", "prod"):
        spec = gated / "environments" / f"{env}.yaml"
        text = spec.read_text()
        assert "    endpoint: s3.us-east-1.amazonaws.com\n" in text
        spec.write_text(text.replace("    endpoint: s3.us-east-1.amazonaws.com\n",
                                     f"    endpoint: 127.0.0.1:{port}\n    insecure: true\n", 1))
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
    yield client, port
    server.stop()


def _upload(client, bucket: str, namespace: str, run: str, record, scratch: Path) -> str:
    local = _store(scratch / f"upload-{bucket}", bucket, namespace, run, record)
    archive = next(local.rglob("out.tgz"))
    key = archive.relative_to(local / bucket).as_posix()
    try:
        client.create_bucket(Bucket=bucket)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    client.put_object(Bucket=bucket, Key=key, Body=archive.read_bytes())
    shutil.rmtree(local)
    return key


def test_an_s3_store_record_is_the_evidence(gated: Path, s3, tmp_path: Path) -> None:
    client, _ = s3
    _upload(client, "acme-ml-prod", "quant-research-prod", NEW_RUN, _publish_record(env="prod"), tmp_path)
    key = _upload(client, "acme-ml-staging", "quant-research-staging", NEW_RUN, _publish_record(), tmp_path)
    result = maestro(gated, *PROMOTE_PROD, "--store", "s3", "-o", "json")
    assert result.returncode == 0, result.stderr
    evidence = {e["check"]: e for e in conforming(result.stdout, "promote")["evidence"]}
    assert evidence["from"]["source"] == "artifact-store" and evidence["from"]["record"] == f"s3://acme-ml-staging/{key}"
    assert evidence["run"]["checked_in"] == "prod"


def test_an_s3_record_that_failed_the_gate_is_refused(gated: Path, s3, tmp_path: Path) -> None:
    client, _ = s3
    _upload(client, "acme-ml-prod", "quant-research-prod", NEW_RUN, _publish_record(env="prod"), tmp_path)
    _upload(client, "acme-ml-staging", "quant-research-staging", NEW_RUN, _publish_record(passed=False), tmp_path)
    _record(gated, {NEW_RUN: "v5"})   # the store answers, so the committed record is not what decides
    assert "failed the gate" in _refused(gated, *PROMOTE_PROD, "--store", "s3")


def test_an_s3_store_without_the_buckets_leaves_the_committed_record_as_evidence(gated: Path, s3) -> None:
    _record(gated, {NEW_RUN: "v5"})   # the server answers, but holds neither environment's bucket
    result = maestro(gated, *PROMOTE_PROD, "--store", "s3", "-o", "json")
    assert result.returncode == 0, result.stderr
    (evidence,) = conforming(result.stdout, "promote")["evidence"]
    assert evidence["source"] == "promotion-record"
