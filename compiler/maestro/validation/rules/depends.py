"""Rules helper: Argo DAG `depends` expressions.

In: an expression such as `a && (b.Succeeded || !c.Failed)`.
Out: the (task, result) operands it names, in order, or `DependsError` naming
the syntax problem. Grammar, as Argo evaluates it:
  or := and ('||' and)* ; and := unary ('&&' unary)* ;
  unary := '!' unary | '(' or ')' | TASK ['.' RESULT]
"""

from __future__ import annotations

import re

RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")
_TOKEN = re.compile(r"\s*(?:(&&|\|\||!|\(|\))|([A-Za-z0-9_][-A-Za-z0-9_]*)(?:\.([A-Za-z]+))?)")


class DependsError(ValueError):
    """A `depends` expression that does not parse."""


def tokens(text: str) -> list[tuple[str, str, str]]:
    """(operator, task, result) triples; exactly one of operator and task is set."""
    found, position = [], 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise DependsError(f"unexpected {text[position:].strip()[:20]!r} at character {position + 1}")
        found.append((match.group(1) or "", match.group(2) or "", match.group(3) or ""))
        position = match.end()
    return found


def operands(text: str) -> list[tuple[str, str]]:
    """The (task, result) pairs of a well-formed expression; raises DependsError otherwise."""
    parser = _Parser(tokens(text))
    parser.disjunction()
    if parser.position != len(parser.items):
        raise DependsError(f"unexpected {_show(parser.items[parser.position])!r}")
    return parser.operands


class _Parser:
    def __init__(self, items: list[tuple[str, str, str]]):
        self.items, self.position, self.operands = items, 0, []

    def peek(self) -> str:
        return self.items[self.position][0] if self.position < len(self.items) else "end"

    def disjunction(self) -> None:
        self.conjunction()
        while self.peek() == "||":
            self.position += 1
            self.conjunction()

    def conjunction(self) -> None:
        self.unary()
        while self.peek() == "&&":
            self.position += 1
            self.unary()

    def unary(self) -> None:
        if self.position >= len(self.items):
            raise DependsError("expression ends where a task name was expected")
        operator, task, result = self.items[self.position]
        self.position += 1
        if operator == "!":
            self.unary()
        elif operator == "(":
            self.disjunction()
            self._close()
        elif task:
            self._operand(task, result)
        else:
            raise DependsError(f"unexpected {operator!r} where a task name was expected")

    def _close(self) -> None:
        if self.peek() != ")":
            raise DependsError("missing ')'")
        self.position += 1

    def _operand(self, task: str, result: str) -> None:
        if result and result not in RESULTS:
            raise DependsError(f"unknown task result '.{result}' (expected one of: {', '.join(RESULTS)})")
        self.operands.append((task, result))


def _show(item: tuple[str, str, str]) -> str:
    operator, task, result = item
    return operator or (f"{task}.{result}" if result else task)
