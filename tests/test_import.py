"""dnsops import against real servers: the lab's PowerDNS and BIND, Route 53 on moto_server.

The lab tests share the session lab: a second project (its own, empty zones directory)
uses the lab project's state directory (addresses, API key, TSIG key), so the zones in
git of the lab project are never touched. Every test leaves both providers synced to
the zones in git.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from typer.testing import CliRunner

from dnsops.config import Project
from tests.conftest import make_project, reset_moto, run
from tests.fakes.ns1 import Ns1StandIn
from tests.test_audit import nsupdate, pdns_patch
from tests.test_lab import sync_lab
from tests.test_production_providers import SECRETS, production_environ

ZONE = "example.test."
FILE = "zones/example.test.yaml"
DKIM = (
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC3dnsopsImportTestKeyAAAA"
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
SPF = "v=spf1 mx ip4:192.0.2.0/24 -all"


# -- the lab ----------------------------------------------------------------------------


@pytest.fixture
def lab(lab_project: Project) -> Iterator[Project]:
    """The session lab, synced to the zones in git before and after the test."""
    assert not sync_lab(lab_project).has_changes
    yield lab_project
    assert not sync_lab(lab_project).has_changes, "the lab did not come back to the zones in git"


@pytest.fixture
def fresh(tmp_path: Path, lab_dir: Path, lab: Project) -> Path:
    """A project using the session lab (its state directory) with no zone file at all."""
    root = make_project(tmp_path / "import")
    for path in (root / "zones").iterdir():
        path.unlink()
    config = root / "dnsops.yaml"
    text = config.read_text()
    assert "  state: .dnsops " in text
    config.write_text(text.replace("  state: .dnsops ", f"  state: {lab_dir / '.dnsops'} ", 1))
    return root


def dkim_on_pdns(project: Project) -> None:
    """A DKIM key added on PowerDNS through its API (as a console would add it)."""
    pdns_patch(
        project,
        {
            "name": f"sel1._domainkey.{ZONE}",
            "type": "TXT",
            "ttl": 3600,
            "changetype": "REPLACE",
            "records": [{"content": f'"{DKIM}"', "disabled": False}],
        },
    )


def cli_json(cli: CliRunner, root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(cli, root, *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert result.stdout.strip(), result.output
    return result.exit_code, json.loads(result.stdout)


def plan_changes(cli: CliRunner, root: Path, *args: str) -> dict[str, int]:
    code, doc = cli_json(cli, root, "plan", *args)
    assert code == 0, doc
    return {p["provider"]: len(p["changes"]) for p in doc["plans"]}


def records(root: Path) -> dict[str, Any]:
    data = yaml.safe_load((root / FILE).read_text())
    assert isinstance(data, dict)
    return data


def test_import_from_pdns_into_an_empty_zones_directory(
    cli: CliRunner, fresh: Path, lab: Project
) -> None:
    dkim_on_pdns(lab)
    started = time.monotonic()
    result = run(cli, fresh, "import", "--provider", "pdns")  # no --zone: PowerDNS lists
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert f"{ZONE} wrote {FILE}: 14 record(s) from pdns" in out
    assert "imported 1 of 1 zone(s) from pdns" in out
    print(f"import of {ZONE} from pdns: {took:.2f} s")

    text = (fresh / FILE).read_text()
    assert "\\;" not in text  # escaped_semicolons: false
    data = records(fresh)
    assert data["sel1._domainkey"] == {"type": "TXT", "value": DKIM}  # default TTL left out
    assert data["_dmarc"] == {
        "type": "TXT",
        "value": "v=DMARC1; p=reject; rua=mailto:dmarc@example.test",
    }
    apex = {r["type"]: r for r in data[""]}
    assert apex["TXT"] == {"type": "TXT", "value": SPF}
    # the apex NS as PowerDNS serves it: both providers' names, as the lab pushed them
    assert apex["NS"] == {
        "ttl": 86400,
        "type": "NS",
        "values": ["ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.", "ns2.pdns.test."],
    }
    assert data["api"] == {"ttl": 60, "type": "A", "values": ["192.0.2.20", "192.0.2.21"]}

    assert run(cli, fresh, "validate").exit_code == 0
    lint = run(cli, fresh, "lint", "--format", "json")
    assert lint.exit_code == 0, lint.output
    assert [f for f in json.loads(lint.stdout)["findings"] if f["severity"] == "error"] == []
    assert plan_changes(cli, fresh, "--provider", "pdns") == {"pdns": 0}
    # bind lacks the DKIM key PowerDNS got behind dnsops's back: the one change
    assert plan_changes(cli, fresh, "--provider", "bind") == {"bind": 1}


def test_what_octodns_does_not_read_is_listed(cli: CliRunner, fresh: Path, lab: Project) -> None:
    """PowerDNS holds types octodns-powerdns does not read (HINFO; SPF, which BIND's
    provider reads): the file cannot have them, the output names them."""
    pdns_patch(
        lab,
        *(
            {
                "name": f"{name}.{ZONE}",
                "type": rtype,
                "ttl": 3600,
                "changetype": "REPLACE",
                "records": [{"content": content, "disabled": False}],
            }
            for name, rtype, content in [
                ("box", "HINFO", '"PC" "Linux"'),
                ("legacy", "SPF", '"v=spf1 -all"'),
            ]
        ),
    )
    try:
        code, doc = cli_json(cli, fresh, "import", "--provider", "pdns", "--zone", ZONE)
    finally:  # a sync would not remove them: octoDNS does not see them
        pdns_patch(
            lab,
            *(
                {"name": f"{name}.{ZONE}", "type": rtype, "changetype": "DELETE"}
                for name, rtype in [("box", "HINFO"), ("legacy", "SPF")]
            ),
        )
    assert code == 0
    (zone,) = doc["zones"]
    assert (zone["written"], zone["records"]) == (True, 13)
    assert zone["left_out"] == [
        {
            "name": "box.example.test.",
            "type": "HINFO",
            "reason": "octoDNS's PowerDnsProvider does not read HINFO records",
        },
        {
            "name": "legacy.example.test.",
            "type": "SPF",
            "reason": "octoDNS's PowerDnsProvider does not read SPF records",
        },
    ]
    assert run(cli, fresh, "validate").exit_code == 0
    assert plan_changes(cli, fresh, "--provider", "pdns") == {"pdns": 0}


def test_import_from_both_names_the_out_of_band_difference(
    cli: CliRunner, fresh: Path, lab: Project
) -> None:
    nsupdate(lab, lambda u: u.replace("api", 300, "A", "192.0.2.99"))
    code, doc = cli_json(cli, fresh, "import", "--zone", "example.test")
    assert code == 1
    assert (doc["providers"], doc["written_from"], doc["identical"]) == (
        ["pdns", "bind"],
        "pdns",
        False,
    )
    (zone,) = doc["zones"]
    assert (zone["written"], zone["records"], zone["left_out"]) == (True, 13, [])
    assert zone["differences"] == [
        {
            "name": "api.example.test.",
            "type": "A",
            "kind": "values",
            "providers": {
                "pdns": {"ttl": 60, "values": ["192.0.2.20", "192.0.2.21"]},
                "bind": {"ttl": 300, "values": ["192.0.2.99"]},
            },
        }
    ]
    # written anyway, with the first provider's records
    assert records(fresh)["api"]["values"] == ["192.0.2.20", "192.0.2.21"]

    text = run(cli, fresh, "import", "--zone", "example.test.", "--force")
    assert text.exit_code == 1
    out = text.stdout
    assert "pdns and bind differ on 1 record(s):" in out
    assert "api.example.test. A (values differ)" in out
    assert "pdns: TTL 60: 192.0.2.20, 192.0.2.21" in out
    assert "bind: TTL 300: 192.0.2.99" in out
    assert "the files hold pdns's records (written anyway)" in " ".join(out.split())


def test_import_from_both_in_sync_exits_0(cli: CliRunner, fresh: Path, lab: Project) -> None:
    result = run(cli, fresh, "import", "-z", ZONE)
    assert result.exit_code == 0, result.output
    assert "pdns and bind hold the same records" in result.stdout
    assert plan_changes(cli, fresh) == {"pdns": 0, "bind": 0}


def test_bind_alone_cannot_list_its_zones(cli: CliRunner, fresh: Path, lab: Project) -> None:
    result = run(cli, fresh, "import", "--provider", "bind")
    assert result.exit_code == 1
    assert "cannot list its zones: name the zones with --zone" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (fresh / FILE).exists()
    # named, BIND's zone comes in (by zone transfer, TSIG-signed)
    named = run(cli, fresh, "import", "--provider", "bind", "--zone", ZONE)
    assert named.exit_code == 0, named.output
    assert plan_changes(cli, fresh, "--provider", "bind") == {"bind": 0}


def test_a_zone_the_provider_does_not_have(cli: CliRunner, fresh: Path, lab: Project) -> None:
    result = run(cli, fresh, "import", "--provider", "pdns", "--zone", "nowhere.test")
    assert result.exit_code == 1
    assert "nowhere.test. not written: pdns does not have this zone" in result.stdout
    assert "error: 1 zone(s) not written: nowhere.test." in result.output
    assert list((fresh / "zones").iterdir()) == []


def test_refuses_to_overwrite_without_force(cli: CliRunner, fresh: Path, lab: Project) -> None:
    mine = "---\n# hand-written\n'':\n  type: A\n  value: 192.0.2.1\n"
    (fresh / FILE).write_text(mine)
    result = run(cli, fresh, "import", "--provider", "pdns", "--zone", ZONE, "--zone", "other.test")
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert f"1 zone file exists, nothing written: {FILE}" in message
    assert "rerun with --force" in message
    assert (fresh / FILE).read_text() == mine
    assert not (fresh / "zones" / "other.test.yaml").exists()

    forced = run(cli, fresh, "import", "--provider", "pdns", "--zone", ZONE, "--force")
    assert forced.exit_code == 0, forced.output
    assert "hand-written" not in (fresh / FILE).read_text()
    assert len(records(fresh)) == 8  # names
    assert [p.name for p in (fresh / "zones").iterdir()] == ["example.test.yaml"]


def test_bad_input_is_an_error_not_a_traceback(cli: CliRunner, fresh: Path) -> None:
    for args, message in [
        (("--provider", "route53"), "--provider 'route53': environment lab has pdns, bind"),
        (("--zone", "a..b"), "--zone 'a..b' is no domain name"),
        (("--provider", "pdns", "--zone", "zz*"), "--zone 'zz*' matches none of the"),
    ]:
        result = run(cli, fresh, "import", *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in " ".join(result.output.split())
        assert "Traceback" not in result.output
    assert run(cli, fresh, "import", "--bogus").exit_code == 64


def test_no_secret_in_any_output(cli: CliRunner, fresh: Path, lab: Project) -> None:
    from dnsops.lab.runner import LabRunner

    secrets = LabRunner(lab).secrets()
    outputs = [
        run(cli, fresh, "-v", "import", "-z", ZONE).output,
        run(cli, fresh, "import", "-z", ZONE, "--format", "json").output,
    ]
    for output in outputs:
        for secret in (secrets.pdns_api_key, secrets.tsig_secret):
            assert secret not in output


# -- production-shaped: Route 53 on moto_server ---------------------------------------


@pytest.fixture
def production(
    tmp_path: Path,
    moto_server: str,
    ns1_standin: Ns1StandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A project whose production points at moto_server and the NS1 stand-in, and whose
    zones directory is empty."""
    reset_moto(moto_server)
    ns1_standin.reset()
    root = make_project(tmp_path / "project")
    for path in (root / "zones").iterdir():
        path.unlink()
    config = root / "config" / "production.yaml"
    data = yaml.safe_load(config.read_text())
    data["providers"]["ns1"]["client_config"] = ns1_standin.client_config()
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    for name, value in production_environ(moto_server).items():
        monkeypatch.setenv(name, value)
    return root


