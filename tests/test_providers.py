"""dnsops.providers.Rfc2136Provider: octodns-bind's, except for apex NS updates.

The RFC 2136 messages it sends are caught here (``dns.query.tcp``) and read back:
an apex NS update is adds then single deletes, never a delete of the whole set,
and it goes between the plan's other creates/updates and its deletes. The lab
test (tests/test_sync_lab.py) shows BIND converging on it.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.update
import octodns_bind
import pytest
from octodns.provider.plan import Plan
from octodns.record import Create, Delete, Record, Update
from octodns.zone import Zone

from dnsops import octo, providers
from dnsops.config import Project
from dnsops.env import Env
from dnsops.sync import axfr

ZONE = "example.test."
SECRET = base64.b64encode(bytes(range(32))).decode()


def provider() -> providers.Rfc2136Provider:
    return providers.Rfc2136Provider(
        "bind", "127.0.0.1", port=5300, key_name="k", key_secret=SECRET, timeout=3
    )


def record(name: str, rtype: str, ttl: int, *values: str) -> Any:
    return Record.new(Zone(ZONE, []), name, {"type": rtype, "ttl": ttl, "values": list(values)})


def apex_ns(ttl: int, *names: str) -> Any:
    return record("", "NS", ttl, *names)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dns.update.UpdateMessage]:
    """Every update message sent (answered NOERROR), octodns-bind's and ours."""
    out: list[dns.update.UpdateMessage] = []

    def tcp(message: Any, where: str, port: int = 53, timeout: float | None = None) -> Any:
        assert (where, port, timeout) == ("127.0.0.1", 5300, 3.0)
        out.append(message)
        return dns.message.make_response(message)

    monkeypatch.setattr(dns.query, "tcp", tcp)
    return out


def wire(message: dns.update.UpdateMessage) -> list[tuple[str, str, str, int, str]]:
    """(owner, class, type, TTL, value) of each record of the update section, in order.
    Class ANY: delete the whole RRset (value ""); NONE: delete this record; IN: add it."""
    out = []
    for rrset in message.update:
        rdclass = dns.rdataclass.to_text(rrset.deleting or rrset.rdclass)
        rtype = dns.rdatatype.to_text(rrset.rdtype)
        values = [r.to_text(origin=message.origin, relativize=False) for r in rrset] or [""]
        out += [(rrset.name.to_text(), rdclass, rtype, rrset.ttl, v) for v in values]
    return out


def plan(*changes: Any) -> Plan:
    return Plan(Zone(ZONE, []), Zone(ZONE, []), list(changes), True)


def test_apex_ns_update_adds_first_then_deletes_one_by_one(sent: list[Any]) -> None:
    old = apex_ns(86400, "ns1.bind.test.", "ns2.bind.test.", "ns1.pdns.test.")
    new = apex_ns(7200, "ns1.bind.test.", "ns1.pdns.test.", "ns3.bind.test.")
    assert provider()._apply(plan(Update(old, new))) is True
    assert len(sent) == 1
    assert wire(sent[0]) == [
        (ZONE, "IN", "NS", 7200, "ns1.bind.test."),
        (ZONE, "IN", "NS", 7200, "ns1.pdns.test."),
        (ZONE, "IN", "NS", 7200, "ns3.bind.test."),
        (ZONE, "NONE", "NS", 0, "ns2.bind.test."),
    ]
    assert sent[0].keyname.to_text() == "k."  # signed with the provider's key


def test_removing_names_deletes_each_name_alone(sent: list[Any]) -> None:
    old = apex_ns(3600, "a.example.", "B.example.", "c.example.")
    new = apex_ns(3600, "b.example.")
    provider()._apply(plan(Update(old, new)))
    assert wire(sent[0]) == [
        (ZONE, "IN", "NS", 3600, "b.example."),
        (ZONE, "NONE", "NS", 0, "a.example."),
        (ZONE, "NONE", "NS", 0, "c.example."),
    ]
    assert not any(cls == "ANY" for _, cls, *_ in wire(sent[0]))


def test_glue_created_before_and_deleted_after_the_apex_ns(sent: list[Any]) -> None:
    """BIND refuses an update that leaves an in-zone NS name without an address."""
    glue_new = record("ns3", "A", 3600, "192.0.2.53")
    glue_old = record("ns4", "A", 3600, "192.0.2.54")
    api_old, api_new = record("api", "A", 60, "192.0.2.20"), record("api", "A", 60, "192.0.2.99")
    ns = Update(
        apex_ns(3600, "ns1.bind.test.", "ns4.example.test."),
        apex_ns(3600, "ns1.bind.test.", "ns3.example.test."),
    )
    provider()._apply(plan(Delete(glue_old), ns, Create(glue_new), Update(api_old, api_new)))
    assert [wire(m) for m in sent] == [
        [  # octodns-bind's own message: the creates and updates
            (f"ns3.{ZONE}", "IN", "A", 3600, "192.0.2.53"),
            (f"api.{ZONE}", "ANY", "A", 0, ""),
            (f"api.{ZONE}", "IN", "A", 60, "192.0.2.99"),
        ],
        [
            (ZONE, "IN", "NS", 3600, "ns1.bind.test."),
            (ZONE, "IN", "NS", 3600, "ns3.example.test."),
            (ZONE, "NONE", "NS", 0, "ns4.example.test."),
        ],
        [(f"ns4.{ZONE}", "NONE", "A", 0, "192.0.2.54")],  # octodns-bind's: the deletes
    ]


