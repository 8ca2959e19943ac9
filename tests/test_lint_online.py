"""Online rules (`dnsops lint --online`): dangling targets resolved through the lab's
real resolvers (unbound -> the parent BIND), CDN cache headers from a real local
HTTP server on this test run's 127.x network."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dnsops.config import load_project
from dnsops.lab.runner import LabRunner
from dnsops.lint import online
from tests.conftest import TEST_NET, make_project, run
from tests.lintkit import brief, lint, write_zone

# path -> response headers of the local "origin"
ORIGIN_HEADERS = {
    "/good": {
        "Cache-Control": "public, max-age=60, s-maxage=300, stale-while-revalidate=60",
        "Vary": "Accept-Encoding",
    },
    "/per-user": {
        "Cache-Control": "public, s-maxage=300, stale-while-revalidate=60",
        "Vary": "Accept-Encoding, Cookie",
    },
    "/browser-only": {"Cache-Control": "max-age=60", "Vary": "User-Agent"},
    "/shop": {"Cache-Control": "s-maxage=600"},
}


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        headers = ORIGIN_HEADERS.get(self.path)
        self.send_response(200 if headers is not None else 404)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    """``http://127.x.250.1:PORT`` serving ORIGIN_HEADERS (x: this run's DNSOPS_TEST_NET)."""
    server = ThreadingHTTPServer((f"{TEST_NET}.250.1", 0), _Origin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{TEST_NET}.250.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CDN_RULES = ("cdn-vary", "cdn-cache-control")


def _cdn_zone(project_dir: Path, origin: str) -> None:
    write_zone(
        project_dir,
        f"""\
    assets:
      octodns:
        dnsops:
          cdn: {origin}/good
      ttl: 3600
      type: CNAME
      value: cdn.example.net.
    gone:
      octodns:
        dnsops:
          cdn: {origin}/nothing-here
      ttl: 3600
      type: CNAME
      value: cdn.example.net.
    me:
      octodns:
        dnsops:
          cdn: {origin}/per-user
      ttl: 3600
      type: CNAME
      value: cdn.example.net.
    shop:
      ttl: 3600
      type: CNAME
      value: cdn.example.net.
    static:
      octodns:
        dnsops:
          cdn: {origin}/browser-only
      ttl: 3600
      type: CNAME
      value: cdn.example.net.
    """,
    )
    # the policy can declare CDN-fronted records too: here `shop`, URL from a template
    (project_dir / "policies" / "cdn.yaml").write_text(
        f"cdn:\n  - match: {{name: shop}}\n    url: '{origin}/{{name}}'\n"
    )


def test_cdn_headers(project_dir: Path, monkeypatch: pytest.MonkeyPatch, origin: str) -> None:
    _cdn_zone(project_dir, origin)
    report = lint(project_dir, monkeypatch, *CDN_RULES, online=True)
    assert brief(report) == [
        ("online-unreachable", "warning", "gone.lint.test. CNAME", 9),
        ("cdn-vary", "error", "me.lint.test. CNAME", 16),
        ("cdn-cache-control", "warning", "shop.lint.test. CNAME", 23),
        ("cdn-cache-control", "warning", "static.lint.test. CNAME", 27),
        ("cdn-vary", "error", "static.lint.test. CNAME", 27),
    ]
    gone, me, shop, static_cc, static_vary = report.findings
    assert gone.message == (
        f"could not check {origin}/nothing-here: GET {origin}/nothing-here: HTTP 404 Not Found"
    )
    assert (
        me.message
        == f"{origin}/per-user answers with Vary: Accept-Encoding, Cookie; Cookie is user-specific"
    )
    assert (
        shop.message == f"{origin}/shop Cache-Control (s-maxage=600) lacks stale-while-revalidate"
    )
    assert static_cc.message == (
        f"{origin}/browser-only Cache-Control (max-age=60) lacks s-maxage, stale-while-revalidate"
    )
    assert static_vary.data == {"url": f"{origin}/browser-only", "vary": ["User-Agent"]}


def test_cdn_headers_clean(project_dir: Path, monkeypatch: pytest.MonkeyPatch, origin: str) -> None:
    write_zone(
        project_dir,
        f"""\
    assets:
      octodns:
        dnsops:
          cdn: {origin}/good
      ttl: 3600
      type: CNAME
      value: cdn.example.net.
    """,
    )
    assert brief(lint(project_dir, monkeypatch, *CDN_RULES, online=True)) == []


def test_online_rules_need_online(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, origin: str
) -> None:
    """Without --online nothing is fetched and online rules report nothing."""
    _cdn_zone(project_dir, origin)
    report = lint(project_dir, monkeypatch, *CDN_RULES)
    assert report.online is False
    assert report.findings == []


def test_origin_unreachable(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://{TEST_NET}.250.2:9/"  # nothing listens there: connection refused
    write_zone(
        project_dir,
        f"""\
    www:
      octodns:
        dnsops:
          cdn: {url}
      ttl: 3600
      type: CNAME
      value: cdn.example.net.
    """,
    )
    report = lint(project_dir, monkeypatch, *CDN_RULES, online=True)
    assert brief(report) == [("online-unreachable", "warning", "www.lint.test. CNAME", 2)]
    assert report.findings[0].message.startswith(f"could not check {url}: GET {url}: ")
    assert "Connection refused" in report.findings[0].message


# -- dangling targets: through the lab's resolvers -----------------------------------------

DANGLING = """\
    '':
      ttl: 86400
      type: NS
      values:
        - ns1.bind.test.
        - ns1.pdns.test.
    gone:
      ttl: 3600
      type: CNAME
      value: gone.nowhere.test.
    inside:
      ttl: 3600
      type: CNAME
      value: lint.test.
    ok:
      ttl: 3600
      type: CNAME
      value: ns1.pdns.test.
    sub:
      ttl: 86400
      type: NS
      values:
        - ns.unregistered.test.
        - ns1.bind.test.
"""


@pytest.fixture
def lab_copy(lab_dir: Path, tmp_path: Path) -> Path:
    """A project of our own, on the running lab's addresses (its resolvers answer)."""
    return make_project(tmp_path / "project", TEST_NET)


@pytest.mark.lab
def test_dangling_targets(lab_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(lab_copy, DANGLING)
    report = lint(lab_copy, monkeypatch, "dangling-target", online=True)
    # inside the managed zones: not looked up; ns1.pdns.test. resolves (parent glue)
    assert brief(report) == [
        ("dangling-target", "error", "gone.lint.test. CNAME", 8),
        ("dangling-target", "error", "sub.lint.test. NS", 20),
    ]
    gone, sub = report.findings
    assert gone.message == (
        "gone.lint.test. CNAME points at gone.nowhere.test., which does not resolve (NXDOMAIN)"
    )
    assert sub.data == {"target": "ns.unregistered.test.", "rcode": "NXDOMAIN"}


@pytest.mark.lab
def test_dangling_targets_clean(lab_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_zone(
        lab_copy,
        """\
    '':
      ttl: 86400
      type: NS
      values:
        - ns1.bind.test.
        - ns1.pdns.test.
    ok:
      ttl: 3600
      type: CNAME
      value: ns2.bind.test.
    sub:
      ttl: 86400
      type: NS
      values:
        - ns2.bind.test.
        - ns2.pdns.test.
    """,
    )
    assert brief(lint(lab_copy, monkeypatch, "dangling-target", online=True)) == []


def test_resolvers_down(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No resolver answers: the targets are unknown, not dangling (no false alarm)."""
    config = project_dir / "dnsops.yaml"
    lines = [
        line.replace(f"address: {TEST_NET}.3.1,", f"address: {TEST_NET}.250.3,")
        for line in config.read_text().splitlines()
        if not re.search(rf"address: {re.escape(TEST_NET)}\.3\.[2-9],", line)
    ]
    config.write_text("\n".join(lines) + "\n")  # one resolver, where nothing listens
    write_zone(project_dir, DANGLING)
    monkeypatch.setattr(online, "DNS_LIFETIME", 1.0)
    report = lint(project_dir, monkeypatch, "dangling-target", online=True)
    assert {f.id for f in report.findings} == {"online-unreachable"}
    # once per target name, at the first record that points at it
    assert sorted(f.data["target"] for f in report.findings if f.data) == [
        "gone.nowhere.test.",
        "ns.unregistered.test.",
        "ns1.bind.test.",
        "ns1.pdns.test.",
    ]
    assert [(f.line, f.subject, f.message) for f in report.findings] == [
        (2, "lint.test. NS", "could not check ns1.bind.test. (TIMEOUT): no answer within 1 s"),
        (
            8,
            "gone.lint.test. CNAME",
            "could not check gone.nowhere.test. (TIMEOUT): no answer within 1 s",
        ),
        (
            16,
            "ok.lint.test. CNAME",
            "could not check ns1.pdns.test. (TIMEOUT): no answer within 1 s",
        ),
        (
            20,
            "sub.lint.test. NS",
            "could not check ns.unregistered.test. (TIMEOUT): no answer within 1 s",
        ),
    ]


@pytest.mark.lab
def test_lint_never_prints_lab_secrets(cli: CliRunner, lab_dir: Path) -> None:
    secrets = LabRunner(load_project(lab_dir / "dnsops.yaml")).secrets()
    for fmt in ("text", "json", "markdown", "github"):
        result = run(cli, lab_dir, "lint", "--online", "--format", fmt)
        assert result.exit_code == 0, result.output
        for secret in (secrets.pdns_api_key, secrets.tsig_secret):
            assert secret not in result.output
