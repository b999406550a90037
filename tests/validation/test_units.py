"""Units of the rules and checks: depends expressions, cron, globs, formats, names."""

from __future__ import annotations

import re

import pytest

from maestro.validation.formats import is_date_time, is_duration
from maestro.validation.metadata import dns1123_label, dns1123_subdomain, label_value, qualified_name
from maestro.validation.model import json_path
from maestro.validation.rules.argo import referenced_inputs
from maestro.validation.rules.argocd import destination_permitted, glob_match
from maestro.validation.rules.cron import schedule_problem, timezone_problem
from maestro.validation.rules.depends import DependsError, operands

DEPENDS_OK = [
    ("single", "a", [("a", "")]),
    ("and", "a && b", [("a", ""), ("b", "")]),
    ("results", "a && (b.Succeeded || c.Failed)", [("a", ""), ("b", "Succeeded"), ("c", "Failed")]),
    ("not", "!a.Skipped && b-2", [("a", "Skipped"), ("b-2", "")]),
    ("nested", "((a))||(b&&!(c.AnySucceeded))", [("a", ""), ("b", ""), ("c", "AnySucceeded")]),
]


@pytest.mark.parametrize("text, expected", [d[1:] for d in DEPENDS_OK], ids=[d[0] for d in DEPENDS_OK])
def test_depends_parses(text, expected):
    assert operands(text) == expected


@pytest.mark.parametrize("text, words", [
    ("a &&", "ends where a task name"), ("(a", "missing ')'"), ("a b", "unexpected 'b'"), ("a & b", "unexpected '&"),
    ("a.Done", "unknown task result"), ("", "ends where a task name"), ("&& a", "unexpected '&&'"),
], ids=["trailing-and", "unclosed", "two-names", "single-ampersand", "bad-result", "empty", "leading-operator"])
def test_depends_rejects(text, words):
    with pytest.raises(DependsError, match=re.escape(words)):
        operands(text)


CRON_OK = ["* * * * *", "*/5 * * * *", "0 2 * * MON-FRI", "30 */6 1,15 JAN-JUN *", "0 0 ? * sun", "5/15 0-23/2 * * 0-6",
           "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "@every 1h30m",
           "@every 90s", "CRON_TZ=Europe/Paris 0 6 * * *", "TZ=UTC @daily"]
CRON_BAD = [("60 * * * *", "minute"), ("* 24 * * *", "hour"), ("* * 0 * *", "day of month"), ("* * * 13 *", "month"),
            ("* * * * 7", "day of week"), ("* * * * MON-FRY", "day of week"), ("*/0 * * * *", "step"),
            ("5-1 * * * *", "starts after it ends"), ("* * * *", "expected 5 fields"), ("0 0 0 * * *", "expected 5 fields"),
            ("@often", "unknown descriptor"), ("@every", "positive duration"), ("@every 0s", "positive duration"),
            ("CRON_TZ=Nowhere/City 0 6 * * *", "unknown time zone"), ("1-2-3 * * * *", "not a range")]


@pytest.mark.parametrize("schedule", CRON_OK, ids=CRON_OK)
def test_cron_accepts(schedule):
    assert schedule_problem(schedule) == ""


@pytest.mark.parametrize("schedule, words", CRON_BAD, ids=[c[0] for c in CRON_BAD])
def test_cron_rejects(schedule, words):
    assert words in schedule_problem(schedule)


@pytest.mark.parametrize("zone, ok", [("", True), ("UTC", True), ("America/Los_Angeles", True),
                                      ("Mars/Base", False), ("../../etc/passwd", False), ("Europe/", False)])
def test_timezones(zone, ok):
    assert (timezone_problem(zone) == "") is ok


GLOBS = [("*", "anything/at/all", True), ("ml-*", "ml-dev", True), ("ml-*", "prod", False), ("?b", "ab", True),
         ("{dev,prod}", "prod", True), ("{dev,prod}", "stage", False), ("[a-c]x", "bx", True), ("[!a-c]x", "bx", False),
         ("!kube-*", "kube-system", False), ("!kube-*", "ml", True), ("a.b", "axb", False), (r"a\*", "a*", True)]


