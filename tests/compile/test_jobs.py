"""`--jobs`: team namespaces built in worker processes give the serial compile's bytes, its errors in
its order and its cache records; a small repository is not worth forking for; the default is the CPUs
the process may use, its cgroup quota included."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.generate import make_project
from maestro.compile import PARALLEL_MEMBERS, Member, _shards, compile_project
from maestro import fanout
from maestro.fanout import apportioned, available_cpus, balanced, cgroup_cpu_quota, fan_out, tapering
from maestro.incremental import NamespaceCache
from maestro.targets.argocd_health import GITOPS_PATH as HEALTH_PATCH_PATH
from tests.support import copy_examples, maestro

from .conftest import refusals_by_jobs, refusing_model_schemas

ENVIRONMENTS = 3
PIPELINES = PARALLEL_MEMBERS // ENVIRONMENTS + 4   # just over the size where the workers are used


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("jobs") / "large", PIPELINES, seed=7, teams=5)


def _built_here(compiled) -> set[str]:
    """The objects rendered in the compiling process (the rest were built by workers)."""
    return {o.path for o in compiled.tree.outputs}


def test_workers_make_the_serial_compiles_bytes(large: Path) -> None:
    serial = compile_project(large, jobs=1)
    for jobs in (2, 3):
        fanned = compile_project(large, jobs=jobs)
        assert fanned.tree.files == serial.tree.files
        assert (fanned.warnings, fanned.pipelines, fanned.environments) == \
            (serial.warnings, serial.pipelines, serial.environments)
        assert fanned.tree.team_namespaces == serial.tree.team_namespaces
        # The namespaces really were built elsewhere: only what lies outside them was rendered here.
        assert _built_here(fanned) < _built_here(serial)
        assert _namespaced(fanned) == set() and _namespaced(serial)


def test_workers_leave_the_same_cache_records(large: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "cached", PIPELINES, seed=7, teams=5)
    first = compile_project(project, cache=NamespaceCache(project), jobs=2)
    units = sorted(p.name for p in (project / ".maestro/cache").glob("*.unit"))
    assert units
    again = compile_project(project, cache=NamespaceCache(project), jobs=2)
    assert again.tree.files == first.tree.files == compile_project(large, jobs=1).tree.files
    assert _built_here(again) == _built_here(first) - _namespaced(first)   # every namespace was reused
    assert sorted(p.name for p in (project / ".maestro/cache").glob("*.unit")) == units


def _namespaced(compiled) -> set[str]:
    return {p for p in _built_here(compiled) if (tuple(p.split("/")[:2])) in compiled.tree.team_namespaces}


def test_an_invalid_output_is_reported_as_the_serial_compile_reports_it(large: Path, tmp_path: Path) -> None:
    schemas = [str(refusing_model_schemas(tmp_path / "schemas"))]
    refusals = refusals_by_jobs(large, schema_locations=schemas)
    assert refusals[0] == refusals[1]
    assert len({d.file for d in refusals[0]}) > PIPELINES   # every Model of every environment, in one report


def test_an_invalid_effective_spec_is_reported_as_the_serial_compile_reports_it(tmp_path: Path) -> None:
    """The workers build the effective specs of their own namespaces: a problem only an environment's
    overrides cause is still reported once, in full and in the serial load's order."""
    project = make_project(tmp_path / "overrides", PIPELINES, seed=7, teams=5)
    specs = sorted((project / "pipelines").glob("*.yaml"))
    for spec in (specs[1], specs[len(specs) // 2], specs[-1]):   # in different teams' namespaces
        text = spec.read_text()
        spec.write_text(text.replace("  overrides:\n", "  overrides:\n    prod: {training: {epochs: 0}}\n", 1))
    refusals = refusals_by_jobs(project)
    assert refusals[0] == refusals[1]
    assert [d.file for d in refusals[0] if d.severity != "note"] == \
        [f"pipelines/{spec.name}" for spec in (specs[1], specs[len(specs) // 2], specs[-1])]


def test_a_small_repository_is_compiled_in_one_process(tmp_path: Path) -> None:
    project = copy_examples(tmp_path / "examples")
    serial, fanned = compile_project(project, jobs=1), compile_project(project, jobs=4)
    assert _built_here(fanned) == _built_here(serial) == set(serial.tree.files) - {"README.md", "CODEOWNERS",
                                                                                   HEALTH_PATCH_PATH}


def test_the_command_takes_jobs_and_refuses_zero(large: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "cli", PIPELINES, seed=7, teams=5)
    maestro(project, "compile", "--jobs", "2", env={"MAESTRO_NO_CACHE": "1"}, check=True)
    checked = maestro(project, "compile", "--check", "-j", "1", env={"MAESTRO_NO_CACHE": "1"})
    assert checked.returncode == 0, checked.stderr
    refused = maestro(project, "compile", "--jobs", "0")
    assert refused.returncode == 2 and "--jobs" in refused.stderr and "Traceback" not in refused.stderr


def test_the_default_is_the_cpus_this_process_may_use() -> None:
    cpus = available_cpus()
    assert 1 <= cpus <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize(("files", "cpus"), [
    ({"cpu.max": "150000 100000\n"}, 2),
    ({"cpu.max": "100000 100000\n"}, 1),
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "250000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu.max": "garbage\n"}, None),
    ({}, None),
])
def test_a_cgroup_quota_caps_the_default(tmp_path: Path, files: dict[str, str], cpus: int | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cgroup_cpu_quota(tmp_path) == cpus


def test_shards_are_balanced_and_fixed_by_their_items() -> None:
    weights = {("dev", f"team-{i}"): w for i, w in enumerate([25, 3, 17, 9, 30, 1, 12, 8])}
    shards = balanced(weights, 3)
    assert sorted(item for shard in shards for item in shard) == sorted(weights)
    totals = sorted(sum(weights[item] for item in shard) for shard in shards)
    assert totals[-1] - totals[0] <= max(weights.values()) and totals == [34, 34, 37]
    assert balanced(dict(reversed(list(weights.items()))), 3) == shards
    assert balanced({"only": 1}, 4) == [["only"]]


def test_tapering_shards_halve_round_by_round_in_the_order_given() -> None:
    assert tapering(2, 3) == [1, 1, 0.5, 0.5, 0.25, 0.25]
    weights = {f"team-{i:03}": 1 for i in range(140)}
    shards = apportioned(weights, tapering(2, 3))
    assert [len(shard) for shard in shards] == [40, 40, 20, 20, 10, 10]
    assert sorted(item for shard in shards for item in shard) == sorted(weights)
    assert apportioned({"heavy": 50, "light": 1}, tapering(2, 3)) == [["heavy"], ["light"]]   # none left empty


def test_workers_results_come_back_in_shard_order_and_leave_no_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(fanout, "_memory_folder", lambda: str(tmp_path))
    results = fan_out(lambda shard: {"shard": shard, "body": bytes(200_000)}, [3, 1, 2], 2)
    assert [r["shard"] for r in results] == [3, 1, 2] and all(len(r["body"]) == 200_000 for r in results)
    assert fan_out(lambda shard: 1 // (shard - 1), [3, 1, 2], 2) is None   # one shard raised
    assert list(tmp_path.iterdir()) == []


def test_a_result_the_folder_has_no_room_for_comes_through_the_pipe(tmp_path: Path, monkeypatch) -> None:
    """A container's /dev/shm is often 64 MB: a shard whose file cannot be written is not lost."""
    monkeypatch.setattr(fanout, "_memory_folder", lambda: str(tmp_path))
    real = fanout._leave

    def full_for_big_ones(path: str, result) -> None:
        real(path, result)
        if len(result["body"]) > 100_000:
            raise OSError(28, "No space left on device")   # after a partial write, as a full disk leaves it

    monkeypatch.setattr(fanout, "_leave", full_for_big_ones)
    results = fan_out(lambda shard: {"shard": shard, "body": bytes(shard * 60_000)}, [1, 3, 2], 2)
    assert [(r["shard"], len(r["body"])) for r in results] == [(1, 60_000), (3, 180_000), (2, 120_000)]
    assert list(tmp_path.iterdir()) == []


def _member(team: str, env: str, index: int) -> Member:
    return Member(f"p{index}", team, env, f"{team}-{env}", (), f"pipelines/p{index}.yaml")


def test_a_teams_namespaces_share_a_shard_when_there_are_teams_enough() -> None:
    members = [_member(f"team-{t}", env, 10 * t + i) for t in range(12) for env in ("dev", "prod") for i in range(t % 3 + 1)]
    weights = Counter((m.env, m.namespace) for m in members)
    shards = _shards(members, weights, [1.0] * 4)
    assert sorted(unit for shard in shards for unit in shard) == sorted(weights)
    assert all(len({namespace.rsplit("-", 1)[0] for _, namespace in shard}) * 2 == len(shard) for shard in shards)
    assert _shards(list(reversed(members)), weights, [1.0] * 4) == shards


def test_fewer_teams_than_shards_are_spread_by_namespace(tmp_path: Path) -> None:
    one_team = make_project(tmp_path / "one-team", PIPELINES, seed=5, teams=1)
    members = [_member("team-0", env, i) for env in ("dev", "staging", "prod") for i in range(3)]
    assert len(_shards(members, Counter((m.env, m.namespace) for m in members), [1.0] * 4)) == 3
    stages: list[str] = []
    fanned = compile_project(one_team, jobs=2, progress=stages.append)
    assert any(stage.endswith("in 2 processes") for stage in stages)
    assert fanned.tree.files == compile_project(one_team, jobs=1).tree.files
