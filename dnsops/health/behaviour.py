"""How a nameserver behaves with EDNS, query-name case and names it does not serve.

Properties of a server, not of a zone: asked once per nameserver address (about the
first zone it serves), so 1,000 zones on a broken server make one finding, not
1,000. Six UDP queries per address, none per zone:

* ``soa-plain``: the zone's SOA without EDNS. A server that answers it but not the
  EDNS0 one (``soa-udp``) breaks on EDNS (``ns-edns-breaks``); it is still up
  (``ServerObs.up``), so every failure it causes folds under that one finding.
* ``edns-option``: the SOA with an EDNS option no one has assigned (``ns-edns-option``).
* ``edns-flags``: the SOA with an EDNS flag bit no one has assigned (``ns-edns-flags``).
* ``edns-truncated``: the DNSKEY with DO at a 512-byte buffer, the truncated UDP
  reply kept (``ns-edns-truncated``; not applicable when it is not truncated).
* ``qname-case``: the SOA of the zone's name in mixed case, without EDNS
  (``ns-qname-case``: compared with ``soa-plain``).
* ``upward``: the NS of the root, without EDNS or recursion (``ns-upward-referral``).

Zonemaster's NAMESERVER02, 11, 12, 13, 09 and 07 procedures. The ``judge_*`` functions
are pure (no I/O): Results in, a verdict out (True, None: not applicable, or the
failure's message and data).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dns.name
import dns.rcode
import dns.rdatatype

from dnsops.health.model import ServerObs, ZoneLayout, ZoneObs
from dnsops.probe import Query, Result, wire

if TYPE_CHECKING:
    from dnsops.health.server_checks import ServerChecks

UNKNOWN_OPTION = 137  # an EDNS option code IANA has not assigned (Zonemaster's too)
UNKNOWN_FLAG = 0x0001  # the last EDNS header flag bit: unassigned (DO is 0x8000)
DO = 0x8000
TRUNCATION_BUFFER = 512
PROBES = ("soa-plain", "edns-option", "edns-flags", "edns-truncated", "qname-case", "upward")
CHECKS = (
    "ns-edns-breaks",
    "ns-edns-option",
    "ns-edns-flags",
    "ns-edns-truncated",
    "ns-qname-case",
    "ns-upward-referral",
)
EDNS_CHECKS = ("ns-edns-option", "ns-edns-flags", "ns-edns-truncated")

Verdict = tuple[bool | None, str, dict[str, Any]]
PASS: Verdict = (True, "", {})
NOT_APPLICABLE: Verdict = (None, "", {})


# -- what to ask --------------------------------------------------------------------


def mixed_case(zone: str) -> str:
    """The zone's name with the case of its letters alternating: ``eXaMpLe.TeSt.``."""
    out, upper = [], False
    for ch in zone.lower():
        if ch.isalpha() and ch.isascii():
            out.append(ch.upper() if upper else ch)
            upper = not upper
        else:
            out.append(ch)
    return "".join(out)


def first_zones(layouts: Iterable[ZoneLayout]) -> dict[tuple[str, int], tuple[str, int]]:
    """(address, port) of each nameserver -> (zone, server index) it is asked about:
    the first zone (in the given order) that lists it."""
    out: dict[tuple[str, int], tuple[str, int]] = {}
    for lay in layouts:
        for i, ns in enumerate(lay.nameservers):
            out.setdefault((ns.address, ns.port), (lay.zone, i))
    return out


def queries_for(layout: ZoneLayout, index: int) -> list[Query]:
    """The six probes of one nameserver, about ``layout``'s zone (keys: (zone, index,
    probe), as plan.server_queries)."""
    t = layout.nameservers[index].target
    zone = wire.name(layout.zone)

    def key(probe: str) -> tuple[str, int, str]:
        return (layout.zone, index, probe)

    soa, ns, dnskey = dns.rdatatype.SOA, dns.rdatatype.NS, dns.rdatatype.DNSKEY
    return [
        Query(t, zone, soa, edns=None, key=key("soa-plain")),
        Query(t, zone, soa, options=((UNKNOWN_OPTION, b""),), key=key("edns-option")),
        Query(t, zone, soa, ednsflags=UNKNOWN_FLAG, key=key("edns-flags")),
        Query(
            t,
            zone,
            dnskey,
            payload=TRUNCATION_BUFFER,
            ednsflags=DO,
            tcp_fallback=False,
            key=key("edns-truncated"),
        ),
        Query(t, wire.name(mixed_case(layout.zone)), soa, edns=None, key=key("qname-case")),
        Query(t, dns.name.root, ns, edns=None, key=key("upward")),
    ]


