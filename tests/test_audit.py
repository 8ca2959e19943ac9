"""dnsops audit against the lab's real servers: PowerDNS (API + per-record queries) and
BIND (AXFR with TSIG), changed behind dnsops's back through their own interfaces.

Every test leaves the lab as it found it: synced to the zones in git.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update
import pytest
import requests

from dnsops.config import Project
from dnsops.lab.runner import LabRunner
from tests import promtool
from tests.conftest import run
from tests.test_lab import sync_lab

pytestmark = pytest.mark.lab

ZONE = "example.test."
VERDICT = "consistent: 13 records × 2 providers, 3 views (1 zone)"  # noqa: RUF001


@pytest.fixture(scope="module")
def synced(lab_project: Project) -> Project:
    assert not sync_lab(lab_project).has_changes
    return lab_project


@pytest.fixture
def lab(synced: Project) -> Iterator[Project]:
    """The synced lab; synced again after the test so the next one sees a clean lab."""
    yield synced
    assert not sync_lab(synced).has_changes, "the lab did not come back to the zones in git"


def audit(cli: Any, lab_dir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(cli, lab_dir, "audit", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def drift(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(class, provider, subject, view) of every finding."""
    return [(f["id"], f["provider"], f["subject"], f["data"]["view"]) for f in doc["findings"]]


def nsupdate(project: Project, change: Callable[[dns.update.UpdateMessage], None]) -> None:
    """An RFC 2136 update on BIND, signed with the lab's TSIG key (as nsupdate -y would)."""
    secrets = LabRunner(project).secrets()
    update = dns.update.UpdateMessage(
        ZONE,
        keyring=dns.tsigkeyring.from_text({secrets.tsig_name: secrets.tsig_secret}),
        keyname=secrets.tsig_name,
        keyalgorithm="hmac-sha256",
    )
    change(update)
    bind = project.lab.providers["bind"].addresses[0]
    assert dns.query.tcp(update, bind, timeout=5).rcode() == dns.rcode.NOERROR


def pdns_patch(project: Project, *rrsets: dict[str, Any]) -> None:
    """A change through PowerDNS's HTTP API, as its console would make it."""
    pdns = project.lab.providers["pdns"]
    url = f"http://{pdns.addresses[0]}:{pdns.api_port}/api/v1/servers/localhost/zones/{ZONE}"
    key = LabRunner(project).secrets().pdns_api_key
    resp = requests.patch(
        url, json={"rrsets": list(rrsets)}, headers={"X-API-Key": key}, timeout=10
    )
    assert resp.status_code == 204, resp.text


def test_consistent_after_sync(cli: Any, lab_dir: Path, lab: Project) -> None:
    code, doc = audit(cli, lab_dir)
    assert code == 0
    assert (doc["consistent"], doc["verdict"], doc["records"]) == (True, VERDICT, 13)
    assert doc["findings"] == []
    assert doc["views"] == ["source", "api", "served"]
    (zone,) = doc["zones"]
    seen = {
        p["provider"]: (p["api"], [(s["method"], s["error"]) for s in p["served"]])
        for p in zone["providers"]
    }
    assert seen == {
        "pdns": ({"records": 13, "exists": True}, [("queries", None), ("queries", None)]),
        "bind": ({"records": 13, "exists": True}, [("axfr", None), ("axfr", None)]),
    }
    text = run(cli, lab_dir, "audit")
    assert text.exit_code == 0
    assert VERDICT in " ".join(text.stdout.split())


def test_value_changed_on_bind_via_nsupdate(cli: Any, lab_dir: Path, lab: Project) -> None:
    nsupdate(lab, lambda u: u.replace("api", 60, "A", "192.0.2.99"))
    code, doc = audit(cli, lab_dir)
    assert code == 1
    assert drift(doc) == [("values-differ", "bind", "api.example.test. A", "api")]
    (finding,) = doc["findings"]
    assert finding["data"]["expected"] == {"ttl": 60, "values": ["192.0.2.20", "192.0.2.21"]}
    assert finding["data"]["actual"] == {"ttl": 60, "values": ["192.0.2.99"]}
    # where the record's mapping starts, as dnsops validate reports it
    assert (finding["file"], finding["line"]) == ("zones/example.test.yaml", 60)
    assert doc["zones"][0]["providers"][1]["drift"]["values-differ"] == 1
    # dnsops sync puts the source back; the audit agrees
    assert run(cli, lab_dir, "sync", "--doit").exit_code == 0
    assert audit(cli, lab_dir)[0] == 0


