"""RIPE Atlas vantages through ripe-atlas-cousteau against the local Atlas stand-in.

The stand-in (tests/fakes/atlas.py) follows Atlas's documented API over TLS and
serves recorded results in Atlas's DNS result format; sagan parses them. Five
probes answer: two in Germany and one in the Netherlands with the desired
records, one in France (AS3215) with stale values, one in Japan not at all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dnsops.config import Project, load_project
from dnsops.probe import Query, Target, wire
from dnsops.vantage import registry
from dnsops.vantage.atlas import AtlasVantage
from dnsops.vantage.summary import summarise
from tests.conftest import TEST_NET, make_project, run
from tests.fakes.atlas import AtlasStandIn
from tests.test_lab import sync_lab

KEY = "atlas-test-key-5f0c9b7e1d2a4c68"
KEY_ENV = "DNSOPS_TEST_ATLAS_KEY"


@pytest.fixture(scope="module")
def standin() -> Iterator[AtlasStandIn]:
    s = AtlasStandIn(f"{TEST_NET}.9.3", KEY).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def atlas(standin: AtlasStandIn, monkeypatch: pytest.MonkeyPatch) -> AtlasStandIn:
    standin.reset()
    monkeypatch.setenv(KEY_ENV, KEY)
    return standin


def atlas_vantage(standin: AtlasStandIn, **over: object) -> dict[str, object]:
    return {
        "kind": "ripe-atlas",
        "name": "atlas-eu",
        "region": "europe",
        "probes": [
            {"type": "country", "value": "DE", "requested": 2},
            {"type": "area", "value": "West", "requested": 5},
            {"type": "asn", "value": 2516, "requested": 1},
        ],
        "max_credits": 1000,
        "api_key_env": KEY_ENV,
        "server": standin.endpoint,
        "ca_bundle": str(standin.ca_file),
        "poll": 0.01,
        "wait": 30,
        **over,
    }


def project_with(tmp_path: Path, *vantages: dict[str, object]) -> Path:
    root = make_project(tmp_path / "project")
    doc = yaml.safe_load((root / "dnsops.yaml").read_text())
    doc["environments"]["lab"]["vantages"] = list(vantages)
    (root / "dnsops.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def check(root: Path, *args: str) -> Any:
    """``dnsops vantage check -V atlas-eu ARGS`` on the project at ``root``."""
    return run(CliRunner(), root, "vantage", "check", "-V", "atlas-eu", *args)


def test_mismatching_probe_is_named_with_its_country_and_asn(
    atlas: AtlasStandIn, tmp_path: Path
) -> None:
    root = project_with(tmp_path, atlas_vantage(atlas))
    res = check(root, "-r", "api.example.test.", "--format", "json")
    assert res.exit_code == 1, res.output

    # the request as Atlas documents it: one dns definition, the probe selections, one-off
    [body] = atlas.creations()
    assert body == {
        "definitions": [
            {
                "type": "dns",
                "af": 4,
                "description": "dnsops atlas-eu: api.example.test A",
                "query_class": "IN",
                "query_type": "A",
                "query_argument": "api.example.test",
                "protocol": "UDP",
                "set_rd_bit": True,
                "include_abuf": True,
                "is_oneoff": True,
                "udp_payload_size": 1232,
                "use_probe_resolver": True,
            }
        ],
        "probes": [
            {"type": "country", "value": "DE", "requested": 2},
            {"type": "area", "value": "West", "requested": 5},
            {"type": "asn", "value": 2516, "requested": 1},
        ],
        "is_oneoff": True,
    }
    assert {auth for method, _, _, auth in atlas.requests if method == "POST"} == {f"Key {KEY}"}

    doc = json.loads(res.stdout)
    [v] = doc["vantages"]
    assert (v["name"], v["kind"], v["region"], v["status"]) == (
        "atlas-eu",
        "ripe-atlas",
        "europe",
        "ok",
    )
    assert v["info"]["estimate"] == {
        "probes": 8,
        "measurements": 1,
        "credits_per_result": 20,
        "credits": 160,
        "cap": 1000,
    }
    assert v["info"]["probes"] == 5
    s = v["summary"]
    assert (s["answers"], s["matched"], s["mismatched"], s["failed"]) == (5, 3, 1, 1)
    # nearest rank over the four answers that came (9.771, 18.02, 21.843, 31.406 ms)
    assert (s["p50_ms"], s["p95_ms"], s["max_ms"]) == (18.02, 31.406, 31.406)
    by_country = {
        c["key"]: (c["answers"], c["matched"], c["mismatched"], c["failed"])
        for c in v["by_country"]
    }
    assert by_country == {
        "DE": (2, 2, 0, 0),
        "FR": (1, 0, 1, 0),
        "JP": (1, 0, 0, 1),
        "NL": (1, 1, 0, 0),
    }
    by_asn = {a["key"]: a["success"] for a in v["by_asn"]}
    assert by_asn == {"AS1136": 1.0, "AS2516": 0.0, "AS3209": 1.0, "AS3215": 0.0, "AS3320": 1.0}

    [finding] = doc["findings"]
    assert (finding["id"], finding["severity"], finding["subject"]) == (
        "vantage-answer",
        "error",
        "api.example.test. A",
    )
    assert finding["message"] == (
        "2 of 5 answers from atlas-eu (ripe-atlas, europe) differ: "
        "probe 6031 (FR, AS3215): 198.51.100.20, 198.51.100.21 (TTL 43); "
        "probe 6040 (JP, AS2516): timeout (5000 ms); "
        "desired 192.0.2.20, 192.0.2.21 (TTL at most 60)"
    )
    assert finding["data"]["seen"][0] == {
        "from": "probe 6031 (FR, AS3215)",
        "got": "198.51.100.20, 198.51.100.21 (TTL 43)",
        "host": "probe 6031",
        "server": "192.168.1.1",
        "probe": 6031,
        "country": "FR",
        "asn": 3215,
    }
    assert KEY not in res.output


def test_cost_is_shown_before_anything_is_spent(atlas: AtlasStandIn, tmp_path: Path) -> None:
    root = project_with(tmp_path, atlas_vantage(atlas))
    res = check(root, "-r", "api.example.test.")
    assert res.exit_code == 1
    text = " ".join(res.output.split())
    shown = text.index(
        "atlas-eu: RIPE Atlas estimate 160 credits at most (8 probes x 1 one-off DNS "
        "measurements x 20 credits per result); budget cap 1000"
    )
    assert shown < text.index("atlas-eu: created Atlas measurements 71000001")
    assert "RIPE Atlas answers by country" in text and "AS3215" in text
    assert KEY not in text

    atlas.reset()
    res = check(root, "--estimate", "-f", "json")
    assert res.exit_code == 0
    assert json.loads(res.stdout) == {
        "estimates": [
            {
                "vantage": "atlas-eu",
                "probes": 8,
                "measurements": 13,
                "credits_per_result": 20,
                "credits": 2080,
                "cap": 1000,
                "within_budget": False,
            }
        ]
    }
    assert atlas.requests == []


def test_budget_cap_refuses_and_atlas_sees_nothing(atlas: AtlasStandIn, tmp_path: Path) -> None:
    root = project_with(tmp_path, atlas_vantage(atlas, max_credits=150))
    res = check(root, "-r", "api.example.test.", "-f", "json")
    assert res.exit_code == 1
    [finding] = json.loads(res.stdout)["findings"]
    assert finding["id"] == "vantage-budget"
    assert finding["message"] == (
        "refused: the estimate of 160 credits exceeds the budget cap of 150 "
        "(8 probes x 1 measurements)"
    )
    assert atlas.requests == []  # not even a read


def test_missing_key_is_a_finding_and_nothing_is_sent(
    atlas: AtlasStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    root = project_with(tmp_path, atlas_vantage(atlas))
    res = check(root, "-r", "mx1.example.test.", "-f", "json")
    assert res.exit_code == 1
    [finding] = json.loads(res.stdout)["findings"]
    assert (finding["id"], finding["message"]) == (
        "vantage-error",
        f"no RIPE Atlas API key: the environment variable {KEY_ENV} is not set",
    )
    assert atlas.requests == []


def test_a_refused_key_is_reported_without_the_key(
    atlas: AtlasStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-key-8d1e"
    monkeypatch.setenv(KEY_ENV, wrong)
    root = project_with(tmp_path, atlas_vantage(atlas))
    res = check(root, "-r", "mx1.example.test.", "-f", "json")
    assert res.exit_code == 1
    [finding] = json.loads(res.stdout)["findings"]
    assert finding["message"] == (
        "Atlas refused the measurements: 403 Authentication credentials were not provided."
    )
    assert wrong not in res.output


def test_waits_with_progress_and_parses_with_sagan(atlas: AtlasStandIn, tmp_path: Path) -> None:
    root = project_with(tmp_path, atlas_vantage(atlas))
    proj = load_project(root / "dnsops.yaml")
    [v] = registry.build(proj, proj.lab_environment()[1], ["atlas-eu"])
    assert isinstance(v, AtlasVantage)
    assert v.resolver is not None
    queries = [
        Query.make(
            v.resolver, name, "A", rd=True, expect=wire.expected("A", ttl, values, ttl_at_most=True)
        )
        for name, ttl, values in (
            ("api.example.test.", 60, ["192.0.2.20", "192.0.2.21"]),
            ("mx1.example.test.", 3600, ["192.0.2.25"]),
        )
    ]
    seen: list[tuple[int, int]] = []
    run_ = asyncio.run(v.resolve_many(queries, lambda d, t: seen.append((d, t))))
    assert run_.status == "ok" and run_.info["measurements"] == [71000001, 71000002]
    # Ongoing at the first poll (one result each), Stopped at the second (all five)
    assert seen == [(2, 10), (10, 10)]
    got = sorted(
        (
            o.result.query.qname.to_text(),
            o.origin.probe,
            o.origin.country,
            o.origin.asn,
            o.origin.server,
            o.result.matched,
            o.result.rcode_text,
            round(o.result.latency * 1000, 3) if o.result.latency else None,
            o.result.error,
        )
        for o in run_.observations
    )
    assert got == [
        ("api.example.test.", 6012, "DE", 3320, "192.168.178.1", True, "NOERROR", 21.843, None),
        ("api.example.test.", 6013, "DE", 3209, "10.0.0.1", True, "NOERROR", 18.02, None),
        ("api.example.test.", 6020, "NL", 1136, "192.168.2.254", True, "NOERROR", 9.771, None),
        ("api.example.test.", 6031, "FR", 3215, "192.168.1.1", False, "NOERROR", 31.406, None),
        (
            "api.example.test.",
            6040,
            "JP",
            2516,
            "192.168.0.1",
            None,
            "no answer",
            None,
            "timeout (5000 ms)",
        ),
        ("mx1.example.test.", 6012, "DE", 3320, "192.168.178.1", True, "NOERROR", 21.843, None),
        ("mx1.example.test.", 6013, "DE", 3209, "10.0.0.1", True, "NOERROR", 18.02, None),
        ("mx1.example.test.", 6020, "NL", 1136, "192.168.2.254", True, "NOERROR", 9.771, None),
        # the stale cache in AS3215 holds only api's old values: mx1 is right there
        ("mx1.example.test.", 6031, "FR", 3215, "192.168.1.1", True, "NOERROR", 31.406, None),
        (
            "mx1.example.test.",
            6040,
            "JP",
            2516,
            "192.168.0.1",
            None,
            "no answer",
            None,
            "timeout (5000 ms)",
        ),
    ]
    [fr] = [s for s in summarise(run_.observations, "country") if s.key == "FR"]
    assert (fr.answers, fr.matched, fr.mismatched, fr.failed) == (2, 1, 1, 0)


def test_nameserver_questions_target_the_server(atlas: AtlasStandIn, tmp_path: Path) -> None:
    root = project_with(tmp_path, atlas_vantage(atlas, ask="nameservers"))
    proj = load_project(root / "dnsops.yaml")
    [v] = registry.build(proj, proj.lab_environment()[1], ["atlas-eu"])
    assert v.resolver is None and v.asks_nameservers
    q = Query.make(Target("198.51.100.53", 53, "ns"), "mx1.example.test.", "A")
    run_ = asyncio.run(v.resolve_many([q]))
    [body] = atlas.creations()
    [d] = body["definitions"]
    assert (d["target"], d["set_rd_bit"], "use_probe_resolver" in d) == (
        "198.51.100.53",
        False,
        False,
    )
    assert {o.origin.server for o in run_.observations} == {"198.51.100.53"}


def test_no_suitable_probe_is_a_finding(atlas: AtlasStandIn, tmp_path: Path) -> None:
    # the only US probe of the recordings is disconnected
    only_us = atlas_vantage(atlas, probes=[{"type": "country", "value": "US", "requested": 1}])
    root = project_with(tmp_path, only_us)
    res = check(root, "-r", "mx1.example.test.", "-f", "json")
    assert res.exit_code == 1
    [v] = json.loads(res.stdout)["vantages"]
    assert (v["status"], v["problem"]) == ("error", "no probe took part: No suitable probes")
    assert v["answers"][0]["error"] == (
        "no result from any probe (measurement 71000001: No suitable probes)"
    )
    [finding] = json.loads(res.stdout)["findings"]
    assert finding["id"] == "vantage-error"


@pytest.mark.lab
def test_health_through_atlas_names_the_probe(
    atlas: AtlasStandIn, lab_project: Project, tmp_path: Path
) -> None:
    """health --vantage atlas-eu: the cap first, then every record from every probe."""
    sync_lab(lab_project)
    root = project_with(tmp_path, atlas_vantage(atlas))  # cap 1000: 13 records cost 2080
    doc = yaml.safe_load((root / "dnsops.yaml").read_text())
    doc["paths"]["state"] = str(lab_project.state_dir)  # the running lab's secrets
    (root / "dnsops.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    cli = CliRunner()
    res = run(cli, root, "health", "--vantage", "atlas-eu", "--format", "json")
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    [row] = report["vantages"]
    assert (row["kind"], row["region"], row["status"]) == ("ripe-atlas", "europe", "refused")
    assert [f["id"] for f in report["findings"]] == ["vantage-reachable"]
    assert atlas.requests == []
    assert "estimate 2080 credits at most" in " ".join(res.stderr.split())

    doc["environments"]["lab"]["vantages"][0]["max_credits"] = 2080
    (root / "dnsops.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    res = run(cli, root, "health", "--vantage", "atlas-eu", "--format", "json")
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    [row] = report["vantages"]
    assert (row["status"], row["checked"]) == ("ok", 13 * 5)
    [created] = atlas.creations()
    assert len(created["definitions"]) == 13
    stale = next(
        f
        for f in report["findings"]
        if f["id"] == "vantage-values" and f["subject"] == "api.example.test. A"
    )
    assert stale["message"] == (
        "atlas-eu (europe) probe 6031 (FR, AS3215): 198.51.100.20, 198.51.100.21 (TTL 43); "
        "desired 192.0.2.20, 192.0.2.21 (TTL 60)"
    )
    assert stale["data"]["seen"] == [
        {
            "vantage": "atlas-eu",
            "kind": "ripe-atlas",
            "region": "europe",
            "status": "differs",
            "ttl": 43,
            "values": ["198.51.100.20", "198.51.100.21"],
            "error": None,
            "probe": 6031,
            "country": "FR",
            "asn": 3215,
        }
    ]
    assert KEY not in res.output
