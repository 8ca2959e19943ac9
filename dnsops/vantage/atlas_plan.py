"""RIPE Atlas without I/O: measurement definitions, the credit estimate, result parsing.

The request follows Atlas's documented measurement-creation API (POST
``/api/v2/measurements/``): one ``dns`` definition per question, all sharing
the same probe selections (``probes``: type country/asn/area/probes, value,
requested) so each probe answers every question, ``is_oneoff: true``.
Results are in Atlas's documented result format (``type: dns``; one
``result`` with ``abuf``, or a ``resultset`` with one entry per probe resolver
when ``use_probe_resolver`` is set) and are parsed with ripe-atlas-sagan; each
answer buffer is then judged by the probe engine against the desired RRset.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dns.rdatatype
from ripe.atlas.sagan import DnsResult

from dnsops.config import AtlasVantage as AtlasConfig
from dnsops.probe import Query, Result, judge
from dnsops.vantage.base import HOST_RESOLVER, Observation, Origin

# Atlas's credits documentation: a DNS measurement result costs 10 credits over
# UDP and 20 over TCP, and a one-off measurement is charged double.
CREDITS_PER_RESULT = {"UDP": 10, "TCP": 20}
ONE_OFF_FACTOR = 2
FINAL_STATUSES = frozenset(
    {"Stopped", "Forced to stop", "No suitable probes", "Failed", "Denied", "Canceled"}
)


@dataclass(frozen=True)
class Estimate:
    """What a run would cost at most: every requested probe answering every question."""

    probes: int
    measurements: int
    per_result: int
    credits: int
    cap: int

    @property
    def within_budget(self) -> bool:
        return self.credits <= self.cap

    def describe(self) -> str:
        return (
            f"{self.credits} credits at most ({self.probes} probes x {self.measurements} "
            f"one-off DNS measurements x {self.per_result} credits per result); "
            f"budget cap {self.cap}"
        )

    def to_json(self) -> dict[str, int]:
        return {
            "probes": self.probes,
            "measurements": self.measurements,
            "credits_per_result": self.per_result,
            "credits": self.credits,
            "cap": self.cap,
        }


def estimate(cfg: AtlasConfig, queries: Sequence[Query]) -> Estimate:
    per = sum(CREDITS_PER_RESULT["TCP" if q.tcp else cfg.protocol] for q in queries)
    unit = CREDITS_PER_RESULT[cfg.protocol]
    return Estimate(
        probes=cfg.requested,
        measurements=len(queries),
        per_result=unit * ONE_OFF_FACTOR,
        credits=cfg.requested * per * ONE_OFF_FACTOR,
        cap=cfg.max_credits,
    )


def definition(cfg: AtlasConfig, q: Query, vantage: str) -> dict[str, Any]:
    """One ``dns`` measurement definition for a question (cousteau's Dns fields)."""
    qtype = dns.rdatatype.to_text(dns.rdatatype.RdataType(q.rdtype))
    name = q.qname.to_text(omit_final_dot=True)
    out: dict[str, Any] = {
        "af": cfg.af,
        "description": f"dnsops {vantage}: {name} {qtype}",
        "query_class": "IN",
        "query_type": qtype,
        "query_argument": name,
        "protocol": "TCP" if q.tcp else cfg.protocol,
        "set_rd_bit": q.rd,
        "include_abuf": True,
        "is_oneoff": True,
    }
    if q.edns is not None:
        out["udp_payload_size"] = q.payload
    if q.target.address == HOST_RESOLVER:
        out["use_probe_resolver"] = True
    else:
        out["target"] = q.target.address
    return out


def sources(cfg: AtlasConfig) -> list[dict[str, Any]]:
    return [{"type": p.type, "value": p.value, "requested": p.requested} for p in cfg.probes]


@dataclass(frozen=True)
class ProbeInfo:
    id: int
    country: str | None
    asn: int | None


def probe_info(meta: Mapping[str, Any], af: int) -> ProbeInfo:
    """A probe from Atlas's probes API (``country_code``, ``asn_v4``/``asn_v6``)."""
    asn = meta.get("asn_v6" if af == 6 else "asn_v4") or meta.get("asn_v4") or meta.get("asn_v6")
    return ProbeInfo(int(meta["id"]), meta.get("country_code"), int(asn) if asn else None)


def observations(
    raw: Sequence[Mapping[str, Any]],
    query: Query,
    probes: Mapping[int, ProbeInfo],
    vantage: str,
    region: str,
) -> list[Observation]:
    """Every answer in one measurement's results: one per probe (per probe resolver)."""
    out = []
    for item in raw:
        parsed = DnsResult(
            dict(item), on_error=DnsResult.ACTION_IGNORE, on_malformation=DnsResult.ACTION_IGNORE
        )
        info = probes.get(parsed.probe_id) or ProbeInfo(parsed.probe_id, None, None)
        where = Origin(
            host=f"probe {parsed.probe_id}",
            server=item.get("dst_addr"),
            probe=parsed.probe_id,
            country=info.country,
            asn=info.asn,
        )
        if not parsed.responses:
            error = parsed.error_message or "no response"
            failure = Result(query, error=error)
            out.append(Observation(vantage, "ripe-atlas", region, failure, where))
            continue
        for response in parsed.responses:
            origin = Origin(
                where.host, response.destination_address, where.probe, where.country, where.asn
            )
            res = _result(query, response, parsed.error_message)
            out.append(Observation(vantage, "ripe-atlas", region, res, origin))
    return out


def _result(query: Query, response: Any, error: str | None) -> Result:
    raw: dict[str, Any] = response.raw_data
    inner = raw.get("result")
    body: dict[str, Any] = inner if isinstance(inner, dict) else raw
    failure = raw.get("error") or body.get("error")
    msg = response.abuf  # sagan's parse of the answer buffer
    if msg is None or failure:
        return Result(query, error=_error_text(failure) if failure else error or "no answer")
    try:
        data = base64.b64decode(str(msg), validate=True)
    except (binascii.Error, ValueError):
        return Result(query, error="undecodable answer buffer")
    if len(data) < 12:
        return Result(query, error="truncated answer buffer")
    rt = response.response_time
    transport = (response.protocol or "UDP").lower()
    return judge(query, data, rt / 1000 if rt is not None else None, transport)


def _error_text(failure: Any) -> str:
    if isinstance(failure, dict):
        if "timeout" in failure:
            return f"timeout ({failure['timeout']} ms)"
        return "; ".join(f"{k}: {v}" for k, v in failure.items())
    return str(failure)


def api_error(response: Any) -> str:
    """Atlas's error document (``{"error": {"status", "title", "detail"}}``) in words."""
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        e = response["error"]
        detail = e.get("detail") or e.get("title") or "no detail"
        errors = e.get("errors")
        if isinstance(errors, list) and errors:
            detail += " (" + "; ".join(str(x.get("detail", x)) for x in errors[:5]) + ")"
        return f"{e.get('status', '?')} {detail}"
    if isinstance(response, tuple | list):
        return "; ".join(str(a) for a in response) or "request failed"
    return str(response)[:300]
