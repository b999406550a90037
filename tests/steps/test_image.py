"""The step image's Dockerfile: what the pods rely on (no Docker daemon is needed to check it)."""

from __future__ import annotations

import re

import pytest

from maestro.commands.options import step_settings
from maestro.steps.card import TEMPLATE, template_dirs

from .conftest import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()


def test_image_runs_as_a_numeric_non_root_user_in_maestro():
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert user and re.fullmatch(r"[1-9]\d*(:\d+)?", user[-1])
    assert re.findall(r"^WORKDIR (\S+)", DOCKERFILE, re.M)[-1] == "/maestro"


def test_image_installs_a_cuda_torch_first_then_the_train_extra():
    torch_at = DOCKERFILE.index('pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}"')
    assert "ARG TORCH_INDEX=https://download.pytorch.org/whl/cu1" in DOCKERFILE
    assert torch_at < DOCKERFILE.index('pip install "/src[train]"')


def test_image_ships_the_model_card_template(monkeypatch, tmp_path):
    assert "COPY templates /maestro/templates" in DOCKERFILE and "MAESTRO_TEMPLATES=/maestro/templates" in DOCKERFILE
    (tmp_path / TEMPLATE).write_text("card")
    monkeypatch.setenv("MAESTRO_TEMPLATES", str(tmp_path))
    templates = step_settings()["templates"]      # the command reads the variable; the steps get the value
    assert templates == tmp_path and template_dirs(tmp_path / "elsewhere", templates)[0] == tmp_path


@pytest.mark.parametrize("value, threads", [pytest.param("3", 3, id="number"), pytest.param("0", 1, id="at-least-one"),
                                            pytest.param("many", None, id="not-a-number"), pytest.param("", None, id="unset")])
def test_the_command_reads_the_torch_thread_count(monkeypatch, value: str, threads) -> None:
    monkeypatch.setenv("MAESTRO_TORCH_THREADS", value)
    assert step_settings()["torch_threads"] == threads
