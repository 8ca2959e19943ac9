"""The lint rules of dnsops.lint.wire against the lab's real PowerDNS and BIND.

For every name, TTL and size case the rules refuse, the record is pushed through the sync
path *without* the lint gate (dnsops.sync.run), and at least one real server is seen
refusing or mangling it; the records lint accepts (underscore names, a wildcard, a long but
legal TXT, TTL 2^31 - 1) are synced and served identically by both. Finally `dnsops sync
--doit` refuses the bad records with file:line and sends nothing. A lab of its own
(SPARE_NET) holds the zone limits.test.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest
from natsort import natsort_keygen
from typer.testing import CliRunner

from dnsops.config import load_project
from dnsops.env import Env
from dnsops.sync import run as sync_run
from tests.conftest import IN_CI, SPARE_NET, lab_unavailable, make_project, run

pytestmark = pytest.mark.lab

ZONE = "limits.test."
ZONE_FILE = "zones/limits.test.yaml"
LONG = "v=long " + "a" * 3993  # 4,000 characters: 4,016 octets in 16 strings
APEX = """\
  - ttl: 86400
    type: NS
    values:
      - ns1.bind.test.
      - ns1.pdns.test.
      - ns2.bind.test.
      - ns2.pdns.test.
"""
DIGEST = "0d6fce3374b8bc8aeb1b0c5b1d92ee0b" * 2  # SHA-256 (matching type 1): 32 octets
TLSA = f"""\
  ttl: 3600
  type: TLSA
  value:
    certificate_association_data: {DIGEST}
    certificate_usage: 3
    matching_type: 1
    selector: 1
"""
SRV = """\
  ttl: 3600
  type: SRV
  value:
    port: 5060
    priority: 10
    target: sip.example.net.
    weight: 60
"""


def _body(rtype: str, ttl: int, value: str) -> str:
    return f"  ttl: {ttl}\n  type: {rtype}\n  value: {value}\n"


RECORDS = {
    "": APEX,
    "*.wild": _body("A", 3600, "192.0.2.1"),
    "_443._tcp": TLSA,
    "_acme-challenge": _body("TXT", 3600, "token"),
    "_sip._tcp": SRV,
    "long": _body("TXT", 3600, LONG),
    "max-ttl": _body("TXT", 2147483647, "longest"),
    "s1._domainkey": _body("CNAME", 3600, "s1.dkim.example.net."),
}


def zone_text(extra: dict[str, str] | None = None) -> str:
    """The zone file: RECORDS plus ``extra``, keys in octoDNS's (natural) order."""
    records = {**RECORDS, **(extra or {})}
    keys = sorted(records, key=natsort_keygen())
    return "---\n" + "".join(f"{json.dumps(k)}:\n{records[k]}" for k in keys)


