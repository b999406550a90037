"""Image references and environment variable names (issue 11, finding 8): what the container
runtimes and the API server accept, and nothing else. (cases/image-reference and cases/env-names
show the located diagnostics through the CLI.)"""

from __future__ import annotations

import pytest

from maestro.language.types import env_name_problem, image_problem

DIGEST = "sha256:" + "4be1a7c9d2e03f5a6b8c7d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"


@pytest.mark.parametrize("image", ["busybox", "python:3.12-slim", "ghcr.io/acme/maestro-steps:0.1.0",
                                   f"ghcr.io/acme/backtest@{DIGEST}", f"localhost:5000/a/b:1@{DIGEST}",
                                   "registry.k8s.io/pause:3.9", "[::1]:5000/a", "acme/x__y.z-w:v1.0_rc"])
def test_image_references_the_runtimes_accept(image: str) -> None:
    assert image_problem(image) is None


@pytest.mark.parametrize(("image", "says"), [
    ("ghcr.io/acme/../report:1.0", "'..' is not allowed"),
    ("ghcr.io/acme..evil/x", "'..' is not allowed"),
    (f"ghcr.io/acme/x@{DIGEST}@{DIGEST}", "more than one '@'"),
    ("ghcr.io/acme/x@sha256:zz", "is not a digest, so it pins nothing"),
    ("ghcr.io/acme/x@sha256:" + "A" * 64, "is not a digest"),
    ("ghcr.io/acme/x@md5:" + "a" * 32, "is not a digest"),
    ("ghcr.io/acme/x@", "is not a digest"),
    ("Acme/x", "is not an image reference"), ("x y", "is not an image reference"), ("/x", "is not an image reference"),
    ("x:", "is not an image reference"), ("busybox\n", "is not an image reference"),
    ("a/" + "b" * 260, "is not an image reference"),
])
def test_image_references_the_runtimes_refuse(image: str, says: str) -> None:
    assert says in (image_problem(image) or "")


@pytest.mark.parametrize("name", ["MODE", "LOG_LEVEL", "a.b-c_d", "_x", "-x"])
def test_env_names_the_api_server_accepts(name: str) -> None:
    assert env_name_problem(name) is None


@pytest.mark.parametrize("name", ["", "A B", "X=Y", "1ST", "É", "A\nB", "A\n"])
def test_env_names_the_api_server_refuses(name: str) -> None:
    assert "is not an environment variable name the API server accepts" in (env_name_problem(name) or "")
