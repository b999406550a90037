"""The cluster write-back, end to end against real local bare git repositories.

Each exploit of issue 11 (finding 4) is a fixture here: a dev run that rewrote prod's serving, a
quoted default, a version named in a comment, other teams' uncompiled drift, a branch that moved
during the proposal, a non-dev environment set to push directly, a spec whose edit reaches other
environments, an invalid compiled tree, and a committed symbolic link.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from maestro.errors import MaestroError, UsageError
from maestro.promote import Promotion, promote_text
from maestro.contract import PASSWORD_VARIABLE, USERNAME_VARIABLE
from maestro.steps.writeback import WriteBack, write_back
from tests.compile.conftest import refusing_model_schemas
from tests.support import REPO, Outcome, copy_examples, git, maestro, seed_bare_repository

SECRET = "s3cr3t-token-value"
PIPELINE, RUN = "msft-momentum", "msft-momentum-x7k2p"
DEV_FOLDER = "gitops/dev/quant-research-dev"


def _own(env: str) -> set[str]:
    """What a write-back in `env` may change besides that environment's compiled files: the spec,
    and the record of the runs that passed the gate there (promotions/, issue 16)."""
    return {f"pipelines/{PIPELINE}.yaml", f"promotions/{PIPELINE}/{env}.yaml"}


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare repository holding the example project and its compiled gitops/."""
    return seed_bare_repository(tmp_path, REPO)


def _seeded_with(tmp_path: Path, edit) -> Path:
    """A bare repository seeded from the examples after `edit(project)`."""
    project = copy_examples(tmp_path / "project")
    edit(project)
    return seed_bare_repository(tmp_path, project)


def _request(origin: Path, promotion: str = "direct", environment: str = "dev", pipeline: str = PIPELINE,
             run: str = RUN, schema_locations: tuple[str, ...] = ()) -> WriteBack:
    return WriteBack(str(origin), "main", "gitops", promotion, environment, pipeline, run,
                     {"accuracy": 0.5612, "sharpe": 1.31, "p_value": 0.012}, schema_locations)


def _checkout(origin: Path, ref: str, into: Path) -> Path:
    git(origin.parent, "clone", "--quiet", "--branch", ref, str(origin), str(into))
    return into


def _changed(origin: Path, commit: str) -> list[str]:
    return sorted(git(origin, "diff", "--name-only", "--no-renames", f"{commit}~1", commit).split())


def _compile_check(clone: Path) -> Outcome:
    return maestro(clone, "compile", "--check")


def _body(clone: Path, path: str) -> dict:
    return yaml.safe_load((clone / path).read_text())


def _push_to(origin: Path, tmp_path: Path, edit, message: str) -> str:
    """Commit `edit(clone)` on origin's main from another clone, as another team would."""
    clone = _checkout(origin, "main", tmp_path / f"other-{message.replace(' ', '-')}")
    edit(clone)
    git(clone, "add", "-A")
    git(clone, "-c", "user.name=o", "-c", "user.email=o@example.com", "commit", "--quiet", "-m", message)
    git(clone, "push", "--quiet", "origin", "HEAD:main")
    return git(clone, "rev-parse", "HEAD").strip()