def server_queries(zones: Iterable[ZoneObs]) -> list[Query]:
    """The probes of every nameserver address, once each."""
    by_zone = {zo.layout.zone: zo.layout for zo in zones}
    out = []
    for zone, index in first_zones(by_zone.values()).values():
        out += queries_for(by_zone[zone], index)
    return out


def share(zones: Iterable[ZoneObs]) -> None:
    """Give every zone's ServerObs of an address its ``soa-plain`` (asked about the
    first zone) when that server breaks on EDNS (the first zone's EDNS SOA got no
    answer, the plain one did), so it counts as up in every zone. A server that answers
    EDNS for the first zone and not for another is not broken on EDNS: that zone keeps
    its own verdict (``ns-udp``)."""
    plain: dict[tuple[str, int], Result] = {}
    obs: list[ServerObs] = []
    for zo in zones:
        for so in zo.servers:
            obs.append(so)
            r, edns = so.probes.get("soa-plain"), so.probes.get("soa-udp")
            if r is not None and r.answered and (edns is None or not edns.answered):
                plain.setdefault((so.ns.address, so.ns.port), r)
    for so in obs:
        r = plain.get((so.ns.address, so.ns.port))
        if r is not None:
            so.probes.setdefault("soa-plain", r)


# -- reading replies ----------------------------------------------------------------


@dataclass(frozen=True)
class Opt:
    """A reply's OPT record: EDNS version, flags (the 16 bits after the version) and
    options."""

    version: int
    flags: int
    options: tuple[tuple[int, bytes], ...] = field(default=())


def opt_of(data: bytes | None) -> Opt | None:
    """The OPT record of a reply, read from the wire (a truncated reply too).

    None: no reply, or no OPT record in it (or a reply too broken to find it).
    """
    if data is None or len(data) < 12:
        return None
    try:
        _, _, qd, an, ns, ar = wire.header(data)
        off = 12
        for _ in range(qd):
            _, off = wire.wire_name(data, off)
            off += 4
        for k in range(an + ns + ar):
            _, off = wire.wire_name(data, off)
            rtype, _, ttl, rdlen = struct.unpack_from("!HHIH", data, off)
            off += 10
            if rtype == dns.rdatatype.OPT and k >= an + ns:
                return Opt((ttl >> 16) & 0xFF, ttl & 0xFFFF, _options(data[off : off + rdlen]))
            off += rdlen
    except (IndexError, ValueError, struct.error):
        return None
    return None


def _options(rdata: bytes) -> tuple[tuple[int, bytes], ...]:
    out, off = [], 0
    while off + 4 <= len(rdata):
        code, size = struct.unpack_from("!HH", rdata, off)
        out.append((code, rdata[off + 4 : off + 4 + size]))
        off += 4 + size
    return tuple(out)


def echoed_question(r: Result) -> bytes | None:
    """The question section the reply carries, byte for byte (None: none)."""
    data = r.wire
    if data is None or len(data) < 12 or wire.header(data)[2] < 1:
        return None
    try:
        _, off = wire.wire_name(data, 12)
    except (IndexError, ValueError):
        return None
    return data[12 : off + 4]


def answer_of(r: Result) -> tuple[tuple[str, int, int, tuple[bytes, ...]], ...] | None:
    """The answer section in canonical form (names lower-cased), for comparing."""
    msg = r.message
    if msg is None:
        return None
    return tuple(
        sorted(
            (
                rrset.name.canonicalize().to_text(),
                int(rrset.rdtype),
                rrset.ttl,
                tuple(sorted(rd.to_digestable() for rd in rrset)),
            )
            for rrset in msg.answer
        )
    )


def _has_soa(r: Result, zone: str) -> bool:
    msg = r.message
    if msg is None:
        return False
    name = dns.name.from_text(zone)
    return any(s.rdtype == dns.rdatatype.SOA and s.name == name for s in msg.answer)


def _got(r: Result | None) -> str:
    """What a query got, for messages: the rcode, or why there is none."""
    if r is None:
        return "nothing (not asked)"
    if r.rcode is None:
        return f"no answer ({r.error or 'timeout'})"
    if r.error is not None:
        return f"a malformed reply ({r.rcode_text}: {r.error})"
    return r.rcode_text


# -- judging (pure) -----------------------------------------------------------------


