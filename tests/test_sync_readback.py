"""dnsops.octo.read_back: records read back from a provider, built without octoDNS's
re-validation, are exactly the records octoDNS's own populate builds.

octodns-powerdns's populate is fed one API answer (the JSON PowerDNS 4.7 returns, with
records of every type it supports, and records octoDNS's validators object to: lenient
populate keeps those with a warning); BIND's populate reads a zone through the AXFR
reader (tests/test_sync_axfr.py's server). Both are run once as octoDNS runs them and
once within ``read_back``: record by record, the same class, name, TTL, data, values
(their types too) and octoDNS equality, and no change between the two zones.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from octodns.record import Record
from octodns.zone import Zone
from octodns_powerdns import PowerDnsProvider

from dnsops import octo
from dnsops.sync import axfr
from tests.test_sync_axfr import AxfrServer, provider, signed_transfer

ORIGIN = "example.test."


def rrset(name: str, rtype: str, ttl: int, *contents: str) -> dict[str, Any]:
    records = [{"content": c, "disabled": False} for c in contents]
    return {"name": name, "type": rtype, "ttl": ttl, "records": records, "comments": []}


RRSETS = [
    rrset(ORIGIN, "SOA", 3600, "ns1.pdns.test. hostmaster.example.test. 7 3600 600 604800 60"),
    rrset(ORIGIN, "NS", 86400, "ns1.bind.test.", "ns1.pdns.test."),
    rrset(ORIGIN, "A", 3600, "192.0.2.10", "192.0.2.11"),
    rrset(ORIGIN, "MX", 3600, "10 mx1.example.test.", "20 mx2.example.test."),
    rrset(ORIGIN, "TXT", 3600, '"v=spf1 mx -all"', '"a \\"quoted\\" one\\; with semicolons"'),
    rrset(ORIGIN, "CAA", 86400, '0 issue "letsencrypt.org"', '0 issuewild ";"'),
    rrset("api.example.test.", "A", 60, "192.0.2.20", "192.0.2.21"),
    rrset("v6.example.test.", "AAAA", 300, "2001:db8::1", "2001:db8::1:0:0:1"),
    rrset("www.example.test.", "CNAME", 300, "api.example.test."),
    rrset("_sip._tcp.example.test.", "SRV", 600, "10 20 5060 sip.example.test."),
    rrset("sub.example.test.", "NS", 86400, "ns1.elsewhere.example.", "ns2.elsewhere.example."),
    rrset("*.wild.example.test.", "A", 300, "192.0.2.30"),
    rrset("10.2.0.192.in-addr.example.test.", "PTR", 300, "host.example.test."),
    rrset("ssh.example.test.", "SSHFP", 300, "1 2 " + "cd" * 32),
    rrset("_443._tcp.example.test.", "TLSA", 300, "3 1 1 " + "ab" * 32),
    rrset("loc.example.test.", "LOC", 300, "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
    rrset("naptr.example.test.", "NAPTR", 300, '100 10 "S" "SIP+D2U" "" _sip._udp.example.test.'),
    rrset("ds.example.test.", "DS", 300, "60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118"),
    rrset("alias.example.test.", "ALIAS", 300, "api.example.test."),
    rrset("xn--bcher-kva.example.test.", "A", 300, "192.0.2.50"),
    rrset("long.example.test.", "TXT", 300, '"' + "x" * 255 + '" "' + "y" * 100 + '"'),
    # what octoDNS's validators object to (lenient: kept, with a warning)
    rrset("semi.example.test.", "TXT", 300, '"unescaped; semicolon"'),
    rrset("lowttl.example.test.", "A", 0, "192.0.2.60"),
    rrset("under_score.example.test.", "CNAME", 300, "api.example.test."),
    rrset("relative.example.test.", "CNAME", 300, "api.example.test"),
    rrset("mx0.example.test.", "MX", 300, "0 ."),
    rrset("cname.example.test.", "CNAME", 300, "."),
    rrset("srvbad.example.test.", "SRV", 300, "10 20 5060 sip.example.test."),
    rrset("dup.example.test.", "A", 300, "192.0.2.70", "192.0.2.70"),
    rrset("caabad.example.test.", "CAA", 300, '0 nosuchtag "x"'),
    rrset("unsupported.example.test.", "HINFO", 300, '"cpu" "os"'),
]


class _Response:
    def __init__(self, doc: Any) -> None:
        self._doc = doc

    def json(self) -> Any:
        return self._doc


def powerdns(rrsets: list[dict[str, Any]]) -> PowerDnsProvider:
    provider = PowerDnsProvider("pdns", "192.0.2.1", "not-a-key", enable_dynamic=False)
    answers = {
        "": {"version": "4.7.3"},
        f"zones/{ORIGIN}": {"name": ORIGIN, "rrsets": rrsets},
    }
    provider._get = lambda path, data=None: _Response(answers[path])  # type: ignore[method-assign]
    return provider


@contextlib.contextmanager
def record_log_level(level: int) -> Iterator[None]:
    root = logging.getLogger()
    old = root.level
    root.setLevel(level)
    try:
        yield
    finally:
        root.setLevel(old)


def populate(provider: Any, fast: bool) -> Zone:
    zone = Zone(ORIGIN, [])
    with octo.read_back() if fast else contextlib.nullcontext():
        provider.populate(zone, target=True, lenient=True)
    return zone


def described(zone: Zone) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Everything a record is: class, names, TTL, data, values with their types."""
    out = {}
    for r in zone.records:
        values = r.values if hasattr(r, "values") else [r.value]
        out[(r.fqdn, r._type)] = (
            type(r),
            r.name,
            r.decoded_name,
            r.ttl,
            r.data,
            [(type(v), v) for v in values],
            r._octodns,
            r.source,
            r.lenient,
            r.rr_values if hasattr(r, "rr_values") else None,
        )
    return out