ACCEPTED = zone_text()
# (query name, type, TTL) of each accepted record
SERVED = [
    ("any.wild", "A", 3600),
    ("_443._tcp", "TLSA", 3600),
    ("_acme-challenge", "TXT", 3600),
    ("_sip._tcp", "SRV", 3600),
    ("long", "TXT", 3600),
    ("max-ttl", "TXT", 2147483647),
    ("s1._domainkey", "CNAME", 3600),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    reason = lab_unavailable()
    if reason:
        pytest.fail(reason) if IN_CI else pytest.skip(reason)
    root = make_project(tmp_path_factory.mktemp("limits") / "p", net=SPARE_NET)
    (root / ZONE_FILE).write_text(ACCEPTED)
    cli = CliRunner()
    up = run(cli, root, "lab", "up")
    assert up.exit_code == 0, up.output
    try:
        synced = run(cli, root, "sync", "--doit", "--zone", ZONE)
        assert synced.exit_code == 0, synced.output
        yield root
    finally:
        down = run(cli, root, "lab", "down")
        assert down.exit_code == 0, down.output


def address(root: Path, provider: str) -> str:
    nameservers = load_project(root / "dnsops.yaml").lab.providers[provider].nameservers
    return next(iter(nameservers.values()))


def ask(root: Path, provider: str, name: str, rtype: str, *, udp: int = 0) -> dns.message.Message:
    """One query, over TCP (or UDP with an EDNS buffer of ``udp`` octets), no recursion."""
    fqdn = f"{name}.{ZONE}" if name else ZONE
    query = dns.message.make_query(fqdn, rtype, use_edns=0 if udp else None, payload=udp or 1232)
    query.flags &= ~dns.flags.RD
    if udp:
        return dns.query.udp(query, address(root, provider), timeout=3)
    return dns.query.tcp(query, address(root, provider), timeout=3)


def answer(root: Path, provider: str, name: str, rtype: str) -> tuple[str, list[tuple[int, str]]]:
    reply = ask(root, provider, name, rtype)
    rrs = sorted((rrset.ttl, rr.to_text()) for rrset in reply.answer for rr in rrset)
    return dns.rcode.to_text(reply.rcode()), rrs


def test_what_lint_accepts_both_servers_serve_alike(lab: Path) -> None:
    lint = run(CliRunner(), lab, "lint", "--zone", ZONE, "--format", "json")
    assert lint.exit_code == 0, lint.output
    errors = [f for f in json.loads(lint.stdout)["findings"] if f["severity"] == "error"]
    assert errors == []
    for name, rtype, ttl in SERVED:
        pdns, bind = answer(lab, "pdns", name, rtype), answer(lab, "bind", name, rtype)
        assert pdns == bind, (name, rtype)
        rcode, rrs = pdns
        assert rcode == "NOERROR" and rrs and {t for t, _ in rrs} == {ttl}, (name, rtype, pdns)
    _, rrs = answer(lab, "pdns", "long", "TXT")
    assert "".join(rrs[0][1].replace('" "', "").strip('"')) == LONG


def push(root: Path, record: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Sync the zone plus ``record`` the way `dnsops sync --doit` would, minus the lint
    gate: each provider's (status, error)."""
    zone = root / ZONE_FILE
    zone.write_text(zone_text(record))
    try:
        target = sync_run.load(Env(load_project(root / "dnsops.yaml")), ZONE)
        result = sync_run.execute(target, target.plan(), force=True, verify_timeout=5)
    finally:
        zone.write_text(ACCEPTED)
    return {o.provider: (o.status, o.error or "") for o in result.outcomes}


def restore(root: Path) -> None:
    target = sync_run.load(Env(load_project(root / "dnsops.yaml")), ZONE)
    result = sync_run.execute(target, target.plan(), force=True, verify_timeout=5)
    assert result.ok, result


def lint_errors(root: Path, record: dict[str, str]) -> list[tuple[str, int]]:
    """The error-level findings of `dnsops lint` on the zone plus ``record``."""
    zone = root / ZONE_FILE
    zone.write_text(zone_text(record))
    try:
        result = run(CliRunner(), root, "lint", "--zone", ZONE, "--format", "json")
    finally:
        zone.write_text(ACCEPTED)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert {f["file"] for f in doc["findings"]} == {ZONE_FILE}
    return [(f["id"], f["line"]) for f in doc["findings"] if f["severity"] == "error"]


def line_of(text: str, name: str) -> int:
    """Where findings about record ``name`` point: the first key of its mapping."""
    return text.splitlines().index(f"{json.dumps(name)}:") + 2


A = _body("A", 3600, "192.0.2.9")
APPLIED = ("applied", "")
UNPROCESSABLE = "422 Client Error: Unprocessable Entity"  # PowerDNS: the whole batch fails
REFUSED = "Unable to perform update: REFUSED"  # BIND's check-names


def failed(error: str) -> tuple[str, str]:
    return ("failed", error)


# name, record, the error-level rules lint refuses it by, then what PowerDNS and BIND do
# with it when it is sent anyway (status, a part of the error)
CASES = [
    ("x$(id)", A, ["hostname"], failed(UNPROCESSABLE), failed(REFUSED)),
    ("x.*", A, ["hostname"], failed(UNPROCESSABLE), failed(REFUSED)),
    ("w*x", A, ["hostname"], failed(UNPROCESSABLE), failed(REFUSED)),
    ("-lead", A, ["hostname"], APPLIED, failed(REFUSED)),
    ("a/b", A, ["hostname"], APPLIED, failed(REFUSED)),
    ("_x", A, ["hostname"], APPLIED, failed(REFUSED)),
    ("ttl", _body("TXT", 2**31, "x"), ["ttl-rfc2181"], APPLIED, APPLIED),
    ("ttl", _body("TXT", 2**32, "x"), ["ttl-rfc2181"], APPLIED, failed("'I' format requires")),
    ("huge", _body("TXT", 3600, "a" * 70_000), ["rrset-size", "wire-limits"], APPLIED,
     failed("FormError")),
    ("big", _body("TXT", 3600, "a" * 10_000), ["rrset-size"], APPLIED, APPLIED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "body", "rules", "pdns", "bind"),
    CASES,
    ids=["dollar", "star-label-2", "star-in-label", "hyphen", "slash", "underscore-a",
         "ttl-2^31", "ttl-2^32", "txt-70k", "txt-10k"],
)  # fmt: skip
def test_what_lint_refuses_a_server_refuses_or_mangles(
    lab: Path,
    name: str,
    body: str,
    rules: list[str],
    pdns: tuple[str, str],
    bind: tuple[str, str],
) -> None:
    logging.getLogger("octodns").setLevel(logging.CRITICAL)  # the failures are expected
    line = line_of(zone_text({name: body}), name)
    assert lint_errors(lab, {name: body}) == [(rule, line) for rule in rules]
    outcome = push(lab, {name: body})
    try:
        for provider, (status, error) in (("pdns", pdns), ("bind", bind)):
            assert outcome[provider][0] == status, (provider, outcome)
            assert error in outcome[provider][1], (provider, outcome)
        rtype = "A" if body is A else "TXT"
        served = {p: answer(lab, p, name, rtype) for p in ("pdns", "bind")}
        if pdns == APPLIED and bind != APPLIED and rtype == "A":  # the providers diverge
            assert served == {
                "pdns": ("NOERROR", [(3600, "192.0.2.9")]),
                "bind": ("NXDOMAIN", []),
            }
        if name == "ttl":  # stored, but served with TTL 0 (mod 2^32 too, by PowerDNS)
            assert served["pdns"] == ("NOERROR", [(0, '"x"')])
            if bind == APPLIED:
                assert served["bind"] == ("NOERROR", [(0, '"x"')])
        if name == "huge":  # PowerDNS holds it but can answer nothing
            assert served["pdns"] == ("NOERROR", [])
        if name == "big":  # served, but only over TCP: truncated over UDP at EDNS 1232
            for provider in ("pdns", "bind"):
                reply = ask(lab, provider, name, "TXT", udp=1232)
                assert reply.flags & dns.flags.TC and not reply.answer, provider
    finally:
        restore(lab)


def test_sync_doit_refuses_and_sends_nothing(lab: Path) -> None:
    bad = {"ttl": _body("TXT", 2**32, "x"), "x$(id)": A}
    text = zone_text(bad)
    (lab / ZONE_FILE).write_text(text)
    try:
        result = run(CliRunner(), lab, "sync", "--doit", "--zone", ZONE)
    finally:
        (lab / ZONE_FILE).write_text(ACCEPTED)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    start = lines.index("error: lint found 2 error(s); nothing was synced:")
    assert lines[start + 1 : start + 3] == [
        f"  {ZONE_FILE}:{line_of(text, 'ttl')}: ttl-rfc2181: ttl.{ZONE} TXT: TTL 4294967296s "
        "is over 2147483647s (2^31 - 1), the largest RFC 2181 §8 allows",
        f"  {ZONE_FILE}:{line_of(text, 'x$(id)')}: hostname: x$(id).{ZONE} A: bad name "
        f"x$(id).{ZONE}: label 'x$(id)' has '$' '(' ')': a label is letters, digits and "
        "hyphens (RFC 952, RFC 1123), or starts with an underscore (RFC 8552)",
    ]
    for provider in ("pdns", "bind"):
        assert answer(lab, provider, "ttl", "TXT") == ("NXDOMAIN", [])
    # both providers still hold exactly the zone as it was (PowerDNS answers SERVFAIL to a
    # query for x$(id) itself, so ask the plan)
    plan = run(CliRunner(), lab, "plan", "--zone", ZONE, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
