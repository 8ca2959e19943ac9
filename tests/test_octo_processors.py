"""dnsops.octo.Processors: each zone's processors as octoDNS's Manager expands its config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from octodns.manager import Manager

from dnsops.octo import Processors

CONFIG = {
    "providers": {
        "zones": {"class": "octodns.provider.yaml.YamlProvider", "directory": "./zones"},
    },
    "processors": {
        "own": {"class": "octodns.processor.filter.IgnoreRootNsFilter"},
        "star": {"class": "octodns.processor.ownership.OwnershipProcessor"},
    },
    "zones": {
        "a.test.": {"sources": ["zones"], "targets": [], "processors": ["own"]},
        "*": {"sources": ["zones"], "targets": [], "processors": ["star"]},
    },
}


def manager(tmp_path: Path, monkeypatch: Any) -> Manager:
    (tmp_path / "zones").mkdir()
    for name in ("a.test.", "b.test."):
        (tmp_path / "zones" / f"{name}yaml").write_text("---\n{}\n")
    (tmp_path / "octodns.yaml").write_text(yaml.safe_dump(CONFIG))
    monkeypatch.chdir(tmp_path)
    return Manager(str(tmp_path / "octodns.yaml"))


def test_each_zone_gets_the_processors_octodns_gives_it(tmp_path: Path, monkeypatch: Any) -> None:
    mgr = manager(tmp_path, monkeypatch)
    processors = Processors(mgr, "octodns.yaml")
    expanded = mgr._preprocess_zones(dict(mgr.config["zones"]))
    for name in ("a.test.", "b.test."):
        assert processors(name) == list(mgr._get_processors(name, expanded[name]))
    assert processors("a.test.") == [mgr.processors["own"]]
    assert processors("b.test.") == [mgr.processors["star"]]


def test_a_zone_with_its_own_entry_needs_no_expansion(tmp_path: Path, monkeypatch: Any) -> None:
    """Its entry is taken as it is: the source's zones are not listed for it (octoDNS
    never lets a '*' entry take a zone that has its own)."""
    mgr = manager(tmp_path, monkeypatch)
    processors = Processors(mgr, "octodns.yaml")
    listed: list[str] = []
    source = mgr.providers["zones"]
    real = source.list_zones
    monkeypatch.setattr(source, "list_zones", lambda: listed.append("x") or real())
    assert processors("a.test.") == [mgr.processors["own"]]
    assert listed == []
    assert processors("b.test.") == [mgr.processors["star"]]
    assert processors("b.test.") == [mgr.processors["star"]]
    assert listed == ["x"]  # expanded once, for every zone without an entry of its own
