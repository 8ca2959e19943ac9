"""Where each nameserver address is announced from: its origin AS and announced prefix.

An environment fact (:meth:`dnsops.env.Env.origins`), computed once per command for
the addresses discovery found, and read by the provider-independence health checks
(:mod:`dnsops.health.independence_checks`). Two sources, chosen per environment in
dnsops.yaml (``environments.<env>.asn_lookup``):

* an IP-to-AS origin zone in the style of Team Cymru's (Zonemaster CONNECTIVITY03's
  "Cymru" method): the TXT record at ``<reversed address>.origin.asn.cymru.com.``
  (IPv6: nibble-reversed under ``origin6.asn.cymru.com.``) reads
  ``"15169 | 8.8.8.0/24 | US | arin | 1992-12-01"``, several ASNs space-separated when
  a prefix has several origins; with several TXT records the most specific prefix
  wins. Asked by walking down from the environment's root hints
  (:class:`dnsops.probe.walk.Walker`), exactly as discovery asks everything: the
  lab's root in the lab, the IANA root in production;
* offline, a prefix file: lines ``PREFIX ASN [ASN...]`` (``#`` comments), IPv4 and
  IPv6, the longest matching prefix wins.

An address with no origin data, or whose lookup failed, is an :class:`AddressOrigin` with a
``problem`` and no AS: the checks skip what they cannot judge and say why.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnsops.errors import InputError

if TYPE_CHECKING:
    from dnsops.env import Env

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_PREFIX = {4: 24, 6: 48}  # when the source gives no prefix (Zonemaster CONNECTIVITY04)
LAB_ORIGIN = "origin.asn."  # the lab parent serves origin.asn.<parent zone> ...
LAB_ORIGIN6 = "origin6.asn."  # ... and origin6.asn.<parent zone>
LAB_FIRST_ASN = 64496  # RFC 5398 documentation ASNs: 64496-64511


@dataclass(frozen=True)
class AddressOrigin:
    """One address: the AS(es) announcing it and the announced prefix, or why unknown."""

    address: str
    asns: tuple[int, ...] = ()
    prefix: str | None = None  # as the source gave it; None: the source gave none
    source: str = ""  # "dns origin.asn.cymru.com." | "file prefixes.txt"
    problem: str | None = None  # no data / the lookup failed: why

    @property
    def known(self) -> bool:
        return bool(self.asns) and self.problem is None

    @property
    def network(self) -> IpNetwork:
        """The announced prefix; /24 (IPv4) or /48 (IPv6) around the address when the
        source gave none."""
        if self.prefix is not None:
            return ipaddress.ip_network(self.prefix, strict=False)
        ip = ipaddress.ip_address(self.address)
        return ipaddress.ip_network(f"{ip}/{DEFAULT_PREFIX[ip.version]}", strict=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "asns": list(self.asns),
            "prefix": str(self.network) if self.known else None,
            "prefix_source": "announced" if self.prefix is not None else "assumed",
            "source": self.source,
            "problem": self.problem,
        }


# -- the origin zone: names and answers (pure) -------------------------------------------


def origin_name(address: str, origin: str, origin6: str) -> str:
    """``<reversed address>.<origin zone>``: 8.8.8.8 -> 8.8.8.8.origin.asn.cymru.com.;
    IPv6 nibble by nibble under the origin6 zone."""
    ip = ipaddress.ip_address(address)
    reversed_ = ip.reverse_pointer.removesuffix(".in-addr.arpa").removesuffix(".ip6.arpa")
    zone = origin if ip.version == 4 else origin6
    return f"{reversed_}.{zone.rstrip('.')}."


def parse_txt(address: str, strings: Sequence[str], source: str = "") -> AddressOrigin:
    """The origin of ``address`` from the TXT strings of its origin name.

    Each string is ``"ASN [ASN...] | PREFIX | CC | REGISTRY | DATE"`` (only the first two
    fields are read); of several, the one with the most specific prefix holding the
    address is taken (Zonemaster CONNECTIVITY03). A string that cannot be read gives an
    AddressOrigin with a problem, never a guess.
    """
    ip = ipaddress.ip_address(address)
    best: tuple[int, tuple[int, ...], str | None] | None = None
    bad: list[str] = []
    for text in strings:
        fields = [f.strip() for f in text.split("|")]
        try:
            asns = tuple(int(a.removeprefix("AS")) for a in fields[0].split())
            if not asns or any(a < 0 or a > 4294967295 for a in asns):
                raise ValueError(text)
            prefix = fields[1] if len(fields) > 1 and fields[1] else None
            length = -1
            if prefix is not None:
                net = ipaddress.ip_network(prefix, strict=False)
                if net.version != ip.version or ip not in net:
                    raise ValueError(text)
                length = net.prefixlen
        except ValueError:
            bad.append(text)
            continue
        if best is None or length > best[0]:
            best = (length, asns, prefix)
    if best is None:
        what = "; ".join(repr(b) for b in bad[:3]) if bad else "no TXT record"
        return AddressOrigin(address, source=source, problem=f"unreadable origin data: {what}")
    return AddressOrigin(address, best[1], best[2], source)


# -- the offline prefix file -------------------------------------------------------------


@dataclass(frozen=True)
class PrefixTable:
    """Prefix -> ASNs, from a user-supplied file; the longest matching prefix wins."""

    path: str
    entries: tuple[tuple[IpNetwork, tuple[int, ...]], ...]

    def origin(self, address: str) -> AddressOrigin:
        ip = ipaddress.ip_address(address)
        best: tuple[IpNetwork, tuple[int, ...]] | None = None
        for net, asns in self.entries:
            if (
                net.version == ip.version
                and ip in net
                and (best is None or net.prefixlen > best[0].prefixlen)
            ):
                best = (net, asns)
        source = f"file {self.path}"
        if best is None:
            return AddressOrigin(
                address, source=source, problem=f"no prefix in {self.path} holds it"
            )
        return AddressOrigin(address, best[1], str(best[0]), source)


def load_prefix_file(path: Path, shown: str | None = None) -> PrefixTable:
    """Read ``PREFIX ASN [ASN...]`` lines (blank lines and ``#`` comments ignored).

    :raises InputError: ``file:line: what is wrong`` for the first bad line, or the file
        cannot be read.
    """
    name = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            name, None, "no such file (asn_lookup.prefix_file)",
            hint="create it, or remove asn_lookup.prefix_file to look origins up in DNS",
        ) from None  # fmt: skip
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, None, f"cannot be read: {exc}") from None
    entries: list[tuple[IpNetwork, tuple[int, ...]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) < 2:
            raise InputError(
                name, number, f"{line.strip()!r}: expected 'PREFIX ASN' (203.0.113.0/24 64500)"
            )
        try:
            net = ipaddress.ip_network(words[0], strict=False)
        except ValueError:
            raise InputError(name, number, f"{words[0]!r} is not an IPv4 or IPv6 prefix") from None
        asns: list[int] = []
        for word in words[1:]:
            digits = word.upper().removeprefix("AS")
            if not digits.isdigit() or int(digits) > 4294967295:
                raise InputError(name, number, f"{word!r} is not an AS number (64500 or AS64500)")
            asns.append(int(digits))
        entries.append((net, tuple(asns)))
    return PrefixTable(name, tuple(entries))


# -- the lookups (I/O) -------------------------------------------------------------------


def origins(env: Env, addresses: Sequence[str]) -> dict[str, AddressOrigin]:
    """Each address's origin, from the environment's prefix file or origin zones."""
    config = env.config.asn_lookup
    if config.prefix_file is not None:
        table = load_prefix_file(env.project.root / config.prefix_file, config.prefix_file)
        return {a: table.origin(a) for a in addresses}
    from dnsops.probe.walk import Walker

    walker = Walker(env.root_hints)
    return asyncio.run(
        lookup_dns(
            walker,
            addresses,
            config.origin,
            config.origin6,
            config.deadline,
            config.concurrency,
        )
    )


async def lookup_dns(
    walker: Any,
    addresses: Iterable[str],
    origin: str,
    origin6: str,
    deadline: float,
    concurrency: int,
) -> dict[str, AddressOrigin]:
    """Each address's origin from the origin zones, every address asked once, at most
    ``concurrency`` at a time, all within ``deadline`` seconds (what did not finish by
    then is an AddressOrigin with that problem)."""
    import dns.rdatatype

    todo = sorted(set(addresses))
    gate = asyncio.Semaphore(concurrency)

    async def one(address: str) -> AddressOrigin:
        name = origin_name(address, origin, origin6)
        source = f"dns {origin if ':' not in address else origin6}"
        async with gate:
            zone = origin if ":" not in address else origin6
            status, rrset, why = await walker.answer(name, dns.rdatatype.TXT, zone)
        if status == "nxdomain" or (status == "answer" and rrset is None):
            return AddressOrigin(address, source=source, problem=f"no origin data at {name}: {why}")
        if status != "answer":
            return AddressOrigin(
                address, source=source, problem=f"origin lookup failed: {name}: {why}"
            )
        strings = [b"".join(rd.strings).decode("utf-8", "replace") for rd in rrset]
        return parse_txt(address, strings, source)

    tasks = {a: asyncio.ensure_future(one(a)) for a in todo}
    if tasks:
        await asyncio.wait(tasks.values(), timeout=deadline)
    out: dict[str, AddressOrigin] = {}
    for address, task in tasks.items():
        if task.done() and not task.cancelled() and task.exception() is None:
            out[address] = task.result()
            continue
        if not task.done():
            task.cancel()
            why = f"origin lookup did not finish within {deadline:g} s"
        else:
            why = f"origin lookup failed: {task.exception() or 'cancelled'}"
        out[address] = AddressOrigin(address, source=f"dns {origin}", problem=why)
    return out


def lab_zones(parent_zone: str) -> tuple[str, str]:
    """The lab's origin zones (IPv4, IPv6): names in its parent zone."""
    return LAB_ORIGIN + parent_zone, LAB_ORIGIN6 + parent_zone


def lab_records(
    parent_zone: str, providers: Sequence[tuple[int | None, str | None, Sequence[str]]]
) -> list[str]:
    """The lab origin zones' TXT records as zone-file lines (full names): one per address
    of each lab provider ``(asn, prefix, addresses)``. A provider's default AS is a
    documentation ASN (64496 for the first, 64497 for the second); its default prefix,
    each address alone (/32, /128): the healthy lab shares neither."""
    origin, origin6 = lab_zones(parent_zone)
    lines = []
    for i, (asn, prefix, addresses) in enumerate(providers):
        number = asn if asn is not None else LAB_FIRST_ASN + i
        for address in addresses:
            ip = ipaddress.ip_address(address)
            net = prefix or f"{ip}/{ip.max_prefixlen}"
            owner = origin_name(address, origin, origin6)
            lines.append(f'{owner} IN TXT "{number} | {net} | ZZ | lab | 2026-01-01"')
    return lines
