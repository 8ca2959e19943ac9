"""One test per offline rule of the shipped policy: a small zone that violates it
(exact findings: rule, severity, record, line) and one that does not.

Zones go through octoDNS for real (the project copy's config/lab.yaml source);
each test runs only the rule under test, so other rules stay out of the way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lintkit import brief, legacy_validators, lint, write_zone

NS_BOTH = """\
    '':
      - ttl: 86400
        type: NS
        values:
          - ns1.bind.test.
          - ns1.pdns.test.
"""


# -- ttl-band ----------------------------------------------------------------------


def test_ttl_band_flags_each_class_out_of_band(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_zone(
        project_dir,
        NS_BOTH
        + """\
    api:
      octodns:
        dnsops:
          class: failover-critical
      ttl: 300
      type: A
      value: 192.0.2.50
    lb:
      ttl: 3600
      type: A
      value: 192.0.2.21
    odd:
      octodns:
        dnsops:
          class: bogus
      ttl: 3600
      type: A
      value: 192.0.2.60
    sshfp:
      ttl: 300
      type: SSHFP
      value:
        algorithm: 1
        fingerprint: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        fingerprint_type: 2
    www:
      ttl: 60
      type: CNAME
      value: lint.test.
    """,
    )
    report = lint(project_dir, monkeypatch, "ttl-band")
    # a record's line is its first key's (octoDNS's context), as `dnsops validate` shows
    assert brief(report) == [
        # metadata class failover-critical (60 s, 30-120): 300 s is an error
        ("ttl-band", "error", "api.lint.test. A", 8),
        # 192.0.2.21 is in the load balancers' range: failover-critical by selector
        ("ttl-band", "error", "lb.lint.test. A", 15),
        ("ttl-band", "error", "odd.lint.test. A", 19),
        # SSHFP is static by type selector (3600-172800)
        ("ttl-band", "warning", "sshfp.lint.test. SSHFP", 26),
        # unclassified: default class stable (300-14400)
        ("ttl-band", "warning", "www.lint.test. CNAME", 33),
    ]
    api, lb, odd, sshfp, www = report.findings
    assert lb.data == {"class": "failover-critical", "ttl": 3600, "min": 30, "max": 120}
    assert sshfp.data == {"class": "static", "ttl": 300, "min": 3600, "max": 172800}
    assert api.message == (
        "failover-critical record has TTL 300s, outside its band 30-120s (target 60s)"
    )
    assert api.hint == ("set ttl: 60, or declare another class: octodns: {dnsops: {class: ...}}")
    assert api.data == {"class": "failover-critical", "ttl": 300, "min": 30, "max": 120}
    assert odd.message == (
        "record class 'bogus' is not defined by the policy (failover-critical, stable, static)"
    )
    assert www.message == "stable record has TTL 60s, outside its band 300-14400s (target 3600s)"


def test_ttl_band_clean(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        project_dir,
        NS_BOTH
        + """\
    api:
      octodns:
        dnsops:
          class: failover-critical
      ttl: 60
      type: A
      value: 192.0.2.50
    lb:
      ttl: 120
      type: A
      value: 192.0.2.21
    www:
      ttl: 14400
      type: CNAME
      value: lint.test.
    """,
    )
    assert brief(lint(project_dir, monkeypatch, "ttl-band")) == []


# -- ttl-floor ---------------------------------------------------------------------


def test_ttl_floor(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        project_dir,
        NS_BOTH
        + """\
    fast:
      ttl: 5
      type: A
      value: 192.0.2.1
    floor:
      ttl: 30
      type: A
      value: 192.0.2.2
    """,
    )
    report = lint(project_dir, monkeypatch, "ttl-floor")
    assert brief(report) == [("ttl-floor", "warning", "fast.lint.test. A", 8)]
    assert report.findings[0].message == "TTL 5s is under the floor of 30s"


def test_ttl_floor_clean(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(project_dir, NS_BOTH)
    assert brief(lint(project_dir, monkeypatch, "ttl-floor")) == []


# -- forbid ------------------------------------------------------------------------

PRIVATE = """\
    db:
      ttl: 3600
      type: A
      values:
        - 192.0.2.7
        - 10.1.2.3
    lo:
      ttl: 3600
      type: AAAA
      value: ::1
    ula:
      ttl: 3600
      type: AAAA
      value: fd00::1
    web:
      ttl: 3600
      type: A
      value: 198.51.100.7
