"""The tree builder (dnsops.yamlfile._TreeBuilder) gives what octoDNS's loaders give:
the same data, types, ContextDicts and contexts, the same key-order verdicts and the
same errors, whichever of its paths (or the loader's own, on a fallback) is taken."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import yaml
from octodns.context import ContextDict
from octodns.yaml import safe_load

from dnsops import yamlfile
from dnsops.errors import InputError
from dnsops.zones import parse_zone_file


def _shape(node: Any) -> Any:
    """Values with their types and every mapping's class and context."""
    if isinstance(node, dict):
        return (
            type(node).__name__,
            getattr(node, "context", None),
            [(_shape(k), _shape(v)) for k, v in node.items()],
        )
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return (type(node).__name__, node)


def _load(path: Path, how: str, **kw: Any) -> Any:
    with path.open() as fh:
        try:
            data = parse_zone_file(fh, **kw) if how == "ours" else safe_load(fh, **kw)
        except Exception as exc:  # octoDNS's loaders raise more than YAMLError
            return ("error", type(exc).__name__, str(exc))
    return _shape(data)


DOCS = {
    "typed scalars": (
        "---\n'':\n  ttl: 60\n  type: A\n  values:\n  - 192.0.2.1\n  - '192.0.2.2'\n"
        "a:\n  octodns:\n    dnsops: {class: web, standby: true}\n    x: 1.5\n"
        "    y: null\n    z: 2001-12-14t21:59:43.10-05:00\n  ttl: 0x10\n  type: TXT\n"
        "  value: !!str 12\n"
        "b:\n  ttl: 60\n  type: TXT\n  value: !!binary aGVsbG8=\n"
    ),
    "typed keys": "---\n1: a\n2: b\n10: c\nfalse: d\n~: e\n",
    "natural order": "---\na2: {ttl: 1, type: A, value: 192.0.2.1}\na10: {ttl: 1, type: A}\n",
    "simple order broken": "---\na10: 1\na2: 2\n",
    "out of order": "---\nwww:\n  type: A\n  ttl: 60\n",
    "top level out of order": "---\nb: {ttl: 1}\na: {ttl: 1}\n",
    "nested out of order": "---\na:\n- ttl: 1\n  type: A\n- type: A\n  ttl: 1\n",
    "order and a bad number": "---\nb:\n- ttl: 99999999999999999999e99999\na: 1\n",
    "merge key": "---\na:\n  <<: {ttl: 1}\n  type: A\n",
    "value key": "---\na:\n  =: 1\n  type: A\n",
    "unknown tag": "---\na: !foo 1\n",
    "python tag": "---\na: !!python/name:os.system\n",
    "set": "---\na: !!set {x, y}\n",
    "omap": "---\na: !!omap [{x: 1}, {y: 2}]\n",
    "collection key": "---\n? [a, b]\n: 1\n",
    "scalar document": "--- just a string\n",
    "sequence document": "---\n- b: 1\n  a: 2\n",
    "empty mapping": "---\na: {}\nb: []\n",
    "flow and block": "---\na: {ttl: 60, type: A, values: [192.0.2.1, 192.0.2.2]}\n",
    "int key collides with bool": "---\n1: a\ntrue: b\n",
}


@pytest.mark.parametrize("order_mode", ["natural", "simple"])
@pytest.mark.parametrize("enforce_order", [True, False])
@pytest.mark.parametrize("name", sorted(DOCS))
def test_same_as_octodns(tmp_path: Path, name: str, enforce_order: bool, order_mode: str) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(DOCS[name])
    kw = {"enforce_order": enforce_order, "order_mode": order_mode}
    assert _load(path, "ours", **kw) == _load(path, "theirs", **kw)


