"""nftables rule text for client-side faults: pure functions, no I/O.

A drill cuts a resolver off a provider the way chaos tools do, on the client
side: on the host the resolver runs on, the provider's DNS replies to it are
dropped in the ``input`` hook (all of them: a blackhole; a share of them:
``numgen random mod 100 < N``, a lossy path). No provider is touched, and the
mechanism is the same in the lab (each lab resolver sends from its own 127.x
address: ``outgoing-interface``) and on a production vantage host.

Why the replies, not the queries: a packet dropped in the ``output`` hook fails
the sender's ``sendto()`` at once (EPERM), and unbound then tries the next
server within milliseconds (measured: 0-4 ms, SERVFAIL-free) -- no outage
looks like that. A dropped reply is a query that vanished: the resolver waits
for its retransmission timeout, exactly as it does when a provider is down.

Each run's rules live in one table of their own (``dnsops_bh_<random>``), so
removing them is deleting that table, and nothing else on the host is touched.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

TABLE_PREFIX = "dnsops_bh_"
_TABLE = re.compile(r"^dnsops_bh_[0-9a-f]{8}$")


@dataclass(frozen=True)
class Rule:
    """Drop DNS replies (UDP and TCP from port 53) from ``addresses`` to ``source``.

    ``source`` None: to any address of the host. ``loss`` 1.0 drops every
    packet; below, that fraction at random (rounded to whole percent).
    """

    source: str | None
    addresses: tuple[str, ...]
    loss: float = 1.0
    comment: str = ""


def new_table() -> str:
    """A table name no other run (nor another user of the host) shares."""
    return TABLE_PREFIX + secrets.token_hex(4)


def check_table(table: str) -> str:
    """The name is one dnsops makes (it ends up on a command line over SSH)."""
    if not _TABLE.match(table):
        raise ValueError(f"{table!r} is not a dnsops drill table name")
    return table


def percent(loss: float) -> int:
    """The integer percentage numgen compares with (1..100)."""
    if not 0 < loss <= 1:
        raise ValueError(f"loss {loss!r} must be above 0 and at most 1")
    return max(1, min(100, round(loss * 100)))


def _family(addresses: Sequence[str], version: int) -> list[str]:
    return sorted(
        {a for a in addresses if ipaddress.ip_address(a).version == version},
        key=ipaddress.ip_address,
    )


def rule_lines(rule: Rule) -> list[str]:
    """One line per address family the rule can match."""
    src_version = ipaddress.ip_address(rule.source).version if rule.source else None
    pct = percent(rule.loss)
    out = []
    for version, kw in ((4, "ip"), (6, "ip6")):
        dests = _family(rule.addresses, version)
        if not dests or (src_version is not None and src_version != version):
            continue
        parts = [f"{kw} saddr {{ {', '.join(dests)} }}"]
        if rule.source:
            parts.append(f"{kw} daddr {rule.source}")
        parts.append("meta l4proto { udp, tcp } th sport 53")
        if pct < 100:
            parts.append(f"numgen random mod 100 < {pct}")
        parts.append("counter drop")
        if rule.comment:
            parts.append(f'comment "{_comment(rule.comment)}"')
        out.append(" ".join(parts))
    return out


def _comment(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9 _.:,/-]", "_", text)[:120]


def add_script(table: str, rules: Sequence[Rule]) -> str:
    """``nft -f -`` input creating the table with its rules, atomically (all or none).

    :raises ValueError: a bad table name, or no rule matches anything.
    """
    check_table(table)
    lines = [line for r in rules for line in rule_lines(r)]
    if not lines:
        raise ValueError("no rule: no nameserver address of a family the sources can reach")
    body = "".join(f"    {line}\n" for line in lines)
    return (
        f"table inet {table} {{\n"
        "  chain input {\n"
        "    type filter hook input priority -10; policy accept;\n"
        f"{body}"
        "  }\n"
        "}\n"
    )


def delete_script(table: str) -> str:
    """``nft -f -`` input removing the table whether or not it exists (idempotent)."""
    check_table(table)
    return f"add table inet {table}\ndelete table inet {table}\n"
