"""What DNS itself can carry: owner names, TTLs and sizes, checked without I/O.

* Names (RFC 952, RFC 1123 §2.1): a label is letters, digits and hyphens, neither
  starting nor ending with a hyphen, at most 63 octets; a name at most 255 octets on
  the wire. Underscore labels (RFC 8552: ``_dmarc``, ``_sip._tcp``, ``_acme-challenge``)
  are fine for the attribute records that use them (TXT, SRV, TLSA, CNAME, ...) but not
  for the owners that are host names (A, AAAA, MX: BIND refuses them there). A ``*``
  is a wildcard only as the whole leftmost label (RFC 4592 §2.1.1).
* TTLs (RFC 2181 §8): 0 to 2^31 - 1; a larger one is read as 0 by every server.
* Sizes (RFC 1035 §3.2.1, §4.2.2): one value's RDATA at most 65,535 octets, and an
  answer carrying the whole record set no larger than a DNS message over TCP, 65,535
  octets. Sizes are computed with dnspython from the record's RDATA text, after a
  cheap bound on the text's length, so a 50 MB TXT costs a ``len()``, not an encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from octodns.record import Record

MAX_TTL = 2**31 - 1
MAX_RDATA = 65_535
MAX_MESSAGE = 65_535
MAX_LABEL = 63
MAX_NAME = 255  # octets on the wire, the root's length byte included
HOST_TYPES = ("A", "AAAA", "MX")
# every octet of RDATA takes at most 4 characters of presentation text (\DDD), plus
# quotes and a space per 255-octet TXT string: text longer than this is surely over
_SURELY_OVER = 4 * MAX_RDATA + 3 * (MAX_RDATA // 255 + 1)
_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.IGNORECASE)
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?", re.IGNORECASE)
_BAD_CHARS = re.compile(r"[^a-z0-9_-]", re.IGNORECASE)
# header, and a question naming the owner (type, class)
_HEADER = 12
_QUESTION_TAIL = 4
# each answer record: a compression pointer to the question's name, type, class,
# TTL, RDLENGTH
_RR_OVERHEAD = 2 + 2 + 2 + 4 + 2


def name_problems(name: str, fqdn: str, rtype: str, host_types: frozenset[str]) -> list[str]:
    """Why ``name`` (relative, '' = apex) is no name DNS servers take for ``rtype``."""
    out: list[str] = []
    host = rtype in host_types
    for i, label in enumerate(name.split(".") if name else ()):
        if label == "*":
            if i:
                out.append(
                    f"'*' is a wildcard only as the leftmost label (here it is label {i + 1})"
                )
            continue
        problem = _label_problem(label, host, rtype)
        if problem:
            out.append(problem)
    octets = len(fqdn.rstrip(".").encode()) + 2
    if octets > MAX_NAME:
        out.append(f"the name is {octets} octets on the wire, over {MAX_NAME} (RFC 1035 §2.3.4)")
    return out


def _label_problem(label: str, host: bool, rtype: str) -> str | None:
    if not label:
        return "empty label (two dots in a row)"
    if len(label.encode()) > MAX_LABEL:
        return f"label {label!r} is {len(label.encode())} octets, over {MAX_LABEL}"
    if "*" in label:
        return f"label {label!r}: a '*' must be the whole leftmost label to be a wildcard"
    bad = sorted(set(_BAD_CHARS.findall(label)))
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return (
            f"label {label!r} has {shown}: a label is letters, digits and hyphens "
            "(RFC 952, RFC 1123), or starts with an underscore (RFC 8552)"
        )
    if label.startswith("-") or label.endswith("-"):
        end = "starts" if label.startswith("-") else "ends"
        return f"label {label!r} {end} with a hyphen (RFC 952, RFC 1123)"
    if host and "_" in label:
        return (
            f"label {label!r} has an underscore, but the names of {rtype} records are host "
            "names (RFC 1123 §2.1); underscore labels (RFC 8552) are for TXT, SRV, TLSA, ..."
        )
    pattern = _HOST_LABEL if host else _LABEL
    if pattern.fullmatch(label) is None:
        return f"label {label!r} is not a valid label"
    return None


@dataclass(frozen=True)
class Size:
    """A record's size on the wire.

    ``rdata``: octets of each value's RDATA; ``message``: octets of the smallest
    response carrying the whole set; ``text``: characters of each value's RDATA text
    (what an API such as Route 53's receives). ``surely_over``: some value's text is so
    long that its RDATA is over 65,535 octets whatever it holds; it was not encoded, and
    ``rdata``/``message`` are then empty/0. ``None`` from :func:`size`: a type dnspython
    cannot encode (octoDNS's ALIAS, URLFWD)."""

    rdata: tuple[int, ...]
    message: int
    text: tuple[int, ...]
    surely_over: bool = False

    @property
    def total(self) -> int:
        """Octets of RDATA of the whole record set."""
        return sum(self.rdata)


def size(record: Record, values: tuple[str, ...]) -> Size | None:
    """The record's wire size; ``values`` are its value texts (lint's RecordView.values)."""
    if any(len(v) > _SURELY_OVER for v in values):
        return Size((), 0, tuple(len(v) for v in values), surely_over=True)
    try:
        rdtype = dns.rdatatype.from_text(record._type)
        texts = record.to_rrset().rdatas
        wires = [_octets(dns.rdata.from_text(dns.rdataclass.IN, rdtype, t)) for t in texts]
    except (dns.exception.DNSException, ValueError, TypeError, AttributeError):
        return None
    owner = len(str(record.fqdn).rstrip(".").encode()) + 2
    message = _HEADER + owner + _QUESTION_TAIL + sum(_RR_OVERHEAD + w for w in wires)
    return Size(tuple(wires), message, tuple(len(t) for t in texts))


def could_exceed(values: tuple[str, ...], octets: int) -> bool:
    """Whether the record's RDATA could add up to more than ``octets``: each value's
    RDATA is at most twice its text plus 16 octets (numbers such as "1" take 2 octets),
    so most records are cleared without being encoded."""
    return sum(2 * len(v) + 16 for v in values) > octets


def _octets(rdata: dns.rdata.Rdata) -> int:
    return len(rdata.to_wire() or b"")
