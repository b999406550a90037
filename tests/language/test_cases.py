"""Bad-spec fixtures beside the exact diagnostics they must produce, through the real CLI.

Each `cases/<case>/` is laid over `cases/_base/` (the example environments) in a temporary project;
`maestro compile` must exit 1 and print exactly `cases/<case>.expected` on stderr.
Regenerate the expected files only on purpose: MAESTRO_REGEN_GOLDEN=1 pytest tests/language/test_cases.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from maestro.errors import Diagnostic
from tests.support import golden_hint, regenerating_golden

from .conftest import BASE, CASES, lay_out

CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir() and not p.name.startswith("_"))


def project_for(case: str, tmp_path: Path) -> Path:
    return lay_out(tmp_path / "project", BASE, CASES / case)


def compare(case: str, stderr: str) -> None:
    expected = CASES / f"{case}.expected"
    if regenerating_golden():
        expected.write_text(stderr)
    assert expected.exists(), golden_hint(expected.name)
    assert stderr == expected.read_text(), golden_hint(expected.name)


@pytest.mark.parametrize("case", [pytest.param(c, id=c) for c in CASE_NAMES])
def test_case_diagnostics(case: str, tmp_path: Path, maestro) -> None:
    root = project_for(case, tmp_path)
    result = maestro("compile", "--root", root)
    assert result.returncode == 1
    compare(case, result.stderr)
    assert not (root / "gitops").exists()


@pytest.mark.parametrize("case", [pytest.param(c, id=c) for c in ("unknown-keys", "billion-laughs")])
def test_case_through_the_installed_command(case: str, tmp_path: Path) -> None:
    root = project_for(case, tmp_path)
    command = Path(sys.executable).with_name("maestro")
    result = subprocess.run([command, "compile"], cwd=root / "pipelines", capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (CASES / f"{case}.expected").read_text()


def test_every_expected_file_has_a_case() -> None:
    orphans = sorted(p.stem for p in CASES.glob("*.expected") if p.stem not in CASE_NAMES)
    assert orphans == []


@pytest.mark.parametrize("diagnostic, line", [
    pytest.param(Diagnostic("p.yaml", 3, 5, ("spec", "x"), "bad", "did you mean 'y'?"),
                 "p.yaml:3:5: error: spec.x: bad (did you mean 'y'?)", id="full"),
    pytest.param(Diagnostic("p.yaml", 1, 1, (), "malformed YAML"), "p.yaml:1:1: error: malformed YAML", id="no-path"),
    pytest.param(Diagnostic("p.yaml", None, None, (), "cannot read file"), "p.yaml: error: cannot read file", id="no-position"),
    pytest.param(Diagnostic("p.yaml", 4, None, ("spec",), "bad"), "p.yaml:4: error: spec: bad", id="no-column"),
    pytest.param(Diagnostic("p.yaml", 2, 9, ("spec", "data", "tickers", 0), "'A\nB\u2028C\tD\x85' is not a ticker"),
                 "p.yaml:2:9: error: spec.data.tickers[0]: 'A\\nB\\u2028C\\tD\\x85' is not a ticker", id="escaped-breaks"),
    pytest.param(Diagnostic("p.yaml", 2, 9, (), "caf\u00e9 ^GSPC"), "p.yaml:2:9: error: caf\u00e9 ^GSPC", id="printable-kept"),
])
def test_a_diagnostic_is_one_line(diagnostic: Diagnostic, line: str) -> None:
    assert diagnostic.format() == line