def prod(cli: CliRunner, root: Path, *args: str) -> Any:
    """dnsops against the production project; no credential may show in its output."""
    result = run(cli, root, *args)
    for secret in SECRETS:
        assert secret not in result.output
    return result


def prod_json(cli: CliRunner, root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = prod(cli, root, *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def hosted_zone(name: str, *rrsets: tuple[str, str, int, list[str]]) -> None:
    client = boto3.client("route53")
    zone_id = client.create_hosted_zone(Name=name, CallerReference=f"import-{name}")["HostedZone"][
        "Id"
    ]
    changes = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": rname,
                "Type": rtype,
                "TTL": ttl,
                "ResourceRecords": [{"Value": v} for v in values],
            },
        }
        for rname, rtype, ttl, values in rrsets
    ]
    client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})


def test_import_from_route53_lists_zones_and_keeps_semicolons(
    cli: CliRunner, production: Path
) -> None:
    dmarc = "v=DMARC1; p=reject; rua=mailto:dmarc@shop.test"
    hosted_zone(
        "shop.test.",
        ("shop.test.", "A", 300, ["192.0.2.80"]),
        ("shop.test.", "MX", 3600, ["10 mx.shop.test.", "20 mx2.shop.test."]),
        ("shop.test.", "TXT", 3600, [f'"{SPF}"']),
        # DKIM and DMARC as the Route 53 console stores them: quoted, semicolons as typed
        ("sel1._domainkey.shop.test.", "TXT", 3600, [f'"{DKIM}"']),
        ("_dmarc.shop.test.", "TXT", 3600, [f'"{dmarc}"']),
        ("mx.shop.test.", "A", 3600, ["192.0.2.81"]),
        ("mx2.shop.test.", "A", 3600, ["192.0.2.82"]),
        ("www.shop.test.", "CNAME", 3600, ["shop.test."]),
    )
    hosted_zone("blog.test.", ("blog.test.", "A", 3600, ["192.0.2.90"]))
    code, doc = prod_json(cli, production, "import", "--env", "production", "--provider", "route53")
    assert code == 0
    assert doc["listed"] == "listed by route53: 2 zone(s)"
    assert [(z["zone"], z["written"]) for z in doc["zones"]] == [
        ("blog.test.", True),
        ("shop.test.", True),
    ]
    files = sorted(p.name for p in (production / "zones").iterdir())
    assert files == ["blog.test.yaml", "shop.test.yaml"]
    text = (production / "zones" / "shop.test.yaml").read_text()
    assert "\\;" not in text
    shop = yaml.safe_load(text)
    assert shop["sel1._domainkey"] == {"type": "TXT", "value": DKIM}
    assert shop["_dmarc"] == {"type": "TXT", "value": dmarc}
    apex = {r["type"]: r for r in shop[""]}
    assert apex["TXT"] == {"type": "TXT", "value": SPF}
    assert apex["A"] == {"ttl": 300, "type": "A", "value": "192.0.2.80"}
    assert shop["www"] == {"type": "CNAME", "value": "shop.test."}
    # Route 53's own apex NS comes along, unless octoDNS would refuse it in a zone file
    # (moto 5.1 lists the delegation set without final dots): then it is listed
    (shop_doc,) = [z for z in doc["zones"] if z["zone"] == "shop.test."]
    left = [(x["name"], x["type"]) for x in shop_doc["left_out"]]
    if "NS" in apex:
        assert len(apex["NS"]["values"]) == 4 and left == []
    else:
        assert left == [("shop.test.", "NS")], shop_doc["left_out"]
        assert "missing trailing ." in shop_doc["left_out"][0]["reason"]

    assert prod(cli, production, "validate", "--env", "production").exit_code == 0
    code, plan = prod_json(cli, production, "plan", "--env", "production", "--provider", "route53")
    assert code == 0
    assert {(p["zone"], len(p["changes"])) for p in plan["plans"]} == {
        ("blog.test.", 0),
        ("shop.test.", 0),
    }