def _replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_a_pull_request_proposal_edits_only_its_environment_and_compiles(origin: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(USERNAME_VARIABLE, "bot")
    monkeypatch.setenv(PASSWORD_VARIABLE, SECRET)
    seed = git(origin, "rev-parse", "main").strip()
    pushed = write_back(_request(origin, "pull-request", "prod"))
    assert (pushed.version, pushed.ref, pushed.via) == ("v13", f"maestro/{PIPELINE}-{RUN}", "pull-request")
    assert git(origin, "rev-parse", "main").strip() == seed
    clone = _checkout(origin, pushed.ref, tmp_path / "check")
    spec = yaml.safe_load((clone / "pipelines/msft-momentum.yaml").read_text())["spec"]
    assert spec["serving"]["experiment"]["candidate"] == "v12"          # the base, read by dev and staging
    assert spec["overrides"]["prod"]["serving"]["experiment"] == {"mode": "shadow", "candidate": "v13", "candidate_weight": 15}
    assert spec["overrides"]["prod"]["serving"]["versions"][-1] == {"name": "v13", "run": RUN}
    assert all(p in _own("prod") or p.startswith("gitops/prod/quant-research-prod/")
               for p in _changed(origin, pushed.commit))
    check = _compile_check(clone)
    assert check.returncode == 0, check.stdout + check.stderr
    log = git(clone, "log", "-1", "--format=%an%n%B")
    assert f"{PIPELINE} v13 from run {RUN} in prod" in log and "accuracy 0.5612" in log
    assert SECRET not in log and SECRET not in (clone / "pipelines/msft-momentum.yaml").read_text()


def test_a_dev_run_pushed_directly_changes_dev_only(origin: Path, tmp_path: Path) -> None:
    """The exploit: a dev run's direct push to main replaced prod's and staging's Model and
    Experiment with a model that was never uploaded to prod's store."""
    seed = git(origin, "rev-parse", "main").strip()
    pushed = write_back(_request(origin))
    assert (pushed.ref, pushed.via) == ("main", "direct")
    assert git(origin, "rev-parse", "main~1").strip() == seed
    changed = _changed(origin, pushed.commit)
    assert "pipelines/msft-momentum.yaml" in changed and f"{DEV_FOLDER}/model-msft-momentum-v13.yaml" in changed
    assert all(p in _own("dev") or p.startswith(f"{DEV_FOLDER}/") for p in changed), changed
    assert git(origin, "diff", "--name-only", seed, "main", "--", "gitops/prod", "gitops/staging") == ""
    clone = _checkout(origin, "main", tmp_path / "check")
    check = _compile_check(clone)
    assert check.returncode == 0, check.stdout + check.stderr        # the committed tree is the compiled one
    dev = _body(clone, f"{DEV_FOLDER}/experiment-msft-momentum-shadow-v13-w15.yaml")["spec"]
    assert dev["mirror"] == {"name": "msft-momentum-v13", "percent": 15}
    assert _body(clone, f"{DEV_FOLDER}/model-msft-momentum-v13.yaml")["spec"]["storageUri"].startswith("s3://acme-ml-dev/")
    prod = _body(clone, "gitops/prod/quant-research-prod/experiment-msft-momentum-shadow-v12-w15.yaml")["spec"]
    assert prod["mirror"]["name"] == "msft-momentum-v12"


def test_a_quoted_default_is_a_default(tmp_path: Path) -> None:
    """The exploit: `default: "v11"` did not match the regex, so the run became the default with
    100% of the traffic."""
    origin = _seeded_with(tmp_path, lambda p: _replace_in(p / "pipelines/msft-momentum.yaml", "default: v11", 'default: "v11"'))
    pushed = write_back(_request(origin))
    clone = _checkout(origin, "main", tmp_path / "check")
    experiment = _body(clone, f"{DEV_FOLDER}/experiment-msft-momentum-shadow-v13-w15.yaml")["spec"]
    assert experiment["default"] == "msft-momentum-v11"
    assert experiment["candidates"] == [{"name": "msft-momentum-v11", "weight": 100}]
    dev = yaml.safe_load((clone / "pipelines/msft-momentum.yaml").read_text())["spec"]["overrides"]["dev"]["serving"]
    assert "default" not in dev and dev["experiment"]["candidate"] == pushed.version == "v13"


def test_a_version_named_in_a_comment_is_not_counted(tmp_path: Path) -> None:
    origin = _seeded_with(tmp_path, lambda p: _replace_in(
        p / "pipelines/msft-momentum.yaml", "    default: v11\n",
        "    # name: v99 was a trial; it was never published\n    default: v11\n"))
    pushed = write_back(_request(origin))
    assert pushed.version == "v13"


def test_versions_of_every_environment_are_counted(tmp_path: Path) -> None:
    """One name, one run: a version listed only in another environment's override is not reused."""
    origin = _seeded_with(tmp_path, lambda p: _replace_in(
        p / "pipelines/msft-momentum.yaml", "      schedule: null\n",
        "      schedule: null\n    staging:\n      serving:\n        versions:\n"
        "          - {name: v11, run: msft-momentum-3c9d10}\n          - {name: v20, run: msft-momentum-aa20bb}\n"
        "        experiment: {mode: shadow, candidate: v20, candidate_weight: 15}\n"))
    assert write_back(_request(origin)).version == "v21"


def test_other_teams_uncompiled_drift_is_not_swept_in(origin: Path, tmp_path: Path) -> None:
    """The exploit: the write-back recompiled everything and committed with `git add -A`."""
    def drift(clone: Path) -> None:
        _replace_in(clone / "pipelines/goog-volatility.yaml", "epochs: 20", "epochs: 40")    # risk-lab, not compiled
        _replace_in(clone / "pipelines/aapl-direction.yaml", "{epochs: 3,", "{epochs: 5,")   # same namespace, other pipeline

    drifted = _push_to(origin, tmp_path, drift, "uncompiled edits")
    pushed = write_back(_request(origin))
    assert git(origin, "rev-parse", "main~1").strip() == drifted
    changed = _changed(origin, pushed.commit)
    assert all(p in _own("dev") or (p.startswith(f"{DEV_FOLDER}/") and "aapl" not in p)
               for p in changed), changed
    clone = _checkout(origin, "main", tmp_path / "check")
    stale = _compile_check(clone)
    assert stale.returncode == 1          # the others' drift is still theirs to compile
    stale_files = [line.split("gitops/", 1)[1] for line in stale.stdout.splitlines() if line.startswith("stale: ")]
    assert "dev/quant-research-dev/configmap-aapl-direction-spec.yaml" in stale_files
    assert "prod/risk-lab-prod/configmap-goog-volatility-spec.yaml" in stale_files
    assert all("aapl-direction" in f or "goog-volatility" in f for f in stale_files), stale_files


def test_an_edit_that_reaches_other_environments_is_refused(tmp_path: Path) -> None:
    """A spec whose dev override is an alias of the base serving: editing the override edits what
    prod and staging serve. Nothing may be pushed."""
    def alias(project: Path) -> None:
        spec = project / "pipelines/msft-momentum.yaml"
        _replace_in(spec, "  serving:\n    runtime: mlserver", "  serving: &serving\n    runtime: mlserver")
        _replace_in(spec, "      schedule: null\n", "      schedule: null\n      serving: *serving\n")

    origin = _seeded_with(tmp_path, alias)
    seed = git(origin, "rev-parse", "main").strip()
    with pytest.raises(UsageError) as refused:
        write_back(_request(origin))
    message = str(refused.value)
    assert "would also change gitops/prod/quant-research-prod/" in message and "nothing was pushed" in message
    assert git(origin, "rev-parse", "main").strip() == seed
    assert git(origin, "branch", "--list").split() == ["*", "main"]


def test_a_non_dev_environment_never_pushes_to_its_revision(tmp_path: Path) -> None:
    """`promotion: direct` in staging: the branch is protected there, so a review branch is pushed."""
    origin = _seeded_with(tmp_path, lambda p: _replace_in(
        p / "environments/staging.yaml", "    path: gitops\n", "    path: gitops\n    promotion: direct\n"))
    seed = git(origin, "rev-parse", "main").strip()
    pushed = write_back(_request(origin, "direct", "staging"))
    assert (pushed.ref, pushed.via) == (f"maestro/{PIPELINE}-{RUN}", "pull-request")
    assert "staging is not a development environment" in pushed.notes[0]
    assert git(origin, "rev-parse", "main").strip() == seed
    assert all(p in _own("staging") or p.startswith("gitops/staging/")
               for p in _changed(origin, pushed.commit))


def _concurrent_pusher(tmp_path: Path, monkeypatch, origin: Path, every_time: bool) -> Path:
    """A post-commit hook (global git config under $HOME) that pushes another commit to origin's
    main right after the write-back commits: main moves between the clone and the push."""
    home, hooks = tmp_path / "home", tmp_path / "hooks"
    hooks.mkdir()
    home.mkdir()
    (home / ".gitconfig").write_text(f"[core]\n\thooksPath = {hooks}\n")
    hook = hooks / "post-commit"
    hook.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        marker={tmp_path}/moved
        if [ -e "$marker" ] && [ "{int(every_time)}" = 0 ]; then exit 0; fi
        echo x >> "$marker"
        unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX
        clone=$(mktemp -d "{tmp_path}/concurrent.XXXX")
        git clone --quiet {origin} "$clone" && cd "$clone" && echo "$(date +%N)" >> NOTES.md && git add NOTES.md &&
          git -c core.hooksPath=/dev/null -c user.name=o -c user.email=o@example.com commit --quiet -m concurrent &&
          git push --quiet origin HEAD:main
        """))
    hook.chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    return tmp_path / "moved"


def test_a_non_fast_forward_is_redone_once_on_the_new_revision(origin: Path, tmp_path: Path, monkeypatch) -> None:
    seed = git(origin, "rev-parse", "main").strip()
    moved = _concurrent_pusher(tmp_path, monkeypatch, origin, every_time=False)
    pushed = write_back(_request(origin))
    assert moved.read_text() == "x\n"                          # main really moved once, before the first push
    assert git(origin, "log", "--format=%s", "main").splitlines()[:3] == [
        f"maestro: propose {PIPELINE} v13 from run {RUN} in dev", "concurrent", "seed"]
    assert git(origin, "rev-parse", "main~2").strip() == seed and git(origin, "rev-parse", "main").strip() == pushed.commit
    assert "NOTES.md" not in _changed(origin, pushed.commit)


def test_a_revision_that_keeps_moving_fails_cleanly(origin: Path, tmp_path: Path, monkeypatch) -> None:
    moved = _concurrent_pusher(tmp_path, monkeypatch, origin, every_time=True)
    with pytest.raises(UsageError) as refused:
        write_back(_request(origin))
    assert "refused twice (fetch first)" in str(refused.value) and "nothing was pushed" in str(refused.value)
    assert moved.read_text() == "x\nx\n"
    assert git(origin, "log", "--format=%s", "main").splitlines() == ["concurrent", "concurrent", "seed"]


def test_an_invalid_compiled_tree_is_never_pushed(origin: Path, tmp_path: Path) -> None:
    """The recompile validates as `maestro compile` does: here a Model schema that refuses s3:// URIs."""
    # A location given first overrides the shipped bundle for the kinds it holds: here the Model alone.
    locations = (str(refusing_model_schemas(tmp_path / "schemas")),)
    seed = git(origin, "rev-parse", "main").strip()
    with pytest.raises(MaestroError) as invalid:
        write_back(_request(origin, schema_locations=locations))
    assert "Model msft-momentum-v13" in str(invalid.value) and "storageUri" in str(invalid.value)
    assert git(origin, "rev-parse", "main").strip() == seed


def test_the_write_back_refuses_exactly_what_maestro_compile_refuses(origin: Path, tmp_path: Path) -> None:
    """The same edit, made by hand in a checkout: `maestro compile` there names the very errors the
    write-back raised, no more and no fewer."""
    location = str(refusing_model_schemas(tmp_path / "schemas"))
    with pytest.raises(MaestroError) as invalid:
        write_back(_request(origin, schema_locations=(location,)))
    clone = _checkout(origin, "main", tmp_path / "by-hand")
    spec = clone / "pipelines/msft-momentum.yaml"
    spec.write_text(promote_text(spec.read_text(), "pipelines/msft-momentum.yaml",
                                 Promotion("v13", "candidate", RUN), "dev"))
    compiled = maestro(clone, "compile", env={"MAESTRO_SCHEMA_LOCATION": location})
    assert compiled.returncode == 1
    assert [line for line in compiled.stderr.splitlines() if line.startswith("gitops/")] == \
        str(invalid.value).splitlines()
    assert git(clone, "status", "--porcelain") == " M pipelines/msft-momentum.yaml\n"   # compile wrote nothing


def test_a_committed_symlink_is_never_written_through(origin: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()

    def link(clone: Path) -> None:
        shutil.rmtree(clone / DEV_FOLDER)
        (clone / DEV_FOLDER).symlink_to(victim)

    linked = _push_to(origin, tmp_path, link, "a link")
    with pytest.raises(UsageError) as refused:
        write_back(_request(origin))
    assert f"{DEV_FOLDER} is a symbolic link" in str(refused.value)
    assert list(victim.iterdir()) == []
    assert git(origin, "rev-parse", "main").strip() == linked


def test_committed_maestro_state_is_refused(origin: Path, tmp_path: Path) -> None:
    def state(clone: Path) -> None:
        (clone / ".maestro/cache").mkdir(parents=True)
        (clone / ".maestro/cache/index.json").write_text("{}")

    planted = _push_to(origin, tmp_path, state, "state")
    with pytest.raises(UsageError, match=r"\.maestro/ is committed"):
        write_back(_request(origin))
    assert git(origin, "rev-parse", "main").strip() == planted


def test_a_failed_push_names_git_and_hides_the_password(origin: Path, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, SECRET)
    request = _request(origin, "direct")
    broken = WriteBack(str(origin) + "-missing", *list(request.__dict__.values())[1:])
    with pytest.raises(UsageError) as failure:
        write_back(broken)
    assert "git clone failed" in str(failure.value) and SECRET not in str(failure.value)


# ---- issue 16: the write-back records each passing run, the evidence `promotion.from` reads ----------

def test_each_write_back_appends_its_run_to_the_environments_promotion_record(origin: Path, tmp_path: Path) -> None:
    write_back(_request(origin))
    pushed = write_back(_request(origin, run="msft-momentum-y8m3q"))
    assert f"promotions/{PIPELINE}/dev.yaml" in _changed(origin, pushed.commit)
    clone = _checkout(origin, "main", tmp_path / "check")
    record = yaml.safe_load((clone / f"promotions/{PIPELINE}/dev.yaml").read_text())
    assert record == {"apiVersion": "maestro/v1", "kind": "PromotionRecord",
                      "metadata": {"pipeline": PIPELINE, "environment": "dev"},
                      "passed": [{"run": RUN, "version": "v13"}, {"run": "msft-momentum-y8m3q", "version": "v14"}]}


def test_a_run_recorded_by_stagings_write_back_may_serve_in_prod(origin: Path, tmp_path: Path) -> None:
    pushed = write_back(_request(origin, "pull-request", "staging"))
    clone = _checkout(origin, pushed.ref, tmp_path / "check")
    assert "promotion: {from: staging}" in (clone / "environments/prod.yaml").read_text()
    other = "msft-momentum-z9z9z9"
    refused = maestro(clone, "promote", PIPELINE, "--env", "prod", "--version", "v14", "--run", other, "--as", "default")
    assert refused.returncode == 1 and "accepted: v13 (msft-momentum-x7k2p)" in refused.stderr
    result = maestro(clone, "promote", PIPELINE, "--env", "prod", "--version", "v13", "--run", RUN, "--as", "default")
    assert result.returncode == 0, result.stderr
    assert f"checked: {RUN} (v13) for prod: passed the gate in staging (promotions/{PIPELINE}/staging.yaml)" in result.stderr


@pytest.mark.parametrize("planted", ["malformed", "link"])
def test_a_planted_promotion_record_refuses_the_write_back(tmp_path: Path, planted: str) -> None:
    """The exploit: a record committed with extra runs (or as a link to one elsewhere) that the
    write-back would carry forward as if its own environment's gate had passed them."""
    def plant(project: Path) -> None:
        folder = project / "promotions" / PIPELINE
        folder.mkdir(parents=True)
        if planted == "link":
            (folder / "dev.yaml").symlink_to("/etc/hostname")
        else:
            (folder / "dev.yaml").write_text("apiVersion: maestro/v1\nkind: PromotionRecord\nmetadata:\n"
                                             f"  pipeline: {PIPELINE}\n  environment: dev\ntrusted: yes\npassed: []\n")
    origin = _seeded_with(tmp_path, plant)
    seed = git(origin, "rev-parse", "main").strip()
    with pytest.raises((MaestroError, UsageError)) as refused:
        write_back(_request(origin))
    assert ("symbolic link" if planted == "link" else "trusted") in str(refused.value)
    assert git(origin, "rev-parse", "main").strip() == seed


CUSTOM, CUSTOM_RUN = "synthetic-regression", "synthetic-regression-q4w8e"


def test_a_custom_pipelines_write_back_is_the_builtins(origin: Path, tmp_path: Path) -> None:
    """A bring-your-own pipeline's publish pushes through the same write-back: the next version in
    staging's serving, staging's compiled files, and the run appended to its promotion record."""
    pushed = write_back(_request(origin, "pull-request", "staging", pipeline=CUSTOM, run=CUSTOM_RUN))
    assert pushed.version == "v1"
    changed = _changed(origin, pushed.commit)
    assert {f"pipelines/{CUSTOM}.yaml", f"promotions/{CUSTOM}/staging.yaml"} <= set(changed)
    own = {f"pipelines/{CUSTOM}.yaml", f"promotions/{CUSTOM}/staging.yaml", "gitops/README.md"}   # README: served
    assert all(p.startswith("gitops/staging/") for p in set(changed) - own), changed
    clone = _checkout(origin, pushed.ref, tmp_path / "check")
    assert _compile_check(clone).returncode == 0
    staging = _body(clone, f"pipelines/{CUSTOM}.yaml")["spec"]["overrides"]["staging"]["serving"]
    assert staging["versions"] == [{"name": "v1", "run": CUSTOM_RUN}] and staging["default"] == "v1"
    assert _body(clone, f"promotions/{CUSTOM}/staging.yaml")["passed"] == [{"run": CUSTOM_RUN, "version": "v1"}]
    # prod (promotion.from: staging) serves only what staging's gate passed
    refused = maestro(clone, "promote", CUSTOM, "--env", "prod", "--version", "v1", "--run", "synthetic-regression-zzz",
                      "--as", "default")
    assert refused.returncode == 1 and f"accepted: v1 ({CUSTOM_RUN})" in refused.stderr, refused.stderr
    result = maestro(clone, "promote", CUSTOM, "--env", "prod", "--version", "v1", "--run", CUSTOM_RUN, "--as", "default")
    assert result.returncode == 0, result.stderr
    assert f"checked: {CUSTOM_RUN} (v1) for prod: passed the gate in staging (promotions/{CUSTOM}/staging.yaml)" \
        in result.stderr
