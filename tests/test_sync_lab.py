"""plan / sync / apply against real PowerDNS and BIND.

These tests change zones, stop BIND and edit records out of band, so they run
on their own lab (SPARE_NET) instead of the session lab. Every test starts from
the repo's example zone synced to both providers and puts it back afterwards.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest

from dnsops.config import Project, load_project
from dnsops.env import Env
from dnsops.lab.runner import LabRunner
from dnsops.sync import run as sync_run
from tests.conftest import run as cli_run
from tests.conftest import spare_lab

pytestmark = pytest.mark.lab

ZONE_FILE = "zones/example.test.yaml"
API_OLD = "    - 192.0.2.21\n"
API_NEW = "    - 192.0.2.99\n"


@pytest.fixture(scope="module")
def lab() -> Iterator[Path]:
    with spare_lab("dnsops-sync-") as root:
        yield root


@pytest.fixture
def project(lab: Path, cli: Any) -> Iterator[Path]:
    """The lab project, synced; its zone file and both providers restored afterwards."""
    zone = lab / ZONE_FILE
    original = zone.read_text()
    first = cli_run(cli, lab, "sync", "--doit", "--force")
    assert first.exit_code == 0, first.output
    yield lab
    zone.write_text(original)
    runner = LabRunner(load_project(lab / "dnsops.yaml"))
    runner.up()  # in case a test left BIND down
    again = cli_run(cli, lab, "sync", "--doit", "--force")
    assert again.exit_code == 0, again.output


def proj(root: Path) -> Project:
    return load_project(root / "dnsops.yaml")


def nameservers(root: Path, provider: str) -> dict[str, str]:
    return dict(proj(root).lab.providers[provider].nameservers)


def served(addr: str, name: str, rtype: str) -> tuple[int, list[str]] | None:
    q = dns.message.make_query(name, rtype)
    q.flags &= ~dns.flags.RD
    r = dns.query.udp(q, addr, timeout=3)
    assert r.flags & dns.flags.AA
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.from_text(rtype):
            return rrset.ttl, sorted(x.to_text() for x in rrset)
    return None


def edit(root: Path, old: str, new: str) -> None:
    path = root / ZONE_FILE
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new))


def plan_json(cli: Any, root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli_run(cli, root, "plan", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def bind_update(root: Path, name: str, ttl: int, rtype: str, value: str) -> None:
    """An out-of-band change on BIND, signed with the lab's TSIG key (as nsupdate would)."""
    secrets = LabRunner(proj(root)).secrets()
    update = dns.update.UpdateMessage(
        "example.test.",
        keyring=dns.tsigkeyring.from_text({secrets.tsig_name: secrets.tsig_secret}),
        keyname=secrets.tsig_name,
        keyalgorithm=dns.tsig.HMAC_SHA256,
    )
    update.replace(name, ttl, rtype, value)
    addr = next(iter(nameservers(root, "bind").values()))
    assert dns.query.tcp(update, addr, timeout=5).rcode() == 0


def first_key_line(root: Path, record: str) -> int:
    """Line of the first key of a record's mapping (where octoDNS says it is)."""
    lines = (root / ZONE_FILE).read_text().splitlines()
    start = lines.index(f"{record}:")
    return next(i + 1 for i in range(start + 1, len(lines)) if not lines[i].strip().startswith("#"))


def api_update(root: Path) -> dict[str, Any]:
    return {
        "action": "update",
        "name": "api",
        "fqdn": "api.example.test.",
        "type": "A",
        "source": f"{ZONE_FILE}:{first_key_line(root, 'api')}",
        "old": {"ttl": 60, "values": ["192.0.2.20", "192.0.2.21"]},
        "new": {"ttl": 60, "values": ["192.0.2.20", "192.0.2.99"]},
    }