def test_a_record_octodns_refuses_is_listed_not_dropped(cli: CliRunner, production: Path) -> None:
    # an SPF record without MX or DMARC: octoDNS's best-practice validators (enabled in
    # config/production.yaml) refuse the zone as written
    hosted_zone("bare.test.", ("bare.test.", "TXT", 3600, [f'"{SPF}"']))
    result = prod(
        cli, production, "import", "--env", "production", "--provider", "route53", "-z", "bare.test"
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "left out" in out
    assert 'bare.test. TXT: zone "bare.test." handles mail but is missing MX records' in out
    assert prod(cli, production, "validate", "--env", "production").exit_code == 0


def test_import_glob_against_route53s_list(cli: CliRunner, production: Path) -> None:
    hosted_zone("shop.test.", ("shop.test.", "A", 300, ["192.0.2.80"]))
    hosted_zone("blog.test.", ("blog.test.", "A", 3600, ["192.0.2.90"]))
    code, doc = prod_json(
        cli, production, "import", "--env", "production", "--provider", "route53", "-z", "sh*"
    )
    assert code == 0
    assert [z["zone"] for z in doc["zones"]] == ["shop.test."]
    assert doc["listed"] == "listed by route53: 2 zone(s)"


def test_import_from_both_when_ns1_lacks_the_zone(cli: CliRunner, production: Path) -> None:
    hosted_zone(
        "shop.test.",
        ("shop.test.", "A", 300, ["192.0.2.80"]),
        ("www.shop.test.", "CNAME", 3600, ["shop.test."]),
    )
    code, doc = prod_json(cli, production, "import", "--env", "production", "-z", "shop.test")
    assert code == 1
    (zone,) = doc["zones"]
    assert (zone["written"], zone["missing"], zone["identical"]) == (True, ["ns1"], False)
    # the apex NS is left to each provider (production.yaml's processor): no difference
    assert [(d["name"], d["type"], d["kind"]) for d in zone["differences"]] == [
        ("shop.test.", "A", "only-on-route53"),
        ("www.shop.test.", "CNAME", "only-on-route53"),
    ]
    text = prod(cli, production, "import", "--env", "production", "-z", "shop.test", "--force")
    assert text.exit_code == 1
    assert "ns1 does not have shop.test." in text.stdout
