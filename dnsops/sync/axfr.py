"""octoDNS's BIND populate through dnsops's one AXFR reader (a faster ``zone_records``).

octodns-bind's populate transfers the zone with dnspython (a Message, Names, RRsets,
then a Zone of Rdata objects) only to turn every record back into text for octoDNS:
about 2 s of CPU for a 10k-record zone here, the largest part of planning BIND.
:func:`zone_records` returns the same list (owner, type, TTL and presentation text of
each record, as ``octodns_bind.AxfrPopulate.zone_records`` builds it) from the probe's
AXFR reader (:class:`dnsops.probe.xfr.Inbound` with its :class:`~dnsops.probe.xfr.TextSink`,
driven by :func:`dnsops.probe.transfer.transfer_sync`): the same protocol checks, the
same per-server limit and retries as health's and the audit's transfers.

:func:`install` makes a provider use it (``octodns_bind`` providers only; others are
left alone); :mod:`dnsops.octo` installs it in every BIND target it builds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dnsops.probe.model import Target
from dnsops.probe.transfer import Retry, timeout_text, transfer_sync
from dnsops.probe.xfr import TextRRsets, TextSink, TransferFailed, TsigKey

log = logging.getLogger(__name__)
# a plan reads its zones one after another: a key the server refuses must not stall it
RETRY = Retry(attempts=5, deadline=10.0)


def install(provider: Any) -> bool:
    """Make an octodns-bind AXFR provider read zones with :func:`zone_records`.

    :returns: whether it was installed now (False: not such a provider, or done already).
    """
    try:
        from octodns_bind import AxfrPopulate
    except ImportError:  # octodns-bind is a dependency; be quiet if it ever is not
        return False
    if not isinstance(provider, AxfrPopulate) or "zone_records" in vars(provider):
        return False
    original = provider.zone_records

    def fast(zone: Any, target: bool = False) -> list[Any]:
        return zone_records(provider, zone, fallback=lambda: original(zone, target=target))

    provider.zone_records = fast
    return True


def zone_records(
    provider: Any, zone: Any, fallback: Callable[[], list[Any]], retry: Retry = RETRY
) -> list[Any]:
    """``provider.zone_records(zone)`` as octodns-bind computes it, faster.

    A message this reader cannot follow (an rdata dnspython cannot parse...)
    hands over to ``fallback`` (octodns-bind's own transfer) instead of failing.

    :raises octodns_bind.AxfrSourceZoneTransferFailed: the transfer failed (and
        ``OSError``/``EOFError`` for a failed connection: as octodns-bind's).
    """
    from octodns.record import Rr
    from octodns_bind import AxfrSourceZoneTransferFailed

    try:
        sets = transfer_text(provider, zone.name, retry)
    except TransferFailed as exc:
        if exc.malformed:
            log.debug("AXFR of %s could not be read (%s): octodns-bind's instead", zone.name, exc)
            return fallback()
        raise AxfrSourceZoneTransferFailed(exc.reason) from None
    except TimeoutError:  # as dnspython words it (octodns-bind reports that text)
        raise AxfrSourceZoneTransferFailed(timeout_text(provider.timeout)) from None
    supported = provider.SUPPORTS
    out = []
    for (owner, rtype), (ttl, texts) in sets.items():
        if rtype in supported:
            out += [Rr(owner, rtype, ttl, text) for text in texts]
    return out


def transfer_text(provider: Any, zone: str, retry: Retry = RETRY) -> TextRRsets:
    """Every RRset of ``zone`` at an octodns-bind provider's server, as text."""
    key = None
    if provider.key_name is not None:
        algorithm = provider.key_algorithm or "hmac-sha256"
        key = TsigKey(provider.key_name, provider.key_secret, algorithm)
    target = Target(str(provider.host), int(provider.port))
    return transfer_sync(
        target, zone, TextSink, key=key, timeout=float(provider.timeout), retry=retry
    )
