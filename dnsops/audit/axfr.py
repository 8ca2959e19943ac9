"""A zone transfer read straight into canonical values, TSIG-verified by dnspython.

dnspython builds an object per record (``dns.query.xfr``: ~1.2 s of CPU for a 10k-record
zone here, twice that through ``inbound_xfr``); the audit only needs each record's
owner, type, TTL and canonical rdata. So the messages are walked on the bytes with the
probe engine's wire helpers (names decompressed and lower-cased, rdata in
``to_digestable`` form) and only the TSIG record is parsed, for ``dns.tsig.validate``,
exactly as dnspython's own reader does for a multi-message transfer.

.. important:: with a key, every message must be signed or follow a signed one (RFC 8945
   allows unsigned messages between signed ones) and the last one must be signed; an
   unsigned or badly signed transfer is an error, never data.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring

from dnsops.audit.convert import canonical
from dnsops.audit.model import Key, RRset, Value
from dnsops.probe.wire import HEADER, rdata_at, wire_name

_RR = struct.Struct("!HHIH")
_validate: Any = dns.tsig.validate  # untyped in dnspython
_SOA = int(dns.rdatatype.SOA)
_TSIG = int(dns.rdatatype.TSIG)


class TransferFailed(Exception):
    """The zone transfer was refused, cut short or not properly signed."""


@dataclass(frozen=True)
class TsigKey:
    """The TSIG key a transfer is signed with. The secret never shows in a repr."""

    name: str
    secret: str = field(repr=False)
    algorithm: str = "hmac-sha256"


def transfer(
    address: str, zone: str, key: TsigKey | None = None, *, port: int = 53, timeout: float = 30
) -> dict[Key, RRset]:
    """The zone as ``address`` serves it over AXFR: (owner, type) -> RRset.

    :raises TransferFailed: refused (the rcode is the message), a bad or missing TSIG,
        a malformed or incomplete transfer.
    :raises OSError: the connection failed or timed out (TimeoutError).
    """
    query = dns.message.make_query(zone, dns.rdatatype.AXFR)
    tsig_key = None
    if key is not None:
        ring = dns.tsigkeyring.from_text({key.name: key.secret})
        query.use_tsig(ring, keyname=key.name, algorithm=key.algorithm)
        tsig_key = dns.tsig.Key(key.name, key.secret, key.algorithm)
    wire = query.to_wire()
    reader = _Reader(zone, query.id, tsig_key, query.mac)
    deadline = time.monotonic() + timeout
    with socket.create_connection((address, port), timeout=timeout) as sock:
        sock.sendall(struct.pack("!H", len(wire)) + wire)
        while not reader.done:
            (length,) = struct.unpack("!H", _read(sock, 2, deadline))
            reader.message(_read(sock, length, deadline))
    return reader.view()


def _read(sock: socket.socket, n: int, deadline: float) -> bytes:
    out = bytearray()
    while len(out) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("zone transfer timed out")
        sock.settimeout(left)
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise TransferFailed("connection closed before the end of the transfer")
        out += chunk
    return bytes(out)


class _Reader:
    """The state of one transfer: SOA bracketing and the TSIG context."""

    def __init__(self, zone: str, qid: int, key: dns.tsig.Key | None, mac: bytes | None) -> None:
        self.origin = dns.name.from_text(zone).canonicalize().to_wire() or b""
        self.qid = qid
        self.key = key
        self.request_mac = mac or b""
        self.tsig_ctx: Any = None
        self.signed_last = False
        self.first = True
        self.soa: bytes | None = None
        self.done = False
        self.ttls: dict[tuple[bytes, int], int] = {}
        self.values: dict[tuple[bytes, int], set[Value]] = {}

    def message(self, wire: bytes) -> None:
        try:
            qid, flags, qd, an, ns, ar = HEADER.unpack_from(wire)
        except struct.error:
            raise TransferFailed("short message") from None
        if qid != self.qid or not flags & 0x8000:
            raise TransferFailed("a reply to another query")
        rcode = flags & 0x000F
        if rcode != dns.rcode.NOERROR:
            text = dns.rcode.to_text(dns.rcode.Rcode(rcode))
            tsig = _tsig_error(wire)
            raise TransferFailed(f"{text} (TSIG {tsig})" if tsig else text)
        try:
            off = 12
            for _ in range(qd):
                off = wire_name(wire, off)[1] + 4
            for _ in range(an):
                off = self._answer(wire, off)
            for _ in range(ns):
                off = _skip_rr(wire, off)
            had_tsig = False
            for _ in range(ar):
                start = off
                off = wire_name(wire, off)[1]
                rtype, rclass, _, rdlen = _RR.unpack_from(wire, off)
                off += 10
                if rtype == _TSIG:
                    self._verify(wire, start, rclass, off, rdlen)
                    had_tsig = True
                off += rdlen
        except (IndexError, ValueError, struct.error) as exc:
            raise TransferFailed(f"malformed message: {exc}") from None
        if self.key is not None:
            if not had_tsig:
                if self.tsig_ctx is None:
                    raise TransferFailed("the transfer is not signed with the key")
                self.tsig_ctx.update(wire)
            self.signed_last = had_tsig
            if self.done and not self.signed_last:
                raise TransferFailed("the last message of the transfer is not signed")
        self.first = False

    def _answer(self, wire: bytes, off: int) -> int:
        owner, off = wire_name(wire, off)
        rtype, rclass, ttl, rdlen = _RR.unpack_from(wire, off)
        off += 10
        if self.done:
            raise TransferFailed("records after the closing SOA")
        rdata = rdata_at(wire, off, rdlen, rtype)
        if rtype == _SOA and owner == self.origin:
            if self.soa is None:
                self.soa = rdata
            elif rdata == self.soa:
                self.done = True
                return int(off + rdlen)
            else:
                raise TransferFailed("the zone changed during the transfer (SOA differs)")
        elif self.soa is None:
            raise TransferFailed("the transfer does not start with the zone's SOA")
        if rclass == dns.rdataclass.IN:
            k = (owner, rtype)
            self.ttls[k] = min(self.ttls.get(k, ttl), ttl)
            self.values.setdefault(k, set()).add(canonical(rtype, rdata))
        return int(off + rdlen)

    def _verify(self, wire: bytes, start: int, rclass: int, off: int, rdlen: int) -> None:
        if self.key is None:
            raise TransferFailed("a signed reply to an unsigned request")
        name = dns.name.from_wire(wire, start)[0]
        rd = dns.rdata.from_wire(
            dns.rdataclass.RdataClass.make(rclass), dns.rdatatype.TSIG, wire, off, rdlen
        )
        try:
            self.tsig_ctx = _validate(
                wire,
                self.key,
                name,
                rd,
                int(time.time()),
                self.request_mac,
                start,
                self.tsig_ctx,
                True,
            )
        except dns.exception.DNSException as exc:
            raise TransferFailed(f"TSIG: {exc}") from None

    def view(self) -> dict[Key, RRset]:
        if not self.done:
            raise TransferFailed("the transfer ended before the closing SOA")
        return {
            (_name_text(owner), dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rtype))): (
                RRset(self.ttls[(owner, rtype)], frozenset(values))
            )
            for (owner, rtype), values in self.values.items()
        }


def _tsig_error(wire: bytes) -> str | None:
    """The TSIG error of a refusal (BADSIG, BADKEY, BADTIME), if it carries one."""
    try:
        msg = dns.message.from_wire(wire, keyring=True, ignore_trailing=True)  # not verified
    except dns.exception.DNSException:
        return None
    error = msg.tsig_error
    return dns.rcode.to_text(dns.rcode.Rcode(error)) if error else None


def _skip_rr(wire: bytes, off: int) -> int:
    off = wire_name(wire, off)[1]
    rdlen = int(_RR.unpack_from(wire, off)[3])
    return off + 10 + rdlen


_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_*")


def _name_text(wire: bytes) -> str:
    """An uncompressed, lower-case wire name as text (dnspython's escaping if needed)."""
    labels, off = [], 0
    while wire[off]:
        n = wire[off]
        labels.append(wire[off + 1 : off + 1 + n])
        off += 1 + n
    if all(set(label) <= _PLAIN for label in labels):
        return ".".join(label.decode() for label in labels) + "."
    return str(dns.name.Name([*labels, b""]).to_text())