def judge_breaks(edns: Result | None, plain: Result | None, zone: str) -> Verdict:
    """NAMESERVER02 BREAKS_ON_EDNS: the plain SOA query is answered, the EDNS0 one
    is not, or gets another rcode, or a malformed reply."""
    if plain is None or not plain.answered:
        return NOT_APPLICABLE  # not even plain: down (ns-udp)
    if (
        edns is not None
        and edns.answered
        and edns.error is None
        and edns.rcode in (plain.rcode, dns.rcode.NOERROR)
    ):
        return PASS
    got = _got(edns)
    message = (
        f"answers a plain SOA query for {zone} ({plain.rcode_text}), but the same query "
        f"with EDNS0 gets {got}: resolvers, which all send EDNS, time out and retry without it"
    )
    data = {
        "plain_rcode": plain.rcode_text,
        "edns_rcode": edns.rcode_text if edns is not None and edns.answered else None,
        "edns_error": edns.error if edns is not None else "not asked",
    }
    return False, message, data


def _baseline_ok(edns: Result | None, zone: str) -> bool:
    """Zonemaster's precondition: the plain EDNS0 SOA query got NOERROR, AA, OPT and
    the SOA (otherwise ns-edns, ns-edns-breaks, ns-aa, ns-soa say what is wrong)."""
    return (
        edns is not None
        and edns.rcode == dns.rcode.NOERROR
        and edns.error is None
        and edns.aa
        and opt_of(edns.wire) is not None
        and _has_soa(edns, zone)
    )


def judge_option(r: Result | None, edns: Result | None, zone: str) -> Verdict:
    """NAMESERVER11: an unknown EDNS option must be ignored (RFC 6891 §6.1.2)."""
    if not _baseline_ok(edns, zone):
        return NOT_APPLICABLE
    asked = f"a SOA query for {zone} with an unknown EDNS option (code {UNKNOWN_OPTION})"
    if r is None or not r.answered:
        return False, f"no answer to {asked}: {_got(r)}", {"problem": "no-response"}
    opt = opt_of(r.wire)
    if r.rcode != dns.rcode.NOERROR or r.error is not None:
        return (
            False,
            f"answered {asked} with {_got(r)}",
            {"problem": "rcode", "rcode": r.rcode_text},
        )
    if opt is None:
        return False, f"answered {asked} without an OPT record", {"problem": "no-edns"}
    if not _has_soa(r, zone) or (edns is not None and answer_of(r) != answer_of(edns)):
        message = f"answered {asked} with another answer section than without the option"
        return False, message, {"problem": "answer"}
    if not r.aa:
        return False, f"answered {asked} without the AA flag", {"problem": "aa"}
    if any(code == UNKNOWN_OPTION for code, _ in opt.options):
        message = f"echoed the unknown EDNS option {UNKNOWN_OPTION} back in its reply to {asked}"
        return False, message, {"problem": "echoed"}
    return PASS


def judge_flags(r: Result | None, edns: Result | None, zone: str) -> Verdict:
    """NAMESERVER12: an unknown EDNS flag must be ignored and clear in the reply."""
    if edns is None or not edns.answered or opt_of(edns.wire) is None:
        return NOT_APPLICABLE  # EDNS itself broken: ns-edns-breaks, ns-edns
    asked = f"a SOA query for {zone} with an unknown EDNS flag (0x{UNKNOWN_FLAG:04x})"
    if r is None or not r.answered:
        return False, f"no answer to {asked}: {_got(r)}", {"problem": "no-response"}
    opt = opt_of(r.wire)
    if r.rcode == dns.rcode.FORMERR:
        return False, f"answered {asked} with FORMERR", {"problem": "rcode", "rcode": "FORMERR"}
    if opt is not None and opt.flags & ~DO:
        z = opt.flags & ~DO
        message = (
            f"answered {asked} with unknown EDNS flags 0x{z:04x} set in its reply: "
            "they must be cleared"
        )
        return False, message, {"problem": "z-set", "flags": z}
    if r.rcode == dns.rcode.NOERROR and opt is not None and opt.version == 0 and _has_soa(r, zone):
        return PASS
    what = _got(r) if opt is not None else f"{_got(r)} without an OPT record"
    if opt is not None and r.rcode == dns.rcode.NOERROR and not _has_soa(r, zone):
        what += ", no SOA in the answer"
    return False, f"answered {asked} with {what}", {"problem": "error", "rcode": r.rcode_text}


