"""Walking down the DNS tree from root hints, iteratively, as a resolver does.

Two questions, both answered the same way in the lab (whose root is a lab server)
and in production (the IANA root):

* :meth:`Walker.delegation` -- which servers are the parent of a zone, and what NS set
  (and glue) do they delegate it to? Found by QNAME minimisation: from the root, ask
  each enclosing zone's servers for the next label's NS until the referral for the
  zone itself arrives.
* :meth:`Walker.addresses` -- the A and AAAA of a host name (a nameserver's), asked
  of the servers authoritative for it.

Every question goes through the probe engine. Questions asked concurrently by many
walks (1,000 zones under one parent ask the root the same thing) are coalesced: each
distinct (server, name, type) is asked once per walker, and the questions of one
event-loop tick go out as one engine batch.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from dnsops.probe.engine import Engine
from dnsops.probe.model import Query, Result, Target

# the host names being resolved by the walk that asked (a glueless delegation whose
# nameserver lies inside the zone it serves would otherwise wait for itself)
_RESOLVING: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "resolving", default=frozenset()
)
MAX_DEPTH = 24  # labels and referrals followed at most for one walk
SERVERS_ASKED = 3  # servers of one zone asked the same question at once


@dataclass(frozen=True)
class Server:
    """A nameserver: its name and one of its addresses."""

    name: str  # "ns1.pdns.test."
    address: str
    port: int = 53

    @property
    def target(self) -> Target:
        return Target(self.address, self.port, self.name)

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"


@dataclass(frozen=True)
class Delegation:
    """A zone as its parent delegates it.

    ``parent_zone`` is the closest enclosing zone found, ``parents`` its servers.
    ``ns`` is empty when the parent does not delegate the zone (``problem`` says why).
    """

    zone: str
    parent_zone: str | None
    parents: tuple[Server, ...]
    ns: tuple[str, ...] = ()
    glue: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problem: str | None = None


@dataclass
class _Step:
    cut: str
    servers: tuple[Server, ...]


class Walker:
    """Iterative resolution from ``hints`` with one cache of questions and cuts."""

    def __init__(self, hints: Sequence[Server], engine: Engine | None = None) -> None:
        if not hints:
            raise ValueError("a walk needs at least one root server")
        self.hints = tuple(hints)
        self.engine = engine or Engine(timeout=2.0, retries=1, concurrency=32)
        self._asked: dict[tuple[str, int, str, int], asyncio.Future[Result]] = {}
        self._pending: list[tuple[Query, asyncio.Future[Result]]] = []
        self._flushing = False
        self._addresses: dict[str, asyncio.Task[tuple[tuple[str, ...], str | None]]] = {}
        # host names whose address query met a CNAME, and its target (RFC 2181 §10.3)
        self.aliases: dict[str, str] = {}
        self.queries = 0

    # -- questions, coalesced -------------------------------------------------

    async def _ask(self, server: Server, qname: str, rdtype: int) -> Result:
        key = (server.address, server.port, qname.lower(), rdtype)
        fut = self._asked.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._asked[key] = fut
            self._pending.append((Query.make(server.target, qname, rdtype, rd=False), fut))
            if not self._flushing:
                self._flushing = True
                asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._flush()))
        return await asyncio.shield(fut)

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let every walk of this tick add its question
        batch, self._pending, self._flushing = self._pending, [], False
        self.queries += len(batch)
        try:
            results = await self.engine.run([q for q, _ in batch])
        except BaseException as exc:  # the engine itself failed: every waiter hears it
            for _, fut in batch:
                if fut.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):  # a deadline: nobody waits
                    fut.cancel()
                else:
                    fut.set_exception(exc)
            raise
        for (_, fut), result in zip(batch, results, strict=True):
            if not fut.done():
                fut.set_result(result)

    async def _first(
        self, servers: Sequence[Server], qname: str, rdtype: int
    ) -> tuple[Result | None, str]:
        """The first usable reply from the zone's servers (a few asked at once)."""
        why = "no server to ask"
        for i in range(0, len(servers), SERVERS_ASKED):
            chunk = servers[i : i + SERVERS_ASKED]
            results = await asyncio.gather(*(self._ask(s, qname, rdtype) for s in chunk))
            for server, r in zip(chunk, results, strict=True):
                if r.message is not None and r.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    return r, ""
                why = f"{server}: {r.rcode_text if r.answered else r.error or 'no answer'}"
        return None, why

    # -- the walk ---------------------------------------------------------------

    async def _descend(self, name: str, stop_at: str | None) -> _Step | Delegation:
        """Follow referrals from the root towards ``name``, one label at a time.

        Returns the delegation of ``stop_at`` once its referral arrives (or why it
        did not), else the step whose servers are authoritative for ``name``.
        """
        step = _Step(".", self.hints)
        labels = 1  # the root's
        target = dns.name.from_text(name)
        for _ in range(MAX_DEPTH):
            if labels >= len(target.labels):
                break
            nxt = target.split(labels + 1)[1].to_text()
            r, why = await self._first(step.servers, nxt, dns.rdatatype.NS)
            if r is None:
                return Delegation(
                    stop_at or name, step.cut, step.servers, problem=f"no answer for {nxt}: {why}"
                )
            msg = r.message
            assert msg is not None
            referral = _referral(msg, nxt)
            if referral is not None and not msg.flags & dns.flags.AA:
                ns, glue = referral
                if nxt == stop_at:
                    return Delegation(nxt, step.cut, step.servers, ns, glue)
                servers = await self._servers(ns, glue)
                if not servers:
                    return Delegation(
                        stop_at or name,
                        step.cut,
                        step.servers,
                        problem=f"{nxt} is delegated to {', '.join(ns)}, none of which resolves",
                    )
                step = _Step(nxt, servers)
                labels += 1
                continue
            if r.rcode == dns.rcode.NXDOMAIN:
                return Delegation(
                    stop_at or name,
                    step.cut,
                    step.servers,
                    problem=f"{nxt} does not exist in {step.cut} (NXDOMAIN)",
                )
            if nxt == stop_at:
                return Delegation(
                    nxt, step.cut, step.servers, problem=f"{step.cut} does not delegate {nxt}"
                )
            if _referral(msg, nxt) is not None:
                # the same servers are authoritative for nxt too (its apex NS answered)
                step = _Step(nxt, step.servers)
            # else an empty non-terminal or a name inside the same zone: one label further
            labels += 1
        return step

    async def delegation(self, zone: str) -> Delegation:
        """How the parent delegates ``zone`` (found by walking down from the root)."""
        zone = _fqdn(zone)
        if zone == ".":
            return Delegation(".", None, (), problem="the root has no parent")
        found = await self._descend(zone, zone)
        if isinstance(found, Delegation):
            return found
        return Delegation(
            zone, found.cut, found.servers, problem=f"{found.cut} does not delegate {zone}"
        )

    async def delegation_at(self, zone: str, servers: Sequence[Server]) -> Delegation:
        """The delegation of ``zone`` as the given (pinned) parent servers serve it."""
        zone = _fqdn(zone)
        parent = dns.name.from_text(zone).parent().to_text()
        r, why = await self._first(servers, zone, dns.rdatatype.NS)
        if r is None:
            return Delegation(zone, parent, tuple(servers), problem=f"no answer: {why}")
        msg = r.message
        assert msg is not None
        referral = _referral(msg, zone)
        if referral is None or msg.flags & dns.flags.AA:
            return Delegation(
                zone, parent, tuple(servers), problem=f"{parent} does not delegate {zone}"
            )
        return Delegation(zone, parent, tuple(servers), *referral)

    async def addresses(self, host: str) -> tuple[tuple[str, ...], str | None]:
        """The addresses (A, then AAAA) of a host name; with none, why."""
        host = _fqdn(host).lower()
        chain = _RESOLVING.get()
        if host in chain or len(chain) >= 8:
            return (), f"{host}: its resolution depends on itself (glueless delegation loop)"
        task = self._addresses.get(host)
        if task is None:
            ctx = contextvars.copy_context()
            ctx.run(_RESOLVING.set, chain | {host})
            task = asyncio.get_running_loop().create_task(self._resolve(host), context=ctx)
            self._addresses[host] = task
        return await asyncio.shield(task)

    async def answer(
        self, name: str, rdtype: int, zone: str | None = None
    ) -> tuple[str, dns.rrset.RRset | None, str]:
        """The RRset at ``name`` of ``rdtype``: ``("answer", rrset or None for no data,
        "")``, ``("nxdomain", None, why)``, or ``("failed", None, why)`` (no answer).

        The walk goes label by label down to ``zone`` (default: ``name`` itself), whose
        walk every name under it shares; below it the whole ``name`` is asked, following
        referrals. Servers that synthesise answers (IP-to-AS origin zones) may say
        NXDOMAIN for the empty names between the zone and ``name``.
        """
        name = _fqdn(name).lower()
        found = await self._descend(_fqdn(zone or name).lower(), None)
        if isinstance(found, Delegation):
            why = found.problem or "the walk stopped"
            return ("nxdomain" if "(NXDOMAIN)" in why else "failed"), None, why
        qname = dns.name.from_text(name)
        cut, servers = dns.name.from_text(found.cut), found.servers
        for _ in range(MAX_DEPTH):
            r, why = await self._first(servers, name, rdtype)
            if r is None:
                return "failed", None, why
            msg = r.message
            assert msg is not None
            deeper = [
                rrset.name
                for rrset in msg.authority
                if rrset.rdtype == dns.rdatatype.NS
                and qname.is_subdomain(rrset.name)
                and rrset.name.is_subdomain(cut)
                and rrset.name != cut
            ]
            if deeper and not msg.flags & dns.flags.AA and not msg.answer:
                referral = _referral(msg, deeper[0].to_text())
                assert referral is not None
                servers = await self._servers(*referral)
                if not servers:
                    return (
                        "failed",
                        None,
                        f"{deeper[0]} is delegated to servers that do not resolve",
                    )
                cut = deeper[0]
                continue
            if r.rcode == dns.rcode.NXDOMAIN:
                return "nxdomain", None, f"does not exist (NXDOMAIN from {cut} servers)"
            rrset = msg.get_rrset(
                msg.answer, qname, dns.rdataclass.IN, dns.rdatatype.RdataType(rdtype)
            )
            return "answer", rrset, "" if rrset is not None else "has no such record (no data)"
        return "failed", None, f"more than {MAX_DEPTH} referrals for {name}"

    async def _resolve(self, host: str) -> tuple[tuple[str, ...], str | None]:
        found = await self._descend(host, None)
        if isinstance(found, Delegation):
            return (), found.problem
        out: list[str] = []
        why: str | None = None
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            r, problem = await self._first(found.servers, host, rdtype)
            if r is None:
                why = problem
                continue
            msg = r.message
            assert msg is not None
            owner = dns.name.from_text(host)
            alias = msg.get_rrset(msg.answer, owner, dns.rdataclass.IN, dns.rdatatype.CNAME)
            if alias is not None:  # an alias: its target's addresses, as a resolver follows it
                target = next(iter(alias)).target.to_text().lower()
                self.aliases[host] = target
                found_addrs, failure = await self.addresses(target)
                if not found_addrs:
                    return (
                        (),
                        f"{host} is an alias (CNAME) of {target}, which does not resolve: "
                        + (failure or "no address"),
                    )
                return found_addrs, None
            if r.rcode == dns.rcode.NXDOMAIN:
                return (), f"{host} does not exist (NXDOMAIN from {found.cut} servers)"
            rrset = msg.get_rrset(msg.answer, owner, dns.rdataclass.IN, rdtype)
            if rrset is not None:
                out += sorted(rd.to_text() for rd in rrset)
        if not out:
            return (), why or f"{host} has no address record (A or AAAA)"
        return tuple(out), None

    async def _servers(
        self, ns: Sequence[str], glue: dict[str, tuple[str, ...]]
    ) -> tuple[Server, ...]:
        """The servers of a delegation: glue where given, other names resolved."""
        out: list[Server] = []
        missing = [n for n in ns if not glue.get(n)]
        resolved = await asyncio.gather(*(self.addresses(n) for n in missing))
        addrs = dict(glue)
        for n, (found, _why) in zip(missing, resolved, strict=True):
            addrs[n] = found
        for n in ns:
            out += [Server(n, a) for a in addrs.get(n, ())]
        return tuple(out)


def _referral(
    msg: dns.message.Message, owner: str
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]] | None:
    """The NS set a referral gives for ``owner`` and the glue addresses it carries."""
    name = dns.name.from_text(owner)
    rrset = msg.get_rrset(msg.authority, name, dns.rdataclass.IN, dns.rdatatype.NS)
    if rrset is None:
        rrset = msg.get_rrset(msg.answer, name, dns.rdataclass.IN, dns.rdatatype.NS)
    if rrset is None:
        return None
    ns = tuple(sorted(rd.target.to_text().lower() for rd in rrset))
    glue: dict[str, list[str]] = {}
    for add in msg.additional:
        host = add.name.to_text().lower()
        if host in ns and add.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            glue.setdefault(host, []).extend(rd.to_text() for rd in add)
    return ns, {h: tuple(sorted(a)) for h, a in glue.items()}


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."
