"""dnsops.sync.batch: a plan's changes cut into batches a provider accepts, in a safe
order; dnsops.octo.Target applies them one after another and says where it stopped.

Records and changes are octoDNS's own; the provider in the apply tests is a recorder
(the lab tests, tests/test_sync_batch_lab.py, drive PowerDNS and BIND)."""

from __future__ import annotations

from typing import Any

import pytest
from octodns.provider.plan import Plan
from octodns.record import Create, Delete, Record, Update
from octodns.zone import Zone

from dnsops.config import BatchLimits, Environment
from dnsops.lint.capabilities import DEFAULT_LIMITS, limits_for
from dnsops.octo import BatchFailed, Target
from dnsops.sync import batch

ZONE = "example.test."


def record(name: str, rtype: str, value: Any, ttl: int = 3600) -> Record:
    data: dict[str, Any] = {"ttl": ttl, "type": rtype}
    data["values" if isinstance(value, list) else "value"] = value
    return Record.new(Zone(ZONE, []), name, data)


def creates(count: int, prefix: str = "host") -> list[Any]:
    return [Create(record(f"{prefix}{i:03d}", "A", f"192.0.2.{i % 250}")) for i in range(count)]


def keys(batches: list[list[Any]]) -> list[list[str]]:
    return [
        [f"{type(c).__name__} {c.record.name or '@'} {c.record._type}" for c in b] for b in batches
    ]


def test_fifty_creates_in_batches_of_twenty() -> None:
    changes = sorted(creates(50))
    batches = batch.split(changes, ZONE, BatchLimits(changes=20))
    assert [len(b) for b in batches] == [20, 20, 10]
    assert [c for b in batches for c in b] == changes  # octoDNS's order, nothing lost


def test_no_limit_is_one_batch_and_no_change_is_none() -> None:
    assert [len(b) for b in batch.split(creates(50), ZONE, BatchLimits())] == [50]
    assert batch.split([], ZONE, BatchLimits(changes=1)) == []


def test_changes_at_one_name_stay_together() -> None:
    """An A replaced by a CNAME is a Delete and a Create at one name: never split."""
    swap = [
        Delete(record("host001", "A", "192.0.2.1")),
        Create(record("host001", "CNAME", "x.example.test.")),
    ]
    changes = sorted([*creates(3, "a"), *swap])
    batches = batch.split(changes, ZONE, BatchLimits(changes=2))
    assert keys(batches) == [
        ["Delete host001 A", "Create host001 CNAME"],
        ["Create a000 A", "Create a001 A"],
        ["Create a002 A"],
    ]


def test_apex_ns_goes_first_with_its_in_zone_targets() -> None:
    old = record("", "NS", ["ns1.example.test.", "ns.other.test."])
    new = record("", "NS", ["ns2.example.test.", "ns.other.test."])
    changes = sorted(
        [
            *creates(3, "a"),
            Update(old, new),
            Create(record("ns2", "A", "192.0.2.53")),
            Delete(record("ns1", "A", "192.0.2.52")),
        ]
    )
    assert keys(batch.split(changes, ZONE, BatchLimits(changes=3))) == [
        ["Delete ns1 A", "Create ns2 A", "Update @ NS"],  # one unit, first
        ["Create a000 A", "Create a001 A", "Create a002 A"],
    ]
    # over the limit, change by change: the new name's address, the NS, the old's delete
    assert keys(batch.split(changes, ZONE, BatchLimits(changes=2))) == [
        ["Create ns2 A", "Update @ NS"],
        ["Delete ns1 A", "Create a000 A"],
        ["Create a001 A", "Create a002 A"],
    ]


def test_a_unit_over_the_limit_is_sent_change_by_change() -> None:
    old = record("", "NS", ["ns1.example.test."])
    new = record("", "NS", ["ns2.example.test."])
    unit = [Update(old, new), Create(record("ns2", "A", "192.0.2.53"))]
    limits = BatchLimits(records=2)  # the update counts twice
    assert keys(batch.split(sorted(unit), ZONE, limits)) == [["Create ns2 A"], ["Update @ NS"]]


def test_route53_counts_updates_twice_and_characters() -> None:
    """Route 53: 1,000 ResourceRecords (an UPSERT twice), 32,000 characters of values
    (an UPSERT twice)."""
    limits = DEFAULT_LIMITS["route53"]
    updates = [
        Update(record(f"h{i:04d}", "A", "192.0.2.1"), record(f"h{i:04d}", "A", "192.0.2.2"))
        for i in range(600)
    ]
    assert [len(b) for b in batch.split(updates, ZONE, limits)] == [500, 100]
    txt = "v" * 250
    big = [Create(record(f"t{i:04d}", "TXT", [txt, txt])) for i in range(100)]
    # each value: its text, quoted (252 characters), + 3 should it be cut into strings
    assert batch.cost(big[0]).value_chars == 2 * 255
    assert [len(b) for b in batch.split(big, ZONE, limits)] == [62, 38]


def test_sizes_are_upper_estimates() -> None:
    create = Create(record("www", "AAAA", "::1"))
    cost = batch.cost(create)
    # PowerDNS: {"name": "www.example.test.", "type": "AAAA", "ttl": 3600,
    #   "changetype": "REPLACE", "records": [{"content": "::1", "disabled": false}]}
    body = (
        '{"name": "www.example.test.", "type": "AAAA", "ttl": 3600, "changetype": '
        '"REPLACE", "records": [{"content": "::1", "disabled": false}]}, '
    )
    assert cost.body_bytes >= len(body)
    # RFC 2136: the owner uncompressed (18 bytes), 10 bytes of type..RDLENGTH, 16 of RDATA
    assert cost.message_bytes >= 18 + 10 + 16


