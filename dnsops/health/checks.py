"""The check catalogue: every health check, its default severity, and what it means.

Severities follow Zonemaster's levels where a Zonemaster test case corresponds
(``zonemaster``: the test case and the message tag whose level is taken); a
check with no counterpart, or a deliberate departure, says why in ``basis``. A
policy file can remap any of them (:mod:`dnsops.health.policy`). ``explain`` is
written for a newcomer: one line, what is checked and why it matters.
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
    scope: str  # nameserver | zone | record | vantage | provider
    zonemaster: str = ""  # "CONNECTIVITY01 CN01_NO_RESPONSE_UDP": test case and tag
    basis: str = ""  # why the default severity is what it is, when not Zonemaster's

    @property
    def test_case(self) -> str | None:
        return self.zonemaster.split()[0] if self.zonemaster else None


C, E, W, N = Severity.CRITICAL, Severity.ERROR, Severity.WARNING, Severity.NOTICE

CATALOGUE: dict[str, Check] = {
    c.id: c
    for c in (
        # -- the zone as a whole, and each provider -------------------------------------
        Check("zone-reachable", C, "at least one nameserver answers for the zone",
              "When no nameserver of either provider answers, the zone is gone from the "
              "internet: nothing else matters until that is fixed.", "zone",
              "BASIC02 B02_NO_WORKING_NS"),
        Check("provider-down", E, "every provider has a nameserver that answers",
              "When every nameserver of one provider fails, the zone hangs on the other alone: "
              "the redundancy the two providers exist for is gone.", "provider",
              basis="dnsops: no Zonemaster counterpart (it tests one zone, not two providers); "
              "an error because the second provider is the whole point of the setup"),
        # -- each nameserver address of each provider ---------------------------------
        Check("ns-udp", W, "answers over UDP",
              "Resolvers ask over UDP first: a nameserver that does not answer costs every "
              "lookup a timeout.", "nameserver", "CONNECTIVITY01 CN01_NO_RESPONSE_UDP"),
        Check("ns-tcp", W, "answers over TCP",
              "Large answers and retries after truncation go over TCP: a server that only "
              "speaks UDP breaks them.", "nameserver", "CONNECTIVITY02 CN02_NO_RESPONSE_TCP"),
        Check("ns-aa", W, "answers authoritatively (AA flag)",
              "A server listed for the zone must say it is authoritative; if not, it does not "
              "really serve the zone (a lame delegation).", "nameserver",
              "DELEGATION04 IS_NOT_AUTHORITATIVE"),
        Check("ns-soa", E, "serves the zone's SOA",
              "Every server that has the zone answers its SOA record; without it the zone is "
              "missing or broken there.", "nameserver", "DELEGATION06 SOA_NOT_EXISTS"),
        Check("ns-latency", W, "answers quickly",
              "Slow answers slow every resolver that picks this server: the median must stay "
              "under the policy's limit.", "nameserver",
              basis="dnsops: Zonemaster does not time answers"),
        Check("ns-open-resolver", E, "is not an open resolver",
              "An authoritative server must not look up other names for anyone who asks: open "
              "resolvers are abused for amplification attacks.", "nameserver",
              "NAMESERVER01 IS_A_RECURSOR"),
        Check("ns-axfr-refused", N, "refuses zone transfers without a key",
              "Whoever can transfer the zone can list every name in it: transfers should need a "
              "TSIG key.", "nameserver", "NAMESERVER03 AXFR_AVAILABLE"),
        Check("ns-edns", E, "supports EDNS0",
              "Resolvers send EDNS0 (bigger UDP answers, DNSSEC); a server must answer such "
              "queries with an OPT record (DNS flag day 2019).", "nameserver",
              "NAMESERVER02 EDNS_RESPONSE_WITHOUT_EDNS"),
        Check("ns-edns-breaks", E, "answers EDNS queries, not only plain ones",
              "A server that answers plain queries but drops or garbles EDNS ones makes every "
              "modern resolver time out and fall back.", "nameserver",
              "NAMESERVER02 BREAKS_ON_EDNS"),
        Check("ns-edns-version", W, "answers unknown EDNS versions with BADVERS",
              "A query with an EDNS version the server does not know must get BADVERS, so the "
              "resolver can fall back (RFC 6891).", "nameserver",
              "NAMESERVER10 N10_UNEXPECTED_RCODE"),
        Check("ns-edns-option", W, "ignores unknown EDNS options",
              "An EDNS option the server does not know must be ignored, not answered with an "
              "error or echoed back (RFC 6891 §6.1.2): new options must not break resolution.",
              "nameserver", "NAMESERVER11 N11_UNEXPECTED_RCODE"),
        Check("ns-edns-flags", W, "ignores unknown EDNS flags and clears them in replies",
              "Unknown EDNS flag bits (Z) must be ignored and not set in the reply "
              "(RFC 6891 §6.1.4): resolvers will use them one day.", "nameserver",
              "NAMESERVER12 Z_FLAGS_NOTCLEAR"),
        Check("ns-edns-truncated", W, "keeps the OPT record in truncated replies",
              "A truncated reply to an EDNS query must still carry OPT, or resolvers conclude "
              "the server does not speak EDNS (RFC 6891 §7). Asked: the DNSKEY with DO at 512 "
              "bytes; not applicable when that reply is not truncated.", "nameserver",
              "NAMESERVER13 MISSING_OPT_IN_TRUNCATED"),
        Check("ns-qname-case", W, "answers a query name in any case, preserving it",
              "Resolvers randomise the case of query names against spoofing (0x20); a server "
              "must answer the same and echo the name as asked.", "nameserver",
              "NAMESERVER09 CASE_QUERY_DIFFERENT_ANSWER"),
        Check("ns-upward-referral", W, "gives no upward referrals",
              "Asked for a name it does not serve, an authoritative server must not refer the "
              "resolver up to the root: that only sends resolvers in circles.", "nameserver",
              "NAMESERVER07 UPWARD_REFERRAL"),
        Check("ns-nxdomain", E, "NXDOMAIN with the SOA for names that do not exist",
              "A name that does not exist must get NXDOMAIN and the zone's SOA in the authority "
              "section, so resolvers can cache the negative answer.", "nameserver",
              basis="dnsops: Zonemaster has no NXDOMAIN test case; without the SOA, negative "
              "answers are not cached (RFC 2308)"),
        # -- consistency across providers ---------------------------------------------
        Check("soa-serial", W, "one SOA serial across each provider's nameservers",
              "Within one provider every server must serve the same serial; a server behind "
              "means its data is behind. Between two providers serials differ by design.",
              "zone", "CONSISTENCY01 MULTIPLE_SOA_SERIALS"),
        Check("soa-rname", N, "the same SOA RNAME (contact) at both providers",
              "The SOA's contact address should not depend on which provider a resolver asked.",
              "zone", "CONSISTENCY02 MULTIPLE_SOA_RNAMES"),
        Check("soa-timers", N, "the same SOA refresh, retry, expire and minimum at both providers",
              "The minimum is the negative-cache TTL: when it differs, a name that does not "
              "exist is cached for different times depending on which provider answered.",
              "zone", "CONSISTENCY03 MULTIPLE_SOA_TIME_PARAMETER_SET"),
        Check("apex-ns-consistent", N, "the same apex NS set on every nameserver",
              "Every nameserver must list the same NS set for the zone; otherwise resolvers "
              "see a different zone depending on whom they ask.", "zone",
              "CONSISTENCY04 MULTIPLE_NS_SET"),
        Check("apex-ns-providers", E, "the apex NS set names both providers, and only them",
              "The point of two providers: the NS set must include nameservers of each, or one "
              "provider's outage takes the zone down; a name of neither is a stranger.", "zone",
              basis="dnsops: the two-provider premise has no Zonemaster counterpart"),
        Check("ns-resolves", E, "every NS name resolves to an address",
              "A nameserver name that does not resolve is a server no resolver can reach.",
              "zone", "NAMESERVER06 CAN_NOT_BE_RESOLVED"),
        Check("ns-not-cname", E, "no NS name is a CNAME",
              "NS records must name a host, not an alias (RFC 2181 §10.3): many resolvers "
              "refuse to follow it.", "zone", "DELEGATION05 NS_IS_CNAME"),
        Check("ns-distinct-addresses", E, "every NS name has its own addresses",
              "Two NS names on one address are one server counted twice: less redundancy than "
              "the NS set claims.", "zone", "DELEGATION02 SAME_IP_ADDRESS"),
        Check("delegation-ns", E, "the parent delegates to each provider's apex NS set",
              "The parent zone's NS records (what resolvers find first) must equal the NS set "
              "each provider serves.", "zone", "DELEGATION07 EXTRA_NAME_PARENT"),
        Check("delegation-lame", W, "names only at the parent or only at the zone answer for it",
              "A nameserver listed on one side only is still asked by some resolvers: it must "
              "answer authoritatively, not be lame or silent.", "zone",
              "DELEGATION04 IS_NOT_AUTHORITATIVE"),
        Check("delegation-glue", E, "the parent's addresses for the nameservers are right",
              "The addresses the parent gives for the nameservers (glue) must be the addresses "
              "they really answer on.", "zone",
              basis="dnsops: Zonemaster compares glue with the child (CONSISTENCY05); this "
              "compares it with where each provider's servers answer"),
        Check("glue-matches-zone", E, "glue equals the zone's own addresses for its nameservers",
              "For a nameserver named inside the zone, the parent's glue and the zone's own A "
              "and AAAA records must agree; resolvers replace one with the other.", "zone",
              "CONSISTENCY05 IN_BAILIWICK_ADDR_MISMATCH"),
        Check("referral-size", W, "the parent's referral fits 512 octets",
              "Two providers bring twice the NS names: a referral that does not fit a plain "
              "512-octet UDP reply is truncated for old resolvers.", "zone",
              "DELEGATION03 REFERRAL_SIZE_TOO_LARGE"),
        # -- independence of the two providers ------------------------------------------
        Check("provider-asn", E, "the providers' nameservers share no AS",
              "Two providers in one autonomous system fail together (one routing incident): "
              "not the independence the setup exists for (RFC 2182 §3.1).", "provider",
              "CONNECTIVITY03 IPV4_SAME_ASN",
              basis="stricter than Zonemaster's notice: the second provider is only insurance "
              "if it is independent of the first"),
        Check("provider-prefix", W, "the providers' nameservers share no prefix",
              "Addresses of both providers in one announced prefix (the origin data's; a /24 "
              "or /48 when it gives none) share a route: one withdrawal takes both.", "provider",
              "CONNECTIVITY04 CN04_IPV4_SAME_PREFIX",
              basis="stricter than Zonemaster's notice, for the same reason as provider-asn"),
        Check("provider-one-prefix", N, "each provider's nameservers span more than one prefix",
              "All of one provider's nameservers in one prefix: one route withdrawal takes "
              "that whole provider away.", "provider", "CONNECTIVITY04 CN04_IPV4_SINGLE_PREFIX",
              basis="a notice, not Zonemaster's warning: the other provider covers it"),
        # -- every record ---------------------------------------------------------------
        Check("rrset-served", E, "every desired record is served exactly",
              "Each record in git must be served with exactly its values and TTL by every "
              "nameserver of both providers.", "record",
              basis="dnsops: Zonemaster does not know what the zone should hold"),
        Check("rrset-extra", W, "no records beyond the desired ones",
              "A record served (seen in a zone transfer) but not in git was added by hand or left "
              "behind; the next sync removes it.", "record",
              basis="dnsops: Zonemaster does not know what the zone should hold"),
        # -- through each resolver (vantage point) ------------------------------------
        Check("vantage-reachable", E, "every vantage point can be used",
              "An SSH vantage host that cannot be reached or is too slow, a RIPE Atlas run "
              "refused by its credit cap: that region is not being looked at.", "vantage",
              basis="dnsops: Zonemaster looks from one place"),
        Check("vantage-answer", E, "each record resolves through every resolver",
              "Through each region's resolver every record must resolve: SERVFAIL or timeouts "
              "mean users there cannot reach the name.", "vantage",
              basis="dnsops: Zonemaster looks from one place"),
        Check("vantage-values", E, "resolvers see the desired values",
              "Values seen through a resolver that differ from git are stale caches or a "
              "provider serving old data.", "vantage",
              basis="dnsops: Zonemaster looks from one place"),
        Check("provider-outage-covered", N, "the other provider carries an outage",
              "When every nameserver of one provider fails, resolvers must still answer through "
              "the other: the dual-provider promise, observed.", "vantage",
              basis="dnsops: information that the second provider did its job"),
    )
}  # fmt: skip


def get(check_id: str) -> Check:
    return CATALOGUE[check_id]
