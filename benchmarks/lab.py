"""The harness's own lab: a project copy on the harness's 127.x net, its zones synced.

The project is ``tests.conftest.make_project`` (the repo's dnsops.yaml, config/,
policies/ with every lab address moved from 127.53.x to ``net``), holding only
the generated zones. Each zone also gets an explicit entry in config/lab.yaml:
``octodns-report`` looks zones up by name and does not expand the ``'*'`` entry.

The zones are synced in-process through dnsops's own plan/apply (both providers
concurrently; the lab's BIND runs without check-integrity, so octodns-bind's
batches of 1000 changes in name order are accepted).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from benchmarks.zonegen import write_zone

DEMO_NET = "127.53"  # the lead's demo lab: never the harness's


def check_net(net: str) -> str:
    parts = net.split(".")
    if len(parts) != 2 or parts[0] != "127" or not parts[1].isdigit() or int(parts[1]) > 255:
        raise ValueError(f"--net wants a 127.N prefix (N = 0..255), not {net!r}")
    if net == DEMO_NET:
        raise ValueError(f"{DEMO_NET} is the demo lab's: pick another --net")
    return net


def make(root: Path, net: str, zones: dict[str, int], keep: tuple[str, ...] = ()) -> Path:
    """A project in ``root`` on ``net`` whose zones/ holds ``zones`` (name -> records).

    Of the repo's own zones only those named in ``keep`` stay (a drill needs its zone).
    """
    from tests.conftest import make_project

    make_project(root, net=check_net(net))
    for old in (root / "zones").glob("*.yaml"):
        if old.name.removesuffix(".yaml") + "." not in keep:
            old.unlink()
    for name, records in zones.items():
        write_zone(root / "zones", name, records)
    config = root / "config" / "lab.yaml"
    doc = yaml.safe_load(config.read_text())
    for name in zones:
        doc["zones"][name] = dict(doc["zones"]["*"])
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


@contextlib.contextmanager
def running(root: Path, keep: bool = False, say: Callable[[str], None] = print) -> Iterator[Any]:
    """The project's lab, up for the duration (stopped at the end unless ``keep``)."""
    from dnsops.config import load_project
    from dnsops.lab.runner import LabRunner

    runner = LabRunner(load_project(root / "dnsops.yaml"))
    say(f"lab: starting in {root}")
    try:
        runner.up()
        yield runner
    finally:
        if keep:
            say(f"lab left running: dnsops --config {root / 'dnsops.yaml'} lab down")
        else:
            runner.down()
            say("lab: stopped")


def sync(root: Path) -> dict[str, Any]:
    """Push every zone of the project to both providers; seconds and changes per provider.

    :raises RuntimeError: a provider failed to plan or apply.
    """
    from dnsops import octo
    from dnsops.config import load_project
    from dnsops.sync import core
    from dnsops.zones import load_zones

    project = load_project(root / "dnsops.yaml")
    _, env = project.lab_environment()
    here = Path.cwd()
    os.chdir(root)
    try:
        start = time.perf_counter()
        zones = load_zones(project, env)
        providers = octo.targets(project, env)
        planned = core.plan(zones, providers)
        if planned.failed:
            raise RuntimeError(f"planning the lab failed: {planned.failed}")
        applied = core.apply(planned, providers, force=True)
        failed = {a.provider: a.error for a in applied if a.error}
        if failed:
            raise RuntimeError(f"syncing the lab failed: {failed}")
        return {
            "seconds": round(time.perf_counter() - start, 2),
            "records": {name: len(zone.records) for name, zone in zones.items()},
            "changes": {a.provider: a.changes for a in applied},
        }
    finally:
        os.chdir(here)


def environ(runner: Any, root: Path, repo: Path) -> dict[str, str]:
    """What the measured commands run with: the lab's variables, the project, the repo."""
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        **runner.environ(),
        "DNSOPS_CONFIG": str(root / "dnsops.yaml"),
        "PYTHONPATH": f"{repo}{os.pathsep}{path}" if path else str(repo),
    }


def nameservers(runner: Any) -> list[str]:
    """Every nameserver address of both lab providers, in dnsops.yaml order."""
    return [
        address
        for provider in runner.project.lab.providers.values()
        for address in provider.nameservers.values()
    ]
