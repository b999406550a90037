"""Maestro: a GitOps workflow compiler for ML platform teams, and its Python API (docs/api.md).

    import maestro
    result = maestro.compile_gitops("path/to/repo")      # what `maestro compile` does
    maestro.check_gitops("path/to/repo").up_to_date     # `maestro compile --check`

Every name below loads its module on first use, so `import maestro` (and `maestro --help`) stays
cheap: nothing of pydantic, jsonschema or torch is imported until a function needs it. Errors:
`MaestroError` (with `.diagnostics`), whose subclasses are `UsageError`, `Failure`, `UnsafePath`.
"""

from __future__ import annotations

import importlib

DISTRIBUTION = "maestro-mlops-compiler"   # the name on PyPI (`pip install maestro-mlops-compiler`); docs/install.md

_EXPORTS = {
    "compile_gitops": "maestro.api", "check_gitops": "maestro.api", "diff_gitops": "maestro.api",
    "validate_manifests": "maestro.api", "promote_version": "maestro.api", "init_project": "maestro.api",
    "rollback_default": "maestro.api",
    "CompileResult": "maestro.api", "CheckResult": "maestro.api", "DiffResult": "maestro.api",
    "PromoteResult": "maestro.api",
    "run_pipeline": "maestro.runner", "RunResult": "maestro.runner",
    "Diagnostic": "maestro.errors", "MaestroError": "maestro.errors", "UsageError": "maestro.errors",
    "Failure": "maestro.errors", "UnsafePath": "maestro.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(DISTRIBUTION)
        except PackageNotFoundError:
            return "unknown"
    if name not in _EXPORTS:
        raise AttributeError(f"module 'maestro' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value     # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
