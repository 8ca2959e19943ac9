"""The check catalogue: every health check, its default severity, and what it means.

Severities follow Zonemaster's scale; a policy file can remap any of them
(:mod:`dnsops.health.policy`). ``explain`` is written for a newcomer: one line,
what is checked and why it matters.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsops.findings import Severity


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    title: str
    explain: str
    scope: str  # nameserver | zone | record | vantage


C, E, W, N = Severity.CRITICAL, Severity.ERROR, Severity.WARNING, Severity.NOTICE

CATALOGUE: dict[str, Check] = {
    c.id: c
    for c in (
        # -- each nameserver address of each provider ---------------------------------
        Check("ns-udp", C, "answers over UDP",
              "Resolvers ask over UDP first: a nameserver that does not answer costs every "
              "lookup a timeout.", "nameserver"),
        Check("ns-tcp", C, "answers over TCP",
              "Large answers and retries after truncation go over TCP: a server that only "
              "speaks UDP breaks them.", "nameserver"),
        Check("ns-aa", E, "answers authoritatively (AA flag)",
              "A server listed for the zone must say it is authoritative; if not, it does not "
              "really serve the zone (a lame delegation).", "nameserver"),
        Check("ns-soa", E, "serves the zone's SOA",
              "Every server that has the zone answers its SOA record; without it the zone is "
              "missing or broken there.", "nameserver"),
        Check("ns-latency", W, "answers quickly",
              "Slow answers slow every resolver that picks this server: the median must stay "
              "under the policy's limit.", "nameserver"),
        Check("ns-open-resolver", E, "is not an open resolver",
              "An authoritative server must not look up other names for anyone who asks: open "
              "resolvers are abused for amplification attacks.", "nameserver"),
        Check("ns-axfr-refused", W, "refuses zone transfers without a key",
              "Whoever can transfer the zone can list every name in it: transfers should need a "
              "TSIG key.", "nameserver"),
        Check("ns-edns", E, "supports EDNS0",
              "Resolvers send EDNS0 (bigger UDP answers, DNSSEC); a server must answer such "
              "queries with an OPT record (DNS flag day 2019).", "nameserver"),
        Check("ns-edns-version", W, "answers unknown EDNS versions with BADVERS",
              "A query with an EDNS version the server does not know must get BADVERS, so the "
              "resolver can fall back (RFC 6891).", "nameserver"),
        Check("ns-nxdomain", E, "NXDOMAIN with the SOA for names that do not exist",
              "A name that does not exist must get NXDOMAIN and the zone's SOA in the authority "
              "section, so resolvers can cache the negative answer.", "nameserver"),
        # -- consistency across providers ---------------------------------------------
        Check("apex-ns-consistent", E, "the same apex NS set on every nameserver",
              "Every nameserver must list the same NS set for the zone; otherwise resolvers "
              "see a different zone depending on whom they ask.", "zone"),
        Check("apex-ns-providers", E, "the apex NS set names both providers",
              "The point of two providers: the NS set must include nameservers of each, or one "
              "provider's outage takes the zone down.", "zone"),
        Check("delegation-ns", E, "the parent delegates to the apex NS set",
              "The parent zone's NS records (what resolvers find first) must equal the zone's "
              "own NS set.", "zone"),
        Check("delegation-glue", E, "the parent's addresses for the nameservers are right",
              "The addresses the parent gives for the nameservers (glue) must be the addresses "
              "they really answer on.", "zone"),
        Check("rrset-served", E, "every desired record is served exactly",
              "Each record in git must be served with exactly its values and TTL by every "
              "nameserver of both providers.", "record"),
        Check("rrset-extra", W, "no records beyond the desired ones",
              "A record served (seen in a zone transfer) but not in git was added by hand or left "
              "behind; the next sync removes it.", "record"),
        # -- through each resolver (vantage point) ------------------------------------
        Check("vantage-reachable", E, "every vantage point can be used",
              "An SSH vantage host that cannot be reached or is too slow, a RIPE Atlas run "
              "refused by its credit cap: that region is not being looked at.", "vantage"),
        Check("vantage-answer", E, "each record resolves through every resolver",
              "Through each region's resolver every record must resolve: SERVFAIL or timeouts "
              "mean users there cannot reach the name.", "vantage"),
        Check("vantage-values", E, "resolvers see the desired values",
              "Values seen through a resolver that differ from git are stale caches or a "
              "provider serving old data.", "vantage"),
        Check("provider-outage-covered", N, "the other provider carries an outage",
              "When every nameserver of one provider fails, resolvers must still answer through "
              "the other: the dual-provider promise, observed.", "vantage"),
    )
}  # fmt: skip


def get(check_id: str) -> Check:
    return CATALOGUE[check_id]
