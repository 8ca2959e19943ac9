"""Plans as data, saved-plan checks, renderers and the verify comparison — no servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
from octodns.provider.plan import Plan
from octodns.record import Create, Delete, Record, Update
from octodns.zone import Zone

from dnsops.expect import GLUE, OCCLUDED, REFERRAL
from dnsops.octo import redactor
from dnsops.probe import Query, Result, Target, judge
from dnsops.render import plan as render
from dnsops.sync import convert, saved
from dnsops.sync.model import Change, PlanSet, RecordState, Snapshot, ZonePlan
from dnsops.sync.verify import Expect, expectation, judged

ZONE = "example.test."


def rec(zone: Zone, name: str, data: dict[str, Any]) -> Record:
    return Record.new(zone, name, data, lenient=True)


def zone_with(records: dict[str, dict[str, Any]]) -> Zone:
    zone = Zone(ZONE, [])
    for name, data in records.items():
        zone.add_record(rec(zone, name, data))
    return zone


def a(ttl: int, *values: str) -> dict[str, Any]:
    return {"type": "A", "ttl": ttl, "values": list(values)}


def state(name: str, ttl: int, *values: str, rtype: str = "A") -> RecordState:
    return RecordState(
        name=name, type=rtype, ttl=ttl, values=list(values), digest=f"d-{ttl}-{values}"
    )


def planset(plans: list[ZonePlan], **kw: Any) -> PlanSet:
    fields: dict[str, Any] = {
        "environment": "lab",
        "providers": ["pdns", "bind"],
        "created": datetime(2025, 1, 1, tzinfo=UTC),
        "desired": {ZONE: Snapshot(digest="x", records={})},
        "plans": plans,
        "checksum": "c",
    }
    return PlanSet(**(fields | kw))


def update_api(provider: str, new: str = "192.0.2.22") -> ZonePlan:
    change = Change(
        action="update",
        name="api.example.test.",
        type="A",
        old=state("api.example.test.", 60, "192.0.2.20"),
        new=state("api.example.test.", 60, new),
        source="zones/example.test.yaml:57",
    )
    return ZonePlan(
        provider=provider,
        zone=ZONE,
        exists=True,
        changes=[change],
        existing=Snapshot(digest="e", records={}),
    )


# -- convert ----------------------------------------------------------------------------


def test_change_keeps_old_and_new_values_and_ttls() -> None:
    zone = zone_with({})
    old = rec(zone, "api", a(60, "192.0.2.20", "192.0.2.21"))
    new = rec(zone, "api", a(300, "192.0.2.22"))
    got = convert.change(Update(old, new))
    assert (got.action, got.name, got.type) == ("update", "api.example.test.", "A")
    assert got.old is not None and (got.old.ttl, got.old.values) == (
        60,
        ["192.0.2.20", "192.0.2.21"],
    )
    assert got.new is not None and (got.new.ttl, got.new.values) == (300, ["192.0.2.22"])
    assert convert.change(Create(new)).old is None
    assert convert.change(Delete(old)).new is None


def test_snapshot_digest_follows_every_record() -> None:
    one = convert.zone_snapshot(zone_with({"api": a(60, "192.0.2.20"), "www": a(60, "1.2.3.4")}))
    same = convert.zone_snapshot(zone_with({"www": a(60, "1.2.3.4"), "api": a(60, "192.0.2.20")}))
    ttl = convert.zone_snapshot(zone_with({"api": a(61, "192.0.2.20"), "www": a(60, "1.2.3.4")}))
    assert one.digest == same.digest
    assert ttl.digest != one.digest
    assert list(one.records) == ["api.example.test. A", "www.example.test. A"]


def test_remembered_states_are_the_states_computed_afresh() -> None:
    records = {"api": a(60, "192.0.2.20"), "www": {"type": "CNAME", "ttl": 60, "value": "api"}}
    fresh = convert.zone_snapshot(zone_with(records))
    with convert.remembering() as memo:
        desired = convert.zone_snapshot(zone_with(records))
        read_back = convert.zone_snapshot(zone_with(records))  # other objects, same data
        moved = convert.zone_snapshot(zone_with({**records, "api": a(61, "192.0.2.20")}))
    assert desired == read_back == fresh
    assert all(read_back.records[k] is desired.records[k] for k in desired.records)  # shared
    assert moved.records["api.example.test. A"].ttl == 61  # other data: its own state
    assert moved.records["www.example.test. CNAME"] is desired.records["www.example.test. CNAME"]
    assert len(memo.by_data) == 3


def test_a_worker_sends_states_the_parent_knows_by_reference() -> None:
    records = {"api": a(60, "192.0.2.20"), "www": a(60, "1.2.3.4")}
    with convert.remembering() as memo:
        convert.zone_snapshot(zone_with(records))  # the parent's, before the fork
        memo.seal()
        # the worker: one record in sync, one not (a state the parent never computed)
        existing = convert.zone_snapshot(zone_with({**records, "www": a(60, "1.2.3.5")}))
        doc = ZonePlan(provider="pdns", zone=ZONE, exists=True, existing=existing)
        packed = convert.pack(doc)
        assert sorted(len(row) for row in packed[5]) == [3, 5]
        assert convert.unpack(packed) == doc
    assert convert.unpack(convert.pack(doc)) == doc  # outside a plan: every row in full
    assert all(len(row) == 5 for row in convert.pack(doc)[5])


def _twelve() -> dict[str, dict[str, Any]]:
    return {f"h{i:02}": a(3600, f"192.0.2.{i}") for i in range(12)}


def test_too_many_deletes_names_counts_threshold_and_minimum() -> None:
    existing = zone_with(_twelve())
    desired = zone_with({k: v for k, v in _twelve().items() if k >= "h04"})
    changes = [Delete(r) for r in existing.records if r.name < "h04"]
    plan = Plan(existing, desired, changes, True)
    assert convert.unsafe_reason("bind", plan) == (
        "bind example.test.: would delete 4 of 12 records (33.3 %), over octoDNS's safety "
        "threshold of 30 % for zones with at least 10 records"
    )


def test_three_deletes_of_twelve_are_safe() -> None:
    existing = zone_with(_twelve())
    changes = [Delete(r) for r in existing.records if r.name < "h03"]
    assert convert.unsafe_reason("bind", Plan(existing, existing, changes, True)) is None


def test_apex_ns_change_needs_force() -> None:
    existing = zone_with({"": {"type": "NS", "ttl": 3600, "values": ["a.test.", "b.test."]}})
    desired = zone_with({"": {"type": "NS", "ttl": 3600, "values": ["a.test.", "c.test."]}})
    old, new = next(iter(existing.records)), next(iter(desired.records))
    plan = Plan(existing, desired, [Update(old, new)], True)
    assert convert.unsafe_reason("pdns", plan) == (
        "pdns example.test.: would change the apex NS record (a.test., b.test. -> "
        "a.test., c.test.); octoDNS never changes a zone's delegation without --force"
    )


# -- model ------------------------------------------------------------------------------


def test_same_plans_on_both_providers_do_not_differ() -> None:
    doc = planset([update_api("pdns"), update_api("bind")])
    assert doc.differences() == []
    assert [s.line() for s in doc.summaries()] == [
        "pdns: 0 to create, 1 to update, 0 to delete in 1 of 1 zone(s)",
        "bind: 0 to create, 1 to update, 0 to delete in 1 of 1 zone(s)",
    ]


def test_a_change_only_one_provider_has_is_a_difference() -> None:
    bind = ZonePlan(
        provider="bind", zone=ZONE, exists=True, existing=Snapshot(digest="e", records={})
    )
    doc = planset([update_api("pdns"), bind])
    assert doc.differences() == [
        "api.example.test. A: only pdns would update it (bind is already in sync)"
    ]
    assert doc.summaries()[1].line() == "bind: no changes (1 zone(s) in sync)"


# -- saved plans ------------------------------------------------------------------------


def test_moved_names_the_record_and_where() -> None:
    api = state("api.example.test.", 60, "192.0.2.20")
    www = state("www.example.test.", 3600, "example.test.", rtype="CNAME")
    www2 = state("www.example.test.", 3600, "api.example.test.", rtype="CNAME")
    before = planset(
        [
            ZonePlan(
                provider="bind",
                zone=ZONE,
                exists=True,
                existing=Snapshot(digest="1", records={api.key: api, www.key: www}),
            )
        ],
        desired={ZONE: Snapshot(digest="d1", records={api.key: api})},
    )
    api2 = state("api.example.test.", 300, "192.0.2.20")
    after = planset(
        [
            ZonePlan(
                provider="bind",
                zone=ZONE,
                exists=True,
                existing=Snapshot(digest="2", records={api.key: api, www2.key: www2}),
            )
        ],
        desired={ZONE: Snapshot(digest="d2", records={api2.key: api2})},
    )
    assert saved.moved(before, after) == [
        "zones: api.example.test. A changed in git since the plan: 60 192.0.2.20 -> 300 192.0.2.20",
        "bind: www.example.test. CNAME changed on bind since the plan: 3600 example.test. -> "
        "3600 api.example.test.",
    ]
    assert saved.moved(before, before) == []


def test_moved_names_another_provider_pair() -> None:
    before = planset([update_api("pdns"), update_api("bind")])
    after = planset([update_api("pdns"), update_api("knot")], providers=["pdns", "knot"])
    assert saved.moved(before, after) == [
        "providers: the plan is for pdns, bind; environment 'lab' now has pdns, knot"
    ]


def test_saved_plan_round_trips(tmp_path: Any) -> None:
    doc = planset([update_api("pdns"), update_api("bind")])
    path = tmp_path / "plan.json"
    saved.save(doc, path)
    assert saved.load(path) == doc


def test_load_refuses_what_is_not_a_plan(tmp_path: Any) -> None:
    import pytest

    bad = tmp_path / "bad.json"
    bad.write_text("{\n  'x': 1\n}")
    with pytest.raises(saved.SavedPlanError, match=r"bad.json:2: not JSON"):
        saved.load(bad)
    other = tmp_path / "other.json"
    other.write_text('{"plans": []}')
    with pytest.raises(saved.SavedPlanError, match="not a dnsops plan"):
        saved.load(other)
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps({"format": "dnsops-plan/1", "environment": "lab"}))
    with pytest.raises(saved.SavedPlanError, match=r"damaged plan: providers: Field required"):
        saved.load(damaged)
    with pytest.raises(saved.SavedPlanError, match="cannot read the plan"):
        saved.load(tmp_path / "missing.json")


# -- renderers --------------------------------------------------------------------------

NASTY = '"</details> | ``` [bold]x[/bold] <script>@team #1 $x$"'


def nasty_plan() -> PlanSet:
    txt = Change(
        action="create",
        name="t.example.test.",
        type="TXT",
        new=state("t.example.test.", 300, NASTY, rtype="TXT"),
    )
    plans = [
        ZonePlan(
            provider=p,
            zone=ZONE,
            exists=True,
            changes=[txt],
            existing=Snapshot(digest="e", records={}),
        )
        for p in ("pdns", "bind")
    ]
    return planset(plans)


def test_markdown_keeps_record_content_inside_a_longer_fence() -> None:
    md = render.markdown(nasty_plan())
    assert md.count("<details>") == 2 and md.count("</details>") == 2 + 2  # 2 in the fences
    fence = "````diff"
    blocks = md.split(fence)
    assert len(blocks) == 3  # one fence per provider, 4 backticks: longer than the 3 inside
    for block in blocks[1:]:
        inside = block.split("\n````\n")[0]
        assert f"+ t.example.test. 300 TXT {NASTY}" in inside
    # outside the fences, nothing of the record content is live markdown or HTML
    outside = "".join(b.split("\n````\n")[-1] for b in blocks)
    assert "<script>" not in outside and "@team" not in outside


def test_markdown_escapes_text_outside_fences() -> None:
    from dnsops.render import markdown

    assert markdown.text("a|b <i>@x</i> `c`") == (
        "a&#124;b &#60;i&#62;&#64;&#8203;x&#60;/i&#62; &#96;c&#96;"
    )
    # a control character is shown as \x0a, its backslash escaped too
    assert markdown.text("line\nbreak") == "line&#92;x0abreak"


def test_text_escapes_rich_markup_in_records() -> None:
    from rich.console import Console

    console = Console(record=True, width=300, color_system=None)
    for line in render.text(nasty_plan()):
        console.print(line)
    shown = console.export_text()
    assert f"+ t.example.test. 300 TXT {NASTY}" in shown


def test_json_has_old_and_new_of_each_change() -> None:
    doc = json.loads(render.to_json(planset([update_api("pdns"), update_api("bind")])))
    assert doc["plans"][0]["changes"] == [
        {
            "action": "update",
            "name": "api",
            "fqdn": "api.example.test.",
            "type": "A",
            "source": "zones/example.test.yaml:57",
            "old": {"ttl": 60, "values": ["192.0.2.20"]},
            "new": {"ttl": 60, "values": ["192.0.2.22"]},
        }
    ]
    assert doc["has_changes"] is True
    assert doc["differences"] == []


def test_markdown_of_a_huge_plan_is_cut_to_fit_a_comment() -> None:
    changes = [
        Change(
            action="create",
            name=f"h{i}.example.test.",
            type="A",
            new=state(f"h{i}.example.test.", 60, "192.0.2.1"),
        )
        for i in range(5000)
    ]
    plans = [
        ZonePlan(provider=p, zone=ZONE, exists=True, changes=changes, existing=Snapshot(digest="e"))
        for p in ("pdns", "bind")
    ]
    md = render.markdown(planset(plans), max_chars=60000)
    assert len(md) <= 60000
    assert "more line(s): run `dnsops plan` for all" in md


# -- verify -----------------------------------------------------------------------------


def answer(name: str, rtype: str, ttl: int, *values: str, aa: bool = True) -> dns.message.Message:
    query = dns.message.make_query(name, rtype)
    response = dns.message.make_response(query)
    if aa:
        response.flags |= dns.flags.AA
    if values:
        response.answer.append(dns.rrset.from_text(name, ttl, "IN", rtype, *values))
    return response


def seen(exp: Expect, reply: dns.message.Message | None) -> tuple[bool, str]:
    """What verification makes of this reply (judged as the probe engine judges it)."""
    query = Query(Target("192.0.2.1", 53, "ns"), exp.name, exp.rdtype, expect=exp.want)
    if reply is None:
        return judged(exp, Result(query, error="timeout"))
    return judged(exp, judge(query, reply.to_wire(), 0.001))


def test_seen_matches_values_and_ttl_exactly() -> None:
    change = update_api("pdns").changes[0]
    exp = expectation(change)
    assert exp is not None
    assert seen(exp, answer("api.example.test.", "A", 60, "192.0.2.22")) == (True, "as planned")
    assert seen(exp, answer("api.example.test.", "A", 60, "192.0.2.20")) == (
        False,
        "60 192.0.2.20",
    )
    assert seen(exp, answer("api.example.test.", "A", 300, "192.0.2.22"))[0] is False
    assert seen(exp, answer("api.example.test.", "A", 60, "192.0.2.22", aa=False)) == (
        False,
        "a non-authoritative answer",
    )
    assert seen(exp, None) == (False, "timeout")


def test_seen_of_names_in_rdata_is_absolute() -> None:
    change = Change(
        action="create",
        name="www.example.test.",
        type="CNAME",
        new=state("www.example.test.", 3600, "example.test.", rtype="CNAME"),
    )
    exp = expectation(change)
    assert exp is not None
    got = answer("www.example.test.", "CNAME", 3600, "example.test.")
    assert seen(exp, got) == (True, "as planned")


def test_a_delegation_is_served_as_a_referral() -> None:
    change = Change(
        action="create",
        name="child.example.test.",
        type="NS",
        new=state("child.example.test.", 3600, "ns1.child.example.test.", rtype="NS"),
    )
    exp = expectation(change, REFERRAL)
    assert exp is not None
    referral = answer("child.example.test.", "NS", 3600, aa=False)
    referral.authority.append(
        dns.rrset.from_text("child.example.test.", 3600, "IN", "NS", "ns1.child.example.test.")
    )
    assert seen(exp, referral) == (True, "as planned")
    authoritative = answer("child.example.test.", "NS", 3600, "ns1.child.example.test.")
    assert seen(exp, authoritative) == (False, "an authoritative answer, not a referral")
    # glue, and a record below a delegation, cannot be shown by one question
    assert expectation(change, GLUE) is None and expectation(change, OCCLUDED) is None


def test_seen_of_a_delete_wants_no_record() -> None:
    change = Change(
        action="delete",
        name="old.example.test.",
        type="A",
        old=state("old.example.test.", 60, "192.0.2.1"),
    )
    exp = expectation(change)
    assert exp is not None
    gone = answer("old.example.test.", "A", 60)
    gone.set_rcode(dns.rcode.NXDOMAIN)
    assert seen(exp, gone) == (True, "NXDOMAIN")
    assert seen(exp, answer("old.example.test.", "A", 60)) == (True, "no such record")
    assert seen(exp, answer("old.example.test.", "A", 60, "192.0.2.1")) == (
        False,
        "still 60 192.0.2.1",
    )


def test_types_dns_cannot_show_are_not_checked() -> None:
    change = Change(
        action="create",
        name="example.test.",
        type="ALIAS",
        new=state("example.test.", 60, "lb.example.net.", rtype="ALIAS"),
    )
    assert expectation(change) is None


def test_redactor_replaces_every_secret() -> None:
    scrub = redactor(["s3cr3t-key", "tsig+/base64=="])
    assert scrub("401 for key s3cr3t-key; tsig+/base64== bad") == "401 for key ***; *** bad"


# -- planning is concurrent, from zones loaded once ------------------------------------


class _Rendezvous:
    """A provider whose plan returns only once the other provider's plan has started."""

    def __init__(self, barrier: Any) -> None:
        self.barrier = barrier
        self.seen: list[Zone] = []

    def populate(self, zone: Zone, target: bool = False, lenient: bool = False) -> bool:
        return True

    def plan(self, desired: Zone) -> None:
        self.populate(Zone(desired.name, []), target=True)
        self.seen.append(desired)
        self.barrier.wait()  # sequential planning would break the barrier (timeout)
        return None


def test_both_providers_are_planned_at_the_same_time_from_the_same_zones() -> None:
    import threading

    from dnsops.sync import core

    barrier = threading.Barrier(2, timeout=10)
    a, b = _Rendezvous(barrier), _Rendezvous(barrier)
    zones = {ZONE: zone_with({"api": a_record()})}
    planned = core.plan(zones, {"pdns": a, "bind": b}, environment="lab")
    assert planned.failed == {}
    assert a.seen == b.seen == [zones[ZONE]]  # the very same Zone object, loaded once
    assert [(p.provider, p.exists, p.changes) for p in planned.plans] == [
        ("pdns", True, []),
        ("bind", True, []),
    ]


def a_record() -> dict[str, Any]:
    return a(60, "192.0.2.20")