def assert_same(slow: Zone, fast: Zone, target: Any) -> None:
    a, b = described(slow), described(fast)
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key] == b[key], key
    theirs = {(r.fqdn, r._type): r for r in fast.records}
    for r in slow.records:
        other = theirs[(r.fqdn, r._type)]
        assert r == other and r.changes(other, target) is None and other.changes(r, target) is None
    assert not slow.changes(fast, target) and not fast.changes(slow, target)


def test_powerdns_records_are_those_of_octodns_populate(caplog: pytest.LogCaptureFixture) -> None:
    provider = powerdns(RRSETS)
    with record_log_level(logging.ERROR):
        slow, fast = populate(provider, fast=False), populate(provider, fast=True)
    assert len(slow.records) == len(RRSETS) - 2  # SOA and HINFO are not supported
    assert_same(slow, fast, provider)


def test_validation_is_skipped_only_when_its_warnings_would_be_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = powerdns(RRSETS)
    with record_log_level(logging.ERROR):
        registry = Record.validators
        validated = registry.process_record
        calls: list[str] = []

        def counting(record_cls: Any, name: str, fqdn: str, *args: Any, **kwargs: Any) -> Any:
            calls.append(fqdn)
            return validated(record_cls, name, fqdn, *args, **kwargs)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(registry, "process_record", counting)
            populate(provider, fast=True)
            assert calls == []  # nobody would see the warnings: not validated
            populate(provider, fast=False)
            assert calls  # outside read_back: octoDNS's own populate
    caplog.clear()
    with record_log_level(logging.WARNING), caplog.at_level(logging.WARNING, "Record"):
        slow = populate(provider, fast=False)
        warned = sorted(r.getMessage() for r in caplog.records if r.name == "Record")
        caplog.clear()
        fast = populate(provider, fast=True)  # the warnings are shown: validated as before
        assert sorted(r.getMessage() for r in caplog.records if r.name == "Record") == warned
    assert warned  # the lenient records above do warn
    assert_same(slow, fast, provider)


@pytest.mark.parametrize(
    "bad",
    [
        rrset("badip.example.test.", "A", 300, "192.0.2.999"),
        rrset("badv6.example.test.", "AAAA", 300, "2001:db8::zz"),
        rrset("short.example.test.", "MX", 300, "10"),
    ],
    ids=["ipv4", "ipv6", "mx"],
)
def test_records_octodns_cannot_build_fail_the_same_way(bad: dict[str, Any]) -> None:
    provider = powerdns([bad])
    failures = []
    with record_log_level(logging.ERROR):
        for fast in (False, True):
            with pytest.raises(Exception) as info:
                populate(provider, fast=fast)
            failures.append((type(info.value), str(info.value)))
    assert failures[0] == failures[1]


def test_strict_reads_still_refuse_invalid_records() -> None:
    provider = powerdns([rrset(ORIGIN, "CNAME", 300, "api.example.test.")])
    with record_log_level(logging.ERROR), octo.read_back():
        zone = Zone(ORIGIN, [])
        with pytest.raises(Exception, match="root CNAME"):
            provider.populate(zone, target=False, lenient=False)


def test_bind_records_are_those_of_octodns_populate() -> None:
    server = AxfrServer(signed_transfer())
    try:
        theirs, ours = provider(server.port), provider(server.port)
        axfr.install(ours)  # as dnsops plans: its AXFR reader, then no re-validation
        with record_log_level(logging.ERROR):
            slow, fast = populate(theirs, fast=False), populate(ours, fast=True)
    finally:
        server.close()
    assert len(slow.records) > 15
    assert_same(slow, fast, theirs)


def test_powerdns_environment_settings_are_requests_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """octo remembers requests' environment look-up per scheme and host: the same answer."""
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "192.0.2.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    plain = PowerDnsProvider("pdns", "192.0.2.1", "not-a-key", enable_dynamic=False)
    ours = PowerDnsProvider("pdns", "192.0.2.1", "not-a-key", enable_dynamic=False)
    assert octo._remember_environment(ours) and not octo._remember_environment(ours)
    urls = [
        "http://192.0.2.1:8081/api/v1/servers/localhost/zones/example.test.",
        "http://192.0.2.1:8081/api/v1/servers/localhost/zones/other.test.",
        "http://192.0.2.2:8081/api/v1/servers/localhost/zones",
        "https://192.0.2.2:8443/api/v1/servers/localhost",
    ]
    for _ in range(2):
        for url in urls:
            want = plain._sess.merge_environment_settings(url, {}, None, None, None)
            got = ours._sess.merge_environment_settings(url, {}, None, None, None)
            assert got == want
            got["proxies"]["x"] = "changed by the caller"  # a copy each time
    proxied = ours._sess.merge_environment_settings(urls[2], {}, None, None, None)["proxies"]
    assert proxied["http"] == "http://proxy.example:3128"  # 192.0.2.2 is not in NO_PROXY
    given = {"https": "http://other:1"}
    assert ours._sess.merge_environment_settings(
        urls[3], dict(given), True, False, None
    ) == plain._sess.merge_environment_settings(urls[3], dict(given), True, False, None)
