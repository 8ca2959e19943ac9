"""The probe engine: many DNS queries, fast, polite, with per-query results.

One engine for health, audit and drills::

    from dnsops.probe import Engine, Query, Target, probe, wire

    ns = Target("127.53.1.1", 53, "pdns ns1.pdns.test.")
    want = wire.expected("A", 60, ["192.0.2.20", "192.0.2.21"])
    [res] = probe([Query.make(ns, "api.example.test.", "A", expect=want)])
    res.matched, res.rcode_text, res.latency, res.served()

``probe`` is synchronous and uses every core for large batches (``bulk``);
inside a running event loop use ``await Engine(...).run(queries)``. ``axfr``
reads a whole zone where the server allows it (TSIG): the one AXFR reader
(``xfr``: the protocol, no I/O; ``transfer``: the drivers, per-server limits and
retries). ``wire`` holds the pure helpers (templates, canonical rdata, reply
checks) the engine is built on.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dnsops.probe import bulk, wire
    from dnsops.probe.engine import Engine, ProbeError, Progress, judge
    from dnsops.probe.model import Expected, Query, Result, Target
    from dnsops.probe.transfer import Limits, Retry, axfr, transfer, transfer_sync
    from dnsops.probe.xfr import Inbound, RRsetSink, TextSink, Transfer, TransferFailed, TsigKey

# Each name is imported from its module when first asked for: a zone transfer from
# blocking code (a plan's AXFR, dnsops.sync.axfr) loads neither the asyncio engine nor
# the multiprocessing of ``bulk``.
_HOME = {
    "bulk": "dnsops.probe.bulk",
    "wire": "dnsops.probe.wire",
    **dict.fromkeys(("Engine", "ProbeError", "Progress", "judge"), "dnsops.probe.engine"),
    **dict.fromkeys(("Expected", "Query", "Result", "Target"), "dnsops.probe.model"),
    **dict.fromkeys(
        ("Limits", "Retry", "axfr", "transfer", "transfer_sync"), "dnsops.probe.transfer"
    ),
    **dict.fromkeys(
        ("Inbound", "RRsetSink", "TextSink", "Transfer", "TransferFailed", "TsigKey"),
        "dnsops.probe.xfr",
    ),
}

__all__ = [
    "Engine",
    "Expected",
    "Inbound",
    "Limits",
    "ProbeError",
    "Progress",
    "Query",
    "RRsetSink",
    "Result",
    "Retry",
    "Target",
    "TextSink",
    "Transfer",
    "TransferFailed",
    "TsigKey",
    "axfr",
    "bulk",
    "judge",
    "probe",
    "transfer",
    "transfer_sync",
    "wire",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(home)
    value = module if home == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def probe(
    queries: Sequence[Query],
    *,
    engine: Engine | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[Result]:
    """Ask every query (from synchronous code); one Result per query, in order."""
    from dnsops.probe import bulk
    from dnsops.probe.engine import Engine

    return bulk.run(queries, engine or Engine(), workers=workers, progress=progress)