def test_sync_from_empty_verifies_every_record_on_both(
    lab: Path, cli: Any, reads: Counter[str]
) -> None:
    """The first sync of a fresh lab creates the zone on PowerDNS, fills BIND's."""
    result = cli_run(cli, lab, "sync", "--doit")
    assert result.exit_code == 0, result.output
    assert "pdns: applied 13 change(s)" in result.output
    assert "verified on pdns: 13/13" in result.output
    # BIND's zone file was seeded with the apex NS by `lab up`: 12 records to create
    assert "bind: applied 12 change(s)" in result.output
    assert "verified on bind: 12/12" in result.output
    assert (
        "warning: the two providers' plans differ:\n"
        "  example.test. NS: only pdns would create it (bind is already in sync)"
    ) in result.output
    # one environment model for the lint gate, both plans, the apply and the verification
    assert reads == Counter({"octoDNS config": 1, "zone example.test.": 1})


def test_plan_edit_sync_plan(cli: Any, project: Path) -> None:
    code, doc = plan_json(cli, project, "--detailed-exitcode")
    assert code == 0
    assert doc["has_changes"] is False
    assert [s["provider"] for s in doc["summary"]] == ["pdns", "bind"]

    edit(project, API_OLD, API_NEW)
    code, doc = plan_json(cli, project, "--detailed-exitcode")
    assert code == 2
    changes = {p["provider"]: p["changes"] for p in doc["plans"]}
    assert changes == {"pdns": [api_update(project)], "bind": [api_update(project)]}
    assert doc["differences"] == []

    text = cli_run(cli, project, "plan")
    assert text.exit_code == 0
    assert "pdns: 0 to create, 1 to update, 0 to delete in 1 of 1 zone(s)" in text.stdout
    assert "bind: 0 to create, 1 to update, 0 to delete in 1 of 1 zone(s)" in text.stdout
    assert "- api.example.test. 60 A 192.0.2.21" in text.stdout
    assert "+ api.example.test. 60 A 192.0.2.99" in text.stdout

    synced = cli_run(cli, project, "sync", "--doit")
    assert synced.exit_code == 0, synced.output
    assert "verified on pdns: 1/1" in synced.output
    assert "verified on bind: 1/1" in synced.output
    for provider in ("pdns", "bind"):
        for addr in nameservers(project, provider).values():
            assert served(addr, "api.example.test.", "A") == (60, ["192.0.2.20", "192.0.2.99"])

    code, doc = plan_json(cli, project, "--detailed-exitcode")
    assert (code, doc["has_changes"]) == (0, False)


