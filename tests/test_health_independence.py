"""Provider independence: provider-asn, provider-prefix, provider-one-prefix.

The pure parts (origin names, TXT answers, the prefix file, the judge) without a lab;
then ``dnsops health`` on a module-own lab (spare net) whose parent serves a made-up
origin zone (documentation ASNs), its dnsops.yaml changed per scenario.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dnsops.config import load_project
from dnsops.env import COUNTS, Env
from dnsops.errors import InputError
from dnsops.health.independence_checks import (
    ZONES_LISTED,
    ProviderSet,
    check_independence,
    judge_group,
)
from dnsops.health.judge import Judge
from dnsops.health.model import Nameserver, ZoneLayout, ZoneObs
from dnsops.independence import AddressOrigin, load_prefix_file, origin_name, parse_txt
from dnsops.lab.runner import LabRunner
from tests.conftest import SPARE_NET, spare_lab
from tests.conftest import run as cli_run

CHECKS = ("provider-asn", "provider-prefix", "provider-one-prefix")

# -- origin names and TXT answers -------------------------------------------------------


def test_origin_names_reverse_ipv4_and_nibble_reverse_ipv6() -> None:
    cymru = ("origin.asn.cymru.com.", "origin6.asn.cymru.com.")
    assert origin_name("8.8.4.4", *cymru) == "4.4.8.8.origin.asn.cymru.com."
    assert origin_name("2001:4860::8888", *cymru) == (
        "8.8.8.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.8.4.1.0.0.2.origin6.asn.cymru.com."
    )


def test_txt_answers_several_asns_and_the_most_specific_prefix() -> None:
    one = parse_txt("8.8.8.8", ["15169 | 8.8.8.0/24 | US | arin | 1992-12-01"], "dns z.")
    assert one == AddressOrigin("8.8.8.8", (15169,), "8.8.8.0/24", "dns z.")
    several = parse_txt(
        "192.0.2.7",
        ["64500 | 192.0.0.0/16 | ZZ | x | y", "64501 64502 | 192.0.2.0/24 | ZZ | x | y"],
    )
    assert (several.asns, several.prefix, several.known) == ((64501, 64502), "192.0.2.0/24", True)
    v6 = parse_txt("2001:db8::53", ["64510 | 2001:db8::/32 | ZZ | lab | 2026-01-01"])
    assert (v6.asns, str(v6.network)) == ((64510,), "2001:db8::/32")
    # no prefix given: a /24 (IPv4) or /48 (IPv6) around the address is assumed
    bare = parse_txt("198.51.100.9", ["64496"])
    assert (bare.prefix, str(bare.network), bare.to_json()["prefix_source"]) == (
        None,
        "198.51.100.0/24",
        "assumed",
    )
    assert str(parse_txt("2001:db8:1:2::1", ["64496 |"]).network) == "2001:db8:1::/48"


def test_unreadable_txt_is_no_data_never_a_guess() -> None:
    for strings in ([], ["not an asn | 192.0.2.0/24"], ["64500 | 198.51.100.0/24 | ZZ"]):
        found = parse_txt("192.0.2.1", strings)
        assert not found.known and found.asns == (), strings
    assert parse_txt("192.0.2.1", ["x | y"]).problem == "unreadable origin data: 'x | y'"


# -- the offline prefix file ------------------------------------------------------------


def test_prefix_file_longest_prefix_wins(tmp_path: Path) -> None:
    path = tmp_path / "prefixes.txt"
    path.write_text(
        "# prefix  asn\n"
        "192.0.2.0/24 64500\n"
        "192.0.2.128/25 AS64501 64502   # a more specific, two origins\n"
        "\n"
        "2001:db8::/32 64510\n"
    )
    table = load_prefix_file(path, "prefixes.txt")
    assert table.origin("192.0.2.1") == AddressOrigin(
        "192.0.2.1", (64500,), "192.0.2.0/24", "file prefixes.txt"
    )
    assert table.origin("192.0.2.200").asns == (64501, 64502)
    assert table.origin("2001:db8:5::1").prefix == "2001:db8::/32"
    missing = table.origin("198.51.100.1")
    assert (missing.known, missing.problem) == (False, "no prefix in prefixes.txt holds it")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("192.0.2.0/24", "'192.0.2.0/24': expected 'PREFIX ASN' (203.0.113.0/24 64500)"),
        ("192.0.2.0/33 64500", "'192.0.2.0/33' is not an IPv4 or IPv6 prefix"),
        ("192.0.2.0/24 ASX", "'ASX' is not an AS number (64500 or AS64500)"),
    ],
)
def test_prefix_file_bad_line_names_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "p.txt"
    path.write_text(f"# ok\n198.51.100.0/24 64500\n{line}\n")
    with pytest.raises(InputError) as caught:
        load_prefix_file(path, "p.txt")
    assert caught.value.message == f"p.txt:3: {problem}"


# -- the judge (pure) --------------------------------------------------------------------

PDNS = (("ns1.p.example.", "192.0.2.1"), ("ns2.p.example.", "198.51.100.1"))
BIND = (("ns1.b.example.", "203.0.113.1"), ("ns2.b.example.", "203.0.113.129"))


def origins(**by_address: tuple[int, str]) -> dict[str, AddressOrigin]:
    out = {}
    for key, (asn, prefix) in by_address.items():
        address = key.replace("_", ".")
        out[address] = AddressOrigin(address, (asn,), prefix, "test")
    return out


def group(found: dict[str, AddressOrigin], zones: tuple[str, ...] = ("a.example.",)) -> Any:
    return ProviderSet(("pdns", "bind"), {"pdns": PDNS, "bind": BIND}, found, zones)


def verdicts(outcomes: list[Any]) -> list[tuple[str, str, bool | None]]:
    return [(o.check, o.subject, o.ok) for o in outcomes]


INDEPENDENT = origins(
    **{
        "192_0_2_1": (64500, "192.0.2.0/24"),
        "198_51_100_1": (64500, "198.51.100.0/24"),
        "203_0_113_1": (64501, "203.0.113.0/25"),
        "203_0_113_129": (64501, "203.0.113.128/25"),
    }
)


def test_judge_independent_providers_pass() -> None:
    assert verdicts(judge_group(group(INDEPENDENT))) == [
        ("provider-asn", "pdns and bind", True),
        ("provider-prefix", "pdns and bind", True),
        ("provider-one-prefix", "pdns", True),
        ("provider-one-prefix", "bind", True),
    ]


def test_judge_shared_as_names_both_providers_addresses_and_the_as() -> None:
    found = dict(INDEPENDENT)
    found["203.0.113.1"] = AddressOrigin("203.0.113.1", (64500,), "203.0.113.0/25", "test")
    asn, *rest = judge_group(group(found))
    assert verdicts(rest) == [
        ("provider-prefix", "pdns and bind", True),
        ("provider-one-prefix", "pdns", True),
        ("provider-one-prefix", "bind", True),
    ]
    assert asn.ok is False and asn.message == (
        "pdns and bind are both announced from AS64500 (bind: ns1.b.example. 203.0.113.1; "
        "pdns: ns1.p.example. 192.0.2.1, ns2.p.example. 198.51.100.1): one routing incident "
        "in that AS takes both providers down at once (a.example.)"
    )
    assert asn.data == {
        "asns": [64500],
        "providers": {"pdns": ["192.0.2.1", "198.51.100.1"], "bind": ["203.0.113.1"]},
        "zones": ["a.example."],
        "zone_count": 1,
    }


def test_judge_shared_prefix_and_one_prefix() -> None:
    found = dict(INDEPENDENT)
    # bind's first address announced in pdns's /24 by another AS (made-up, MOAS-like)
    found["203.0.113.1"] = AddressOrigin("203.0.113.1", (64501,), None, "test")
    found["192.0.2.1"] = AddressOrigin("192.0.2.1", (64500,), "203.0.113.0/24", "test")
    outcomes = judge_group(group(found))
    assert verdicts(outcomes) == [
        ("provider-asn", "pdns and bind", True),
        ("provider-prefix", "pdns and bind", False),
        ("provider-one-prefix", "pdns", True),
        ("provider-one-prefix", "bind", True),
    ]
    assert outcomes[1].data == {
        "prefixes": {"203.0.113.0/24": {"pdns": ["192.0.2.1"], "bind": ["203.0.113.1"]}},
        "zones": ["a.example."],
        "zone_count": 1,
    }
    one = dict(INDEPENDENT)
    one["203.0.113.129"] = AddressOrigin("203.0.113.129", (64501,), "203.0.113.0/24", "test")
    one["203.0.113.1"] = AddressOrigin("203.0.113.1", (64501,), "203.0.113.0/24", "test")
    outcomes = judge_group(group(one))
    assert verdicts(outcomes)[3] == ("provider-one-prefix", "bind", False)
    assert outcomes[3].provider == "bind" and outcomes[3].message == (
        "every nameserver address of bind (ns1.b.example. 203.0.113.1, ns2.b.example. "
        "203.0.113.129) is in one announced prefix, 203.0.113.0/24: one withdrawal of that "
        "route takes the whole provider away, the other one alone answers (a.example.)"
    )
    assert [o.ok for o in outcomes[:3]] == [True, True, True]


def test_judge_unknown_origin_is_skipped_not_passed_nor_failed() -> None:
    found = dict(INDEPENDENT)
    found["203.0.113.1"] = AddressOrigin("203.0.113.1", problem="origin lookup failed: timeout")
    assert verdicts(judge_group(group(found))) == [
        ("provider-asn", "pdns and bind", None),
        ("provider-prefix", "pdns and bind", None),
        ("provider-one-prefix", "pdns", True),
        ("provider-one-prefix", "bind", None),
    ]
    # what the known addresses prove is still said
    found["203.0.113.129"] = AddressOrigin("203.0.113.129", (64500,), "203.0.113.0/24", "t")
    assert verdicts(judge_group(group(found)))[0] == ("provider-asn", "pdns and bind", False)


def _zone(name: str, servers: dict[str, tuple[tuple[str, str], ...]], found: Any) -> ZoneObs:
    ns = tuple(Nameserver(p, n, a) for p, pairs in servers.items() for n, a in pairs)
    lay = ZoneLayout(name, ("pdns", "bind"), ns, (), "example.", origins=found)
    return ZoneObs(lay)


def test_a_thousand_zones_on_the_same_servers_make_one_finding() -> None:
    found = dict(INDEPENDENT)
    found["203.0.113.1"] = AddressOrigin("203.0.113.1", (64500,), "203.0.113.0/25", "test")
    zones = [_zone(f"z{i:04d}.example.", {"pdns": PDNS, "bind": BIND}, found) for i in range(1000)]
    other = {"pdns": PDNS, "bind": BIND[1:]}  # one zone on fewer servers: a group of its own
    zones.append(_zone("odd.example.", other, found))
    judge = Judge()
    check_independence(zones, judge)
    # the odd zone's bind has one address: in one prefix, a notice of its own
    assert [(o.check, o.subject) for o in judge.outcomes] == [
        ("provider-asn", "pdns and bind"),
        ("provider-one-prefix", "bind"),
    ]
    assert judge.outcomes[1].data == {
        "prefix": "203.0.113.128/25",
        "addresses": ["203.0.113.129"],
        "zones": ["odd.example."],
        "zone_count": 1,
    }
    finding = judge.outcomes[0]
    assert finding.data is not None
    assert finding.data["zone_count"] == 1000 and len(finding.data["zones"]) == ZONES_LISTED
    assert finding.data["zones"][:2] == ["z0000.example.", "z0001.example."]
    assert finding.message.endswith(
        "(1000 zones: z0000.example., z0001.example., z0002.example., …)"
    )
    assert {c: dict(t) for c, t in judge.tally.items()} == {
        "provider-asn": {"failed": 1, "passed": 1},
        "provider-prefix": {"passed": 2},
        "provider-one-prefix": {"passed": 3, "failed": 1},
    }


# -- dnsops health on a lab of its own ---------------------------------------------------

PDNS_LAB = [f"{SPARE_NET}.1.1", f"{SPARE_NET}.1.2"]
BIND_LAB = [f"{SPARE_NET}.2.1", f"{SPARE_NET}.2.2"]


@pytest.fixture(scope="module")
def lab(cli_module: Any) -> Iterator[Path]:
    cwd = os.getcwd()  # commands chdir to the project: this is no test's to keep
    with spare_lab("dnsops-indep-") as root:
        try:
            synced = cli_run(cli_module, root, "sync", "--doit", "--force")
        finally:
            os.chdir(cwd)
        assert synced.exit_code == 0, synced.output
        yield root


@pytest.fixture(scope="module")
def cli_module() -> Any:
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def config(lab: Path) -> Iterator[Path]:
    """The lab's dnsops.yaml, put back (and the lab with it) after the test."""
    path = lab / "dnsops.yaml"
    original = path.read_text()
    yield path
    if path.read_text() != original:
        path.write_text(original)
        LabRunner(load_project(path)).up()


