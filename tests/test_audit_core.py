"""The audit's pure core: hand-built views in, exact drift findings out. No servers."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar

import dns.name
import pytest
from octodns.provider.base import BaseProvider
from octodns.record import Record
from octodns.zone import Zone

from dnsops.audit import convert
from dnsops.audit.core import compare, counts, managed
from dnsops.audit.model import Capabilities, Key, ProviderViews, RRset, Served, ZoneViews
from dnsops.expect import Refusal
from dnsops.findings import Severity

ZONE = "example.test."
FULL = Capabilities("Full", frozenset({"A", "AAAA", "CAA", "MX", "NS", "TXT", "SPF"}), True)


def rr(rtype: str, ttl: int, *values: str) -> RRset:
    return RRset(ttl, frozenset(convert.text_value(rtype, v, dns.name.root) for v in values))


API = ("api.example.test.", "A")
APEX_NS = (ZONE, "NS")
SOURCE: dict[Key, RRset] = {
    API: rr("A", 60, "192.0.2.20", "192.0.2.21"),
    ("mx1.example.test.", "A"): rr("A", 3600, "192.0.2.25"),
    (ZONE, "MX"): rr("MX", 3600, "10 mx1.example.test."),
    APEX_NS: rr("NS", 86400, "ns1.a.test.", "ns1.b.test."),
}


SAME: dict[Key, RRset] = {}  # sentinel: the API holds the source


def provider(
    name: str = "a",
    caps: Capabilities = FULL,
    api: dict[Key, RRset] | None = SAME,
    served: tuple[Served, ...] = (),
    source: dict[Key, RRset] | None = None,
    **kw: Any,
) -> ProviderViews:
    src = SOURCE if source is None else source
    return ProviderViews(name, caps, src, dict(src) if api is SAME else api, served=served, **kw)


def zone(*providers: ProviderViews, source: dict[Key, RRset] | None = None) -> ZoneViews:
    return ZoneViews(
        ZONE, SOURCE if source is None else source, providers, {API: ("zones/e.yaml", 40)}
    )


def axfr(records: dict[Key, RRset], ns: str = "ns1.a.test. 127.0.0.1") -> Served:
    return Served(ns, "axfr", records)


def brief(findings: list[Any]) -> list[tuple[str, str | None, str]]:
    return [(f.id, f.provider, f.subject) for f in findings]


def test_identical_views_are_consistent() -> None:
    soa = {(ZONE, "SOA"): rr("SOA", 3600, "ns1.a.test. h.a.test. 7 3600 600 86400 60")}
    both = (provider("a", served=(axfr({**SOURCE, **soa}),)), provider("b"))
    assert compare(zone(*both)) == []


def test_control_plane_classes_with_exact_data() -> None:
    api = dict(SOURCE)
    api[API] = rr("A", 300, "192.0.2.99")  # values and TTL both differ
    del api[("mx1.example.test.", "A")]
    api[("new.example.test.", "TXT")] = rr("TXT", 300, '"oob"')
    api[(ZONE, "MX")] = rr("MX", 60, "10 MX1.example.test.")  # same value, case differs
    found = compare(zone(provider("a", api=api), provider("b")))
    assert brief(found) == [
        ("missing", "a", "mx1.example.test. A"),
        ("extra", "a", "new.example.test. TXT"),
        ("values-differ", "a", "api.example.test. A"),
        ("ttl-differs", "a", "api.example.test. A"),
        ("ttl-differs", "a", "example.test. MX"),
    ]
    values = found[2]
    assert values.severity is Severity.ERROR
    assert (values.zone, values.file, values.line) == (ZONE, "zones/e.yaml", 40)
    assert values.data == {
        "class": "values-differ",
        "zone": ZONE,
        "provider": "a",
        "name": "api.example.test.",
        "type": "A",
        "view": "api",
        "against": "source",
        "expected": {"ttl": 60, "values": ["192.0.2.20", "192.0.2.21"]},
        "actual": {"ttl": 300, "values": ["192.0.2.99"]},
    }
    assert values.message == "a (API) holds 192.0.2.99; the source says 192.0.2.20 192.0.2.21"
    assert found[0].data is not None and found[0].data["actual"] is None


def test_served_differs_from_api_each_way() -> None:
    served = dict(SOURCE)
    served[API] = rr("A", 60, "192.0.2.20")  # a stale replica
    served[("mx1.example.test.", "A")] = rr("A", 30, "192.0.2.25")
    del served[(ZONE, "MX")]
    served[("leak.example.test.", "A")] = rr("A", 60, "10.0.0.1")
    found = compare(zone(provider("a", served=(axfr(served),))))
    assert [(f.id, f.subject, (f.data or {})["detail"]) for f in found] == [
        ("served-differs-from-api", "api.example.test. A", "values"),
        ("served-differs-from-api", "example.test. MX", "not-served"),
        ("served-differs-from-api", "leak.example.test. A", "not-in-api"),
        ("served-differs-from-api", "mx1.example.test. A", "ttl"),
    ]
    first = found[0].data or {}
    assert (first["view"], first["against"], first["nameserver"], first["method"]) == (
        "served",
        "api",
        "ns1.a.test. 127.0.0.1",
        "axfr",
    )
    assert first["expected"] == {"ttl": 60, "values": ["192.0.2.20", "192.0.2.21"]}
    assert first["actual"] == {"ttl": 60, "values": ["192.0.2.20"]}


def test_per_record_queries_see_only_what_was_asked() -> None:
    asked = frozenset(SOURCE)
    records = {k: v for k, v in SOURCE.items() if k != ("mx1.example.test.", "A")}
    records[("other.example.test.", "A")] = rr("A", 60, "10.0.0.1")  # not asked: ignored
    served = Served(
        "ns1 127.0.0.1", "queries", records, asked=asked, failed={API: "timeout after 3 tries"}
    )
    found = compare(zone(provider("a", served=(served,))))
    assert [(f.subject, f.message) for f in found] == [
        ("api.example.test. A", "ns1 127.0.0.1 gave no answer (timeout after 3 tries)"),
        (
            "mx1.example.test. A",
            "ns1 127.0.0.1 does not serve it; the API holds 192.0.2.25 (TTL 3600)",
        ),
    ]


def test_an_unreadable_view_is_drift_not_silence() -> None:
    down = Served("ns2.a.test. 127.0.0.2", "axfr", error="zone transfer failed: REFUSED")
    found = compare(
        zone(
            provider("a", served=(axfr(SOURCE), down)),
            provider("b", api=None, api_error="PowerDNS unauthorized host=127.0.0.9"),
        )
    )
    assert [(f.id, f.provider, f.message) for f in found] == [
        (
            "view-unavailable",
            "a",
            "ns2.a.test. 127.0.0.2 could not be read (axfr): zone transfer failed: REFUSED",
        ),
        (
            "view-unavailable",
            "b",
            "b's API could not be read: PowerDNS unauthorized host=127.0.0.9",
        ),
    ]


def test_types_octodns_cannot_hold_are_never_compared() -> None:
    internals = {
        (ZONE, "SOA"): rr("SOA", 3600, "ns1.a.test. h.a.test. 7 3600 600 86400 60"),
        (ZONE, "TYPE65534"): rr("TYPE65534", 0, r"\# 5 0800010000"),
        (ZONE, "DNSKEY"): rr("DNSKEY", 3600, "257 3 13 " + "A" * 88),
    }
    found = compare(zone(provider("a", api={**SOURCE, **internals}, served=(axfr(internals),))))
    # the served view lacks every source record: those are found; its internals are not
    assert {f.subject for f in found} == {f"{k[0]} {k[1]}" for k in SOURCE}


def test_apex_ns_left_to_a_provider_without_root_ns_support() -> None:
    no_root = Capabilities("NoRoot", FULL.supports, False)
    api = dict(SOURCE)
    api[APEX_NS] = rr("NS", 172800, "ns-1.provider.example.")
    assert compare(zone(provider("a", no_root, api=api, served=(axfr(api),)))) == []
    # with SUPPORTS_ROOT_NS the apex NS is octoDNS's, so a difference is drift
    assert brief(compare(zone(provider("a", FULL, api=api)))) == [
        ("values-differ", "a", "example.test. NS"),
        ("ttl-differs", "a", "example.test. NS"),
    ]
    # ... unless the source declares no apex NS at all
    bare = {k: v for k, v in SOURCE.items() if k != APEX_NS}
    assert compare(zone(provider("a", FULL, api=api, source=bare), source=bare)) == []


def test_records_octodns_skips_for_a_provider_are_not_compared() -> None:
    found = compare(zone(provider("a", api={}, skip=frozenset(SOURCE))))
    assert found == []


def test_a_type_one_provider_cannot_hold_is_unsupported_there_only() -> None:
    key = ("mail.example.test.", "SPF")
    spf = {**SOURCE, key: rr("SPF", 3600, '"v=spf1 -all"')}
    nospf = Capabilities("NoSpfProvider", FULL.supports - {"SPF"}, True)
    api_b = {k: v for k, v in spf.items() if k[1] != "SPF"}
    # the zone's expectation (dnsops.expect) says b will not hold it, and why
    refusal = Refusal("b", *key, "b (tests.NoSpfProvider) does not support SPF records")

    def views(refused: Refusal) -> ZoneViews:
        b = provider("b", nospf, api_b, source=api_b, skip=frozenset({key}), refused=(refused,))
        return zone(provider("a", api=spf, source=spf), b, source=spf)

    found = compare(views(refusal))
    assert brief(found) == [("unsupported-by-one-provider", "b", "mail.example.test. SPF")]
    f = found[0]
    assert f.message == (
        "b (tests.NoSpfProvider) does not support SPF records; a can: "
        "the zone is not dual for this record"
    )
    assert f.data is not None
    assert (f.data["supported_by"], f.data["provider_class"]) == (["a"], "NoSpfProvider")
    assert f.data["expected"] == {"ttl": 3600, "values": ['"v=spf1 -all"']}
    # acknowledged in the zone file: listed by the audit, not drift
    acknowledged = dataclasses.replace(refusal, acknowledged="legacy receivers")
    assert compare(views(acknowledged)) == []
    assert views(acknowledged).provider("b").acknowledged == [acknowledged]


class _NoCaaProvider(BaseProvider):
    """A synthetic octoDNS provider class: it declares no CAA support."""

    log = logging.getLogger("NoCaaProvider")
    SUPPORTS_GEO = False
    SUPPORTS_ROOT_NS = True
    SUPPORTS: ClassVar[set[str]] = {"A", "AAAA", "MX", "NS", "TXT"}


def test_capabilities_are_read_from_the_octodns_class() -> None:
    from dnsops.lint.capabilities import ProviderCaps

    caps = Capabilities.of(ProviderCaps.of("nocaa", "tests._NoCaaProvider", _NoCaaProvider))
    assert caps == Capabilities("_NoCaaProvider", frozenset({"A", "AAAA", "MX", "NS", "TXT"}), True)


def test_managed_rule() -> None:
    assert managed(API, ZONE, FULL, SOURCE)
    assert not managed((ZONE, "SOA"), ZONE, FULL, SOURCE)
    assert managed(APEX_NS, ZONE, FULL, SOURCE)
    assert not managed(APEX_NS, ZONE, Capabilities("x", FULL.supports, False), SOURCE)
    assert managed(("sub.example.test.", "NS"), ZONE, Capabilities("x", FULL.supports, False), {})


def test_octodns_records_and_served_rdata_compare_canonically() -> None:
    z = Zone(ZONE, [])
    long_txt = "v=DKIM1; k=rsa; p=" + "A" * 400
    for name, data in {
        "dkim": {"type": "TXT", "ttl": 300, "value": long_txt.replace(";", "\\;")},
        "mx": {
            "type": "MX",
            "ttl": 300,
            "value": {"preference": 10, "exchange": "Mail.Example.test."},
        },
        "www": {"type": "CNAME", "ttl": 300, "value": "example.test."},
    }.items():
        z.add_record(Record.new(z, name, data))
    view = convert.zone_view(z)
    # as a nameserver might serve them: other chunking, other case
    chunks = " ".join(f'"{long_txt[i : i + 100]}"' for i in range(0, len(long_txt), 100))
    served = {
        ("dkim.example.test.", "TXT"): rr("TXT", 300, chunks),
        ("mx.example.test.", "MX"): rr("MX", 300, "10 mail.example.test."),
        ("www.example.test.", "CNAME"): rr("CNAME", 300, "EXAMPLE.test."),
    }
    assert view == served
    assert view[("www.example.test.", "CNAME")].texts("CNAME") == ["example.test."]
    assert served[("dkim.example.test.", "TXT")].texts("TXT") == [
        f'"{long_txt[:255]}" "{long_txt[255:]}"'
    ]


def test_counts_per_zone_provider_and_class() -> None:
    api = {k: v for k, v in SOURCE.items() if k != API}
    found = compare(zone(provider("a", api=api), provider("b", api={})))
    assert counts(found) == {ZONE: {"a": {"missing": 1}, "b": {"missing": 4}}}


@pytest.mark.parametrize("rtype", ["ALIAS", "URLFWD"])
def test_octodns_only_types_are_not_asked_of_nameservers(rtype: str) -> None:
    from dnsops.audit.core import on_wire

    assert not on_wire(rtype)
    assert on_wire("CAA") and on_wire("TYPE65534")
