"""What DNS can carry, checked by lint before anything is sent: owner names (RFC 952/1123,
underscore labels, wildcards), TTLs (RFC 2181 and a policy maximum), sizes (65,535-octet
RDATA and message, a policy maximum) and each provider's documented limits. The lab's real
servers are shown refusing or mangling each case in tests/test_lint_lab.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dnsops.lint.capabilities import LIMITS
from dnsops.lint.policy import load_policies
from tests.conftest import REPO, run
from tests.lintkit import ZONE_FILE, brief, lint, write_zone

APEX_NS = """\
    '':
      - ttl: 86400
        type: NS
        values:
          - ns1.bind.test.
          - ns1.pdns.test.
          - ns2.bind.test.
          - ns2.pdns.test.
"""

DIGEST = "0d6fce3374b8bc8aeb1b0c5b1d92ee0b" * 2  # SHA-256 (matching type 1): 32 octets
NAMES = (
    APEX_NS
    + f"""\
    '*.wild':
      ttl: 3600
      type: A
      value: 192.0.2.1
    '-lead':
      ttl: 3600
      type: A
      value: 192.0.2.1
    _443._tcp:
      ttl: 3600
      type: TLSA
      value:
        certificate_association_data: {DIGEST}
        certificate_usage: 3
        matching_type: 1
        selector: 1
    _acme-challenge:
      ttl: 3600
      type: TXT
      value: token
    _x:
      ttl: 3600
      type: A
      value: 192.0.2.1
    a/b:
      ttl: 3600
      type: A
      value: 192.0.2.1
    s1._domainkey:
      ttl: 3600
      type: CNAME
      value: s1.dkim.example.net.
    w*x:
      ttl: 3600
      type: A
      value: 192.0.2.1
    x$(id):
      ttl: 3600
      type: A
      value: 192.0.2.1
    x.*:
      ttl: 3600
      type: A
      value: 192.0.2.1
"""
)


def test_names(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Underscore labels on TXT/TLSA/CNAME and a leading wildcard pass; the rest fail."""
    write_zone(project_dir, NAMES)
    report = lint(project_dir, monkeypatch, "hostname")
    assert [(f.id, str(f.severity), f.where, f.message) for f in report.findings] == [
        (
            "hostname",
            "error",
            f"{ZONE_FILE}:14",
            "bad name -lead.lint.test.: label '-lead' starts with a hyphen (RFC 952, RFC 1123)",
        ),
        (
            "hostname",
            "error",
            f"{ZONE_FILE}:30",
            "bad name _x.lint.test.: label '_x' has an underscore, but the names of A records "
            "are host names (RFC 1123 §2.1); underscore labels (RFC 8552) are for TXT, SRV, "
            "TLSA, ...",
        ),
        (
            "hostname",
            "error",
            f"{ZONE_FILE}:34",
            "bad name a/b.lint.test.: label 'a/b' has '/': a label is letters, digits and "
            "hyphens (RFC 952, RFC 1123), or starts with an underscore (RFC 8552)",
        ),
        (
            "hostname",
            "error",
            f"{ZONE_FILE}:42",
            "bad name w*x.lint.test.: label 'w*x': a '*' must be the whole leftmost label "
            "to be a wildcard",
        ),
        (
            "hostname",
            "error",
            f"{ZONE_FILE}:46",
            "bad name x$(id).lint.test.: label 'x$(id)' has '$' '(' ')': a label is letters, "
            "digits and hyphens (RFC 952, RFC 1123), or starts with an underscore (RFC 8552)",
        ),
        (
            "hostname",
            "error",
            f"{ZONE_FILE}:50",
            "bad name x.*.lint.test.: '*' is a wildcard only as the leftmost label "
            "(here it is label 2)",
        ),
    ]


TTLS = (
    APEX_NS
    + """\
    huge:
      ttl: 4294967296
      type: TXT
      value: x
    max:
      ttl: 2147483647
      type: TXT
      value: x
    over:
      ttl: 2147483648
      type: TXT
      value: x
    week:
      ttl: 604800
      type: TXT
      value: x
    weekandone:
      ttl: 604801
      type: TXT
      value: x
"""
)