def edit(path: Path, old: str, new: str, reload: bool = True) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    if reload:  # the parent re-renders its origin zone and reloads
        LabRunner(load_project(path)).up()


def health(cli: Any, root: Path) -> tuple[int, dict[str, Any]]:
    result = cli_run(cli, root, "health", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def tally(doc: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    rows = {c["id"]: c for c in doc["checks"]}
    return {k: (rows[k]["passed"], rows[k]["failed"], rows[k]["skipped"]) for k in CHECKS}


def mine(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["id"], f["severity"], f["subject"]) for f in doc["findings"] if f["id"] in CHECKS]


@pytest.mark.lab
def test_healthy_lab_each_provider_its_own_as(cli_module: Any, lab: Path) -> None:
    code, doc = health(cli_module, lab)
    assert code == 0 and doc["findings"] == []
    assert tally(doc) == {
        "provider-asn": (1, 0, 0),
        "provider-prefix": (1, 0, 0),
        "provider-one-prefix": (2, 0, 0),
    }
    [group] = doc["independence"]
    rows = {
        p: [(r["address"], r["asns"], r["prefix"]) for r in v]
        for p, v in group["providers"].items()
    }
    assert rows == {
        "pdns": [(a, [64496], f"{a}/32") for a in PDNS_LAB],
        "bind": [(a, [64497], f"{a}/32") for a in BIND_LAB],
    }
    assert {r["source"] for v in group["providers"].values() for r in v} == {"dns origin.asn.test."}
    text = cli_run(cli_module, lab, "health")
    assert (
        f"independence: pdns AS64496 ({PDNS_LAB[0]}/32, {PDNS_LAB[1]}/32); "
        f"bind AS64497 ({BIND_LAB[0]}/32, {BIND_LAB[1]}/32)"
    ) in " ".join(text.stdout.split())


@pytest.mark.lab
def test_both_providers_in_one_as_is_an_error(cli_module: Any, lab: Path, config: Path) -> None:
    edit(config, "      asn: 64497", "      asn: 64496")
    code, doc = health(cli_module, lab)
    assert code == 1
    assert mine(doc) == [("provider-asn", "error", "pdns and bind")]
    [finding] = [f for f in doc["findings"] if f["id"] == "provider-asn"]
    assert finding["message"] == (
        f"pdns and bind are both announced from AS64496 (bind: ns1.bind.test. {BIND_LAB[0]}, "
        f"ns2.bind.test. {BIND_LAB[1]}; pdns: ns1.pdns.test. {PDNS_LAB[0]}, ns2.pdns.test. "
        f"{PDNS_LAB[1]}): one routing incident in that AS takes both providers down at once "
        "(example.test.)"
    )
    assert finding["data"]["asns"] == [64496]
    assert finding["data"]["providers"] == {"pdns": PDNS_LAB, "bind": BIND_LAB}
    assert tally(doc) == {
        "provider-asn": (0, 1, 0),
        "provider-prefix": (1, 0, 0),
        "provider-one-prefix": (2, 0, 0),
    }


@pytest.mark.lab
def test_shared_and_single_prefixes(cli_module: Any, lab: Path, config: Path) -> None:
    # pdns announced in one /24: a notice for pdns alone
    edit(config, "      asn: 64496", f"      asn: 64496\n      prefix: {SPARE_NET}.1.0/24")
    code, doc = health(cli_module, lab)
    assert code == 0
    assert mine(doc) == [("provider-one-prefix", "notice", "pdns")]
    assert tally(doc) == {
        "provider-asn": (1, 0, 0),
        "provider-prefix": (1, 0, 0),
        "provider-one-prefix": (1, 1, 0),
    }
    # both announced in one /16 (each by its own AS): a warning, and a notice each
    wide = f"{SPARE_NET}.0.0/16"
    edit(config, f"      prefix: {SPARE_NET}.1.0/24", f"      prefix: {wide}")
    edit(config, "      asn: 64497", f"      asn: 64497\n      prefix: {wide}")
    code, doc = health(cli_module, lab)
    assert code == 0
    assert mine(doc) == [
        ("provider-prefix", "warning", "pdns and bind"),
        ("provider-one-prefix", "notice", "bind"),
        ("provider-one-prefix", "notice", "pdns"),
    ]
    [shared] = [f for f in doc["findings"] if f["id"] == "provider-prefix"]
    assert shared["data"]["prefixes"] == {wide: {"pdns": PDNS_LAB, "bind": BIND_LAB}}
    assert shared["message"].startswith(
        f"pdns and bind have nameservers in the same announced prefix ({wide}: pdns "
        f"ns1.pdns.test. {PDNS_LAB[0]}, ns2.pdns.test. {PDNS_LAB[1]}, bind ns1.bind.test. "
    )


LAB_ORIGINS = "asn_lookup: {origin: origin.asn.test., origin6: origin6.asn.test.}"


@pytest.mark.lab
def test_origin_zone_absent_no_false_finding(cli_module: Any, lab: Path, config: Path) -> None:
    edit(config, LAB_ORIGINS, "asn_lookup: {origin: origin.nowhere.test.}", reload=False)
    code, doc = health(cli_module, lab)
    assert code == 0 and doc["findings"] == []
    assert tally(doc) == {
        "provider-asn": (0, 0, 1),
        "provider-prefix": (0, 0, 1),
        "provider-one-prefix": (0, 0, 2),
    }
    [group] = doc["independence"]
    problems = {r["address"]: r["problem"] for v in group["providers"].values() for r in v}
    reversed_ = ".".join(reversed(PDNS_LAB[0].split(".")))
    assert problems[PDNS_LAB[0]] == (
        f"no origin data at {reversed_}.origin.nowhere.test.: nowhere.test. does not exist "
        "in test. (NXDOMAIN)"
    )
    assert group["skipped"].startswith(f"{PDNS_LAB[0]}: no origin data at ")
    text = cli_run(cli_module, lab, "health")
    assert (
        "independence: pdns AS unknown, 2 address(es) without origin data; bind AS "
        "unknown, 2 address(es) without origin data (checks skipped: "
        in " ".join(text.stdout.split())
    )


@pytest.mark.lab
@pytest.mark.parametrize(
    ("prefixes", "found", "code"),
    [
        (  # every address its own /32, all in one AS
            [f"{a}/32 64500" for a in PDNS_LAB + BIND_LAB],
            [("provider-asn", "error", "pdns and bind")],
            1,
        ),
        (  # pdns in one /24 of its own AS, bind's addresses each their own
            [f"{SPARE_NET}.1.0/24 64500"] + [f"{a}/32 AS64501" for a in BIND_LAB],
            [("provider-one-prefix", "notice", "pdns")],
            0,
        ),
        (  # everything in one /16: one AS, one prefix
            [f"{SPARE_NET}.0.0/16 64500", "0.0.0.0/0 64999"],
            [
                ("provider-asn", "error", "pdns and bind"),
                ("provider-prefix", "warning", "pdns and bind"),
                ("provider-one-prefix", "notice", "bind"),
                ("provider-one-prefix", "notice", "pdns"),
            ],
            1,
        ),
    ],
)
def test_offline_prefix_file(
    cli_module: Any, lab: Path, config: Path, prefixes: list[str], found: Any, code: int
) -> None:
    (lab / "prefixes.txt").write_text("\n".join(prefixes) + "\n")
    edit(config, LAB_ORIGINS, "asn_lookup: {prefix_file: prefixes.txt}", reload=False)
    got, doc = health(cli_module, lab)
    assert got == code
    assert mine(doc) == found
    [group] = doc["independence"]
    assert {r["source"] for v in group["providers"].values() for r in v} == {"file prefixes.txt"}


@pytest.mark.lab
def test_offline_prefix_file_bad_line(cli_module: Any, lab: Path, config: Path) -> None:
    (lab / "prefixes.txt").write_text(f"{SPARE_NET}.0.0/16 64500\n{SPARE_NET}.1.0/24 sixty\n")
    edit(config, LAB_ORIGINS, "asn_lookup: {prefix_file: prefixes.txt}", reload=False)
    result = cli_run(cli_module, lab, "health")
    assert result.exit_code == 1
    assert "prefixes.txt:2: 'sixty' is not an AS number (64500 or AS64500)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.lab
def test_origins_are_looked_up_once_per_command(lab: Path) -> None:
    env = Env(load_project(lab / "dnsops.yaml"))
    before = COUNTS["origin-lookup"]
    first = env.origins(PDNS_LAB + BIND_LAB)
    assert env.origins(list(reversed(PDNS_LAB))) == {a: first[a] for a in reversed(PDNS_LAB)}
    assert COUNTS["origin-lookup"] == before + 1
    assert all(o.known for o in first.values())
    assert re.fullmatch(r"dns origin\.asn\.test\.", first[PDNS_LAB[0]].source)


def test_a_lookup_that_fails_or_runs_out_of_time_gives_no_origin() -> None:
    """Nothing listens on the root hint (an unused address of the test net): every
    address is unknown, with why, and the judge skips (test_judge_unknown_origin_...)."""
    import asyncio

    from dnsops.independence import lookup_dns
    from dnsops.probe.engine import Engine
    from dnsops.probe.walk import Server, Walker

    dead = f"{SPARE_NET}.250.9"
    addresses = ["192.0.2.1", "2001:db8::1", "192.0.2.1"]

    def walker() -> Walker:
        return Walker([Server("a.root-servers.lab.", dead)], Engine(timeout=0.3, retries=0))

    zones = ("origin.asn.test.", "origin6.asn.test.")
    failed = asyncio.run(lookup_dns(walker(), addresses, *zones, deadline=10, concurrency=2))
    assert sorted(failed) == ["192.0.2.1", "2001:db8::1"]
    for origin in failed.values():
        assert not origin.known and origin.asns == ()
        assert origin.problem is not None and origin.problem.startswith("origin lookup failed: ")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # reads nothing
        silent.bind((dead, 0))
        hint = Server("a.root-servers.lab.", dead, silent.getsockname()[1])
        slow = Walker([hint], Engine(timeout=5, retries=0))
        late = asyncio.run(lookup_dns(slow, addresses, *zones, deadline=0.2, concurrency=1))
    assert {o.problem for o in late.values()} == {"origin lookup did not finish within 0.2 s"}