def test_the_tree_path_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain zone is built by the tree builder, never loaded twice."""
    built: list[str] = []
    real_build, real_parse = yamlfile._TreeBuilder.build_root, yamlfile._parse_yaml

    def spy_build(self: Any, node: Any) -> Any:
        built.append("tree")
        return real_build(self, node)

    def spy_parse(*args: Any, **kw: Any) -> Any:
        built.append("parse")
        return real_parse(*args, **kw)

    monkeypatch.setattr(yamlfile._TreeBuilder, "build_root", spy_build)
    monkeypatch.setattr(yamlfile, "_parse_yaml", spy_parse)
    path = tmp_path / "z.yaml"
    path.write_text(DOCS["typed scalars"])
    with path.open() as fh:
        data = parse_zone_file(fh)
    assert built == ["parse", "tree"]
    assert isinstance(data, ContextDict) and isinstance(data["a"]["octodns"], ContextDict)
    assert data["a"]["ttl"] == 16


def test_gc_state_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "z.yaml"
    path.write_text(DOCS["out of order"])
    assert gc.isenabled()
    with pytest.raises(yaml.YAMLError), path.open() as fh:
        parse_zone_file(fh)
    assert gc.isenabled()
    gc.disable()
    try:
        with path.open() as fh:
            parse_zone_file(fh, enforce_order=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "text",
    [
        "---\na:\n  ttl: 1\n  type: A\n  ttl: 2\n",  # a key twice in a record
        "---\na: 1\nb: 2\na: 3\n",  # a name twice
        "---\na: 1\n0x1: 2\n1: 3\n",  # one number, two spellings
        "---\na: " + "[" * 70 + "]" * 70 + "\n",  # too deep
        "---\na: " + "[" * 63 + "]" * 63 + "\n",  # as deep as allowed
    ],
)
def test_checks_while_building_say_what_the_checks_say(tmp_path: Path, text: str) -> None:
    """Without a '&' the checks run inside the tree builder; with one (here in a comment)
    on the nodes first: the same verdict, the same words."""
    (tmp_path / "plain").mkdir()
    (tmp_path / "marked").mkdir()
    plain, marked = tmp_path / "plain" / "z.yaml", tmp_path / "marked" / "z.yaml"
    plain.write_text(text)
    marked.write_text(text + "# & not an anchor\n")

    def outcome(path: Path) -> Any:
        with path.open() as fh:
            try:
                return _shape(parse_zone_file(fh, enforce_order=False))[2]
            except InputError as exc:
                return ("error", exc.line, exc.problem)

    assert outcome(plain) == outcome(marked)


def _zone_text(n: int = 12) -> str:
    """A zone of ``n`` names in several styles (plain, quoted, flow, indentless lists,
    comments at column 0, multi-line scalars), keys in natural order."""
    out = ["---\n'':\n  ttl: 60\n  type: A\n  values:\n  - 192.0.2.1\n  - 192.0.2.2\n"]
    for i in range(1, n + 1):
        out.append(f"# name {i}\n")
        if i % 4 == 0:
            out.append(f"h{i}: {{ttl: 60, type: A, values: [192.0.2.{i}, 192.0.2.99]}}\n")
        elif i % 4 == 1:
            out.append(f"'h{i}':\n- ttl: 60\n  type: TXT\n  value: \"long\n    text {i}\"\n")
        elif i % 4 == 2:
            out.append(f"h{i}:\n  ttl: 60\n  type: TXT\n  value: >\n    folded\n    {i}\n")
        else:
            out.append(f'"h{i}":\n  - ttl: 0x3c\n    type: CNAME\n    value: t{i}.example.\n')
    return "".join(out)


PIECE_DOCS = {
    "zone": _zone_text(),
    "crlf": _zone_text().replace("\n", "\r\n"),
    "quoted scalar continued at column 0": _zone_text()
    + "zz:\n  ttl: 1\n  type: TXT\n  value: 'a\nzzz: b'\n",
    "flow continued at column 0": _zone_text() + "zz: {ttl: 1, type: A,\nvalue: 192.0.2.1}\n",
    "top-level keys out of order": _zone_text() + "a0: {ttl: 1}\n",
    "record keys out of order": _zone_text() + "zz: {type: A, ttl: 1}\n",
    "a bad number late": _zone_text() + "zz: {ttl: 99999999999999999999e99999}\n",
    "document end": _zone_text() + "...\n",
    "second document": _zone_text() + "---\nzz: 1\n",
    "not a mapping late": _zone_text() + "zz\n",
}


@pytest.mark.parametrize("name", sorted(PIECE_DOCS))
def test_in_pieces_same_as_octodns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A large file is composed in pieces cut before top-level keys: the same data,
    contexts (line numbers) and errors as octoDNS's loader."""
    monkeypatch.setattr(yamlfile, "_PIECE", 64)
    path = tmp_path / "z.yaml"
    path.write_bytes(PIECE_DOCS[name].encode())
    assert _load(path, "ours") == _load(path, "theirs")


def test_pieces_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlfile, "_PIECE", 64)
    data = _zone_text().encode()
    pieces = yamlfile._pieces(data)
    assert pieces is not None and len(pieces) > 5
    assert b"".join(p for _, p in pieces) == data
    assert all(p[:1] in (b"-", b"'", b"h", b'"') for _, p in pieces)
    offset = 0
    for line, piece in pieces:
        assert line == data[:offset].count(b"\n")
        offset += len(piece)
    for text in ("\r", "\u2028", "\x85"):  # line breaks other than \n: whole
        assert yamlfile._pieces(data + f"zz: 'a{text}b'\n".encode()) is None
    for line in ("...", "---", "%YAML 1.1", "? a", "!!str a: 1", "*x", "[a]", "{a: 1}"):
        assert yamlfile._pieces(data + f"{line}\n".encode()) is None
    # and the file is built from them, not loaded again whole
    calls: list[int] = []
    real = yamlfile._parse_yaml

    def spy(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(yamlfile, "_parse_yaml", spy)
    path = tmp_path / "z.yaml"
    path.write_bytes(data)
    assert _load(path, "ours") == _load(path, "theirs")
    assert calls == [1]


def test_a_key_in_two_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name given twice, far apart: refused with both lines, as when loaded whole."""
    text = _zone_text() + "h3: {ttl: 1, type: A, value: 192.0.2.1}\n"
    path = tmp_path / "z.yaml"
    path.write_text(text)
    monkeypatch.setattr(yamlfile, "_PIECE", 64)
    with pytest.raises(InputError) as pieces, path.open() as fh:
        parse_zone_file(fh)
    monkeypatch.setattr(yamlfile, "_PIECE", 1 << 20)
    with pytest.raises(InputError) as whole, path.open() as fh:
        parse_zone_file(fh)
    assert str(pieces.value) == str(whole.value)
    assert "duplicate key 'h3'" in str(whole.value)