def judge_truncated(r: Result | None) -> Verdict:
    """NAMESERVER13: a truncated reply to an EDNS query keeps its OPT record (RFC 6891
    §7). Not applicable when the reply is not truncated (or there is none)."""
    if r is None or not r.answered or not r.flags & wire.TC:
        return NOT_APPLICABLE
    if opt_of(r.wire) is not None:
        return PASS
    qname = r.query.qname.to_text()
    message = (
        f"answered a DNSKEY query for {qname} with DO at a {r.query.payload}-byte buffer "
        f"truncated (TC, {r.rcode_text}) and without an OPT record: resolvers conclude it "
        "does not speak EDNS"
    )
    return False, message, {"rcode": r.rcode_text}


def judge_case(r: Result | None, plain: Result | None) -> Verdict:
    """NAMESERVER09/08: a mixed-case query name gets the answer the lower-case name
    gets, and is echoed in the question exactly as asked."""
    if plain is None or not plain.answered or r is None:
        return NOT_APPLICABLE
    asked = r.query.qname.to_text()
    lower = plain.query.qname.to_text()
    if asked == lower:
        return NOT_APPLICABLE  # no letters to mix
    if not r.answered:
        message = f"no answer to the SOA query for {asked} ({_got(r)}), though {lower} is answered"
        return False, message, {"problem": "no-response"}
    echoed = echoed_question(r)
    if echoed != wire.question(r.query.qname, r.query.rdtype):
        shown = _question_text(echoed)
        message = f"echoed the query name {asked} as {shown}: the case must be preserved"
        return False, message, {"problem": "case", "echoed": shown}
    if r.rcode != plain.rcode:
        message = (
            f"answered {asked} SOA with {r.rcode_text}, but {lower} SOA with {plain.rcode_text}"
        )
        return False, message, {"problem": "rcode", "rcode": r.rcode_text}
    if answer_of(r) != answer_of(plain):
        message = f"answered {asked} SOA with another answer section than {lower} SOA"
        return False, message, {"problem": "answer"}
    return PASS


def _question_text(q: bytes | None) -> str:
    if q is None:
        return "no question"
    try:
        return dns.name.from_wire(q, 0)[0].to_text()
    except Exception:
        return repr(q)


def judge_upward(r: Result | None, zone: str) -> Verdict:
    """NAMESERVER07: asked for the NS of the root, an authoritative server must not
    refer upward (NS of the root or of an ancestor of the zone in the authority
    section, AA unset). Silence or a refusal is fine."""
    if r is None or not r.answered:
        return PASS
    msg = r.message
    if msg is None or r.aa or msg.answer:
        return PASS
    mine = dns.name.from_text(zone)
    for rrset in msg.authority:
        if (
            rrset.rdtype == dns.rdatatype.NS
            and mine.is_subdomain(rrset.name)
            and rrset.name != mine
        ):
            targets = sorted(rd.to_text() for rd in rrset)
            shown = ", ".join(targets[:3]) + (", ..." if len(targets) > 3 else "")
            message = (
                f"answered a query for the NS of the root (.) with an upward referral to "
                f"{rrset.name} ({shown}) instead of refusing: it sends resolvers in circles"
            )
            return False, message, {"referral": rrset.name.to_text(), "targets": targets}
    return PASS


# -- the checks of one ServerObs ---------------------------------------------------


def check(sc: ServerChecks) -> None:
    """The six checks, in the ServerObs that carries the probes (the first zone of its
    address); nothing at all in the others (they are not the server's business)."""
    so, zone = sc.so, sc.zone
    if "qname-case" not in so.probes:
        return
    p = so.probes.get
    edns, plain = p("soa-udp"), p("soa-plain")
    verdicts = {
        "ns-edns-breaks": judge_breaks(edns, plain, zone),
        "ns-edns-option": judge_option(p("edns-option"), edns, zone),
        "ns-edns-flags": judge_flags(p("edns-flags"), edns, zone),
        "ns-edns-truncated": judge_truncated(p("edns-truncated")),
        "ns-qname-case": judge_case(p("qname-case"), plain),
        "ns-upward-referral": judge_upward(p("upward"), zone),
    }
    edns_ok = edns is not None and edns.answered
    for check_id, (ok, message, data) in verdicts.items():
        if not so.up or (not edns_ok and check_id in EDNS_CHECKS):
            ok = None  # down (ns-udp), or EDNS itself broken: one finding, ns-edns-breaks
        sc.judge.verdict(ok, sc.fail(check_id, message, **data))