"""


def test_no_private_addresses(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(project_dir, PRIVATE)
    report = lint(project_dir, monkeypatch, "no-private-addresses")
    assert brief(report) == [
        ("no-private-addresses", "error", "db.lint.test. A", 2),
        ("no-private-addresses", "error", "lo.lint.test. AAAA", 8),
        ("no-private-addresses", "error", "ula.lint.test. AAAA", 12),
    ]
    assert report.findings[0].message == (
        "private, loopback or link-local address in a public zone: 10.1.2.3, 192.0.2.7"
    )


def test_no_private_addresses_clean_in_internal_zone(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same records in an internal zone are fine (the rule's `unless: zone`)."""
    write_zone(project_dir, PRIVATE, zone="lint.internal.")
    report = lint(project_dir, monkeypatch, "no-private-addresses")
    assert report.zones == ["lint.internal."]
    assert report.findings == []


def test_no_apex_wildcard(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        project_dir,
        """\
    '*':
      ttl: 3600
      type: A
      value: 192.0.2.1
    '*.dev':
      ttl: 3600
      type: A
      value: 192.0.2.2
    """,
    )
    report = lint(project_dir, monkeypatch, "no-apex-wildcard")
    assert brief(report) == [("no-apex-wildcard", "error", "*.lint.test. A", 2)]
    assert report.findings[0].message == "wildcard record *.lint.test. directly under the apex"


def test_no_apex_wildcard_clean(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        project_dir,
        """\
    '*.dev':
      ttl: 3600
      type: A
      value: 192.0.2.2
    """,
    )
    assert brief(lint(project_dir, monkeypatch, "no-apex-wildcard")) == []


# -- require -----------------------------------------------------------------------


def test_caa_at_apex(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        project_dir,
        """\
    '':
      ttl: 3600
      type: A
      value: 192.0.2.1
    caa:
      ttl: 3600
      type: CAA
      values:
        - flags: 0
          tag: issue
          value: letsencrypt.org
        - flags: 0
          tag: issuewild
          value: ;
    """,
    )
    report = lint(project_dir, monkeypatch, "caa-at-apex")
    # about the zone: it points at the first apex record; a CAA elsewhere does not count
    assert brief(report) == [("caa-at-apex", "warning", "lint.test. CAA", 2)]
    assert report.findings[0].message == (
        "no CAA record at the apex of lint.test.: any CA may issue certificates for it"
    )
    assert report.findings[0].data == {"found": 0, "min_values": 1}


def test_caa_at_apex_clean(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        project_dir,
        """\
    '':
      ttl: 3600
      type: CAA
      values:
        - flags: 0
          tag: issue
          value: letsencrypt.org
        - flags: 0
          tag: issuewild
          value: ;
    """,
    )
    assert brief(lint(project_dir, monkeypatch, "caa-at-apex")) == []


# The mail rules run under octoDNS's default (legacy) validators: the lab config also
# enables octoDNS's best-practice set, whose "mail" validator rejects such zones
# outright (then `dnsops lint` reports octodns-validation errors instead).
MAIL = """\
    '':
      - ttl: 3600
        type: MX
        values:
          - exchange: mx1.lint.test.
            preference: 10
          - exchange: mx2.lint.test.
            preference: 20
      - ttl: 3600
        type: TXT
        value: google-site-verification=abc
    eu:
      - ttl: 3600
        type: MX
        value:
          exchange: mx1.lint.test.
          preference: 10
      - ttl: 3600
        type: TXT
        value: v=spf1 mx -all
"""