def test_other_changes_are_octodns_binds_own(sent: list[Any]) -> None:
    """No apex NS update: the plan goes to octodns-bind as it is (one message), and
    a delegation below the apex is still replaced as a whole."""
    sub_old = record("sub", "NS", 3600, "a.example.")
    sub_new = record("sub", "NS", 3600, "b.example.")
    provider()._apply(plan(Update(sub_old, sub_new), Create(apex_ns(60, "ns1.bind.test."))))
    assert [wire(m) for m in sent] == [
        [
            (ZONE, "IN", "NS", 60, "ns1.bind.test."),
            (f"sub.{ZONE}", "ANY", "NS", 0, ""),
            (f"sub.{ZONE}", "IN", "NS", 3600, "b.example."),
        ]
    ]


def test_a_refused_apex_ns_update_raises_octodns_binds_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(message: Any, *_: Any, **__: Any) -> Any:
        reply = dns.message.make_response(message)
        reply.set_rcode(dns.rcode.REFUSED)
        return reply

    monkeypatch.setattr(dns.query, "tcp", refused)
    change = Update(apex_ns(60, "a.example."), apex_ns(60, "b.example."))
    with pytest.raises(octodns_bind.Rfc2136ProviderUpdateFailed, match="REFUSED"):
        provider()._apply(plan(change))


def test_another_octodns_bind_version_is_left_alone(
    sent: list[Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert providers.supported()  # the version installed here is one we changed
    assert providers.supported("1.1.7") and not providers.supported("1.2.0")
    monkeypatch.setattr(octodns_bind, "__version__", "1.2.0")
    monkeypatch.setattr(providers.Rfc2136Provider, "_warned", False)
    change = Update(apex_ns(60, "a.example."), apex_ns(60, "b.example."))
    provider()._apply(plan(change))
    assert wire(sent[0]) == [  # octodns-bind's replace, as it is
        (ZONE, "ANY", "NS", 0, ""),
        (ZONE, "IN", "NS", 60, "b.example."),
    ]
    assert "octodns-bind 1.2.0 is not 1.1.x" in caplog.text


def test_dnsops_reads_it_as_octodns_bind(lab_project: Project) -> None:
    """Capabilities (from the class the config names), TSIG key, RFC 2136 endpoint and
    the fast AXFR populate all still apply to the lab's BIND provider."""
    model = Env(lab_project)
    caps = model.capabilities["bind"]
    assert caps.class_path == "dnsops.providers.Rfc2136Provider"
    assert caps.flag("SUPPORTS_ROOT_NS") is True
    assert caps.supports == octodns_bind.Rfc2136Provider.SUPPORTS
    target = model.targets["bind"]
    assert type(target.provider) is providers.Rfc2136Provider
    secrets = octo.tsig_of(target)
    assert secrets is not None and secrets[0] == "dnsops-lab" and secrets[2] == "hmac-sha256"
    host, port = octo.rfc2136_endpoint(target) or ("", 0)
    assert host.endswith(".2.1") and port == 53
    fresh = provider()
    assert axfr.install(fresh) and "zone_records" in vars(fresh)


def test_octodns_builds_from_a_copy_of_the_parse(tmp_path: Path) -> None:
    """The Manager pops keys out of its config; the environment model's parse (read by
    every other part of the command) stays as it was, line context included."""
    import copy

    from dnsops.octo import _layers

    parsed = {"providers": {"p": {"class": "x.Y", "opts": {"a": [1]}}}, "zones": {"*": {}}}
    before = copy.deepcopy(parsed)
    mine = _layers(parsed, 4)
    mine["providers"]["p"].pop("class")
    mine["zones"].pop("*")
    mine["providers"]["p"]["opts"]["b"] = 2
    assert parsed["providers"]["p"]["class"] == "x.Y" and "*" in parsed["zones"]
    assert parsed["providers"]["p"]["opts"] == before["providers"]["p"]["opts"]


def test_the_environment_model_keeps_its_parse_after_the_manager(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    from dnsops.config import load_project

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "NS1_API_KEY"):
        monkeypatch.setenv(name, "dummy-not-a-secret")  # nothing is contacted
    env = Env(load_project(project_dir / "dnsops.yaml"), "production")
    before = copy.deepcopy(env.octodns)
    env.manager  # noqa: B018
    assert env.octodns == before
    assert env.octodns["providers"]["route53"].context  # octoDNS's line context kept
