"""Stage 6, output: Results as text, JSON, JUnit XML or TAP, and a summary.

In: sorted `Result`s, whether to add a summary / list every document, and what was read (`Inputs`:
how many files, whether only stdin) for the summary line.
Out: one string per format, deterministic for the same results:
* text: one line per finding of failed documents (`file:line: Kind name is invalid: path: message`);
  `verbose` adds a line per valid or skipped document; `summary` adds kubeconform's summary line.
* json: kubeconform's shape, `{"resources": [...], "summary": {...}}`: the failed documents (every
  document with `verbose`), each with kubeconform's keys and statuses, and the counts with `summary`.
* junit: one testsuite per file, one testcase per document (failure/error/skipped).
* tap: TAP version 13, one test point per document, findings as YAML diagnostics.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .model import ERROR, INVALID, SKIPPED, VALID, Result, json_path

FORMATS = ("text", "json", "junit", "tap")
# kubeconform's names of the statuses in its json output (pkg/output/json.go).
KUBECONFORM_STATUS = {VALID: "statusValid", INVALID: "statusInvalid", ERROR: "statusError", SKIPPED: "statusSkipped"}


@dataclass(frozen=True)
class Inputs:
    """What the summary line counts beside the documents: the files read (a file with no document
    counts too) and whether stdin alone was read (kubeconform then says `parsing stdin`)."""

    files: int
    stdin: bool = False


def render(results: Sequence[Result], output: str, summary: bool = False, verbose: bool = False,
           inputs: Inputs | None = None) -> str:
    renderers = {"text": render_text, "json": render_json, "junit": render_junit, "tap": render_tap}
    return renderers[output](results, summary, verbose, inputs or Inputs(len({r.source for r in results})))


def counts(results: Sequence[Result]) -> dict[str, int]:
    found = Counter(r.status for r in results)
    return {"valid": found[VALID], "invalid": found[INVALID], "errors": found[ERROR], "skipped": found[SKIPPED]}


def summary_line(results: Sequence[Result], inputs: Inputs | None = None) -> str:
    """kubeconform's line, word for word: a plural only above one ("0 resource found in 1 file")."""
    c, inputs = counts(results), inputs or Inputs(len({r.source for r in results}))
    found = f"{len(results)} resource{'s' if len(results) > 1 else ''} found"
    where = "parsing stdin" if inputs.stdin else f"in {inputs.files} file{'s' if inputs.files > 1 else ''}"
    return (f"Summary: {found} {where} - Valid: {c['valid']}, "
            f"Invalid: {c['invalid']}, Errors: {c['errors']}, Skipped: {c['skipped']}")


def describe(result: Result) -> str:
    """`Kind name` (or what is known of it) for messages."""
    return " ".join(part for part in (result.kind or "document", result.name) if part)


def _where(result: Result, line: int | None = None) -> str:
    return f"{result.source}:{line or result.line}" if (line or result.line) else result.source


def render_text(results: Sequence[Result], summary: bool, verbose: bool, inputs: Inputs) -> str:
    lines: list[str] = []
    for result in results:
        if result.failed:
            verb = "is invalid" if result.status == INVALID else "failed validation"
            lines.extend(f"{_where(result, f.line)}: {describe(result)} {verb}: {json_path(f.path)}: {f.message}"
                         for f in result.errors)
        elif verbose:
            lines.append(f"{_where(result)}: {describe(result)} is {result.status}")
    if summary:
        lines.append(summary_line(results, inputs))
    return "".join(line + "\n" for line in lines)


def pointer(parts: Iterable[Any], escaped: bool = False) -> str:
    """A field path as kubeconform writes it: `/spec/templates/0/name`, its `msg` escaping `~` and `/`
    as JSON Pointer does, its `validationErrors` not."""
    text = (str(p) for p in parts)
    return "".join("/" + (t.replace("~", "~0").replace("/", "~1") if escaped else t) for t in text)


def _message(result: Result) -> str:
    """kubeconform's `msg`: the findings, each `at '<pointer>': <message>`, joined by ` - `."""
    return " - ".join(f"at '{pointer(f.path, escaped=True)}': {f.message}" if f.path else f.message
                      for f in result.errors)