def test_ttl_changed_on_bind(cli: Any, lab_dir: Path, lab: Project) -> None:
    nsupdate(lab, lambda u: u.replace("mx1", 300, "A", "192.0.2.25"))
    code, doc = audit(cli, lab_dir)
    assert code == 1
    assert drift(doc) == [("ttl-differs", "bind", "mx1.example.test. A", "api")]
    data = doc["findings"][0]["data"]
    assert (data["expected"]["ttl"], data["actual"]["ttl"]) == (3600, 300)


def test_record_added_on_pdns_via_its_api(cli: Any, lab_dir: Path, lab: Project) -> None:
    pdns_patch(
        lab,
        {
            "name": "backdoor.example.test.",
            "type": "A",
            "ttl": 300,
            "changetype": "REPLACE",
            "records": [{"content": "203.0.113.66", "disabled": False}],
        },
    )
    code, doc = audit(cli, lab_dir)
    assert code == 1
    # the API holds it and both nameservers serve it: drift from the source only
    assert drift(doc) == [("extra", "pdns", "backdoor.example.test. A", "api")]
    assert doc["findings"][0]["data"]["actual"] == {"ttl": 300, "values": ["203.0.113.66"]}
    assert run(cli, lab_dir, "sync", "--doit").exit_code == 0
    assert audit(cli, lab_dir)[0] == 0


def test_record_deleted_on_one_provider(cli: Any, lab_dir: Path, lab: Project) -> None:
    nsupdate(lab, lambda u: u.delete("_sip._tcp", "SRV"))
    code, doc = audit(cli, lab_dir)
    assert code == 1
    assert drift(doc) == [("missing", "bind", "_sip._tcp.example.test. SRV", "api")]
    assert doc["findings"][0]["data"]["expected"] == {
        "ttl": 3600,
        "values": ["10 60 5060 sip.example.test."],
    }
    assert run(cli, lab_dir, "sync", "--doit").exit_code == 0
    assert audit(cli, lab_dir)[0] == 0


def test_disabled_in_pdns_is_held_but_not_served(cli: Any, lab_dir: Path, lab: Project) -> None:
    """A record disabled in PowerDNS: its API (and so octoDNS) still holds it, its
    nameservers no longer serve it. A sync sees nothing to do; only the audit notices."""

    def api_a(disabled: bool) -> dict[str, Any]:
        return {
            "name": "api.example.test.",
            "type": "A",
            "ttl": 60,
            "changetype": "REPLACE",
            "records": [
                {"content": "192.0.2.20", "disabled": disabled},
                {"content": "192.0.2.21", "disabled": False},
            ],
        }

    pdns_patch(lab, api_a(disabled=True))
    try:
        code, doc = audit(cli, lab_dir)
        assert code == 1
        assert [
            (*d, f["data"]["nameserver"]) for d, f in zip(drift(doc), doc["findings"], strict=True)
        ] == [
            (
                "served-differs-from-api",
                "pdns",
                "api.example.test. A",
                "served",
                f"{name} {addr}",
            )
            for name, addr in lab.lab.providers["pdns"].nameservers.items()
        ]
        data = doc["findings"][0]["data"]
        assert (data["against"], data["detail"], data["method"]) == ("api", "values", "queries")
        assert data["expected"] == {"ttl": 60, "values": ["192.0.2.20", "192.0.2.21"]}
        assert data["actual"] == {"ttl": 60, "values": ["192.0.2.21"]}
        assert run(cli, lab_dir, "plan", "--format", "json").exit_code == 0
    finally:
        pdns_patch(lab, api_a(disabled=False))
    assert audit(cli, lab_dir)[0] == 0