def test_one_change_over_a_limit_goes_alone() -> None:
    huge = Create(record("big", "TXT", ["x" * 250] * 200))
    changes = sorted([*creates(2), huge])
    batches = batch.split(changes, ZONE, DEFAULT_LIMITS["route53"])
    assert keys(batches) == [["Create big TXT"], ["Create host000 A", "Create host001 A"]]


def test_dnsops_yaml_overrides_the_documented_limits_field_by_field() -> None:
    env = Environment.model_validate(
        {
            "octodns_config": "config/lab.yaml",
            "providers": ["pdns", "bind"],
            "provider_api": {"rfc2136": {"batch": {"changes": 20}}},
        }
    )
    assert limits_for("rfc2136", env) == BatchLimits(changes=20, message_bytes=60_000)
    assert limits_for("powerdns", env) == BatchLimits(body_bytes=1_000_000)
    assert limits_for(None, env) == BatchLimits()


# -- Target: the batches applied in order ---------------------------------------------


class Recorder:
    """An octoDNS provider that records each plan it is given; fails the ``fail``-th."""

    id = "rec"

    def __init__(self, fail: int | None = None) -> None:
        self.plans: list[Plan] = []
        self.fail = fail

    def apply(self, plan: Plan) -> int:
        if len(self.plans) + 1 == self.fail:
            raise RuntimeError("400 Bad Request")
        self.plans.append(plan)
        return len(plan.changes)


def target(provider: Recorder, limits: BatchLimits) -> Target:
    return Target(provider, processors=lambda _zone: [], sources=[], limits=limits)  # type: ignore[arg-type]


def plan_of(changes: list[Any], exists: bool = False) -> Plan:
    return Plan(Zone(ZONE, []), Zone(ZONE, []), changes, exists)


def test_target_applies_each_batch_as_a_plan_of_its_own() -> None:
    rec = Recorder()
    said: list[str] = []
    done = target(rec, BatchLimits(changes=20)).apply_in_batches(plan_of(creates(50)), said.append)
    assert done == (50, 3)
    assert [len(p.changes) for p in rec.plans] == [20, 20, 10]
    assert [p.exists for p in rec.plans] == [False, True, True]  # created by the first
    assert said == [
        "rec: example.test. batch 1/3 applied (20/50 changes)",
        "rec: example.test. batch 2/3 applied (40/50 changes)",
        "rec: example.test. batch 3/3 applied (50/50 changes)",
    ]


def test_a_plan_within_the_limits_is_the_providers_own_apply() -> None:
    rec = Recorder()
    plan = plan_of(creates(5))
    assert target(rec, BatchLimits(changes=20)).apply(plan) == 5
    assert rec.plans == [plan]


def test_a_failed_batch_says_which_and_what_was_applied() -> None:
    rec = Recorder(fail=2)
    with pytest.raises(BatchFailed) as caught:
        target(rec, BatchLimits(changes=20)).apply_in_batches(plan_of(creates(50)))
    assert str(caught.value) == (
        "example.test. batch 2/3 failed (RuntimeError: 400 Bad Request); batches 1-1 were "
        "applied (20 of 50 changes); `dnsops sync --doit` again applies the rest"
    )
    assert (caught.value.applied, caught.value.index) == (20, 2)
    assert [len(p.changes) for p in rec.plans] == [20]


def test_a_failure_of_a_single_batch_is_the_providers_own() -> None:
    with pytest.raises(RuntimeError, match="400 Bad Request"):
        target(Recorder(fail=1), BatchLimits()).apply(plan_of(creates(5)))


class Slow(Recorder):
    """Each apply takes ``seconds`` (a provider answering slowly)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def apply(self, plan: Plan) -> int:
        import time

        time.sleep(self.seconds)
        return super().apply(plan)


def test_no_batch_starts_after_the_apply_phase_deadline() -> None:
    from dnsops.sync.core import Deadline

    rec = Slow(0.2)
    with pytest.raises(BatchFailed) as caught:
        target(rec, BatchLimits(changes=20)).apply_in_batches(
            plan_of(creates(50)), None, Deadline.after(0.1)
        )
    assert str(caught.value) == (
        "example.test. batch 2/3 failed (PhaseDeadlineExceeded: rec: applying example.test. "
        "passed its 0.1 s deadline after 1 of 3 batches; nothing more was started (dnsops.yaml "
        "provider_api.phases)); batches 1-1 were applied (20 of 50 changes); `dnsops sync "
        "--doit` again applies the rest"
    )
    assert [len(p.changes) for p in rec.plans] == [20]


def test_no_zone_is_planned_or_applied_after_its_phase_deadline() -> None:
    from octodns.zone import Zone as OctoZone

    from dnsops.sync import core

    zones = {z: OctoZone(z, []) for z in ("a.test.", "b.test.")}
    late = core.Deadline(at=0.0, seconds=5.0)  # long passed
    planned = core.plan(zones, {"rec": Recorder()}, environment="lab", deadline=late)
    assert planned.failed == {
        "rec": "PhaseDeadlineExceeded: rec: planning passed its 5 s deadline after 0 of 2 "
        "zone(s); nothing more was started (dnsops.yaml provider_api.phases)"
    }