def test_sync_json_reports_each_provider(cli: Any, project: Path) -> None:
    edit(project, API_OLD, API_NEW)
    result = cli_run(cli, project, "sync", "--doit", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    outcomes = {o["provider"]: o for o in doc["result"]["outcomes"]}
    assert doc["result"]["ok"] is True
    for provider in ("pdns", "bind"):
        assert outcomes[provider]["status"] == "applied"
        assert outcomes[provider]["applied"] == 1
        v = outcomes[provider]["verification"]
        assert (v["verified"], v["total"], v["pending"]) == (1, 1, [])


def test_provider_limits_plan_and_sync_to_one_provider(cli: Any, project: Path) -> None:
    edit(project, API_OLD, API_NEW)
    code, doc = plan_json(cli, project, "--provider", "bind", "--detailed-exitcode")
    assert code == 2
    assert [p["provider"] for p in doc["plans"]] == ["bind"]
    synced = cli_run(cli, project, "sync", "--doit", "--provider", "bind")
    assert synced.exit_code == 0, synced.output
    assert "verified on bind: 1/1" in synced.output
    assert "pdns" not in synced.stdout
    for addr in nameservers(project, "bind").values():
        assert served(addr, "api.example.test.", "A") == (60, ["192.0.2.20", "192.0.2.99"])
    for addr in nameservers(project, "pdns").values():  # left as it was
        assert served(addr, "api.example.test.", "A") == (60, ["192.0.2.20", "192.0.2.21"])
    code, doc = plan_json(cli, project, "--detailed-exitcode")
    assert code == 2
    assert [p["provider"] for p in doc["plans"] if p["changes"]] == ["pdns"]
    wrong = cli_run(cli, project, "plan", "--provider", "route53")
    assert wrong.exit_code == 1
    assert "--provider 'route53': environment lab has pdns, bind" in wrong.output


def test_a_large_sync_shows_counts_not_every_record(cli: Any, project: Path) -> None:
    bulk = "".join(
        f"bulk{i:02d}:\n  ttl: 3600\n  type: A\n  value: 192.0.2.{i + 100}\n" for i in range(60)
    )
    edit(project, "mx1:\n", bulk + "mx1:\n")
    synced = cli_run(cli, project, "sync", "--doit")
    assert synced.exit_code == 0, synced.output
    assert "pdns: 60 to create, 0 to update, 0 to delete in 1 of 1 zone(s)" in synced.stdout
    assert "bulk00.example.test." not in synced.stdout
    assert "120 changes: a summary per provider" in synced.stderr
    assert "verified on bind: 60/60" in synced.output
    edit(project, bulk, "")
    verbose = cli.invoke(
        __import__("dnsops.cli.app", fromlist=["app"]).app,
        ["--config", str(project / "dnsops.yaml"), "-v", "sync", "--doit", "--force"],
    )
    assert verbose.exit_code == 0, verbose.output
    assert "- bulk00.example.test. 3600 A 192.0.2.100" in verbose.stdout


def test_a_phase_past_its_deadline_ends_the_sync_and_frees_the_lock(
    cli: Any, project: Path
) -> None:
    from dnsops.lock import environment_lock

    edit(project, API_OLD, API_NEW)
    config = project / "dnsops.yaml"
    original = config.read_text()
    marker = "    octodns_config: config/lab.yaml\n"
    assert marker in original
    config.write_text(
        original.replace(marker, marker + "    provider_api: {phases: {plan: 0.001}}\n", 1)
    )
    try:
        late = cli_run(cli, project, "sync", "--doit")
    finally:
        config.write_text(original)
    assert late.exit_code == 1
    text = " ".join(late.output.split())
    # the provider whose planning started after the deadline (both, or the slower one)
    assert re.search(
        r"(pdns|bind): could not be planned: PhaseDeadlineExceeded: \1: planning passed its "
        r"0\.001 s deadline after 0 of 1 zone\(s\)",
        text,
    ), text
    assert "Traceback" not in late.output
    with environment_lock(proj(project), "lab", command="test"):
        pass  # free at once


def test_sync_without_doit_changes_nothing(cli: Any, project: Path) -> None:
    edit(project, API_OLD, API_NEW)
    result = cli_run(cli, project, "sync")
    assert result.exit_code == 0
    assert "dry run: nothing applied; rerun with --doit to apply" in result.output
    addr = next(iter(nameservers(project, "pdns").values()))
    assert served(addr, "api.example.test.", "A") == (60, ["192.0.2.20", "192.0.2.21"])


def test_saved_plan_is_applied_when_nothing_moved(cli: Any, project: Path, tmp_path: Path) -> None:
    edit(project, API_OLD, API_NEW)
    saved = tmp_path / "plan.json"
    planned = cli_run(cli, project, "plan", "--out", str(saved))
    assert planned.exit_code == 0 and saved.exists()
    other = cli_run(cli, project, "apply", str(saved), "--env", "production")
    assert other.exit_code == 1
    assert "is a plan of environment 'lab', not 'production'" in other.output
    applied = cli_run(cli, project, "apply", str(saved), "--env", "lab")
    assert applied.exit_code == 0, applied.output
    assert "the saved plan still matches the zones and both providers" in applied.output
    assert "verified on pdns: 1/1" in applied.output
    assert "verified on bind: 1/1" in applied.output
    code, _ = plan_json(cli, project, "--detailed-exitcode")
    assert code == 0


def test_saved_plan_refused_after_out_of_band_change_on_bind(
    cli: Any, project: Path, tmp_path: Path
) -> None:
    edit(project, API_OLD, API_NEW)
    saved = tmp_path / "plan.json"
    assert cli_run(cli, project, "plan", "--out", str(saved)).exit_code == 0
    bind_update(project, "www", 3600, "CNAME", "api.example.test.")
    refused = cli_run(cli, project, "apply", str(saved))
    assert refused.exit_code == 3  # stale: plan again (a pipeline tells it from a failure)
    assert (
        "the saved plan no longer matches what it was computed from:\n"
        "  bind: www.example.test. CNAME changed on bind since the plan: "
        "3600 example.test. -> 3600 api.example.test." in refused.output
    )
    assert "Traceback" not in refused.output
    # nothing was applied anywhere
    for provider in ("pdns", "bind"):
        addr = next(iter(nameservers(project, provider).values()))
        assert served(addr, "api.example.test.", "A") == (60, ["192.0.2.20", "192.0.2.21"])


def test_saved_plan_refused_after_the_zone_changed(cli: Any, project: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert cli_run(cli, project, "plan", "--out", str(saved)).exit_code == 0
    edit(project, "  value: 192.0.2.30\n", "  value: 192.0.2.31\n")
    refused = cli_run(cli, project, "apply", str(saved))
    assert refused.exit_code == 3
    assert (
        "zones: sip.example.test. A changed in git since the plan: 3600 192.0.2.30 -> "
        "3600 192.0.2.31" in refused.output
    )


DELETED = ("api:", "sip:", "_sip._tcp:", "www:")


def _delete_four(root: Path) -> None:
    """Drop 4 of the zone's 13 records (30.8 %): just over octoDNS's 30 % guard."""
    path = root / ZONE_FILE
    lines = path.read_text().splitlines(keepends=True)
    keep, skipping = [], False
    for line in lines:
        if not line.startswith(" "):
            skipping = line.strip() in DELETED
        if not skipping:
            keep.append(line)
    path.write_text("".join(keep))


def test_deleting_over_30_percent_needs_force(cli: Any, project: Path) -> None:
    _delete_four(project)
    refused = cli_run(cli, project, "sync", "--doit")
    assert refused.exit_code == 1
    for provider in ("pdns", "bind"):
        assert (
            f"{provider} example.test.: would delete 4 of 13 records (30.8 %), over octoDNS's "
            "safety threshold of 30 % for zones with at least 10 records" in refused.output
        )
    assert "rerun with --force" in refused.output
    addr = next(iter(nameservers(project, "bind").values()))
    assert served(addr, "www.example.test.", "CNAME") == (3600, ["example.test."])

    forced = cli_run(cli, project, "sync", "--doit", "--force")
    assert forced.exit_code == 0, forced.output
    assert "verified on pdns: 4/4" in forced.output
    assert "verified on bind: 4/4" in forced.output
    assert served(addr, "www.example.test.", "CNAME") is None


def test_partial_failure_then_rerun_converges(cli: Any, project: Path) -> None:
    runner = LabRunner(proj(project))
    edit(project, API_OLD, API_NEW)
    runner.down(["bind"])
    try:
        partial = cli_run(cli, project, "sync", "--doit")
        assert partial.exit_code == 1
        assert "pdns: applied 1 change(s)" in partial.output
        assert "verified on pdns: 1/1" in partial.output
        assert (
            "bind: NOT synced: its current state could not be read (ConnectionRefusedError: "
            "[Errno 111] Connection refused); nothing was sent to it" in partial.output
        )
        assert "not every provider matches the zones now" in partial.output
        pdns = next(iter(nameservers(project, "pdns").values()))
        assert served(pdns, "api.example.test.", "A") == (60, ["192.0.2.20", "192.0.2.99"])
    finally:
        runner.up(["bind"])
    again = cli_run(cli, project, "sync", "--doit")
    assert again.exit_code == 0, again.output
    assert "pdns: already in sync, nothing applied" in again.output
    assert "bind: applied 1 change(s)" in again.output
    assert "verified on bind: 1/1" in again.output
    code, _ = plan_json(cli, project, "--detailed-exitcode")
    assert code == 0


def test_apply_failure_is_read_back_and_reported(project: Path) -> None:
    """BIND dies between plan and apply: PowerDNS is applied, BIND reported failed."""
    root = project
    edit(root, API_OLD, API_NEW)
    target = sync_run.load(Env(proj(root)))
    planned = target.plan()
    runner = LabRunner(proj(root))
    runner.down(["bind"])
    try:
        result = sync_run.execute(target, planned)
    finally:
        runner.up(["bind"])
    outcomes = {o.provider: o for o in result.outcomes}
    assert result.ok is False
    assert (outcomes["pdns"].status, outcomes["pdns"].applied) == ("applied", 1)
    assert outcomes["pdns"].verification is not None
    assert outcomes["pdns"].verification.line() == "verified on pdns: 1/1"
    bind = outcomes["bind"]
    assert (bind.status, bind.applied, bind.failed_zone, bind.pending) == (
        "failed",
        0,
        "example.test.",
        None,
    )
    assert bind.error is not None and "Connection refused" in bind.error
    # BIND is back: it still needs exactly that change
    again = sync_run.load(Env(proj(root))).plan()
    assert [(p.provider, [c.key for c in p.changes]) for p in again.plans] == [
        ("pdns", []),
        ("bind", ["api.example.test. A"]),
    ]


def test_outputs_and_logs_never_contain_a_secret(
    cli: Any, project: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # octoDNS, requests and dnsops at their most verbose
    secrets = LabRunner(proj(project)).secrets()
    edit(project, API_OLD, API_NEW)
    saved = tmp_path / "plan.json"
    outputs = [
        cli_run(cli, project, "plan").output,
        cli_run(cli, project, "plan", "-f", "markdown").output,
        cli_run(cli, project, "plan", "-f", "json", "--out", str(saved)).output,
        saved.read_text(),
        cli_run(cli, project, "sync", "--doit", "-f", "json").output,
    ]
    LabRunner(proj(project)).down(["bind"])
    try:
        outputs.append(cli_run(cli, project, "sync", "--doit").output)
        outputs.append(cli_run(cli, project, "plan", "-f", "markdown").output)
    finally:
        LabRunner(proj(project)).up(["bind"])
    for text in outputs[:5]:  # the change is in every plan, the saved one and the sync
        assert "api.example.test." in text
    assert "Connection refused" in outputs[-1] and "apply" in caplog.text
    for text in [*outputs, caplog.text]:
        for secret in (secrets.pdns_api_key, secrets.tsig_secret):
            assert secret not in text


def test_sync_and_apply_refuse_zones_with_lint_errors(
    cli: Any, project: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    edit(project, API_OLD, "    - 10.0.0.5\n")  # a private address in a public zone
    # plan shows it (a PR comment shows the plan next to the lint findings)...
    assert cli_run(cli, project, "plan", "--out", str(saved)).exit_code == 0
    # ...but neither sync nor apply pushes it
    for args in (("sync", "--doit"), ("apply", str(saved))):
        refused = cli_run(cli, project, *args)
        assert refused.exit_code == 1, args
        assert "lint found 1 error(s); nothing was synced:" in refused.output
        assert "no-private-addresses: api.example.test. A:" in refused.output
        assert "10.0.0.5" in refused.output
    for provider in ("pdns", "bind"):
        addr = next(iter(nameservers(project, provider).values()))
        assert served(addr, "api.example.test.", "A") == (60, ["192.0.2.20", "192.0.2.21"])


def test_sync_shows_that_lint_passed(cli: Any, project: Path) -> None:
    edit(project, API_OLD, API_NEW)
    synced = cli_run(cli, project, "sync", "--doit")
    assert synced.exit_code == 0, synced.output
    assert "lint: no error-level finding (" in synced.output


def test_verify_reports_what_each_nameserver_serves_instead(project: Path) -> None:
    """A change the servers don't serve: not verified, each server's answer named."""
    import asyncio

    from dnsops.sync.model import Change, RecordState
    from dnsops.sync.verify import Server, until_served

    want = Change(
        action="update",
        name="mx1.example.test.",
        type="A",
        new=RecordState(
            name="mx1.example.test.", type="A", ttl=3600, values=["192.0.2.123"], digest="x"
        ),
    )
    servers = [Server(n, a) for n, a in nameservers(project, "pdns").items()]
    got = asyncio.run(until_served("pdns", [(want, servers, "answer")], timeout=1.0, interval=0.2))
    assert (got.verified, got.total, got.failed) == (0, 1, True)
    assert got.pending == [
        f"mx1.example.test. A: {s} serves 3600 192.0.2.25" for s in sorted(map(str, servers))
    ]
    assert got.line() == "verified on pdns: 0/1"


APEX_NS_OLD = "      - ns2.bind.test.\n"


def served_ns(root: Path) -> dict[str, list[str]]:
    """The apex NS set each nameserver of both providers serves for example.test."""
    out = {}
    for provider in ("pdns", "bind"):
        for name, addr in nameservers(root, provider).items():
            got = served(addr, "example.test.", "NS")
            assert got is not None, f"{name} serves no apex NS"
            out[name] = got[1]
    return out


def sync_converges(cli: Any, root: Path, changes: int) -> None:
    synced = cli_run(cli, root, "sync", "--doit", "--force")
    assert synced.exit_code == 0, synced.output
    for provider in ("pdns", "bind"):
        assert f"{provider}: applied {changes} change(s)" in synced.output
        assert f"verified on {provider}: {changes}/{changes}" in synced.output
    code, doc = plan_json(cli, root, "--detailed-exitcode")
    assert (code, doc["has_changes"]) == (0, False), doc


def test_apex_ns_name_added_then_removed_converges(cli: Any, project: Path) -> None:
    """BIND ignores an RFC 2136 delete of the whole apex NS set: the NS change goes
    out as adds, then deletes of single records, and converges on both providers."""
    four = sorted(["ns1.bind.test.", "ns2.bind.test.", "ns1.pdns.test.", "ns2.pdns.test."])
    before = served_ns(project)
    assert before == {name: four for name in before}

    edit(project, APEX_NS_OLD, APEX_NS_OLD + "      - ns3.bind.test.\n")
    sync_converges(cli, project, 1)
    five = sorted([*four, "ns3.bind.test."])
    assert served_ns(project) == {name: five for name in before}

    edit(project, APEX_NS_OLD + "      - ns3.bind.test.\n", "")
    sync_converges(cli, project, 1)
    three = sorted(set(four) - {"ns2.bind.test."})
    assert served_ns(project) == {name: three for name in before}


NS3_IN_ZONE = """\
ns3:
  ttl: 3600
  type: A
  value: {address}
"""


def test_apex_ns_swapped_with_glue_and_ttl_converges(cli: Any, project: Path) -> None:
    """One name out, an in-zone name in (its A record created in the same sync), the
    TTL changed: converges; and back (the A record deleted with its name). The new
    name is BIND's second server under another name: every name on the list answers."""
    servers = {a for p in ("pdns", "bind") for a in nameservers(project, p).values()}
    address = nameservers(project, "bind")["ns2.bind.test."]
    original = (project / ZONE_FILE).read_text()
    # lint: the in-zone name is one of BIND's, and its (lab) address is loopback
    policy = project / "policies" / "default.yaml"
    policy_text = policy.read_text()
    bind_names, loopback = "      bind: ['ns*.bind.test.']", "        - 127.0.0.0/8\n"
    assert policy_text.count(bind_names) == 1 and policy_text.count(loopback) == 1
    policy.write_text(
        policy_text.replace(bind_names, bind_names[:-1] + ", ns3.example.test.]").replace(
            loopback, ""
        )
    )
    try:
        edit(project, APEX_NS_OLD, "      - ns3.example.test.\n")
        edit(project, "  - ttl: 86400\n    type: NS\n", "  - ttl: 7200\n    type: NS\n")
        edit(project, "sip:\n", NS3_IN_ZONE.format(address=address) + "sip:\n")
        sync_converges(cli, project, 2)
        want = sorted(["ns1.bind.test.", "ns1.pdns.test.", "ns2.pdns.test.", "ns3.example.test."])
        for addr in servers:
            assert served(addr, "example.test.", "NS") == (7200, want), addr
            assert served(addr, "ns3.example.test.", "A") == (3600, [address]), addr

        (project / ZONE_FILE).write_text(original)
        sync_converges(cli, project, 2)
    finally:
        policy.write_text(policy_text)
    want = sorted(["ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.", "ns2.pdns.test."])
    for addr in servers:
        assert served(addr, "example.test.", "NS") == (86400, want), addr
        assert served(addr, "ns3.example.test.", "A") is None, addr
