"""The loader: hostile or broken YAML gives one located error, promptly; good YAML keeps positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro.errors import MaestroError
from maestro.loading.positions import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, load_bytes


def refusal(raw: bytes) -> str:
    with pytest.raises(MaestroError) as caught:
        load_bytes(raw, "x.yaml")
    (diagnostic,) = caught.value.diagnostics
    return diagnostic.format()


def laughs(levels: int) -> bytes:
    """The "billion laughs" document: each level repeats the one before nine times."""
    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for n in range(1, levels):
        text += f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]\n"
    return text.encode()


@pytest.mark.parametrize("raw, expected", [
    pytest.param(b"a: 1\nb: 2\na: 3\n", "x.yaml:3:1: error: duplicate key 'a' (first defined at line 1); keep one", id="duplicate-key"),
    pytest.param(b"a:\n  b: 1\n  b: 1\n", "x.yaml:3:3: error: duplicate key 'b' (first defined at line 2); keep one", id="duplicate-nested-key"),
    pytest.param(b"a: [1, 2\nb: 3\n", "x.yaml:2:2: error: malformed YAML: while parsing a flow sequence expected ',' or ']', but got ':'", id="unclosed-flow"),
    pytest.param(b"a: b\n  c: d\n", "x.yaml:2:4: error: malformed YAML: mapping values are not allowed here", id="bad-indent"),
    pytest.param(b"a:\n\t- b\n", "x.yaml:2:1: error: malformed YAML: while scanning for the next token found character '\\t' that cannot start any token", id="tab"),
    pytest.param(b"a: *nope\n", "x.yaml:1:4: error: malformed YAML: found undefined alias 'nope'", id="undefined-alias"),
    pytest.param(b"a: caf\xe9\n", "x.yaml:1:7: error: not valid UTF-8 (byte 0xe9); save the file as UTF-8", id="latin-1"),
    pytest.param(b"a: 1\nb: \xed\xa0\x80\n", "x.yaml:2:4: error: not valid UTF-8 (byte 0xed); save the file as UTF-8", id="surrogate"),
    pytest.param("a: 1\n".encode("utf-16"), "x.yaml:1:1: error: not valid UTF-8 (byte 0xff); save the file as UTF-8", id="utf-16"),
    pytest.param(b'a: "\x07"\n', "x.yaml:1:5: error: character U+0007 is not allowed in YAML; remove it", id="control-character"),
    pytest.param(b"a: !!python/object:os.system x\n", "x.yaml:1:4: error: unsupported YAML tag tag:yaml.org,2002:python/object:os.system; use plain values", id="python-tag"),
    pytest.param(b"a: !!binary aGk=\n", "x.yaml:1:4: error: unsupported YAML tag tag:yaml.org,2002:binary; use plain values", id="binary-tag"),
    pytest.param(b"? [1, 2]\n: 3\n", "x.yaml:1:3: error: mapping keys must be plain strings", id="list-key"),
    pytest.param(b"true: 1\n", "x.yaml:1:1: error: mapping keys must be plain strings", id="bool-key"),
    pytest.param(b"a: &x 1\nb:\n  <<: *x\n", "x.yaml:1:4: error: '<<' merges mappings only; give it a mapping or a list of mappings", id="merge-scalar"),
    pytest.param(b"a: &x {p: 1}\nb:\n  <<: [*x, 3]\n", "x.yaml:3:12: error: '<<' merges mappings only; give it a mapping or a list of mappings", id="merge-list-with-scalar"),
    pytest.param(b"a: &x [*x]\n", f"x.yaml:1:4: error: nesting is deeper than {MAX_DEPTH} levels", id="recursive-alias"),
])
def test_broken_yaml_is_refused_with_a_located_error(raw: bytes, expected: str) -> None:
    assert refusal(raw) == expected


@pytest.mark.parametrize("raw", [
    pytest.param(b"a: " + b"[" * 100_000 + b"]" * 100_000, id="deep-flow-sequence"),
    pytest.param(b"a: " + b"{x: " * 50_000 + b"1" + b"}" * 50_000, id="deep-flow-mapping"),
    pytest.param("".join(" " * i + f"k{i}:\n" for i in range(200)).encode(), id="deep-block-mapping"),
    pytest.param("".join(" " * i + "-\n" for i in range(200)).encode(), id="deep-block-sequence"),
])
def test_deep_nesting_is_refused_as_it_is_read(raw: bytes) -> None:
    message = refusal(raw[:MAX_FILE_BYTES])
    assert message.endswith(f"error: nesting is deeper than {MAX_DEPTH} levels")
    assert not message.startswith("x.yaml:1:1:")   # located where the nesting gets too deep


def test_billion_laughs_is_refused_by_the_node_bound() -> None:
    # a billion nodes written out: that the refusal names the bound is what shows the bound stopped it
    message = refusal(laughs(9))
    assert message == (f"x.yaml:1:17: error: the document expands to more than {MAX_NODES} nodes (aliases "
                       "repeat content); write the values out or use fewer aliases")


def test_merge_chains_count_toward_the_node_bound() -> None:
    text = "m0: &m0 {x: 1}\n" + "".join(
        f"m{n}: &m{n} {{<<: [{', '.join([f'*m{n - 1}'] * 9)}]}}\n" for n in range(1, 9))
    text += "all: [" + ", ".join(["*m8"] * 2000) + "]\n"
    assert "expands to more than" in refusal(text.encode())


def test_aliases_within_the_bound_are_expanded() -> None:
    (doc,) = load_bytes(laughs(3), "x.yaml")
    assert doc.data["a2"] == [[["lol"] * 9] * 9] * 9


@pytest.mark.parametrize("size, refused", [
    pytest.param(MAX_FILE_BYTES, False, id="at-the-limit"),
    pytest.param(MAX_FILE_BYTES + 1, True, id="one-byte-over"),
])
def test_file_size_limit(size: int, refused: bool) -> None:
    line = b"# " + b"x" * 97 + b"\n"
    raw = (b"a: 1\n" + line * (size // len(line) + 1))[:size - 1] + b"\n"
    if refused:
        assert refusal(raw) == f"x.yaml: error: file is {MAX_FILE_BYTES // 1024 + 1} KiB; spec files are limited to {MAX_FILE_BYTES // 1024} KiB"
    else:
        assert load_bytes(raw, "x.yaml")[0].data == {"a": 1}


@pytest.mark.parametrize("raw, expected", [
    pytest.param(b"\xef\xbb\xbfa: 1\n", {"a": 1}, id="utf-8-bom"),
    pytest.param(b"a: 1\r\nb: [x, y]\r\n", {"a": 1, "b": ["x", "y"]}, id="crlf"),
    pytest.param(b"a: yes\nb: on\nc: NO\nd: true\n", {"a": "yes", "b": "on", "c": "NO", "d": True}, id="yaml-1.2-booleans"),
    pytest.param(b"a: 0x1F\nb: 1_000\nc: 017\nd: 2005-01-01\ne: .inf\n", {"a": 31, "b": 1000, "c": "017", "d": "2005-01-01", "e": float("inf")}, id="numbers-and-dates"),
    pytest.param(b"b: &b {p: 1, q: 2}\nc: {<<: *b, q: 3}\n", {"b": {"p": 1, "q": 2}, "c": {"p": 1, "q": 3}}, id="merge-key"),
    pytest.param(b"a: &a {p: 1}\nb: &b {<<: *a, q: 2}\nc: {<<: [*b, *a], r: 3}\n", {"a": {"p": 1}, "b": {"p": 1, "q": 2}, "c": {"p": 1, "q": 2, "r": 3}}, id="nested-merge"),
    pytest.param(b"b: &b\n  <<: *b\n  p: 1\n", {"b": {"p": 1}}, id="self-merge"),
])
def test_good_yaml_loads_as_plain_values(raw: bytes, expected: dict) -> None:
    (doc,) = load_bytes(raw, "x.yaml")
    assert doc.data == expected


def test_positions_of_keys_and_values() -> None:
    (doc,) = load_bytes(b"spec:\n  training:\n    resources: {gpus: 8}\n", "p.yaml")
    path = ("spec", "training", "resources", "gpus")
    assert (doc.key_at(path).line, doc.key_at(path).col) == (3, 17)
    assert (doc.at(path).line, doc.at(path).col) == (3, 23)
    assert (doc.at(path + ("missing",)).line, doc.at(path + ("missing",)).col) == (3, 23)


def test_an_oversized_spec_is_refused_through_the_cli(maestro, example: Path) -> None:
    spec = example / "pipelines" / "aapl-direction.yaml"
    spec.write_bytes(spec.read_bytes() + b"#" * MAX_FILE_BYTES)
    result = maestro("compile", "--root", example)
    assert result.returncode == 1
    assert result.stderr.startswith("pipelines/aapl-direction.yaml: error: file is ")
    assert not (example / "gitops").exists()
