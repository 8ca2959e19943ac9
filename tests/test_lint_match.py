"""A user's own declarative rules: every `match:` condition (zone, name glob and regex,
type, values in CIDRs, value regex, TTL), `unless`, and `require` with `when`."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnsops.config import load_project
from dnsops.env import Env
from dnsops.lint import driver
from dnsops.lint.policy import load_policies
from tests.lintkit import brief, write_zone

POLICY = """\
rules:
  - id: no-dev-names
    kind: forbid
    severity: error
    message: '{fqdn}: dev names stay out of {zone}'
    match: {zone: '*.test', name: ['dev-*', '*.dev']}
  - id: no-numeric-hosts
    kind: forbid
    severity: warning
    message: 'numeric host label {name}'
    match: {name_regex: '^[0-9]+$'}
  - id: no-old-range
    kind: forbid
    severity: error
    message: 'old range: {values}'
    match: {type: AAAA, values_in: ['2001:db8:dead::/48']}
  - id: no-google-verification
    kind: forbid
    severity: notice
    message: 'stale verification token'
    match: {type: TXT, value_regex: '^google-site-verification='}
    unless: {name: keep}
  - id: no-long-cname
    kind: forbid
    severity: warning
    message: 'CNAME TTL {ttl}s above a day'
    match: {type: CNAME, ttl: {min: 86401}}
  - id: srv-needs-host
    kind: require
    severity: error
    message: 'SRV {fqdn} has no _sip._tcp sibling with a TTL of at most an hour'
    when: {type: SRV, name: '_xmpp._tcp'}
    require: {type: SRV, name: '_sip._tcp', ttl: {max: 3600}}
"""

ZONE = """\
    '123':
      ttl: 3600
      type: A
      value: 192.0.2.1
    _sip._tcp:
      ttl: 7200
      type: SRV
      value:
        port: 5060
        priority: 10
        target: app.lint.test.
        weight: 10
    _xmpp._tcp:
      ttl: 3600
      type: SRV
      value:
        port: 5222
        priority: 10
        target: app.lint.test.
        weight: 10
    app:
      - ttl: 3600
        type: A
        value: 192.0.2.2
      - ttl: 3600
        type: AAAA
        values:
          - 2001:db8:beef::1
          - 2001:db8:dead::1
    dev-api:
      ttl: 3600
      type: CNAME
      value: app.lint.test.
    keep:
      ttl: 3600
      type: TXT
      value: google-site-verification=abc
    old:
      ttl: 172800
      type: CNAME
      value: app.lint.test.
    web.dev:
      ttl: 3600
      type: TXT
      value: google-site-verification=def
"""


def _lint(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> driver.LintReport:
    monkeypatch.chdir(project_dir)
    project = load_project(project_dir / "dnsops.yaml")
    (project_dir / "policies" / "default.yaml").write_text(POLICY)
    return driver.run(Env(project), policy=load_policies(project.policies_dir))


def test_every_condition(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(project_dir, ZONE)
    report = _lint(project_dir, monkeypatch)
    assert brief(report) == [
        ("no-numeric-hosts", "warning", "123.lint.test. A", 2),
        ("srv-needs-host", "error", "_xmpp._tcp.lint.test. SRV", 14),
        ("no-old-range", "error", "app.lint.test. AAAA", 25),
        ("no-dev-names", "error", "dev-api.lint.test. CNAME", 31),
        ("no-long-cname", "warning", "old.lint.test. CNAME", 39),
        ("no-dev-names", "error", "web.dev.lint.test. TXT", 43),
        # `keep` is excepted by `unless`
        ("no-google-verification", "notice", "web.dev.lint.test. TXT", 43),
    ]
    messages = [f.message for f in report.findings]
    assert messages[2] == "old range: 2001:db8:beef::1, 2001:db8:dead::1"
    assert messages[3] == "dev-api.lint.test.: dev names stay out of lint.test."
    assert messages[4] == "CNAME TTL 172800s above a day"


def test_zone_condition(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`zone: '*.test'` (the dot is added): the same records in lint.example. pass."""
    write_zone(project_dir, ZONE.replace("app.lint.test.", "app.lint.example."), "lint.example.")
    report = _lint(project_dir, monkeypatch)
    assert "no-dev-names" not in {f.id for f in report.findings}
    assert "no-numeric-hosts" in {f.id for f in report.findings}


BACKTRACKING = """\
rules:
  - id: only-a
    kind: forbid
    severity: warning
    message: 'a TXT of a only'
    match: {type: TXT, value_regex: '^(a+)+$'}
  - id: x-then-y
    kind: forbid
    severity: notice
    message: 'x then y'
    match: {name_regex: '^(x+x+)+y$'}
"""


def test_catastrophic_regex_completes(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`^(a+)+$` against `aaa…ab` takes Python's backtracking `re` ~2^n steps (n = 40 here
    would take hours); RE2 matches in linear time, so this lint simply finishes."""
    n = 40
    write_zone(
        project_dir,
        f"""\
        only-a:
          ttl: 3600
          type: TXT
          value: {"a" * 10_000}
        {"x" * n}:
          ttl: 3600
          type: TXT
          value: {"a" * n}b
        xxy:
          ttl: 3600
          type: TXT
          value: b
        """,
    )
    monkeypatch.chdir(project_dir)
    project = load_project(project_dir / "dnsops.yaml")
    (project_dir / "policies" / "default.yaml").write_text(BACKTRACKING)
    report = driver.run(Env(project), policy=load_policies(project.policies_dir))
    # the long x-name matches neither regex (it has no 'y'; its value ends in 'b')
    assert brief(report) == [
        ("only-a", "warning", "only-a.lint.test. TXT", 2),
        ("x-then-y", "notice", "xxy.lint.test. TXT", 10),
    ]