def _as_dict(result: Result) -> dict:
    record = {"filename": result.source, "kind": result.kind, "name": result.name, "version": result.api_version,
              "status": KUBECONFORM_STATUS[result.status], "msg": _message(result)}
    if result.errors:
        record["validationErrors"] = [{"path": pointer(f.path), "msg": f.message, "line": f.line or 0}
                                      for f in result.errors]
    # maestro's additions: where the document is, and its namespace
    return {**record, "namespace": result.namespace, "index": result.index, "line": result.line}


def render_json(results: Sequence[Result], summary: bool, verbose: bool, inputs: Inputs) -> str:
    """kubeconform's document: the failed resources (all with `verbose`), the counts with `summary`."""
    listed = [r for r in results if verbose or r.failed]
    document: dict = {"resources": [_as_dict(r) for r in listed]}
    if summary:
        document["summary"] = counts(results)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _case_name(result: Result) -> str:
    return f"{describe(result)} (document {result.index}, line {result.line})"


def _failure_text(result: Result) -> str:
    return "\n".join(f"{json_path(f.path)}: {f.message}" for f in result.errors)


def _testcase(result: Result) -> str:
    from xml.sax.saxutils import escape, quoteattr   # here: it imports urllib, 25 ms of every validate

    head = f"    <testcase name={quoteattr(_case_name(result))} classname={quoteattr(result.source)}"
    if result.status == VALID:
        return head + "/>"
    if result.status == SKIPPED:
        return head + ">\n      <skipped/>\n    </testcase>"
    tag = "failure" if result.status == INVALID else "error"
    first = result.errors[0].message if result.errors else result.status
    body = f"      <{tag} message={quoteattr(first)} type={quoteattr(result.status)}>{escape(_failure_text(result))}</{tag}>"
    return f"{head}>\n{body}\n    </testcase>"


def _testsuite(source: str, group: list[Result]) -> str:
    from xml.sax.saxutils import quoteattr

    c = counts(group)
    attrs = (f"name={quoteattr(source)} tests=\"{len(group)}\" failures=\"{c['invalid']}\" "
             f"errors=\"{c['errors']}\" skipped=\"{c['skipped']}\"")
    cases = "\n".join(_testcase(r) for r in group)
    return f"  <testsuite {attrs}>\n{cases}\n  </testsuite>"


def render_junit(results: Sequence[Result], summary: bool, verbose: bool, inputs: Inputs) -> str:
    by_source: dict[str, list[Result]] = {}
    for result in results:
        by_source.setdefault(result.source, []).append(result)
    c = counts(results)
    attrs = (f"name=\"maestro validate\" tests=\"{len(results)}\" failures=\"{c['invalid']}\" "
             f"errors=\"{c['errors']}\" skipped=\"{c['skipped']}\"")
    suites = "".join(_testsuite(source, group) + "\n" for source, group in by_source.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites {attrs}>\n{suites}</testsuites>\n'


def _tap_point(number: int, result: Result) -> list[str]:
    title = f"{result.source} - {describe(result)}".replace("#", "\\#")
    if result.status == SKIPPED:
        return [f"ok {number} - {title} # SKIP"]
    if not result.failed:
        return [f"ok {number} - {title}"]
    diagnostics = ["  ---", f"  status: {result.status}", f"  line: {result.line}", "  errors:"]
    for finding in result.errors:
        diagnostics.append(f"    - path: {json.dumps(json_path(finding.path), ensure_ascii=False)}")
        diagnostics.append(f"      message: {json.dumps(finding.message, ensure_ascii=False)}")
    return [f"not ok {number} - {title}"] + diagnostics + ["  ..."]


def render_tap(results: Sequence[Result], summary: bool, verbose: bool, inputs: Inputs) -> str:
    lines = ["TAP version 13", f"1..{len(results)}"]
    for number, result in enumerate(results, start=1):
        lines.extend(_tap_point(number, result))
    if summary:
        lines.append("# " + summary_line(results, inputs))
    return "\n".join(lines) + "\n"
