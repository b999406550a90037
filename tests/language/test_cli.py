"""The CLI contract: where the root is found, exit codes 0/1/2, help with examples, the error funnel,
and nothing written when the specs are refused."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
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


def _executable(*args: str, columns: str | None = None, entry: str = "maestro.launch") -> subprocess.CompletedProcess:
    """`maestro ARGS` as the installed executable (`entry`: maestro.cli, click's own path) runs it,
    in a new process."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run([sys.executable, "-c", f"from {entry} import main; main()", *args],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)


def _clicks_help(columns: int) -> str:
    return _executable("--help", columns=str(columns), entry="maestro.cli").stdout


def test_the_stored_help_page_is_what_click_prints() -> None:
    """If this fails, the command table or the group's help changed: run scripts/help_page.py."""
    from maestro.help_page import PAGE

    assert PAGE == _clicks_help(80) == _clicks_help(120) and "Commands:" in PAGE


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_top_level_help_needs_no_click_on_a_wide_terminal(flag: str) -> None:
    probe = ("import sys; from maestro.launch import main\n"
             "try:\n    main()\nexcept SystemExit as exc:\n    print(exc.code, 'click' in sys.modules, file=sys.stderr)")
    ran = subprocess.run([sys.executable, "-c", probe, flag], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "100"}, stdin=subprocess.DEVNULL)
    assert ran.stdout == _clicks_help(100) and ran.stderr == "0 False\n"


def test_a_narrow_terminal_gets_clicks_own_wrapping() -> None:
    narrow = _executable("--help", columns="60")
    assert narrow.returncode == 0 and narrow.stdout == _clicks_help(60) != _clicks_help(80)
    assert _executable("--help").stdout == _clicks_help(80)   # no terminal, no COLUMNS: click's 80


def test_other_command_lines_go_to_the_cli() -> None:
    version = _executable("--help", "--debug")
    assert version.returncode == 0 and version.stdout == _clicks_help(80)
    unknown = _executable("no-such-command")
    assert unknown.returncode == 2 and "No such command" in unknown.stderr and "Traceback" not in unknown.stderr


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
