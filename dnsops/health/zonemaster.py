"""Every Zonemaster test case, and what dnsops does about it.

A test case is covered by the health checks whose ``zonemaster`` names it
(dnsops.health.checks), or by another command (``by``), or it is left out with
the reason (``reason``). docs/health-checks.md renders this table and
tests/test_health_zonemaster.py keeps it whole: every test case of Zonemaster's
ImplementedTestCases.md (v2024/2025) is here, each covered or with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsops.health.checks import CATALOGUE

SPEC = "https://github.com/zonemaster/zonemaster/blob/master/docs/public/specifications/tests"

_DNSSEC = (
    "DNSSEC is not managed by dnsops: each provider signs with its own keys (a multi-signer "
    "setup, RFC 8901), which neither the lab nor dnsops configures; run Zonemaster for it"
)
_CONTENT = "zone content, not serving: "
_SOA_VALUE = (
    "each provider writes its own SOA (the timers are the provider's, not git's); dnsops "
    "checks that the two agree (soa-timers), not the values Zonemaster recommends"
)


@dataclass(frozen=True)
class TestCase:
    id: str
    title: str
    by: str = ""  # another command that covers it
    reason: str = ""  # why health does not, when it does not

    @property
    def checks(self) -> list[str]:
        return [c.id for c in CATALOGUE.values() if c.test_case == self.id]

    @property
    def url(self) -> str:
        plan = {
            "ADDRESS": "Address",
            "BASIC": "Basic",
            "CONNECTIVITY": "Connectivity",
            "CONSISTENCY": "Consistency",
            "DELEGATION": "Delegation",
            "DNSSEC": "DNSSEC",
            "NAMESERVER": "Nameserver",
            "SYNTAX": "Syntax",
            "ZONE": "Zone",
        }[self.id.rstrip("0123456789")]
        return f"{SPEC}/{plan}-TP/{self.id.lower()}.md"


TEST_CASES: tuple[TestCase, ...] = (
    TestCase("ADDRESS01", "Name server address must be globally reachable",
             reason="the lab serves from 127.0.0.0/8 by design, and production providers' "
             "addresses are theirs to choose; not checked"),
    TestCase("ADDRESS02", "Reverse DNS entry exists for name server IP address",
             reason="the providers' reverse zones are theirs, not the user's to fix"),
    TestCase("ADDRESS03", "Reverse DNS entry matches name server name",
             reason="the providers' reverse zones are theirs, not the user's to fix"),
    TestCase("BASIC01", "Check for the parent zone and the zone itself",
             by="discovery (`dnsops env show`): the delegation walk from the root hints"),
    TestCase("BASIC02", "The domain must have at least one working name server"),
    TestCase("BASIC03", "The _Broken but functional_ test",
             reason="its case is a zone only a web browser's resolver can use; the vantage "
             "checks resolve every record through real resolvers instead"),
    TestCase("CONNECTIVITY01", "UDP connectivity to name servers"),
    TestCase("CONNECTIVITY02", "TCP connectivity to name servers"),
    TestCase("CONNECTIVITY03", "AS Diversity"),
    TestCase("CONNECTIVITY04", "IP Prefix Diversity"),
    TestCase("CONSISTENCY01", "SOA serial number consistency"),
    TestCase("CONSISTENCY02", "SOA RNAME consistency"),
    TestCase("CONSISTENCY03", "SOA timers consistency"),
    TestCase("CONSISTENCY04", "Name server NS consistency"),
    TestCase("CONSISTENCY05", "Consistency between glue and authoritative data"),
    TestCase("CONSISTENCY06", "SOA MNAME consistency",
             reason="not applicable to a two-provider setup: each provider names its own "
             "primary in MNAME, so two MNAMEs are expected (discovery uses them to tell the "
             "providers' nameservers apart)"),
    TestCase("DELEGATION01", "Minimum number of name servers",
             reason="covered by the two-provider premise: apex-ns-providers requires "
             "nameservers of both providers, so at least two names"),
    TestCase("DELEGATION02", "Name servers must have distinct IP addresses"),
    TestCase("DELEGATION03", "No truncation of referrals"),
    TestCase("DELEGATION04", "Name server is authoritative"),
    TestCase("DELEGATION05", "Name server must not point at CNAME alias"),
    TestCase("DELEGATION06", "Existence of SOA"),
    TestCase("DELEGATION07", "Parent glue name records present in child"),
    *(
        TestCase(f"DNSSEC{n:02d}", title, reason=_DNSSEC)
        for n, title in (
            (1, "Legal values for the DS hash digest algorithm"),
            (2, "DS must match a valid DNSKEY in the child zone"),
            (3, "Verify NSEC3 parameters"),
            (4, "Check for too short or too long RRSIG lifetimes"),
            (5, "Check for invalid DNSKEY algorithms"),
            (6, "Verify DNSSEC additional processing"),
            (7, "DNSSEC signed zone and DS in parent for signed zone"),
            (8, "Valid RRSIG for DNSKEY"),
            (9, "RRSIG(SOA) must be valid and created by a valid DNSKEY"),
            (10, "Zone contains NSEC or NSEC3 records"),
            (11, "DS in delegation requires signed zone"),
            (12, "Test for DNSSEC Algorithm Completeness"),
            (13, "All DNSKEY algorithms used to sign the zone"),
            (14, "Check for valid RSA DNSKEY key size"),
            (15, "Existence of CDS and CDNSKEY"),
            (16, "Validate CDS"),
            (17, "Validate CDNSKEY"),
            (18, "Validate trust from DS to CDS and CDNSKEY"),
        )
    ),
    TestCase("NAMESERVER01", "A name server should not be a recursor"),
    TestCase("NAMESERVER02", "Test of EDNS0 support"),
    TestCase("NAMESERVER03", "Test availability of zone transfer (AXFR)"),
    TestCase("NAMESERVER04", "Same source address",
             reason="not checked yet: the probe engine does not compare a reply's source "
             "address with the address asked (a provider's anycast could differ)"),
    TestCase("NAMESERVER05", "Behaviour against AAAA query",
             reason="not a separate check: every desired AAAA RRset is asked of every "
             "nameserver (rrset-served), which catches a dropped or garbled AAAA answer"),
    TestCase("NAMESERVER06", "NS can be resolved"),
    TestCase("NAMESERVER07", "To check whether authoritative name servers return an upward "
             "referral"),
    TestCase("NAMESERVER08", "Testing QNAME case insensitivity",
             reason="folded into ns-qname-case (NAMESERVER09), which asks in mixed case"),
    TestCase("NAMESERVER09", "Testing QNAME case sensitivity"),
    TestCase("NAMESERVER10", "Test for undefined EDNS version"),
    TestCase("NAMESERVER11", "Test for unknown EDNS OPTION-CODE"),
    TestCase("NAMESERVER12", "Test for unknown EDNS flags"),
    TestCase("NAMESERVER13", "Test for truncated response on EDNS query"),
    TestCase("NAMESERVER15", "Checking for revealed software version",
             reason="the providers' software is theirs to hide; a notice the user cannot act on"),
    TestCase("SYNTAX01", "No illegal characters in the domain name",
             by="lint (`hostname`) and octoDNS validation"),
    TestCase("SYNTAX02", "No hyphen ('-') at the start or end of the domain name",
             by="lint (`hostname`)"),
    TestCase("SYNTAX03", "There must be no double hyphen ('--') in position 3 and 4 of the "
             "domain name", reason=_CONTENT + "an IDN rule for the zone's own name, chosen at "
             "registration"),
    TestCase("SYNTAX04", "The NS name must have a valid domain/hostname",
             by="octoDNS validation of NS values (lint runs it)"),
    TestCase("SYNTAX05", "Misuse of '@' character in the SOA RNAME field", reason=_SOA_VALUE),
    TestCase("SYNTAX06", "No illegal characters in the SOA RNAME field", reason=_SOA_VALUE),
    TestCase("SYNTAX07", "No illegal characters in the SOA MNAME field", reason=_SOA_VALUE),
    TestCase("SYNTAX08", "MX name must have a valid hostname",
             by="octoDNS validation of MX values (lint runs it)"),
    TestCase("ZONE01", "Fully qualified master nameserver in SOA", reason=_SOA_VALUE),
    TestCase("ZONE02", "SOA 'refresh' minimum value", reason=_SOA_VALUE),
    TestCase("ZONE03", "SOA 'retry' lower than 'refresh'", reason=_SOA_VALUE),
    TestCase("ZONE04", "SOA 'retry' at least 1 hour", reason=_SOA_VALUE),
    TestCase("ZONE05", "SOA 'expire' minimum value", reason=_SOA_VALUE),
    TestCase("ZONE06", "SOA 'minimum' maximum value", reason=_SOA_VALUE),
    TestCase("ZONE07", "SOA master is not an alias", reason=_SOA_VALUE),
    TestCase("ZONE08", "MX is not an alias",
             reason=_CONTENT + "a lint policy can forbid it (a `forbid` rule on MX values)"),
    TestCase("ZONE09", "MX record present",
             reason=_CONTENT + "whether a zone receives mail is the user's choice; a lint "
             "`require` rule can demand MX (or a null MX) per zone"),
    TestCase("ZONE10", "No multiple SOA records",
             reason="octoDNS holds one SOA per zone at each provider; rrset-served and the zone "
             "transfers (rrset-extra) see what is served"),
    TestCase("ZONE11", "SPF policy validation",
             reason=_CONTENT + "a lint policy can check TXT values; SPF semantics are out of "
             "scope"),
)  # fmt: skip


def markdown() -> str:
    """The mapping as one markdown table (docs/health-checks.md holds it)."""
    from dnsops.render import markdown as md

    lines = ["| Zonemaster test case | title | dnsops |", "|---|---|---|"]
    for t in TEST_CASES:
        if t.checks:
            what = ", ".join(f"`{c}`" for c in t.checks)
        elif t.by:
            what = md.cell(t.by, max_chars=100_000)
        else:
            what = "— " + md.cell(t.reason, max_chars=100_000)
        lines.append(f"| [{t.id}]({t.url}) | {md.cell(t.title, max_chars=100_000)} | {what} |")
    return "\n".join(lines) + "\n"
