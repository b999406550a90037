# The step image: what the workflow pods run as `maestro step <name> ...` (environment spec.image).
#
#   GPU nodes (default, CUDA 12.8 build of PyTorch):
#     docker build -t ghcr.io/acme/maestro-steps:0.1.0 .
#   CPU only (smaller; no CUDA libraries):
#     docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cpu -t ghcr.io/acme/maestro-steps:0.1.0-cpu .
#
# See docs/runtime.md for pushing it and pinning it by digest in environments/*.yaml.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128

# HOME and caches under /tmp: pods run with a read-only root file system and an emptyDir on /tmp.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    MAESTRO_TEMPLATES=/maestro/templates

# git: `publish --write-back` proposes new model versions through the GitOps repository.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# PyTorch first, from its own index, so the package's unpinned `torch>=...` keeps this build.
RUN pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}"

COPY pyproject.toml README.md /src/
COPY compiler /src/compiler
RUN pip install "/src[train]" && rm -rf /src

COPY templates /maestro/templates

# A numeric, non-root user: pods run with runAsNonRoot, which Kubernetes can only verify by UID.
RUN groupadd --gid 10001 maestro && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp maestro \
    && mkdir -p /maestro/work /maestro/spec && chown -R 10001:10001 /maestro
USER 10001:10001
WORKDIR /maestro

CMD ["maestro", "--help"]