def test_type_pdns_cannot_hold_is_unsupported_by_one_provider(
    cli: Any, lab_dir: Path, lab: Project
) -> None:
    """SPF: octodns-bind's SUPPORTS lists it, octodns-powerdns's does not."""
    from dnsops import octo
    from dnsops.sync import core
    from dnsops.zones import load_zones

    path = lab_dir / "zones" / "example.test.yaml"
    original = path.read_text()
    spf = "spf:\n  ttl: 3600\n  type: SPF\n  value: v=spf1 -all\n"
    path.write_text(original.replace("www:\n", spf + "www:\n"))
    try:
        _, env = lab.lab_environment()
        bind = {"bind": octo.targets(lab, env)["bind"]}
        core.apply(core.plan(load_zones(lab, env), bind), bind)  # pdns could not take it
        code, doc = audit(cli, lab_dir)
        assert code == 1
        assert drift(doc) == [
            ("unsupported-by-one-provider", "pdns", "spf.example.test. SPF", "api")
        ]
        data = doc["findings"][0]["data"]
        assert (data["supported_by"], data["provider_class"]) == (["bind"], "PowerDnsProvider")
    finally:
        path.write_text(original)


def test_log_history_and_prometheus_metrics(
    cli: Any, lab_dir: Path, lab: Project, tmp_path: Path
) -> None:
    log, prom = tmp_path / "audit.jsonl", tmp_path / "textfile" / "dnsops_audit.prom"
    prom.parent.mkdir()  # the collector's directory: dnsops creates none for --prom-file
    assert run(cli, lab_dir, "audit", "--log", str(log), "--prom-file", str(prom)).exit_code == 0
    assert 'dnsops_audit_consistent{environment="lab"} 1' in prom.read_text()
    nsupdate(lab, lambda u: u.replace("sip", 3600, "A", "192.0.2.31"))
    assert run(cli, lab_dir, "audit", "--log", str(log), "--prom-file", str(prom)).exit_code == 1
    metrics = prom.read_text().splitlines()
    labels = 'environment="lab",zone="example.test.",provider="bind"'
    assert f'dnsops_audit_drift{{{labels},class="values-differ"}} 1' in metrics
    assert f'dnsops_audit_drift{{{labels},class="missing"}} 0' in metrics
    assert 'dnsops_audit_consistent{environment="lab"} 0' in metrics
    assert 'dnsops_audit_records{environment="lab",zone="example.test."} 13' in metrics
    assert any(
        m.startswith('dnsops_audit_last_run_timestamp_seconds{environment="lab"} ') for m in metrics
    )
    assert "# TYPE dnsops_audit_drift gauge" in metrics
    promtool.check(prom)

    lines = log.read_text().splitlines()
    assert len(lines) == 2
    hist = run(cli, lab_dir, "audit", "--history", "--log", str(log), "--format", "json")
    assert hist.exit_code == 0
    runs = json.loads(hist.stdout)["runs"]
    assert [(r["consistent"], r["drift"], r["records"]) for r in runs] == [
        (True, 0, 13),
        (False, 1, 13),
    ]
    assert runs[1]["by_zone"] == {ZONE: {"bind": {"values-differ": 1}}}
    assert runs[1]["classes"]["values-differ"] == 1
    text = run(cli, lab_dir, "audit", "--history", "--log", str(log))
    assert text.exit_code == 0
    assert "consistent" in text.stdout and "values 1" in text.stdout


def test_audit_never_shows_a_secret(cli: Any, lab_dir: Path, lab: Project, tmp_path: Path) -> None:
    secrets = LabRunner(lab).secrets()
    nsupdate(lab, lambda u: u.replace("mx2", 3600, "A", "192.0.2.27"))
    log, prom = tmp_path / "a.jsonl", tmp_path / "a.prom"
    texts = []
    for fmt in ("text", "json", "markdown", "github"):
        res = run(cli, lab_dir, "audit", "-f", fmt, "--log", str(log), "--prom-file", str(prom))
        assert res.exit_code == 1
        texts.append(res.output)
    texts += [log.read_text(), prom.read_text()]
    for text in texts:
        for secret in (secrets.pdns_api_key, secrets.tsig_secret):
            assert secret not in text


def test_markdown_report_names_the_drift(cli: Any, lab_dir: Path, lab: Project) -> None:
    nsupdate(lab, lambda u: u.delete("mx2", "A"))
    res = run(cli, lab_dir, "audit", "--format", "markdown")
    assert res.exit_code == 1
    assert res.stdout.startswith("## dnsops audit: lab: 1 drift item(s)\n")
    assert "| example.test. | bind | 13 | 12 | axfr 2/2 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 1 |" in (
        res.stdout
    )
    assert "| error | missing | mx2.example.test. A | zones/example.test.yaml:" in res.stdout
