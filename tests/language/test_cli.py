"""The CLI contract: where the root is found, exit codes 0/1/2, help with examples, the error funnel,
and nothing written when the specs are refused."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import click
import pytest

from maestro.cli import COMMANDS
from maestro.commands.options import debug_option

from .conftest import REPO

BROKEN = ("name: aapl-direction", "name: aapl.direction")


def break_spec(root: Path) -> None:
    spec = root / "pipelines" / "aapl-direction.yaml"
    spec.write_text(spec.read_text().replace(*BROKEN))


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_root_is_found_from_a_subdirectory(example: Path, maestro, monkeypatch) -> None:
    break_spec(example)
    nested = example / "pipelines" / "drafts" / "2026"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    result = maestro("compile")
    assert result.returncode == 1
    assert result.stderr.startswith("pipelines/aapl-direction.yaml:6:9: error: metadata.name: 'aapl.direction' contains a dot")


def test_no_root_above_the_working_directory_is_a_usage_error(tmp_path: Path, maestro, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = maestro("compile")
    assert result.returncode == 2
    assert result.stderr == f"error: no directory with pipelines/ and environments/ at or above {tmp_path.resolve()}; pass --root\n"


@pytest.mark.parametrize("args, code, err", [
    pytest.param(("compile", "--bogus"), 2, "error: No such option", id="unknown-option"),
    pytest.param(("nosuch",), 2, "error: No such command 'nosuch'.\n", id="unknown-command"),
    pytest.param(("compile", "--env", "prd"), 2, "error: no environment named 'prd' (did you mean 'prod'?)\n", id="unknown-env"),
    pytest.param(("compile", "--env", "qa"), 2, "error: no environment named 'qa' (expected one of: dev, prod, staging)\n", id="unknown-env-no-hint"),
    pytest.param(("schema", "nosuch"), 2, "error: Invalid value for ", id="bad-argument"),
    pytest.param(("compile", "--root", "{tmp}"), 2, "error: {tmp} holds no pipelines/ and environments/\n", id="root-without-specs"),
    pytest.param(("compile", "--root", "."), 1, "1 error(s); nothing was written.\n", id="refused-spec"),
    pytest.param(("schema", "pipeline"), 0, "", id="success"),
    pytest.param(("--version",), 0, "", id="version"),
])
def test_exit_codes(args: tuple[str, ...], code: int, err: str, example: Path, tmp_path: Path, maestro, monkeypatch) -> None:
    """`err` is the whole of stderr, or for click's own messages the start of it."""
    break_spec(example)
    monkeypatch.chdir(example)
    result = maestro(*(a.format(tmp=tmp_path) for a in args))
    assert result.returncode == code
    expected = err.format(tmp=tmp_path)
    assert result.stderr.endswith(expected) if expected.endswith("\n") else result.stderr.startswith(expected)


def test_a_refused_spec_exits_1_and_writes_nothing(example: Path, maestro) -> None:
    shutil.copytree(REPO / "gitops", example / "gitops")
    break_spec(example)
    before = digest(example)
    result = maestro("compile", "--root", example)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.endswith("\n1 error(s); nothing was written.\n")
    assert digest(example) == before


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in COMMANDS])
def test_every_command_help_shows_an_example(name: str, maestro) -> None:
    result = maestro(name, "--help")
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout and f"maestro {name}" in result.stdout.partition("Example")[2]


def test_top_level_help_lists_every_command(maestro) -> None:
    result = maestro("--help")
    assert result.returncode == 0 and "Example" in result.stdout
    assert all(f"  {name} " in result.stdout for name in COMMANDS)


@click.command("explode")
@debug_option
def explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture
def exploding(monkeypatch) -> None:
    """A command with a bug in it, to see what the funnel makes of an unexpected exception."""
    monkeypatch.setitem(COMMANDS, "explode", (f"{__name__}:explode", "Fail on purpose."))


def test_an_unexpected_exception_is_one_short_line(exploding, maestro) -> None:
    result = maestro("explode")
    assert result.returncode == 1
    assert result.stderr == "internal error: RuntimeError: boom (run with --debug for the traceback and please report it)\n"


@pytest.mark.parametrize("args", [pytest.param(("--debug", "explode"), id="before"),
                                  pytest.param(("explode", "--debug"), id="after")])
def test_debug_shows_the_traceback(exploding, maestro, args) -> None:
    result = maestro(*args)
    assert result.returncode == 1
    first, *rest = result.stderr.splitlines()
    assert first == "internal error: RuntimeError: boom"
    assert rest[0] == "Traceback (most recent call last):" and rest[-1] == "RuntimeError: boom"


@click.command("unreadable")
@debug_option
def unreadable() -> None:
    open("/nonexistent/maestro-test/spec.yaml")


@pytest.mark.parametrize("debug", [pytest.param(False, id="plain"), pytest.param(True, id="debug")])
def test_an_os_error_is_one_line_and_its_traceback_shows_under_debug(monkeypatch, maestro, debug: bool) -> None:
    monkeypatch.setitem(COMMANDS, "unreadable", (f"{__name__}:unreadable", "Fail on purpose."))
    result = maestro(*(["--debug"] if debug else []), "unreadable")
    assert result.returncode == 1
    first, *rest = result.stderr.splitlines()
    assert first == "error: No such file or directory: /nonexistent/maestro-test/spec.yaml"
    assert (rest[:1] == ["Traceback (most recent call last):"] and rest[-1].startswith("FileNotFoundError")) if debug \
        else rest == []
