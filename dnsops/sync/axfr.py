"""BIND's records for octoDNS from one AXFR read on the bytes (a faster ``zone_records``).

octodns-bind's populate transfers the zone with dnspython (a Message, Names, RRsets,
then a Zone of Rdata objects) only to turn every record back into text for octoDNS:
about 2 s of CPU for a 10k-record zone here, the largest part of planning BIND.
:func:`zone_records` returns the same list (owner, type, TTL and presentation text of
each record, as ``octodns_bind.AxfrPopulate.zone_records`` builds it) from the raw
messages: owner names and addresses are formatted directly, every other rdata by
dnspython's own rdata parser and ``to_text``, TSIG is checked by ``dns.tsig``.

Same as dnspython's ``from_xfr``: the TTL of an RRset is the lowest of its records',
a repeated record counts once, only class IN, the zone must have an SOA and an NS
at its apex. :func:`install` makes a provider use it (``octodns_bind`` providers
only; others are left alone).
"""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import dns.exception
import dns.ipv4
import dns.ipv6
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring

from dnsops.probe.wire import wire_name
from dnsops.probe.xfr import UnknownKey, verify_tsig

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_QR = 0x8000
_IN = int(dns.rdataclass.IN)
_SOA, _NS, _TSIG = int(dns.rdatatype.SOA), int(dns.rdatatype.NS), int(dns.rdatatype.TSIG)
_A, _AAAA = int(dns.rdatatype.A), int(dns.rdatatype.AAAA)
# bytes dnspython's Name.to_text writes as they are (it escapes the others)
_PLAIN = frozenset(set(range(0x21, 0x7F)) - set(b'"().;\\@$'))


class TransferError(Exception):
    """The transfer failed (refused, bad TSIG, malformed, timeout): octodns-bind's
    ``AxfrSourceZoneTransferFailed`` is raised with this message."""


def install(provider: Any) -> bool:
    """Make an octodns-bind AXFR provider read zones with :func:`zone_records`.

    :returns: whether ``provider`` is one (others are not touched).
    """
    try:
        from octodns_bind import AxfrPopulate
    except ImportError:  # octodns-bind is a dependency; be quiet if it ever is not
        return False
    if not isinstance(provider, AxfrPopulate) or "zone_records" in vars(provider):
        return False
    original = provider.zone_records

    def fast(zone: Any, target: bool = False) -> list[Any]:
        return zone_records(provider, zone, fallback=lambda: original(zone, target=target))

    provider.zone_records = fast
    return True


def zone_records(provider: Any, zone: Any, fallback: Callable[[], list[Any]]) -> list[Any]:
    """``provider.zone_records(zone)`` as octodns-bind computes it, faster.

    A message this reader cannot follow (an rdata dnspython cannot parse...)
    hands over to ``fallback`` (octodns-bind's own transfer) instead of failing.

    :raises octodns_bind.AxfrSourceZoneTransferFailed: the transfer failed (and
        ``OSError``/``EOFError`` for a failed connection: as octodns-bind's).
    """
    from octodns.record import Rr
    from octodns_bind import AxfrSourceZoneTransferFailed

    keyring = None
    if provider.key_name is not None:
        keyring = dns.tsigkeyring.from_text({provider.key_name: provider.key_secret})
    try:
        sets = transfer(
            provider.host,
            provider.port,
            zone.name,
            timeout=provider.timeout,
            keyring=keyring,
            keyname=provider.key_name,
            algorithm=provider.key_algorithm,
        )
    except TransferError as exc:
        raise AxfrSourceZoneTransferFailed(exc) from None
    except (ValueError, IndexError, struct.error, dns.exception.DNSException) as exc:
        log.debug("fast AXFR of %s could not be read (%s): octodns-bind's instead", zone.name, exc)
        return fallback()
    supported = provider.SUPPORTS
    out = []
    for (owner, rtype), (ttl, texts) in sets.items():
        if rtype in supported:
            out += [Rr(owner, rtype, ttl, text) for text in texts]
    return out


RRsets = dict[tuple[str, str], tuple[int, list[str]]]  # (owner, type) -> (TTL, rdata texts)


def transfer(
    host: str,
    port: int,
    zone: str,
    *,
    timeout: float,
    keyring: Any = None,
    keyname: str | None = None,
    algorithm: str | None = None,
) -> RRsets:
    """Every RRset of ``zone`` at ``host``: (owner, type) -> (TTL, presentation texts).

    :raises TransferError: the server refused, the TSIG did not verify, the
        transfer was incomplete or timed out.
    :raises OSError, EOFError: the connection failed or closed early (as from
        dnspython's transfer, which octodns-bind does not wrap either).
    """
    origin = dns.name.from_text(zone)
    query = dns.message.make_query(origin, dns.rdatatype.AXFR)
    if keyring is not None:
        query.use_tsig(keyring, keyname=keyname, algorithm=algorithm or dns.tsig.default_algorithm)
    qwire = query.to_wire()
    key = query.keyring if keyring is not None else None
    reader = _Reader(query.id, origin, key, query.mac or b"")
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack("!H", len(qwire)) + qwire)
            while not reader.done:
                (size,) = struct.unpack("!H", _read(sock, 2, deadline))
                reader.feed(_read(sock, size, deadline))
    except TimeoutError:  # as dnspython words it (octodns-bind reports that text)
        raise TransferError(str(dns.exception.Timeout(timeout=timeout))) from None  # type: ignore[no-untyped-call]
    return reader.finish()


