"""Production through the CLI: Route 53 on moto_server, NS1 on the local API stand-in.

config/production.yaml is used as shipped, except that the NS1 provider gets a
``client_config`` pointing at the stand-in (octodns-route53 has no endpoint
option: botocore's AWS_ENDPOINT_URL_ROUTE_53 points it at moto_server). Every
credential is a fake, distinctive value that must never appear in any output.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import yaml
from octodns_ns1 import Ns1Provider
from typer.testing import CliRunner

from tests.conftest import NS1_TEST_KEY, make_project, reset_moto, run
from tests.fakes.ns1 import DNS_SERVERS, Ns1StandIn

AWS_KEY_ID = "AKIADNSOPSTESTKEY001"
AWS_SECRET = "aws-secret-Zq8v3Lr0tYw5KpXn2Hc7Jm9d"
SECRETS = (AWS_SECRET, NS1_TEST_KEY)
ZONE = "example.test."

# (name, type) -> (ttl, sorted values) as Route 53 lists them, apex NS/SOA aside
ROUTE53 = {
    ("example.test.", "A"): (3600, ["192.0.2.10", "192.0.2.11"]),
    ("example.test.", "AAAA"): (3600, ["2001:db8::10", "2001:db8::11"]),
    ("example.test.", "CAA"): (
        86400,
        ['0 iodef "mailto:security@example.test"', '0 issue "letsencrypt.org"', '0 issuewild ";"'],
    ),
    ("example.test.", "MX"): (3600, ["10 mx1.example.test.", "20 mx2.example.test."]),
    ("example.test.", "TXT"): (3600, ['"v=spf1 mx ip4:192.0.2.0/24 -all"']),
    # octodns-route53 sends TXT in zone-file form, semicolons escaped (\; reads as ;)
    ("_dmarc.example.test.", "TXT"): (
        3600,
        ['"v=DMARC1\\; p=reject\\; rua=mailto:dmarc@example.test"'],
    ),
    ("_sip._tcp.example.test.", "SRV"): (3600, ["10 60 5060 sip.example.test."]),
    ("api.example.test.", "A"): (60, ["192.0.2.20", "192.0.2.21"]),
    ("mx1.example.test.", "A"): (3600, ["192.0.2.25"]),
    ("mx2.example.test.", "A"): (3600, ["192.0.2.26"]),
    ("sip.example.test.", "A"): (3600, ["192.0.2.30"]),
    ("www.example.test.", "CNAME"): (3600, ["example.test."]),
}

# (domain, type) -> (ttl, sorted short_answers) as NS1 lists them: no trailing
# dots, rdata joined by spaces, TXT unquoted; the apex NS is NS1's own
NS1 = {
    ("example.test", "A"): (3600, ["192.0.2.10", "192.0.2.11"]),
    ("example.test", "AAAA"): (3600, ["2001:db8::10", "2001:db8::11"]),
    ("example.test", "CAA"): (
        86400,
        ["0 iodef mailto:security@example.test", "0 issue letsencrypt.org", "0 issuewild ;"],
    ),
    ("example.test", "MX"): (3600, ["10 mx1.example.test", "20 mx2.example.test"]),
    ("example.test", "NS"): (3600, sorted(DNS_SERVERS)),
    ("example.test", "TXT"): (3600, ["v=spf1 mx ip4:192.0.2.0/24 -all"]),
    ("_dmarc.example.test", "TXT"): (3600, ["v=DMARC1; p=reject; rua=mailto:dmarc@example.test"]),
    ("_sip._tcp.example.test", "SRV"): (3600, ["10 60 5060 sip.example.test"]),
    ("api.example.test", "A"): (60, ["192.0.2.20", "192.0.2.21"]),
    ("mx1.example.test", "A"): (3600, ["192.0.2.25"]),
    ("mx2.example.test", "A"): (3600, ["192.0.2.26"]),
    ("sip.example.test", "A"): (3600, ["192.0.2.30"]),
    ("www.example.test", "CNAME"): (3600, ["example.test"]),
}


@dataclass
class Production:
    root: Path
    moto_url: str
    ns1: Ns1StandIn
    outputs: list[str]

    @property
    def route53(self) -> Any:
        return boto3.client("route53")

    def cli(self, cli: CliRunner, *args: str) -> Any:
        result = run(cli, self.root, *args)
        self.outputs.append(result.output)
        return result

    def ns1_get(self, path: str, key: str = NS1_TEST_KEY) -> requests.Response:
        return requests.get(
            f"https://{self.ns1.address}:{self.ns1.port}/v1/{path}",
            headers={"X-NSONE-Key": key},
            verify=False,
            timeout=10,
        )


@pytest.fixture
def production(
    tmp_path: Path,
    moto_server: str,
    ns1_standin: Ns1StandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """A project copy whose production points at moto_server and the stand-in, both empty."""
    reset_moto(moto_server)
    ns1_standin.reset()
    root = make_project(tmp_path / "project")
    config = root / "config" / "production.yaml"
    data = yaml.safe_load(config.read_text())
    data["providers"]["ns1"]["client_config"] = ns1_standin.client_config()
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    for name, value in production_environ(moto_server).items():
        monkeypatch.setenv(name, value)
    prod = Production(root, moto_server, ns1_standin, [])
    yield prod
    for output in prod.outputs:
        for secret in SECRETS:
            assert secret not in output


def production_environ(moto_url: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",  # botocore wants one with an endpoint URL
        "AWS_ENDPOINT_URL_ROUTE_53": moto_url,
        "AWS_CONFIG_FILE": "/nonexistent",  # never a developer's own AWS profile
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NS1_API_KEY": NS1_TEST_KEY,
    }


def plan_changes(prod: Production, cli: CliRunner) -> dict[str, list[tuple[str, str, str]]]:
    """provider -> sorted (action, fqdn, type) of `dnsops plan --env production --format json`."""
    result = prod.cli(cli, "plan", "--env", "production", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    out: dict[str, list[tuple[str, str, str]]] = {}
    for plan in doc["plans"]:
        changes = out.setdefault(plan["provider"], [])
        for change in plan["changes"]:
            name = change["name"]
            fqdn = f"{name}.{plan['zone']}" if name else plan["zone"]
            changes.append((change["action"], fqdn, change["type"]))
    return {provider: sorted(changes) for provider, changes in out.items()}


def route53_records(prod: Production) -> tuple[dict[tuple[str, str], tuple[int, list[str]]], str]:
    """Route 53's record sets of the zone (NS/SOA included) and the zone's id."""
    client = prod.route53
    zones = client.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
    [zone] = [z for z in zones if z["Name"] == ZONE]
    rrsets = client.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    got = {
        (rr["Name"], rr["Type"]): (
            rr["TTL"],
            sorted(r["Value"] for r in rr["ResourceRecords"]),
        )
        for rr in rrsets
    }
    return got, zone["Id"]


def ns1_records(prod: Production) -> dict[tuple[str, str], tuple[int, list[str]]]:
    resp = prod.ns1_get("zones/example.test")
    assert resp.status_code == 200, resp.text
    return {
        (r["domain"], r["type"]): (r["ttl"], sorted(r["short_answers"]))
        for r in resp.json()["records"]
    }


def assert_route53_holds(prod: Production, expected: dict[Any, Any]) -> None:
    got, zone_id = route53_records(prod)
    # the apex NS and SOA are Route 53's own (production.yaml leaves them to it)
    delegation = prod.route53.get_hosted_zone(Id=zone_id)["DelegationSet"]["NameServers"]
    ns_ttl, ns = got.pop((ZONE, "NS"))
    assert sorted(n.rstrip(".") for n in ns) == sorted(n.rstrip(".") for n in delegation)
    assert len(ns) == 4 and all(".awsdns-" in n for n in ns)
    # Route 53 made an SOA with the zone (moto 5.1 renders its value as a dict repr)
    assert len(got.pop((ZONE, "SOA"))[1]) == 1
    assert ns_ttl == 172800
    assert got == expected


def sync_doit(prod: Production, cli: CliRunner) -> Any:
    result = prod.cli(cli, "sync", "--env", "production", "--doit")
    assert result.exit_code == 0, result.output
    return result


def test_sync_then_plan_is_clean_and_both_providers_hold_the_zone(
    production: Production, cli: CliRunner
) -> None:
    first = plan_changes(production, cli)
    creates = sorted(("create", fqdn, rtype) for fqdn, rtype in ROUTE53)
    # the apex NS is in the zone file (for the lab) but never pushed to production
    assert first == {"route53": creates, "ns1": creates}

    sync_doit(production, cli)

    assert plan_changes(production, cli) == {"route53": [], "ns1": []}
    result = production.cli(cli, "plan", "--env", "production")
    assert result.exit_code == 0, result.output
    assert "route53: no changes (1 zone(s) in sync)" in result.output
    assert "ns1: no changes (1 zone(s) in sync)" in result.output

    assert_route53_holds(production, ROUTE53)
    assert ns1_records(production) == NS1
    zones = production.ns1_get("zones")
    assert [z["zone"] for z in zones.json()] == ["example.test"]
    assert zones.json()[0]["dns_servers"] == DNS_SERVERS


def test_updates_and_deletes_reach_both_providers(production: Production, cli: CliRunner) -> None:
    sync_doit(production, cli)
    zone_file = production.root / "zones" / "example.test.yaml"
    text = zone_file.read_text()
    text = text.replace("    - 192.0.2.20\n    - 192.0.2.21\n", "    - 198.51.100.20\n")
    srv = (
        "_sip._tcp:\n  ttl: 3600\n  type: SRV\n  values:\n    - port: 5060\n"
        "      priority: 10\n      target: sip.example.test.\n      weight: 60\n"
    )
    assert srv in text
    zone_file.write_text(text.replace(srv, ""))

    expected = [("delete", "_sip._tcp.example.test.", "SRV"), ("update", "api.example.test.", "A")]
    assert plan_changes(production, cli) == {"route53": expected, "ns1": expected}
    sync_doit(production, cli)
    assert plan_changes(production, cli) == {"route53": [], "ns1": []}

    route53 = dict(ROUTE53)
    del route53[("_sip._tcp.example.test.", "SRV")]
    route53[("api.example.test.", "A")] = (60, ["198.51.100.20"])
    assert_route53_holds(production, route53)
    ns1 = dict(NS1)
    del ns1[("_sip._tcp.example.test", "SRV")]
    ns1[("api.example.test", "A")] = (60, ["198.51.100.20"])
    assert ns1_records(production) == ns1
    assert production.ns1_get("zones/example.test/_sip._tcp.example.test/SRV").json() == {
        "message": "record not found"
    }


def test_hosted_zone_left_by_a_failed_apply_converges_without_force(
    production: Production, cli: CliRunner
) -> None:
    # what a first apply that failed after creating the hosted zone leaves behind:
    # a zone holding only Route 53's own NS and SOA
    production.route53.create_hosted_zone(Name=ZONE, CallerReference="failed-first-apply")

    plan = plan_changes(production, cli)
    assert ("update", ZONE, "NS") not in plan["route53"]
    assert len(plan["route53"]) == len(ROUTE53)

    sync_doit(production, cli)  # no --force: the apex NS is not dnsops's to change
    assert plan_changes(production, cli) == {"route53": [], "ns1": []}
    assert_route53_holds(production, ROUTE53)
    assert ns1_records(production) == NS1


def test_a_wrong_ns1_key_is_refused_and_nothing_is_written_to_ns1(
    production: Production, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "ns1-wrong-key-7f3a"
    monkeypatch.setenv("NS1_API_KEY", wrong)
    result = production.cli(cli, "sync", "--env", "production", "--doit")
    assert result.exit_code == 1
    assert "ns1: NOT synced: its current state could not be read (" in result.output
    assert "unauthorized" in result.output.lower()
    assert "Traceback" not in result.output
    assert wrong not in result.output
    # providers are synced independently (one provider's outage must not block the
    # other): Route 53 got the zone, NS1 was never written to
    assert "route53: applied 12 change(s)" in result.output
    # Route 53 names its nameservers (moto's delegation set), but no DNS runs here to
    # give them addresses: honest "not verified", naming what discovery found
    assert (
        "not verified on route53: no nameserver known for example.test. "
        "(ns-2048.awsdns-64.com. does not resolve: "
    ) in " ".join(result.output.split())
    assert_route53_holds(production, ROUTE53)
    assert production.ns1_get("zones").json() == []
    assert ("GET", "/v1/zones/example.test") in production.ns1.server.requests
    # with the right key, the next sync converges NS1 and leaves Route 53 alone
    monkeypatch.setenv("NS1_API_KEY", NS1_TEST_KEY)
    again = sync_doit(production, cli)
    assert "route53: already in sync, nothing applied" in again.output
    assert "ns1: applied 12 change(s)" in again.output
    assert ns1_records(production) == NS1


def test_a_missing_credential_is_named_not_shown(
    production: Production, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = production.cli(cli, "plan", "--env", "production")
    assert result.exit_code == 1
    assert "missing env var AWS_SECRET_ACCESS_KEY" in result.output
    assert "production.yaml" in result.output


def test_no_secret_in_any_output_even_verbose(
    production: Production, cli: CliRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sync_doit(production, cli)
    for fmt in ("text", "json"):
        result = production.cli(cli, "--verbose", "plan", "--env", "production", "--format", fmt)
        assert result.exit_code == 0, result.output
    assert "route53" in caplog.text and "NS1" in caplog.text  # debug logging did run
    for secret in SECRETS:
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("drop", "code", "expected"),
    [
        (None, 0, "ns1: 12 to create, 0 to update, 0 to delete in 1 of 1 zone(s)"),
        ("AWS_SECRET_ACCESS_KEY", 1, "missing env var AWS_SECRET_ACCESS_KEY"),
    ],
    ids=["first-plan", "missing-credential"],
)
def test_on_a_real_terminal_no_traceback_or_secret(
    production: Production, drop: str | None, code: int, expected: str
) -> None:
    """As a user runs it: a separate process, real stderr (octoDNS's logs go there).

    octoDNS logs tracebacks for a missing env/ variable and octodns-ns1 for the
    "zone not found" of a first plan; dnsops keeps both off the terminal.
    """
    dnsops = Path(sys.executable).parent / "dnsops"
    env = {**os.environ, **production_environ(production.moto_url), "NO_COLOR": "1"}
    if drop:
        del env[drop]
    proc = subprocess.run(
        [
            str(dnsops),
            "--config",
            str(production.root / "dnsops.yaml"),
            "plan",
            "--env",
            "production",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    both = proc.stdout + proc.stderr
    assert proc.returncode == code, both
    assert expected in both
    assert "Traceback" not in both and "ERROR" not in both
    for secret in SECRETS:
        assert secret not in both


# --- the stand-in itself follows NS1's API --------------------------------------------


def test_standin_answers_like_ns1(ns1_standin: Ns1StandIn) -> None:
    ns1_standin.reset()
    base = f"https://{ns1_standin.address}:{ns1_standin.port}/v1"
    key = {"X-NSONE-Key": NS1_TEST_KEY}

    def call(method: str, path: str, body: Any = None, headers: Any = key) -> tuple[int, Any]:
        resp = requests.request(
            method, base + path, json=body, headers=headers, verify=False, timeout=10
        )
        return resp.status_code, resp.json()

    assert call("GET", "/zones", headers={}) == (401, {"message": "Unauthorized"})
    assert call("GET", "/zones", headers={"X-NSONE-Key": "nope"}) == (
        401,
        {"message": "Unauthorized"},
    )
    assert call("GET", "/zones/a.test") == (404, {"message": "zone not found"})
    status, zone = call("PUT", "/zones/a.test", {"zone": "a.test"})
    assert status == 200 and zone["zone"] == "a.test" and zone["dns_servers"] == DNS_SERVERS
    assert [(r["domain"], r["type"]) for r in zone["records"]] == [("a.test", "NS")]
    assert call("PUT", "/zones/a.test", {"zone": "a.test"}) == (
        400,
        {"message": "zone already exists"},
    )
    record = {"answers": [{"answer": [10, "mx.a.test."]}], "ttl": 300}
    status, created = call("PUT", "/zones/a.test/a.test/MX", record)
    assert status == 200 and created["answers"][0]["answer"] == [10, "mx.a.test"]
    assert call("PUT", "/zones/a.test/a.test/MX", record) == (
        400,
        {"message": "record already exists"},
    )
    assert call("POST", "/zones/a.test/b.a.test/A", {"answers": ["192.0.2.1"]}) == (
        404,
        {"message": "record not found"},
    )
    assert (
        call("PUT", "/zones/a.test/b.a.test/A", {"answers": [{"answer": ["300.1.1.1"]}]})[0] == 400
    )
    assert call("DELETE", "/zones/a.test/a.test/MX") == (200, {})
    assert call("GET", "/zones/a.test/a.test/MX") == (404, {"message": "record not found"})

    provider = Ns1Provider("ns1", api_key=NS1_TEST_KEY, client_config=ns1_standin.client_config())
    assert provider.list_zones() == ["a.test."]
