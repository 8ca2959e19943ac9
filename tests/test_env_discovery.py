"""Discovery through the environment model: production-shaped, against real servers.

Route 53 (moto_server) returns a delegation set and the NS1 stand-in a zone's
``dns_servers``; those names serve no DNS here, so a miniature internet (tests/internet.py:
a real BIND as root, parent and the providers' nameservers, a real unbound) gives them
addresses and delegates the zone to them. The production environment's root hints point
at that root: dnsops finds everything else itself, with no parent or nameserver list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dnsops.config import Project, load_project
from dnsops.env import Env, ProviderServers, _owners, _Reported
from dnsops.probe.walk import Delegation, Server
from tests.conftest import IN_CI, TEST_NET, lab_unavailable
from tests.fakes.ns1 import DNS_SERVERS
from tests.internet import PARENT_NAME, MiniInternet
from tests.test_production_providers import Production, production, sync_doit

__all__ = ["production"]  # the fixture, used by name

ZONE = "example.test."
# what moto_server 5.1 returns as every hosted zone's delegation set
ROUTE53_NS = [
    "ns-2048.awsdns-64.com.",
    "ns-2049.awsdns-65.net.",
    "ns-2050.awsdns-66.org.",
    "ns-2051.awsdns-67.co.uk.",
]
NS1_NS = [f"{n}." for n in DNS_SERVERS]


def zone_lines(root: Path) -> list[str]:
    """The example zone as the providers would serve it (apex NS aside), zone-file lines."""
    env = Env(load_project(root / "dnsops.yaml"), "production")
    zone = env.zones(ZONE)[ZONE]
    lines = []
    for record in zone.records:
        if record._type == "NS" and not record.name:
            continue
        rrset = record.to_rrset()
        lines += [f"{rrset.name} {rrset.ttl} IN {rrset._type} {rd}" for rd in rrset.rdatas]
    return lines


@pytest.fixture
def internet(production: Production, tmp_path: Path) -> Iterator[tuple[Production, MiniInternet]]:
    reason = lab_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    mini = MiniInternet(
        tmp_path / "internet",
        TEST_NET,
        ZONE,
        {"route53": ROUTE53_NS, "ns1": NS1_NS},
        zone_lines(production.root),
    )
    point_production_at(production.root, mini)
    mini.start()
    try:
        yield production, mini
    finally:
        mini.stop()


def point_production_at(root: Path, mini: MiniInternet) -> None:
    """Production's root hints and resolvers: the miniature internet's, nothing else."""
    path = root / "dnsops.yaml"
    text = path.read_text()
    text = re.sub(
        r"    root_hints: \{[^}]*\}\n",
        f"    root_hints: {{a.root-servers.lab.: {mini.root}}}\n",
        text,
    )
    resolvers = re.search(r"(  production:\n(?:.*\n)*?    resolvers:\n)((?:      - .*\n)+)", text)
    assert resolvers is not None
    text = text.replace(
        resolvers.group(2), f"      - {{name: mini, address: {mini.resolver}, region: lab}}\n"
    )
    path.write_text(text)


def addresses(mini: MiniInternet, names: list[str]) -> list[dict[str, str]]:
    table = mini.addresses()
    return [{"name": n, "address": table[n]} for n in sorted(names)]


def env_show(prod: Production, cli: CliRunner) -> tuple[int, dict[str, Any]]:
    result = prod.cli(cli, "env", "show", "--env", "production", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_production_nameservers_from_the_providers_and_the_walk(
    internet: tuple[Production, MiniInternet], cli: CliRunner
) -> None:
    prod, mini = internet
    sync_doit(prod, cli)  # the hosted zone and the NS1 zone exist now
    code, doc = env_show(prod, cli)
    assert code == 0, doc["problems"]
    [zone] = doc["zones"]
    assert zone["providers"] == {
        "route53": {
            "provider": "route53",
            "names": ROUTE53_NS,
            "servers": addresses(mini, ROUTE53_NS),
            "source": "api",
            "problems": [],
        },
        "ns1": {
            "provider": "ns1",
            "names": NS1_NS,
            "servers": addresses(mini, NS1_NS),
            "source": "api",
            "problems": [],
        },
    }
    assert zone["delegation"] == {
        "source": "walk",
        "parent_zone": "test.",
        "parents": [{"name": PARENT_NAME, "address": mini.parent}],
        "ns": sorted(ROUTE53_NS + NS1_NS),
        "glue": {},
        "problem": None,
    }
    assert doc["root_hints"] == [{"name": "a.root-servers.lab.", "address": mini.root}]


def health(prod: Production, cli: CliRunner) -> tuple[int, dict[str, Any]]:
    result = prod.cli(cli, "health", "--env", "production", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_production_health_checks_the_delegation_it_discovered(
    internet: tuple[Production, MiniInternet], cli: CliRunner
) -> None:
    prod, mini = internet
    sync_doit(prod, cli)
    code, doc = health(prod, cli)
    checks = {c["id"]: c for c in doc["checks"]}
    delegation = [f for f in doc["findings"] if f["id"].startswith("delegation")]
    assert delegation == []
    assert checks["delegation-ns"]["passed"] == 2  # each provider's apex NS set
    # every name lives outside test.: the parent holds no glue for any of them
    assert checks["delegation-glue"]["passed"] == 0
    rows = {(r["provider"], r["name"], r["address"]) for r in doc["nameservers"]}
    table = mini.addresses()
    assert rows == {("route53", n, table[n]) for n in ROUTE53_NS} | {
        ("ns1", n, table[n]) for n in NS1_NS
    }

    # the registrar loses one of NS1's names: the parent delegates to 7 of the 8
    mini.stop()
    mini.parent_ns = sorted(ROUTE53_NS + NS1_NS[:3])
    mini.start()
    code, doc = health(prod, cli)
    assert code == 1
    found = [f for f in doc["findings"] if f["id"] == "delegation-ns"]
    assert [(f["provider"], f["subject"], f["severity"], f["message"]) for f in found] == [
        (
            p,
            f"{ZONE} at parent {mini.parent}",
            "error",
            f"{p} serves {NS1_NS[3]}, which the parent does not list",
        )
        for p in ("route53", "ns1")
    ]


# -- the lab, discovered exactly as production is -------------------------------------


@pytest.mark.lab
def test_the_lab_is_walked_from_its_root_with_nothing_pinned(lab_project: Project) -> None:
    from tests.test_lab import sync_lab

    sync_lab(lab_project)  # PowerDNS holds the zone (octoDNS creates it there)
    env = Env(lab_project)
    assert env.config.parent == [] and env.config.nameservers == {}
    assert env.root_hints == (Server("a.root-servers.lab.", f"{TEST_NET}.0.2"),)
    facts = env.zone_facts(ZONE)
    assert facts.delegation == Delegation(
        ZONE,
        "test.",
        (Server("ns.test.", f"{TEST_NET}.0.1"),),
        ("ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.", "ns2.pdns.test."),
    )
    assert facts.delegation_source == "walk"
    assert facts.providers == {
        "pdns": ProviderServers(
            "pdns",
            ("ns1.pdns.test.", "ns2.pdns.test."),
            (
                Server("ns1.pdns.test.", f"{TEST_NET}.1.1"),
                Server("ns2.pdns.test.", f"{TEST_NET}.1.2"),
            ),
            "api",
        ),
        "bind": ProviderServers(
            "bind",
            ("ns1.bind.test.", "ns2.bind.test."),
            (
                Server("ns1.bind.test.", f"{TEST_NET}.2.1"),
                Server("ns2.bind.test.", f"{TEST_NET}.2.2"),
            ),
            "dns",
        ),
    }


# -- who owns which name: the evidence, in order ----------------------------------------


def reported(**kw: Any) -> dict[str, _Reported]:
    return {p: _Reported(**v) for p, v in kw.items()}


LAB_NAMES = ["ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.", "ns2.pdns.test."]


def test_owners_by_the_soa_each_server_serves() -> None:
    both = reported(
        pdns={"names": tuple(LAB_NAMES), "mname": "ns1.pdns.test."},
        bind={"names": tuple(LAB_NAMES), "mname": "ns1.bind.test.", "source": "dns"},
    )
    claims = {n: {"pdns", "bind"} for n in LAB_NAMES}
    served = {n: "ns1.bind.test." if "bind" in n else "ns1.pdns.test." for n in LAB_NAMES}
    want = {n: "bind" if "bind" in n else "pdns" for n in LAB_NAMES}
    assert _owners(LAB_NAMES, claims, both, served) == want
    # ns2.pdns.test. does not answer: it goes with its sibling ns1.pdns.test.
    del served["ns2.pdns.test."]
    assert _owners(LAB_NAMES, claims, both, served) == want


def test_owners_when_one_provider_cannot_be_asked() -> None:
    # PowerDNS down (API and servers): BIND lists all four; its own two serve its SOA,
    # the other two answer nothing and go to the one provider that could not be asked
    bind_only = reported(
        pdns={"source": "none", "error": "its API failed: connection refused"},
        bind={"names": tuple(LAB_NAMES), "mname": "ns1.bind.test.", "source": "dns"},
    )
    claims = {n: {"bind"} for n in LAB_NAMES}
    served = {"ns1.bind.test.": "ns1.bind.test.", "ns2.bind.test.": "ns1.bind.test."}
    assert _owners(LAB_NAMES, claims, bind_only, served) == {
        n: "bind" if "bind" in n else "pdns" for n in LAB_NAMES
    }


def test_owners_of_hosted_providers_and_a_pin() -> None:
    names = sorted([*ROUTE53_NS, *NS1_NS, "192.0.2.53"])
    rep = reported(
        route53={"names": tuple(ROUTE53_NS)},  # its delegation set: its word
        ns1={"names": ("192.0.2.53",), "source": "override"},  # pinned in dnsops.yaml
    )
    claims: dict[str, set[str]] = {n: {"route53"} for n in ROUTE53_NS}
    claims.update({n: set() for n in NS1_NS})  # only at the parent
    claims["192.0.2.53"] = {"ns1"}
    owners = _owners(names, claims, rep, {})
    assert owners == {
        **{n: "route53" for n in ROUTE53_NS},
        **{n: None for n in NS1_NS},  # a pinned provider has exactly its pins
        "192.0.2.53": "ns1",
    }