def _read(sock: socket.socket, size: int, deadline: float) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise EOFError("EOF")  # what dnspython raises (octodns-bind lets it through)
        buf += chunk
    return bytes(buf)


class _Reader:
    """The messages of one AXFR response, in order; no I/O."""

    def __init__(self, qid: int, origin: dns.name.Name, key: Any, request_mac: bytes) -> None:
        self.qid = qid
        self.origin = origin
        self.key = key
        self.request_mac = request_mac
        self.tsig_ctx: Any = None
        self.first = True
        self.soas = 0
        self.done = False
        self.sets: dict[tuple[str, int], tuple[int, dict[str, None]]] = {}
        self._names: dict[bytes, str] = {}

    def finish(self) -> RRsets:
        apex = self.origin.to_text()
        if not any(owner == apex for owner, rtype in self.sets if rtype == _NS):
            raise TransferError(f"no NS RRset at the zone's apex {apex}")
        return {
            (owner, dns.rdatatype.to_text(dns.rdatatype.RdataType(rtype))): (ttl, list(texts))
            for (owner, rtype), (ttl, texts) in self.sets.items()
        }

    def feed(self, msg: bytes) -> None:
        qid, flags, qd, an, ns, ar = _HEADER.unpack_from(msg)
        if qid != self.qid or not flags & _QR:
            raise TransferError("a message that is not a reply to this transfer")
        rcode = flags & 0xF
        if rcode:
            raise TransferError(dns.rcode.to_text(dns.rcode.Rcode(rcode)))
        off = 12
        for _ in range(qd):
            off = _skip_name(msg, off) + 4
        for _ in range(an):
            off = self._record(msg, off)
        for _ in range(ns):
            off = _skip_name(msg, off)
            off += 10 + _RR.unpack_from(msg, off)[3]
        signed = False
        for k in range(ar):
            start = off
            off = _skip_name(msg, off)
            rtype, _, _, rdlen = _RR.unpack_from(msg, off)
            off += 10
            if rtype == _TSIG and k == ar - 1:
                self._verify(msg, start, off, rdlen)
                signed = True
            off += rdlen
        if self.key is not None and not signed:
            if self.first or self.done:
                raise TransferError("the response is not TSIG-signed")
            self.tsig_ctx.update(msg)  # part of the next signed message's MAC
        self.first = False

    def _record(self, msg: bytes, off: int) -> int:
        raw, off = wire_name(msg, off, lower=False)
        rtype, rclass, ttl, rdlen = _RR.unpack_from(msg, off)
        off += 10
        end: int = off + rdlen
        if self.done:
            raise TransferError("records after the closing SOA")
        owner = self._names.get(raw)
        if owner is None:
            owner = self._names[raw] = _name_text(raw)
        if rtype == _SOA and dns.name.from_wire(raw, 0)[0] == self.origin:
            self.soas += 1
            if self.soas == 2:
                self.done = True
                return end
        elif self.soas == 0:
            raise TransferError("the transfer does not start with the zone's SOA")
        if rclass != _IN:
            return end
        if rtype == _A:
            text = dns.ipv4.inet_ntoa(msg[off:end])
        elif rtype == _AAAA:
            text = dns.ipv6.inet_ntoa(msg[off:end])
        else:
            rd = dns.rdata.from_wire(
                dns.rdataclass.IN, dns.rdatatype.RdataType(rtype), msg, off, rdlen
            )
            text = rd.to_text()
        seen = self.sets.get((owner, rtype))
        if seen is None:
            self.sets[(owner, rtype)] = (ttl, {text: None})
        else:
            seen[1][text] = None
            if ttl < seen[0]:
                self.sets[(owner, rtype)] = (ttl, seen[1])
        return end

    def _verify(self, msg: bytes, start: int, rdstart: int, rdlen: int) -> None:
        if self.key is None:
            return  # signed without our asking: nothing to check it against
        owner = dns.name.from_wire(msg, start)[0]
        try:
            self.tsig_ctx = verify_tsig(
                msg, self.key, owner, start, rdstart, rdlen, self.request_mac, self.tsig_ctx
            )
        except UnknownKey as exc:
            raise TransferError(str(exc)) from None
        except dns.exception.DNSException as exc:
            raise TransferError(f"TSIG: {type(exc).__name__}: {exc}") from None


def _skip_name(msg: bytes, off: int) -> int:
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n >= 0xC0:
            return off + 2
        off += 1 + n


def _name_text(raw: bytes) -> str:
    """``dns.name.Name.to_text()`` of an uncompressed wire name."""
    labels = []
    off = 0
    while raw[off]:
        label = raw[off + 1 : off + 1 + raw[off]]
        if not _PLAIN.issuperset(label):
            return str(dns.name.from_wire(raw, 0)[0].to_text())
        labels.append(label.decode("ascii"))
        off += 1 + raw[off]
    return ".".join(labels) + "." if labels else "."