def test_mx_requires_spf(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    legacy_validators(project_dir)
    write_zone(project_dir, MAIL)
    report = lint(project_dir, monkeypatch, "mx-requires-spf")
    # the apex's TXT is no SPF; eu has its own SPF
    assert brief(report) == [("mx-requires-spf", "error", "lint.test. MX", 2)]
    assert report.findings[0].message == "lint.test. receives mail (MX) but has no SPF record"


def test_mx_requires_dmarc(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    legacy_validators(project_dir)
    write_zone(project_dir, MAIL)
    report = lint(project_dir, monkeypatch, "mx-requires-dmarc")
    assert brief(report) == [
        ("mx-requires-dmarc", "error", "lint.test. MX", 2),
        ("mx-requires-dmarc", "error", "eu.lint.test. MX", 13),
    ]
    assert report.findings[1].hint == 'add a TXT record "v=DMARC1; p=..." at _dmarc.eu.lint.test.'


def test_two_mx(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    legacy_validators(project_dir)
    write_zone(project_dir, MAIL)
    report = lint(project_dir, monkeypatch, "two-mx")
    assert brief(report) == [("two-mx", "warning", "eu.lint.test. MX", 13)]
    assert report.findings[0].data == {"found": 1, "min_values": 2}


def test_mail_rules_clean(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPF at each MX name, DMARC at the organisational _dmarc, two MX each."""
    legacy_validators(project_dir)
    write_zone(
        project_dir,
        """\
    '':
      - ttl: 3600
        type: MX
        values:
          - exchange: mx1.lint.test.
            preference: 10
          - exchange: mx2.lint.test.
            preference: 20
      - ttl: 3600
        type: TXT
        values:
          - google-site-verification=abc
          - v=spf1 mx -all
    _dmarc:
      ttl: 3600
      type: TXT
      value: v=DMARC1; p=reject
    eu:
      - ttl: 3600
        type: MX
        values:
          - exchange: mx1.lint.test.
            preference: 10
          - exchange: mx2.lint.test.
            preference: 20
      - ttl: 3600
        type: TXT
        value: v=spf1 mx -all
    """,
    )
    report = lint(project_dir, monkeypatch, "mx-requires-spf", "mx-requires-dmarc", "two-mx")
    assert brief(report) == []


# -- both providers ------------------------------------------------------------------

DYNAMIC = """\
    dyn:
      dynamic:
        pools:
          one:
            values:
              - value: 192.0.2.40
        rules:
          - pool: one
      ttl: 60
      type: A
      value: 192.0.2.41
"""


APEX_ALIAS = """\
    '':
      - ttl: 3600
        type: ALIAS
        value: www.lint.test.
"""
APEX_SPF = """\
      - ttl: 3600
        type: SPF
        value: v=spf1 -all
"""
WWW = """\
    www:
      ttl: 3600
      type: A
      value: 192.0.2.1
"""


def test_provider_support_lab(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lab pair: PowerDNS (no SPF type) and BIND over RFC 2136 (no ALIAS, no dynamic)."""
    write_zone(project_dir, APEX_ALIAS + APEX_SPF + DYNAMIC + WWW)
    report = lint(project_dir, monkeypatch, "provider-support")
    assert brief(report) == [
        ("provider-support", "error", "lint.test. ALIAS", 2),
        ("provider-support", "error", "lint.test. SPF", 5),
        # octoDNS serves the default values there: the providers may answer differently
        ("provider-support", "warning", "dyn.lint.test. A", 9),
        # PowerDNS decides SUPPORTS_DYNAMIC at run time (it probes for LUA records)
        ("provider-support", "notice", "dyn.lint.test. A", 9),
    ]
    messages = [f.message for f in report.findings]
    assert messages == [
        "bind (dnsops.providers.Rfc2136Provider) does not support ALIAS records",
        "pdns (octodns_powerdns.PowerDnsProvider) does not support SPF records",
        "bind (dnsops.providers.Rfc2136Provider) does not support dynamic records "
        "(SUPPORTS_DYNAMIC = False): octoDNS serves its default values",
        "pdns decides SUPPORTS_DYNAMIC at run time: cannot tell if it serves dynamic records",
    ]


def test_provider_support_production(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production pair (classes read without credentials): Route 53 and NS1 do dynamic."""
    write_zone(project_dir, APEX_ALIAS + DYNAMIC + WWW)
    report = lint(project_dir, monkeypatch, "provider-support", env="production")
    assert brief(report) == [("provider-support", "error", "lint.test. ALIAS", 2)]
    assert report.findings[0].message == (
        "route53 (octodns_route53.Route53Provider) does not support ALIAS records"
    )


def test_provider_support_clean(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        project_dir,
        NS_BOTH
        + """\
    www:
      ttl: 3600
      type: CNAME
      value: lint.test.
    """,
    )
    assert brief(lint(project_dir, monkeypatch, "provider-support")) == []


def test_apex_ns_lab(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        project_dir,
        """\
    '':
      ttl: 86400
      type: NS
      values:
        - ns.elsewhere.test.
        - ns1.pdns.test.
        - ns2.pdns.test.
    """,
    )
    report = lint(project_dir, monkeypatch, "apex-ns-both-providers")
    assert brief(report) == [
        ("apex-ns-both-providers", "error", "lint.test. NS", 2),
        ("apex-ns-both-providers", "error", "lint.test. NS", 2),
    ]
    assert [f.message for f in report.findings] == [
        "apex NS ns.elsewhere.test. belongs to neither provider",
        "the apex NS set names no nameserver of bind",
    ]


def test_apex_ns_lab_clean(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(project_dir, NS_BOTH)
    assert brief(lint(project_dir, monkeypatch, "apex-ns-both-providers")) == []


def test_apex_ns_missing(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        project_dir,
        """\
    www:
      ttl: 3600
      type: A
      value: 192.0.2.1
    """,
    )
    report = lint(project_dir, monkeypatch, "apex-ns-both-providers")
    assert brief(report) == [("apex-ns-both-providers", "error", "lint.test. NS", 1)]
    assert report.findings[0].message == (
        "the zone declares no apex NS record: list the nameservers of pdns and bind"
    )


def _manage_apex_ns(project_dir: Path) -> None:
    """Production without its IgnoreRootNsFilter: the zone files' apex NS is pushed."""
    config = project_dir / "config" / "production.yaml"
    text = config.read_text()
    assert "    processors:\n      - provider-apex-ns\n" in text
    config.write_text(text.replace("    processors:\n      - provider-apex-ns\n", ""))


def test_apex_ns_left_to_providers(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production's config drops the apex NS (each provider serves its own): not checked,
    and not asked of the providers' capabilities either."""
    write_zone(project_dir, NS_BOTH)
    report = lint(
        project_dir, monkeypatch, "apex-ns-both-providers", "provider-support", env="production"
    )
    assert brief(report) == []
    _manage_apex_ns(project_dir)
    report = lint(project_dir, monkeypatch, "apex-ns-both-providers", env="production")
    assert [f.message for f in report.findings] == [
        "apex NS ns1.bind.test. belongs to neither provider",
        "apex NS ns1.pdns.test. belongs to neither provider",
        "the apex NS set names no nameserver of ns1",
        "the apex NS set names no nameserver of route53",
    ]


def test_apex_ns_production_patterns(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the lab, name globs per provider class come from the policy."""
    _manage_apex_ns(project_dir)
    write_zone(
        project_dir,
        """\
    '':
      ttl: 86400
      type: NS
      values:
        - ns-1234.awsdns-12.org.
        - ns-567.awsdns-03.net.
    """,
    )
    report = lint(project_dir, monkeypatch, "apex-ns-both-providers", env="production")
    assert brief(report) == [("apex-ns-both-providers", "error", "lint.test. NS", 2)]
    assert report.findings[0].message == "the apex NS set names no nameserver of ns1"


def test_apex_ns_production_clean(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _manage_apex_ns(project_dir)
    write_zone(
        project_dir,
        """\
    '':
      ttl: 86400
      type: NS
      values:
        - dns1.p01.nsone.net.
        - ns-1234.awsdns-12.org.
    """,
    )
    assert brief(lint(project_dir, monkeypatch, "apex-ns-both-providers", env="production")) == []