def test_ttls(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over 2^31 - 1: an error (RFC 2181 §8); over the policy's week: a warning."""
    write_zone(project_dir, TTLS)
    report = lint(project_dir, monkeypatch, "ttl-rfc2181", "ttl-max")
    assert brief(report) == [
        ("ttl-max", "warning", "huge.lint.test. TXT", 10),
        ("ttl-rfc2181", "error", "huge.lint.test. TXT", 10),
        ("ttl-max", "warning", "max.lint.test. TXT", 14),
        ("ttl-max", "warning", "over.lint.test. TXT", 18),
        ("ttl-rfc2181", "error", "over.lint.test. TXT", 18),
        ("ttl-max", "warning", "weekandone.lint.test. TXT", 26),
    ]
    messages = {(f.id, f.line): f.message for f in report.findings}
    assert messages["ttl-rfc2181", 18] == (
        "TTL 2147483648s is over 2147483647s (2^31 - 1), the largest RFC 2181 §8 allows"
    )
    assert messages["ttl-max", 26] == "TTL 604801s is over the maximum of 604800s"


def _txt(name: str, length: int) -> str:
    return f"    {name}:\n      ttl: 3600\n      type: TXT\n      value: {'a' * length}\n"


def test_sizes(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """octoDNS chunks a long TXT into 255-character strings (one octet of length each): 4,000
    characters are 4,016 octets, under the policy's 4,096; 10,000 are over it; 70,000 are
    over what one DNS message can carry."""
    zone = APEX_NS + _txt("big", 10_000) + _txt("huge", 70_000) + _txt("long", 4_000)
    write_zone(project_dir, zone)
    report = lint(project_dir, monkeypatch, "wire-limits", "rrset-size")
    assert [(f.id, f.subject, f.line, f.message) for f in report.findings] == [
        (
            "rrset-size",
            "big.lint.test. TXT",
            10,
            "TXT record set of 10,040 octets of data, over the maximum of 4,096",
        ),
        (
            "rrset-size",
            "huge.lint.test. TXT",
            14,
            "TXT record set of 70,275 octets of data, over the maximum of 4,096",
        ),
        (
            "wire-limits",
            "huge.lint.test. TXT",
            14,
            "TXT record too large for DNS: a value's RDATA is 70,275 octets, over the 65,535 "
            "a record can hold (RFC 1035 §3.2.1)",
        ),
    ]


def test_a_50_mb_txt_is_refused_without_encoding_it(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_zone(project_dir, APEX_NS + _txt("bomb", 50_000_000))
    report = lint(project_dir, monkeypatch, "wire-limits", "rrset-size")
    assert [(f.id, f.line, f.message) for f in report.findings] == [
        (
            "rrset-size",
            10,
            "TXT record set of more than 65,535 octets of data, over the maximum of 4,096",
        ),
        (
            "wire-limits",
            10,
            "TXT record too large for DNS: a value of 50,000,000 characters: its RDATA is "
            "over the 65,535 octets a record can hold (RFC 1035 §3.2.1)",
        ),
    ]


PRODUCTION = (
    APEX_NS
    + """\
    '*.sub':
      ttl: 3600
      type: NS
      values:
        - ns1.example.net.
        - ns2.example.net.
"""
    + _txt("long", 3_990)
    + _txt("longer", 4_100)
)


def test_route53_limits_in_production(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Route 53 takes at most 4,000 characters per value (quotes and spaces between the
    255-character strings count): 3,990 characters become 4,037, over it."""
    write_zone(project_dir, PRODUCTION)
    report = lint(project_dir, monkeypatch, "provider-limits", env="production")
    r53 = "route53 (octodns_route53.Route53Provider) rejects "
    assert [(f.subject, f.line, f.message) for f in report.findings] == [
        (
            "*.sub.lint.test. NS",
            10,
            r53 + "a wildcard (*) NS record (\"You can't use the * wildcard for resource "
            'records sets that have a type of NS")',
        ),
        (
            "long.lint.test. TXT",
            16,
            r53 + "a record value over 4,000 characters (ResourceRecord Value, max length 4000)",
        ),
        (
            "longer.lint.test. TXT",
            20,
            r53 + "a record value over 4,000 characters (ResourceRecord Value, max length 4000)",
        ),
    ]
    assert report.findings[1].hint == (
        "the provider would refuse the change (failing its whole batch) or serve something "
        "else: change the record (limit documented at "
        "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecord.html)"
    )
    # the lab's providers have no such limit: nothing from this rule there
    assert lint(project_dir, monkeypatch, "provider-limits").findings == []


def test_every_provider_fact_names_its_source() -> None:
    rule_ids = {r.id for r in load_policies(REPO / "policies").rules}
    for klass, limits in LIMITS.items():
        for lim in limits:
            assert lim.source.startswith(("https://", "measured on the lab")), (klass, lim)
            assert lim.covered_by is None or lim.covered_by in rule_ids, (klass, lim)


@pytest.mark.parametrize("zones", ["zones", "tests/fixtures/mixed"])
def test_shipped_zones_have_no_new_errors(cli: CliRunner, project_dir: Path, zones: str) -> None:
    """The demo zone and the mixed fixture meet every new rule, in both environments."""
    for old in (project_dir / "zones").glob("*.yaml"):
        old.unlink()
    for path in (REPO / zones).glob("*.yaml"):
        (project_dir / "zones" / path.name).write_text(path.read_text())
    new = {"hostname", "ttl-rfc2181", "ttl-max", "wire-limits", "rrset-size", "provider-limits"}
    for env in ("lab", "production"):
        result = run(cli, project_dir, "lint", "--env", env, "--format", "json")
        found = [f["id"] for f in json.loads(result.stdout)["findings"] if f["id"] in new]
        assert found == [], (env, found)


def test_lint_of_a_50_mb_txt_stays_cheap(
    cli: CliRunner, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rules add a len() to the loading octoDNS does anyway (no timing asserted: the
    figure is printed for the record)."""
    zone = project_dir / "zones" / "example.test.yaml"
    text = zone.read_text()
    big = f"_big:\n  ttl: 3600\n  type: TXT\n  value: {'a' * 50_000_000}\n"
    zone.write_text(text.replace("_dmarc:\n", big + "_dmarc:\n", 1))
    started = time.perf_counter()
    result = run(cli, project_dir, "lint", "--format", "json")
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1
    with capsys.disabled():
        print(f"\nlint of a zone with a 50 MB TXT: {elapsed:.1f} s")
