"""dnsops.imports.core with hand-built octoDNS zones: what is kept, left out, different."""

from __future__ import annotations

from typing import Any

from octodns.record import Record
from octodns.zone import Zone

from dnsops.imports.core import Difference, LeftOut, Side, differences, strict
from dnsops.octo import _dynamic_entry
from dnsops.zones import enable_validators

ZONE = "example.test."


def zone(*records: tuple[str, dict[str, Any]]) -> Zone:
    """A zone as a lenient populate fills it."""
    z = Zone(ZONE, [])
    for name, data in records:
        z.add_record(Record.new(z, name, data, lenient=True), lenient=True)
    return z


def test_strict_keeps_what_loads_and_lists_the_rest() -> None:
    enable_validators(["legacy", "best-practice"])
    read = zone(
        ("", {"type": "A", "ttl": 300, "value": "192.0.2.1"}),
        ("www", {"type": "CNAME", "ttl": 300, "value": "example.test"}),  # no final dot
        ("dkim", {"type": "TXT", "ttl": 300, "value": "v=DKIM1\\; k=rsa\\; p=abc"}),
    )
    kept = strict(read)
    assert sorted(r.name for r in kept.zone.records) == ["", "dkim"]
    assert kept.left_out == [
        LeftOut(
            "www.example.test.",
            "CNAME",
            'CNAME value "example.test" missing trailing ., via: target-value-best-practice',
        )
    ]


def test_strict_leaves_out_what_a_zone_validator_names() -> None:
    enable_validators(["legacy", "best-practice"])
    kept = strict(zone(("", {"type": "TXT", "ttl": 300, "value": "v=spf1 mx -all"})))
    assert list(kept.zone.records) == []
    (left,) = kept.left_out
    assert (left.name, left.type) == (ZONE, "TXT")
    assert left.reason == (
        'zone "example.test." handles mail but is missing MX records at the apex '
        "(via mail); "
        'zone "example.test." handles mail but is missing a DMARC TXT record at _dmarc '
        "(via mail)"
    )


def test_differences_by_kind() -> None:
    a = zone(
        ("api", {"type": "A", "ttl": 60, "values": ["192.0.2.20", "192.0.2.21"]}),
        ("mx1", {"type": "A", "ttl": 3600, "value": "192.0.2.25"}),
        ("only", {"type": "A", "ttl": 300, "value": "192.0.2.9"}),
        ("same", {"type": "TXT", "ttl": 300, "value": "x" * 300}),
    )
    b = zone(
        ("api", {"type": "A", "ttl": 60, "value": "192.0.2.99"}),
        ("mx1", {"type": "A", "ttl": 300, "value": "192.0.2.25"}),
        ("same", {"type": "TXT", "ttl": 300, "value": "x" * 300}),
        ("theirs", {"type": "AAAA", "ttl": 300, "value": "2001:db8::1"}),
    )
    assert differences([("pdns", a), ("bind", b)]) == [
        Difference(
            "api.example.test.",
            "A",
            "values",
            (
                ("pdns", Side(60, ("192.0.2.20", "192.0.2.21"))),
                ("bind", Side(60, ("192.0.2.99",))),
            ),
        ),
        Difference(
            "mx1.example.test.",
            "A",
            "ttl",
            (("pdns", Side(3600, ("192.0.2.25",))), ("bind", Side(300, ("192.0.2.25",)))),
        ),
        Difference(
            "only.example.test.",
            "A",
            "only-on-pdns",
            (("pdns", Side(300, ("192.0.2.9",))), ("bind", None)),
        ),
        Difference(
            "theirs.example.test.",
            "AAAA",
            "only-on-bind",
            (("pdns", None), ("bind", Side(300, ("2001:db8::1",)))),
        ),
    ]
    assert differences([("pdns", a), ("bind", a)]) == []


def test_a_zone_without_a_file_gets_the_dynamic_entry() -> None:
    zones = {
        "fixed.test.": {"targets": ["a"]},
        "*shop": {"glob": "*.shop.test.", "targets": ["b"]},
        "*": {"targets": ["c"], "processors": ["p"]},
    }
    assert _dynamic_entry(zones, "fixed.test.") == {"targets": ["a"]}
    assert _dynamic_entry(zones, "eu.shop.test.") == {"targets": ["b"]}
    assert _dynamic_entry(zones, "other.test.") == {"targets": ["c"], "processors": ["p"]}
    assert _dynamic_entry({"fixed.test.": {}}, "other.test.") is None


def test_both_providers_nameservers_at_the_apex() -> None:
    """Each provider serves its own apex NS: the file names both (a zone delegated to two
    providers lists both, as lint's apex-ns-both-providers asks)."""
    from octodns.record import Record
    from octodns.zone import Zone

    from dnsops.imports.run import _both_apex_ns

    def zone(*ns: str) -> Zone:
        z = Zone("shop.test.", [])
        z.add_record(Record.new(z, "", {"type": "NS", "ttl": 172800, "values": list(ns)}))
        z.add_record(Record.new(z, "www", {"type": "A", "ttl": 300, "value": "192.0.2.1"}))
        return z

    r53 = zone("ns-1.awsdns-01.org.", "ns-2.awsdns-02.net.")
    ns1 = zone("dns1.p01.nsone.net.", "dns2.p01.nsone.net.")
    merged, names = _both_apex_ns(r53, [r53, ns1])
    assert names == [
        "dns1.p01.nsone.net.",
        "dns2.p01.nsone.net.",
        "ns-1.awsdns-01.org.",
        "ns-2.awsdns-02.net.",
    ]
    (apex,) = [r for r in merged.records if r.name == "" and r._type == "NS"]
    assert (apex.ttl, list(apex.values)) == (172800, names)
    assert len(merged.records) == 2
    assert [list(r.values) for r in r53.records if r._type == "NS"] == [
        ["ns-1.awsdns-01.org.", "ns-2.awsdns-02.net."]
    ]  # the provider's zone as read is left alone
    same, none = _both_apex_ns(r53, [r53, zone("ns-1.awsdns-01.org.")])
    assert (same, none) == (r53, None)
