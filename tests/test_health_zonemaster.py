"""The catalogue against Zonemaster: its levels by default, every test case accounted for."""

from __future__ import annotations

import json

from dnsops.cli.app import app
from dnsops.health.checks import CATALOGUE
from dnsops.health.zonemaster import TEST_CASES, markdown

# zonemaster-engine share/profile.json (test_levels), the tags the catalogue names
PROFILE = {
    "B02_NO_WORKING_NS": "critical",
    "CN01_NO_RESPONSE_UDP": "warning",
    "CN02_NO_RESPONSE_TCP": "warning",
    "IS_NOT_AUTHORITATIVE": "warning",
    "SOA_NOT_EXISTS": "error",
    "IS_A_RECURSOR": "error",
    "AXFR_AVAILABLE": "notice",
    "EDNS_RESPONSE_WITHOUT_EDNS": "error",
    "BREAKS_ON_EDNS": "error",
    "N10_UNEXPECTED_RCODE": "warning",
    "N11_UNEXPECTED_RCODE": "warning",
    "Z_FLAGS_NOTCLEAR": "warning",
    "MISSING_OPT_IN_TRUNCATED": "warning",
    "CASE_QUERY_DIFFERENT_ANSWER": "warning",
    "UPWARD_REFERRAL": "warning",
    "MULTIPLE_SOA_SERIALS": "warning",
    "MULTIPLE_SOA_RNAMES": "notice",
    "MULTIPLE_SOA_TIME_PARAMETER_SET": "notice",
    "MULTIPLE_NS_SET": "notice",
    "CAN_NOT_BE_RESOLVED": "error",
    "NS_IS_CNAME": "error",
    "SAME_IP_ADDRESS": "error",
    "EXTRA_NAME_PARENT": "error",
    "IN_BAILIWICK_ADDR_MISMATCH": "error",
    "REFERRAL_SIZE_TOO_LARGE": "warning",
    "IPV4_SAME_ASN": "notice",
    "CN04_IPV4_SAME_PREFIX": "notice",
    "CN04_IPV4_SINGLE_PREFIX": "warning",
}


def test_each_check_takes_zonemasters_level_or_says_why_not() -> None:
    for c in CATALOGUE.values():
        _, _, tag = c.zonemaster.partition(" ")
        if not c.zonemaster:
            assert c.basis, f"{c.id}: no Zonemaster counterpart and no basis for its level"
            continue
        assert tag in PROFILE, f"{c.id}: tag {tag!r} not in the profile table"
        if str(c.severity) != PROFILE[tag]:
            assert c.basis, f"{c.id}: {c.severity} departs from {tag}'s {PROFILE[tag]} silently"
    # the levels the issue called out
    got = {i: str(CATALOGUE[i].severity) for i in ("ns-udp", "ns-tcp", "ns-aa")}
    assert got == {"ns-udp": "warning", "ns-tcp": "warning", "ns-aa": "warning"}
    assert str(CATALOGUE["apex-ns-consistent"].severity) == "notice"


def test_every_zonemaster_test_case_is_covered_or_has_a_reason() -> None:
    ids = [t.id for t in TEST_CASES]
    assert len(ids) == len(set(ids)) == 74
    known = set(ids)
    for c in CATALOGUE.values():
        assert c.test_case is None or c.test_case in known, c.id
    for t in TEST_CASES:
        ways = [bool(t.checks), bool(t.by), bool(t.reason)]
        assert sum(ways) == 1, f"{t.id}: exactly one of checks, by, reason ({ways})"
    table = markdown()
    assert table.count("\n") == 74 + 2
    assert "| [CONNECTIVITY03](" in table and "`provider-asn`" in table
    assert "| [CONSISTENCY06](" in table and "— not applicable to a two-provider setup" in table


def test_list_checks_names_the_zonemaster_test_case(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli.invoke(app, ["health", "--list-checks", "--format", "json"])
    assert result.exit_code == 0, result.output
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["ns-udp"]["zonemaster"] == "CONNECTIVITY01 CN01_NO_RESPONSE_UDP"
    assert checks["provider-down"]["zonemaster"] is None
    assert checks["provider-down"]["basis"].startswith("dnsops: no Zonemaster counterpart")
    text = cli.invoke(app, ["health", "--list-checks"], terminal_width=200)
    assert text.exit_code == 0
    [line] = [x for x in text.stdout.splitlines() if "ns-edns-breaks" in x]
    assert "NAMESERVER02" in line
