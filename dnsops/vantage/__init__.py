"""Vantage points beyond this machine: where DNS is looked at from.

Three kinds, one protocol (:class:`~dnsops.vantage.base.Vantage`)::

    from dnsops.vantage import build, gather

    vantages = build(project, env, only=["lhr-ssh"])
    runs = gather({v: [Query(v.resolver, name, rdtype, rd=True, expect=...)] for v in vantages})

``resolver`` asks a recursive resolver from here; ``ssh`` asks from another
host over OpenSSH (a stdlib-only probe sent over the session); ``ripe-atlas``
asks from RIPE Atlas probes under a credit budget cap. Every answer comes back
as the probe engine's ``Result`` inside an ``Observation`` naming the
vantage's kind and region (and, for Atlas, the probe's country and ASN).
"""

from __future__ import annotations

from dnsops.vantage.base import (
    HOST_RESOLVER,
    Observation,
    Origin,
    Progress,
    Vantage,
    VantageRun,
)

__all__ = ["HOST_RESOLVER", "Observation", "Origin", "Progress", "Vantage", "VantageRun"]
