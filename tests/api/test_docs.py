"""docs/api.md's examples run: every ```python block of the page, in order, in one namespace, in a
copy of the example repository (its specs, teams.yaml and the committed gitops/)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from tests.support import REPO

PAGE = REPO / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def example_repository(root: Path) -> Path:
    for folder in ("pipelines", "environments", "gitops"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copyfile(REPO / "teams.yaml", root / "teams.yaml")
    return root


def test_the_page_has_an_example_for_every_function() -> None:
    code = "\n".join(BLOCK.findall(PAGE.read_text()))
    for name in ("check_gitops", "diff_gitops", "compile_gitops", "validate_manifests", "promote_version", "rollback_default",
                 "run_pipeline", "init_project", "MaestroError", "UsageError"):
        assert f"maestro.{name}(" in code or f"except maestro.{name}" in code, name


def test_the_examples_of_docs_api_md_run(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(example_repository(tmp_path))
    monkeypatch.setenv("MAESTRO_TORCH_THREADS", "1")
    namespace: dict = {"__name__": "docs_api_md"}
    for number, block in enumerate(BLOCK.findall(PAGE.read_text()), 1):
        exec(compile(block, f"{PAGE.name} block {number}", "exec"), namespace)
    shown = capsys.readouterr().out
    assert "error: spec.training.resources.gpus: 8 exceeds prod's policy.max_gpus_per_step 4" in shown
    assert "no pipeline spec at pipelines/aapl-directoin.yaml" in shown
    assert "ibm-direction-" in shown and "gate " in shown
    assert os.path.isfile(tmp_path / "new-repo" / "gitops" / "README.md")
