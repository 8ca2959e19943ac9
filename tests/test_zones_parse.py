"""dnsops parses zone files with octoDNS's own loaders on libyaml's parser: the data,
every mapping's context (file, line, column), key-order checks, !include and the
resulting octoDNS records must be exactly what octoDNS's YamlProvider produces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from octodns.provider.yaml import YamlProvider
from octodns.yaml import safe_load
from octodns.zone import Zone
from yaml.constructor import ConstructorError

from benchmarks.zonegen import write_zone
from dnsops.zones import _c_loader, load_zone, parse_zone_file
from tests.conftest import REPO


def _contexts(node: Any, out: list[str | None]) -> list[str | None]:
    if isinstance(node, dict):
        out.append(getattr(node, "context", None))
        for value in node.values():
            _contexts(value, out)
    elif isinstance(node, list):
        for value in node:
            _contexts(value, out)
    return out


def _both(path: Path, **kw: Any) -> tuple[Any, Any]:
    with path.open() as fh:
        ours = parse_zone_file(fh, **kw)
    with path.open() as fh:
        theirs = safe_load(fh, **kw)
    return ours, theirs


def test_libyaml_is_used() -> None:
    from octodns.yaml import NaturalSortEnforcingLoader

    assert _c_loader(NaturalSortEnforcingLoader) is not None


@pytest.mark.parametrize("kind", ["example", "generated"])
def test_same_data_and_contexts(tmp_path: Path, kind: str) -> None:
    if kind == "example":
        path = REPO / "zones" / "example.test.yaml"
    else:
        path = write_zone(tmp_path, "gen.test.", 1000)
    ours, theirs = _both(path)
    assert ours == theirs
    contexts = _contexts(ours, [])
    assert contexts == _contexts(theirs, [])
    assert len(contexts) > 10
    assert all(c and c.startswith(str(path)) for c in contexts)


def test_include(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("- 192.0.2.1\n- 192.0.2.2\n")
    zone = tmp_path / "inc.test.yaml"
    zone.write_text("---\n'':\n  ttl: 60\n  type: A\n  values: !include values.yaml\n")
    ours, theirs = _both(zone)
    assert ours == theirs == {"": {"ttl": 60, "type": "A", "values": ["192.0.2.1", "192.0.2.2"]}}


def test_key_order_enforced_like_octodns(tmp_path: Path) -> None:
    zone = tmp_path / "order.test.yaml"
    zone.write_text("---\nwww:\n  type: A\n  ttl: 60\n  value: 192.0.2.1\n")
    with pytest.raises(ConstructorError) as ours, zone.open() as fh:
        parse_zone_file(fh)
    with pytest.raises(ConstructorError) as theirs, zone.open() as fh:
        safe_load(fh)
    assert str(ours.value) == str(theirs.value)
    assert "keys out of order: expected ttl got type" in str(ours.value)
    # without enforce_order the same file loads
    data, _ = _both(zone, enforce_order=False)
    assert data == {"www": {"type": "A", "ttl": 60, "value": "192.0.2.1"}}


@pytest.mark.parametrize(
    "text",
    [
        "---\nwww:\n  ttl: 60\n   type: A\n",  # bad indentation
        "---\nwww:\n  - ttl: 60\n  type: A\n",  # sequence then mapping
        "---\nwww: {ttl: 60\n",  # unclosed flow mapping
        "---\nwww: *nope\n",  # undefined alias
    ],
)
def test_syntax_errors_worded_like_octodns(tmp_path: Path, text: str) -> None:
    zone = tmp_path / "bad.test.yaml"
    zone.write_text(text)
    with pytest.raises(yaml.YAMLError) as ours, zone.open() as fh:
        parse_zone_file(fh)
    with pytest.raises(yaml.YAMLError) as theirs, zone.open() as fh:
        safe_load(fh)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def _records(zone: Zone) -> list[tuple[Any, ...]]:
    return sorted(
        (r.name, r._type, r.ttl, repr(r.data), r.context, repr(r.octodns)) for r in zone.records
    )


def test_same_records_as_yamlprovider(tmp_path: Path) -> None:
    write_zone(tmp_path, "gen.test.", 800)
    (tmp_path / "gen.test.yaml").write_text(
        (tmp_path / "gen.test.yaml").read_text()
        + "zz-mail:\n  ttl: 300\n  type: TXT\n  value: v=DMARC1; p=none\n"
    )
    source = YamlProvider("zones", str(tmp_path), enforce_order=True, escaped_semicolons=False)
    ours, problems = load_zone(source, "gen.test.")
    assert problems == []
    theirs = Zone("gen.test.", [])
    source.populate(theirs)
    assert len(ours.records) == 801
    assert _records(ours) == _records(theirs)
