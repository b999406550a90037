"""Diagnostics: the one finding type of every stage, collected and raised once.

In: what the loader, the spec and policy checks, the emitters and the manifest validation find.
Out: `Diagnostic` values and one `MaestroError` that carries all of them.

A check does not know where its input came from: it yields `Diagnostic.about(path, message, hint)`,
a finding about the field at `path` that its caller then locates (`located`) in the document it
read. A position that is not known is None, never a made-up 1:1, and is left out of the message.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

FieldPath = tuple[Any, ...]     # keys and list indexes from the document's root: ("spec", "steps", 0, "name")


def format_path(path: Iterable[Any]) -> str:
    """`("spec", "steps", 0, "name")` as `spec.steps[0].name`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Diagnostic:
    """One problem about the field at `path`, found at `file:line:col` (None where not known)."""

    file: str
    line: int | None
    col: int | None
    path: FieldPath
    message: str
    hint: str = ""
    severity: str = field(default="error", compare=False)

    @classmethod
    def about(cls, path: Iterable[Any], message: str, hint: str = "") -> Diagnostic:
        """A finding of a check, not located yet: its caller knows the file and the positions."""
        return cls("", None, None, tuple(path), message, hint)

    def located(self, file: str, line: int | None = None, col: int | None = None) -> Diagnostic:
        return replace(self, file=file, line=line, col=col)

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.col or 0, format_path(self.path), self.message, self.hint)

    def __lt__(self, other: Diagnostic) -> bool:
        return self.sort_key() < other.sort_key()

    def where(self) -> str:
        """`file:line:col`, `file:line` or `file`, as far as the position is known."""
        known = [str(part) for part in (self.line, self.col if self.line is not None else None) if part is not None]
        return ":".join([self.file, *known])

    def format(self) -> str:
        subject = f"{format_path(self.path)}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        where = self.where()
        line = f"{where + ': ' if where else ''}{self.severity}: {subject}{self.message}{hint}"
        # One diagnostic, one line: escape line breaks and other control characters quoted from a spec.
        return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in line)


class MaestroError(Exception):
    """The one error type of maestro, and of its Python API: every diagnostic of a run, raised once,
    sorted and without repeats. The subclasses below say what kind of problem it is (the CLI maps
    them to messages and exit codes); each carries its message as one diagnostic without a file, so
    `for d in error.diagnostics: print(d.format())` reports any of them."""

    def __init__(self, diagnostics: Iterable[Diagnostic], message: str | None = None):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(set(diagnostics), key=Diagnostic.sort_key))
        super().__init__(message if message is not None else "\n".join(d.format() for d in self.diagnostics))


class UsageError(MaestroError):
    """A problem with how a command was called (exit code 2), not with the specs."""

    def __init__(self, message: str):
        super().__init__([Diagnostic.about((), str(message))], str(message))


class Failure(MaestroError):
    """An expected failure that is neither the specs' fault nor a bug: a step that cannot go on, a
    local run whose step failed. Reported as one line `error: ...`, exit 1, no traceback."""

    def __init__(self, message: str):
        super().__init__([Diagnostic.about((), str(message))], str(message))


class UnsafePath(MaestroError, OSError):
    """A path maestro refuses to follow: a symbolic link where none may be, a path that leaves its
    folder, state taken from a checkout. Reported as one line `error: ...`, exit 1, nothing written.
    An OSError too, so file operations that refuse a link fail the way any file operation fails."""

    def __init__(self, message: str):
        OSError.__init__(self, errno.EPERM, message)
        self.diagnostics = (Diagnostic.about((), message),)


def raise_if_any(diagnostics: Sequence[Diagnostic]) -> None:
    if diagnostics:
        raise MaestroError(diagnostics)


def error_count(diagnostics: Iterable[Diagnostic]) -> int:
    """The errors among `diagnostics`, without the notes that explain them (checks not run, ...)."""
    return sum(d.severity == "error" for d in diagnostics)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean" hint for a misspelled name, or an empty string."""
    import difflib   # only a refusal needs a suggestion

    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def one_of(choices: Iterable[str]) -> str:
    """The accepted values, for the hint of an error."""
    return "expected one of: " + ", ".join(sorted(choices))