@pytest.mark.parametrize("pattern, value, expected", GLOBS, ids=[f"{g[0]}~{g[1]}" for g in GLOBS])
def test_argocd_glob(pattern, value, expected):
    assert glob_match(pattern, value) is expected


PROJECT = [{"server": "https://kubernetes.default.svc", "namespace": "ml-*"}, {"name": "gpu", "namespace": "train"}]


@pytest.mark.parametrize("destinations, server, name, namespace, allowed", [
    (PROJECT, "https://kubernetes.default.svc", "", "ml-dev", True),
    (PROJECT, "https://kubernetes.default.svc", "", "default", False),
    (PROJECT, "", "gpu", "train", True),
    (PROJECT, "", "gpu", "ml-dev", False),
    ([{"server": "*", "namespace": "*"}, {"server": "*", "namespace": "!kube-system"}], "https://x", "", "kube-system", False),
    ([{"server": "!https://prod", "namespace": "*"}, {"server": "*", "namespace": "*"}], "https://prod", "", "a", False),
    ([], "https://x", "", "a", False),
], ids=["server-glob", "namespace-not-allowed", "by-name", "by-name-wrong-namespace", "deny-namespace", "deny-server",
        "no-destinations"])
def test_argocd_destinations(destinations, server, name, namespace, allowed):
    assert destination_permitted(destinations, server, name, namespace) is allowed


@pytest.mark.parametrize("value, ok", [
    ("2024-05-01T10:00:00Z", True), ("2024-05-01T10:00:00.123+02:00", True), ("2024-02-30T10:00:00Z", False),
    ("2024-05-01", False), ("2024-05-01T24:00:00Z", False), ("yesterday", False), (5, True),
])
def test_date_time_format(value, ok):
    assert is_date_time(value) is ok


@pytest.mark.parametrize("value, ok", [
    ("5m", True), ("1h30m", True), ("1.5h", True), ("300ms", True), ("0", True), ("-2s", True), ("PT5M", True),
    ("P1DT2H", True), ("P", False), ("5", False), ("5 minutes", False), ("1d", False),
])
def test_duration_format(value, ok):
    assert is_duration(value) is ok


@pytest.mark.parametrize("check, value, ok", [
    (dns1123_subdomain, "a.b-c", True), (dns1123_subdomain, "A", False), (dns1123_subdomain, "a" * 254, False),
    (dns1123_label, "a-b", True), (dns1123_label, "a.b", False), (dns1123_label, "a" * 64, False),
    (qualified_name, "app.kubernetes.io/name", True), (qualified_name, "/name", False), (qualified_name, "a/b/c", False),
    (qualified_name, "Name_1.x", True), (qualified_name, "x" * 64, False), (label_value, "", True),
    (label_value, "v1.2_3", True), (label_value, "-v", False), (label_value, "v" * 64, False),
])
def test_name_rules(check, value, ok):
    assert (check(value) == "") is ok


@pytest.mark.parametrize("text, names", [
    ("{{inputs.parameters.a}} and {{ inputs.parameters.b-c }}", {"a", "b-c"}),
    ("{{=inputs.parameters.x + inputs.parameters['y-z']}}", {"x", "y-z"}),
    ("{{workflow.parameters.a}} {{inputs.artifacts.b}} {{inputs.parameters}}", set()),
])
def test_referenced_inputs(text, names):
    assert referenced_inputs(text) == names


@pytest.mark.parametrize("parts, text", [
    ((), "$"), (("spec", "tasks", 0, "name"), "$.spec.tasks[0].name"),
    (("metadata", "labels", "app.kubernetes.io/name"), "$.metadata.labels['app.kubernetes.io/name']"),
    (("a", "it's"), "$.a['it\\'s']"),
])
def test_json_path(parts, text):
    assert json_path(parts) == text
