"""dnsops audit of production: Route 53 on moto_server, NS1 on the local API stand-in.

Neither serves DNS here: the nameserver names they report resolve nowhere, so the data
plane is reported unavailable (an audit that could not look proves nothing); the control
plane is compared exactly as in the lab, with production's config rules: the apex NS and
SOA are the providers' own (IgnoreRootNsFilter), TXT in each provider's own quoting.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.test_production_providers import Production, production, route53_records, sync_doit

__all__ = ["production"]  # the fixture, used by name

UNAVAILABLE = [
    ("view-unavailable", p, f"example.test. {p} {p}", "served") for p in ("route53", "ns1")
]


def audit(prod: Production, cli: CliRunner) -> tuple[int, dict[str, Any]]:
    result = prod.cli(cli, "audit", "--env", "production", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def drift(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(f["id"], f["provider"], f["subject"], f["data"]["view"]) for f in doc["findings"]]


def test_production_control_plane_after_sync(production: Production, cli: CliRunner) -> None:
    sync_doit(production, cli)
    code, doc = audit(production, cli)
    assert code == 1
    assert drift(doc) == UNAVAILABLE
    # the names come from Route 53 itself (moto's delegation set); with no DNS here they
    # resolve nowhere, and the finding says so name by name
    message = doc["findings"][0]["message"]
    assert message.startswith(
        "route53's nameservers could not be read: no nameserver known: "
        "ns-2048.awsdns-64.com. does not resolve: "
    )
    for name in ("ns-2049.awsdns-65.net.", "ns-2050.awsdns-66.org.", "ns-2051.awsdns-67.co.uk."):
        assert f"{name} does not resolve" in message
    apis = {p["provider"]: p["api"] for p in doc["zones"][0]["providers"]}
    # 12, not the zone file's 13: each provider's apex NS is its own (IgnoreRootNsFilter)
    assert apis == {
        "route53": {"records": 12, "exists": True},
        "ns1": {"records": 12, "exists": True},
    }


def test_a_console_edit_at_route53_is_found(production: Production, cli: CliRunner) -> None:
    sync_doit(production, cli)
    _, zone_id = route53_records(production)
    production.route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "www.example.test.",
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": "elsewhere.example.net."}],
                    },
                }
            ]
        },
    )
    code, doc = audit(production, cli)
    assert code == 1
    found = [d for d in drift(doc) if d[0] != "view-unavailable"]
    assert found == [
        ("values-differ", "route53", "www.example.test. CNAME", "api"),
        ("ttl-differs", "route53", "www.example.test. CNAME", "api"),
    ]
    data = doc["findings"][0]["data"]
    assert (data["expected"], data["actual"]) == (
        {"ttl": 3600, "values": ["example.test."]},
        {"ttl": 300, "values": ["elsewhere.example.net."]},
    )
    sync_doit(production, cli)
    assert drift(audit(production, cli)[1]) == UNAVAILABLE


@pytest.mark.parametrize("variable", ["AWS_SECRET_ACCESS_KEY", "NS1_API_KEY"])
def test_a_missing_credential_stops_the_audit_with_its_name(
    production: Production, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.delenv(variable)
    log = production.root / ".dnsops" / "audit.jsonl"
    result = production.cli(cli, "audit", "--env", "production")
    assert result.exit_code == 1
    assert variable in result.output and "Traceback" not in result.output
    assert not log.exists()  # no audit ran, so nothing is logged
