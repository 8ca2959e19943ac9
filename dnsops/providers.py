"""octoDNS providers dnsops ships: octodns-bind's RFC 2136 provider, made to change apex NS.

config/lab.yaml names ``dnsops.providers.Rfc2136Provider`` where it used to name
``octodns_bind.Rfc2136Provider``. Everything but one kind of change is octodns-bind's
own: configuration, capabilities (``SUPPORTS``...), populate by AXFR (and dnsops's
fast AXFR reader, :func:`dnsops.sync.axfr.install`, which takes any
``octodns_bind.AxfrPopulate``), TSIG, batching, errors.

Why: octodns-bind turns an octoDNS ``Update`` into dnspython's ``Update.replace``,
i.e. "delete the whole RRset, then add the new records". BIND ignores an RFC 2136
delete of the whole apex NS set (named logs "attempt to delete all SOA or NS records
ignored") and then applies the adds, so:

* adding a name works (the old names stay, the new one is added);
* removing a name does nothing: every ``dnsops sync --doit --force`` reports
  "applied 1 change(s)", "verified on bind: 0/1" and the plan never converges.

Here an ``Update`` of the apex NS becomes its own update message that adds every
desired NS record first (a TTL change applies to the whole RRset as BIND adds), then
deletes each old name that is no longer wanted as an individual record (RFC 2136
class NONE). The server never sees a delete of the whole set, and at no point does
the zone have fewer NS records than either the old or the new set.

Order: BIND refuses (REFUSED) an update that leaves an apex NS name inside the zone
without an address record. So the plan's other creates and updates go first (the
A/AAAA of a new in-zone name exists before the name is added), then the apex NS
message, then the plan's deletes (the A/AAAA of a removed in-zone name goes after
the name). Each part is sent the way octodns-bind sends it.

Internals: the message is signed, addressed and checked the way octodns-bind 1.1
does it (``_auth_params``, ``host``, ``port``, ``timeout``,
``Rfc2136ProviderUpdateFailed``). Only octodns-bind 1.1.x is trusted with that; on
another version the provider is octodns-bind's own, unchanged, and says so once in
the log (a later release may have fixed this; dnsops's post-apply verification
shows if it has not).
"""

from __future__ import annotations

import logging
from typing import Any

import dns.query
import dns.rcode
import dns.update
import octodns_bind
from octodns.provider.plan import Plan
from octodns.record import Delete, Update

log = logging.getLogger(__name__)

#: octodns-bind releases whose ``_apply`` this class was checked against
SUPPORTED_OCTODNS_BIND = "1.1."


def supported(version: str | None = None) -> bool:
    """Whether the installed (or given) octodns-bind is one this provider changes."""
    found = version if version is not None else getattr(octodns_bind, "__version__", "")
    return found.startswith(SUPPORTED_OCTODNS_BIND)


def is_apex_ns_update(change: Any) -> bool:
    """An octoDNS ``Update`` of the zone's apex NS record."""
    return isinstance(change, Update) and change.record._type == "NS" and change.record.name == ""


def apex_ns_message(zone: str, change: Any, **auth: Any) -> dns.update.UpdateMessage:
    """The RFC 2136 message that turns the apex NS of ``change.existing`` into
    ``change.new``: add every new record, then delete each old one not kept."""
    new = change.new.to_rrset()
    old = change.existing.to_rrset()
    update = dns.update.UpdateMessage(zone, **auth)
    update.add(new.name, new.ttl, new._type, *new.rdatas)
    kept = {_ns_key(r) for r in new.rdatas}
    for rdata in old.rdatas:
        if _ns_key(rdata) not in kept:
            update.delete(old.name, old._type, rdata)
    return update


def _ns_key(rdata: str) -> str:
    return rdata.strip().lower().rstrip(".") + "."


class Rfc2136Provider(octodns_bind.Rfc2136Provider):  # type: ignore[misc]
    """octodns-bind's ``Rfc2136Provider``; apex NS updates converge on BIND (see module)."""

    _warned = False

    def _apply(self, plan: Any) -> bool:
        apex = [c for c in plan.changes if is_apex_ns_update(c)]
        if not apex:
            return bool(super()._apply(plan))
        if not supported():
            if not Rfc2136Provider._warned:
                Rfc2136Provider._warned = True
                log.warning(
                    "octodns-bind %s is not %sx: apex NS changes are octodns-bind's own "
                    "(BIND ignores its delete of the whole NS set)",
                    getattr(octodns_bind, "__version__", "?"),
                    SUPPORTED_OCTODNS_BIND,
                )
            return bool(super()._apply(plan))
        rest = [c for c in plan.changes if not any(c is a for a in apex)]
        self._apply_part(plan, [c for c in rest if not isinstance(c, Delete)])
        zone = plan.desired.name
        for change in apex:
            update = apex_ns_message(zone, change, **self._auth_params())
            self.log.debug("_apply: zone=%s, apex NS: adds, then single deletes", zone)
            reply = dns.query.tcp(update, self.host, port=self.port, timeout=self.timeout)
            if reply.rcode() != dns.rcode.NOERROR:
                raise octodns_bind.Rfc2136ProviderUpdateFailed(dns.rcode.to_text(reply.rcode()))
        self._apply_part(plan, [c for c in rest if isinstance(c, Delete)])
        return True

    def _apply_part(self, plan: Any, changes: list[Any]) -> None:
        """octodns-bind's own apply of some of the plan's changes."""
        if changes:
            part = Plan(
                plan.existing,
                plan.desired,
                changes,
                plan.exists,
                plan.update_pcent_threshold,
                plan.delete_pcent_threshold,
                plan.meta,
            )
            super()._apply(part)
