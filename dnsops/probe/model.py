"""What the probe engine is asked and what it answers: plain data, no I/O.

A :class:`Query` names a target (address, port, label), a question and how to
ask it; the engine returns one :class:`Result` per query, in the same order.
A query may carry an :class:`Expected` answer: the engine then decides
``matched`` itself, on the raw reply when it can, and parses the full message
only when the answer is not the expected one (see :mod:`dnsops.probe.wire`).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


@dataclass(frozen=True, slots=True)
class Target:
    """A server to ask: an address, a port and a label for reports."""

    address: str
    port: int = 53
    label: str = ""

    def __str__(self) -> str:
        where = self.address if self.port == 53 else f"{self.address}:{self.port}"
        return f"{self.label} ({where})" if self.label else where


@dataclass(frozen=True, slots=True)
class Expected:
    """The RRset a query must get: its type, TTL and canonical rdatas.

    ``rdatas`` are DNSSEC-canonical wire forms (``Rdata.to_digestable()``: names
    lower-cased and uncompressed), sorted. ``ttl_at_most`` accepts any TTL up to
    ``ttl`` (resolvers count cached TTLs down); otherwise the TTL must be equal.
    ``section`` is where the RRset of the question's name must be: ``answer``,
    or ``authority`` (a delegation's NS in a referral), or ``additional`` (glue).
    """

    rdtype: int
    ttl: int
    rdatas: tuple[bytes, ...]
    ttl_at_most: bool = False
    section: str = "answer"


@dataclass(frozen=True, slots=True)
class Query:
    """One question for one target.

    ``edns`` is the EDNS version to send (``None``: no OPT record at all), with
    ``payload``, the OPT record's ``ednsflags`` (DO: 0x8000) and ``options``
    ((code, data) pairs); ``tcp`` asks over TCP from the start (UDP otherwise, with a
    TCP retry when the reply is truncated, unless ``tcp_fallback`` is False: the
    truncated reply is then the result); ``key`` is the caller's, returned untouched.
    """

    target: Target
    qname: dns.name.Name
    rdtype: int
    rd: bool = False
    edns: int | None = 0
    payload: int = 1232
    tcp: bool = False
    expect: Expected | None = None
    key: Hashable = None
    ednsflags: int = 0
    options: tuple[tuple[int, bytes], ...] = ()
    tcp_fallback: bool = True

    @classmethod
    def make(
        cls, target: Target, qname: str | dns.name.Name, rdtype: str | int, **kw: object
    ) -> Query:
        name = qname if isinstance(qname, dns.name.Name) else dns.name.from_text(qname)
        return cls(target, name, dns.rdatatype.RdataType.make(rdtype), **kw)  # type: ignore[arg-type]


@dataclass(slots=True)
class Result:
    """What one query got. ``rcode`` is None when no reply arrived (see ``error``).

    The reply is kept as wire; ``message`` parses it on first use. A reply that
    ``matched`` its Expected answer is usually never parsed at all.
    """

    query: Query
    rcode: int | None = None
    flags: int = 0
    latency: float | None = None  # seconds, of the attempt that got the reply
    error: str | None = None
    transport: str = "udp"
    attempts: int = 0
    wire: bytes | None = None
    matched: bool | None = None
    ttl: int | None = None  # TTL of the answer RRset, when the query expected one
    _message: dns.message.Message | None = field(default=None, repr=False)

    @property
    def answered(self) -> bool:
        return self.rcode is not None

    @property
    def aa(self) -> bool:
        return bool(self.flags & dns.flags.AA)

    @property
    def rcode_text(self) -> str:
        return (
            dns.rcode.to_text(dns.rcode.Rcode(self.rcode))
            if self.rcode is not None
            else "no answer"
        )

    @property
    def message(self) -> dns.message.Message | None:
        """The parsed reply (None without a reply or if it cannot be parsed)."""
        if self._message is None and self.wire is not None:
            try:
                self._message = dns.message.from_wire(self.wire, ignore_trailing=True)
            except dns.exception.DNSException:
                return None
        return self._message

    def rrset(self, section: str = "answer", rdtype: int | None = None) -> dns.rrset.RRset | None:
        """The RRset of the question's name (and type, by default) in a section."""
        msg = self.message
        if msg is None:
            return None
        want = self.query.rdtype if rdtype is None else rdtype
        for rrset in getattr(msg, section):
            if (
                rrset.rdtype == want
                and rrset.rdclass == dns.rdataclass.IN
                and (section != "answer" or rrset.name == self.query.qname)
            ):
                found: dns.rrset.RRset = rrset
                return found
        return None

    def served(self) -> tuple[int | None, tuple[str, ...]]:
        """(TTL, sorted presentation values) of the answer RRset, for reports."""
        rrset = self.rrset()
        if rrset is None:
            return None, ()
        return rrset.ttl, tuple(sorted(r.to_text() for r in rrset))
