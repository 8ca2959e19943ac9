"""benchmarks/zonegen.py: deterministic zones of a given size that lint clean."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from benchmarks.zonegen import write_zone, zone_text
from tests.conftest import run


def test_deterministic() -> None:
    assert zone_text("gen.test.", 300) == zone_text("gen.test.", 300)
    assert zone_text("gen.test.", 300) != zone_text("gen.test.", 300, seed=1)


def test_size_mix_and_clean_lint(cli: CliRunner, project_dir: Path) -> None:
    for old in (project_dir / "zones").glob("*.yaml"):
        old.unlink()
    write_zone(project_dir / "zones", "gen.test.", 600)
    result = run(cli, project_dir, "validate", "--format", "json")
    assert json.loads(result.stdout)["zones"] == {"gen.test.": 600}
    linted = run(cli, project_dir, "lint", "--format", "json")
    assert linted.exit_code == 0, linted.stdout
    assert json.loads(linted.stdout)["findings"] == []
    text = (project_dir / "zones" / "gen.test.yaml").read_text()
    for rtype in ("A", "AAAA", "CNAME", "TXT", "SRV", "NS", "CAA", "MX"):
        assert f"type: {rtype}\n" in text
