"""kubeconform's single-dash long flags, rewritten before click parses `maestro validate`'s argv."""

from __future__ import annotations

import pytest

from maestro.commands.kubeconform import KUBECONFORM_FLAGS, rewrite
from maestro.commands.validate import validate_command

from .conftest import run_cli


@pytest.mark.parametrize("argv, expected", [
    (["-summary", "-strict", "a.yaml"], ["--summary", "--strict", "a.yaml"]),
    (["-schema-location", "dir", "-output", "json"], ["--schema-location", "dir", "--output", "json"]),
    (["-schema-location=dir", "-skip=Secret"], ["--schema-location=dir", "--skip=Secret"]),
    (["-strict=false", "-summary=true", "-verbose=0"], ["--no-strict", "--summary"]),
    (["-summary=maybe"], ["--summary=maybe"]),
    (["-s", "-summary", "-o", "-strict"], ["-s", "-summary", "-o", "-strict"]),
    (["--ignore-filename-pattern", "-verbose", "-v"], ["--ignore-filename-pattern", "-verbose", "-v"]),
    (["-n", "4", "-sdir", "-h"], ["-n", "4", "-sdir", "-h"]),
    (["-summary", "--", "-strict"], ["--summary", "--", "-strict"]),
], ids=["flags", "values", "equals", "booleans", "bad-boolean", "values-left-alone", "value-of-a-long-option",
        "short-flags", "after-double-dash"])
def test_rewrite(argv: list[str], expected: list[str]) -> None:
    assert rewrite(argv, validate_command.params) == expected


def test_every_rewritten_flag_is_an_option_of_validate() -> None:
    options = {name for p in validate_command.params for name in getattr(p, "opts", [])}
    assert set(KUBECONFORM_FLAGS.values()) <= options


def test_summary_is_no_longer_a_schema_location() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    result = run_cli("-summary", "-strict", "-", input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Summary: 1 resource found parsing stdin - Valid: 1, Invalid: 0, Errors: 0, Skipped: 0\n"


def test_exit_on_error_reports_up_to_the_first_failure() -> None:
    good, bad = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {k: %s}\n" % pair
                 for pair in (("good", "v"), ("bad", "1")))
    result = run_cli("-exit-on-error", "-summary", "-", input="---\n".join([bad, good, bad.replace("bad", "worse")]))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["-:4: ConfigMap bad is invalid: $.data.k: expected string, got integer",
                                          "Summary: 1 resource found parsing stdin - Valid: 0, Invalid: 1, Errors: 0, Skipped: 0"]
