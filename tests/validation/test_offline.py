"""No network: with local or built-in schemas nothing opens a socket."""

from __future__ import annotations

import socket

import pytest

from .conftest import FIXTURES, run_cli, validate_text


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network access attempted: {args[1:] or kwargs}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_local_and_builtin_schemas_need_no_network(no_network, schemas):
    result = run_cli("--schema-location", schemas, "--summary", str(FIXTURES))
    assert result.exit_code == 0, result.output
    assert "Valid: 25, Invalid: 0, Errors: 0, Skipped: 0" in result.stdout


def test_builtin_kinds_need_no_setup_and_no_network(no_network):
    [result] = validate_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n", schema_locations=[])
    assert result.status == "valid"


def test_the_fixture_really_blocks_the_network(no_network):
    """Sanity check of the two tests above: a URL location does reach for a socket."""
    text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: a}\n"
    with pytest.raises(NetworkUsed):
        validate_text(text, schema_locations=["https://schemas.invalid/{{.ResourceKind}}.json"])
