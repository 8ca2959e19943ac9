"""The I/O of the online rules: resolve names (async dnspython) and fetch origins.

Names are asked of the environment's resolvers (dnsops.yaml ``resolvers``, e.g. the
lab's unbound servers), each with its port; without any, of the system resolver.
Concurrency is bounded; every lookup and fetch has a timeout. Nothing here decides
anything: outcomes go back to the rules' ``judge`` functions.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Iterable

import dns.asyncresolver
import dns.exception
import dns.message
import dns.nameserver
import dns.rcode
import dns.resolver

from dnsops.config import Resolver as ResolverConfig
from dnsops.lint.rules.cdn import Response
from dnsops.lint.rules.dangling import Outcome

CONCURRENCY = 16
DNS_LIFETIME = 6.0
HTTP_TIMEOUT = 6.0
USER_AGENT = "dnsops-lint (CDN cache-header check)"


def make_resolver(resolvers: Iterable[ResolverConfig]) -> dns.asyncresolver.Resolver:
    configured = list(resolvers)
    if not configured:
        resolver = dns.asyncresolver.Resolver()
    else:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(r.address, r.port) for r in configured
        ]
    resolver.lifetime = DNS_LIFETIME
    resolver.timeout = 2.0
    resolver.cache = None
    return resolver


async def resolve_all(
    names: Iterable[str], resolver: dns.asyncresolver.Resolver
) -> dict[str, Outcome]:
    """The outcome of an A lookup of every name (CNAME chains are followed)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(name: str) -> tuple[str, Outcome]:
        async with gate:
            return name, await _resolve(name, resolver)

    results = await asyncio.gather(*(one(n) for n in sorted(set(names))))
    return dict(results)


async def _resolve(name: str, resolver: dns.asyncresolver.Resolver) -> Outcome:
    try:
        await resolver.resolve(name, "A", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Outcome("NXDOMAIN", "no such name")
    except dns.resolver.NoNameservers as exc:
        return _no_nameservers(exc)
    except dns.exception.Timeout:
        return Outcome("TIMEOUT", f"no answer within {DNS_LIFETIME:g} s")
    except dns.exception.DNSException as exc:
        return Outcome("ERROR", _first_line(exc))
    return Outcome("NOERROR")


async def fetch_all(urls: Iterable[str]) -> dict[str, Response]:
    """Status and headers of a GET of every URL (run in threads, bounded)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str) -> tuple[str, Response]:
        async with gate:
            return url, await asyncio.to_thread(fetch, url)

    results = await asyncio.gather(*(one(u) for u in sorted(set(urls))))
    return dict(results)


def fetch(url: str) -> Response:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as resp:
            return Response(resp.status, tuple(resp.headers.items()))
    except urllib.error.HTTPError as exc:  # an error page's headers say nothing
        headers = tuple(exc.headers.items()) if exc.headers else ()
        return Response(exc.code, headers, f"GET {url}: HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return Response(None, (), f"GET {url}: {reason}")


def _no_nameservers(exc: dns.resolver.NoNameservers) -> Outcome:
    """SERVFAIL when a resolver said so (the name does not resolve); any other
    failure (connection refused, REFUSED, FORMERR) says nothing about the name."""
    errors = exc.kwargs.get("errors") or []
    rcodes = {
        dns.rcode.to_text(err[4].rcode())
        for err in errors
        if len(err) > 4 and isinstance(err[4], dns.message.Message)
    }
    if "SERVFAIL" in rcodes:
        return Outcome("SERVFAIL", "the resolvers answered SERVFAIL")
    return Outcome("ERROR", _first_line(exc))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
