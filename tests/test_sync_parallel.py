"""Planning each provider in a forked process (plans to show or save, never to apply).

Against the session lab's real PowerDNS and BIND, read-only: the forked plan must
be exactly the threaded one (plans, snapshots, checksum, failures); a provider
that fails, or whose worker dies, is reported and the other one still planned.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from octodns.zone import Zone
from typer.testing import CliRunner

from dnsops import octo
from dnsops.config import Project
from dnsops.sync import core, parallel
from dnsops.zones import load_zones
from tests.conftest import run

pytestmark = pytest.mark.lab


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fork whatever the size of the zones; the names of the workers started."""
    monkeypatch.setattr(parallel, "MIN_RECORDS", 0)
    started: list[str] = []
    real = parallel.run_each

    def spy(names: Any, *args: Any, **kw: Any) -> Any:
        started.extend(names)
        return real(names, *args, **kw)

    monkeypatch.setattr(parallel, "run_each", spy)
    return started


def loaded(project: Project) -> tuple[dict[str, Zone], dict[str, Any]]:
    os.chdir(project.root)
    _, env = project.lab_environment()
    return load_zones(project, env), octo.targets(project, env)


def changed(zones: dict[str, Zone]) -> dict[str, Zone]:
    """The zones with one record's TTL changed and one record less (so plans have changes)."""
    out = {}
    for name, zone in zones.items():
        copy = zone.copy()
        records = sorted(copy.records, key=lambda r: (r.name, r._type))
        first = records[0]
        tweaked = first.copy()
        tweaked.ttl = first.ttl + 1
        copy.add_record(tweaked, replace=True)
        copy.remove_record(records[-1])
        out[name] = copy
    return out


def comparable(planned: core.Planned) -> dict[str, Any]:
    doc = planned.doc.model_dump(mode="json")
    doc.pop("created")
    return doc


def test_forked_plans_equal_threaded_plans(lab_project: Project, forking: list[str]) -> None:
    zones, providers = loaded(lab_project)
    zones = changed(zones)
    said: list[str] = []
    forked = core.plan(zones, providers, environment="lab", progress=said.append, for_apply=False)
    assert forking == ["pdns", "bind"]
    threaded = core.plan(zones, providers, environment="lab")
    assert comparable(forked) == comparable(threaded)
    assert forked.doc.has_changes and not forked.failed
    assert sorted(said) == ["bind: planned 1 zone(s)", "pdns: planned 1 zone(s)"]
    assert (forked.appliable, forked.octo) == (False, {})
    assert threaded.appliable and set(threaded.octo) == {
        ("pdns", "example.test."),
        ("bind", "example.test."),
    }
    with pytest.raises(ValueError, match="for display only"):
        core.apply(forked, providers)


def test_small_plans_or_plans_to_apply_do_not_fork(lab_project: Project) -> None:
    zones, providers = loaded(lab_project)
    assert sum(len(z.records) for z in zones.values()) < parallel.MIN_RECORDS
    assert core.plan(zones, providers, for_apply=False).appliable is True  # threads
    assert not parallel.worthwhile(1, 10**6)
    assert parallel.worthwhile(2, parallel.MIN_RECORDS) is ((os.cpu_count() or 1) > 1)


class Failing:
    """A provider whose plan raises, with a secret in the message."""

    def __init__(self, provider: Any, how: str) -> None:
        self.provider = provider
        self.how = how

    def __getattr__(self, name: str) -> Any:
        return getattr(self.provider, name)

    def plan(self, desired: Zone) -> Any:
        if self.how == "die":
            os._exit(7)
        raise RuntimeError("cannot reach the API with key s3cr3t-key")


def redact(text: str) -> str:
    return text.replace("s3cr3t-key", "[redacted]")


@pytest.mark.parametrize(
    ("how", "why"),
    [
        ("raise", "RuntimeError: cannot reach the API with key [redacted]"),
        ("die", "its planning process exited with code 7"),
    ],
)
def test_a_failing_provider_is_reported_the_other_planned(
    lab_project: Project, forking: list[str], how: str, why: str
) -> None:
    zones, providers = loaded(lab_project)
    providers = {**providers, "bind": Failing(providers["bind"], how)}
    forked = core.plan(zones, providers, redact=redact, for_apply=False)
    assert forked.failed == {"bind": why}
    assert [p.provider for p in forked.doc.plans] == ["pdns"]
    if how == "raise":  # the same as in threads (a dying thread would take pytest along)
        assert comparable(forked) == comparable(core.plan(zones, providers, redact=redact))


def test_plan_command_forks_and_prints_the_same_json(
    cli: CliRunner, lab_dir: Path, forking: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = run(cli, lab_dir, "plan", "--format", "json")
    assert forking == ["pdns", "bind"]
    monkeypatch.setattr(parallel, "MIN_RECORDS", 10**9)
    threaded = run(cli, lab_dir, "plan", "--format", "json")
    assert forking == ["pdns", "bind"]  # not again
    assert (forked.exit_code, threaded.exit_code) == (0, 0)
    a, b = json.loads(forked.stdout), json.loads(threaded.stdout)
    for doc in (a, b):
        doc.pop("created", None)
    assert a == b
