"""A local stand-in for RIPE Atlas's REST API (v2), for tests only.

It follows Atlas's documented API for the part dnsops uses through
ripe-atlas-cousteau:

======  =====================================  ==========================================
POST    /api/v2/measurements/                  create one-off DNS measurements (201,
                                               ``{"measurements": [id, ...]}``)
GET     /api/v2/measurements/{id}/             the measurement; ``status`` {id, name}
GET     /api/v2/measurements/{id}/results[/]   its results, in Atlas's result format
GET     /api/v2/probes/?id__in=1,2             probes (paginated list: count/next/results)
GET     /api/v2/probes/{id}/                   one probe
======  =====================================  ==========================================

Creating needs ``Authorization: Key <key>`` (403 otherwise, as Atlas answers
an anonymous creation); reading public measurements and probes needs none.
Errors are Atlas's error document ``{"error": {"status", "code", "title",
"detail", "errors": [{"source": {"pointer"}, "detail"}]}}``. Each probe
selection (``type`` area/country/asn/probes, ``value``, ``requested``) picks
connected probes of the recorded set; the selections add up.

The results are recordings (``tests/fixtures/atlas/``): per question (name and
type), each probe's answer buffer (``abuf``, base64 wire), response time and
resolver, or its error; they are served in Atlas's documented DNS result
format, firmware 5080: a ``resultset`` (one entry per probe resolver) when the
measurement uses the probes' resolvers, a single ``result`` with ``dst_addr``
when it targets a server. A question without a recording times out on every
probe. A measurement is ``Ongoing`` for ``polls_until_done`` status reads
(its results arriving probe by probe), then ``Stopped``; one whose selections
found no connected probe is ``No suitable probes`` at once, without results.

Not modelled: recurring measurements, other measurement types, participation
requests, credits and rate limits.
"""

from __future__ import annotations

import json
import re
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.ns1 import self_signed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "atlas"
REQUIRED = ("description", "af", "query_class", "query_type", "query_argument")
AREAS = {
    "WW": None,
    "West": {"DE", "NL", "FR", "GB", "US"},
    "North-Central": set(),
    "South-Central": set(),
    "North-East": {"JP"},
    "South-East": set(),
}


class ApiError(Exception):
    def __init__(self, status: HTTPStatus, detail: str, errors: list[Any] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []

    def document(self) -> dict[str, Any]:
        codes = {400: 102, 403: 104, 404: 103}
        return {
            "error": {
                "status": int(self.status),
                "code": codes.get(int(self.status), 100),
                "title": self.status.phrase,
                "detail": self.detail,
                "errors": self.errors,
            }
        }


@dataclass
class Msm:
    id: int
    definition: dict[str, Any]
    probes: list[int]
    created: int
    reads: int = 0

    def status(self, polls_until_done: int) -> dict[str, Any]:
        if not self.probes:
            return {"id": 6, "name": "No suitable probes"}
        done = self.reads >= polls_until_done
        return {"id": 4, "name": "Stopped"} if done else {"id": 2, "name": "Ongoing"}


@dataclass
class Store:
    probes: dict[int, dict[str, Any]]
    recordings: dict[str, list[dict[str, Any]]]
    polls_until_done: int = 2
    lock: threading.Lock = field(default_factory=threading.Lock)
    msms: dict[int, Msm] = field(default_factory=dict)
    next_id: int = 71000001

    # -- creation ----------------------------------------------------------------------

    def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "JSON object expected")
        definitions, sources = body.get("definitions"), body.get("probes")
        problems = []
        if not isinstance(definitions, list) or not definitions:
            problems.append(("/definitions", "This field is required."))
            definitions = []
        if not isinstance(sources, list) or not sources:
            problems.append(("/probes", "This field is required."))
            sources = []
        for i, d in enumerate(definitions):
            problems += [(f"/definitions/{i}{p}", m) for p, m in _check_definition(d)]
        chosen: list[int] = []
        for i, s in enumerate(sources):
            try:
                chosen += [p for p in self._select(s) if p not in chosen]
            except ValueError as exc:
                problems.append((f"/probes/{i}", str(exc)))
        if problems:
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                "There was a problem with your request",
                [{"source": {"pointer": p}, "detail": m} for p, m in problems],
            )
        ids = []
        for d in definitions:
            msm = Msm(self.next_id, dict(d), list(chosen), int(time.time()))
            self.msms[msm.id] = msm
            ids.append(msm.id)
            self.next_id += 1
        return {"measurements": ids}

    def _select(self, source: Any) -> list[int]:
        if not isinstance(source, dict):
            raise ValueError("a probe selection is an object")
        kind, value, wanted = source.get("type"), str(source.get("value")), source.get("requested")
        if not isinstance(wanted, int) or wanted < 1:
            raise ValueError("requested: a positive integer is required")
        connected = [p for p in self.probes.values() if p["status"]["name"] == "Connected"]
        if kind == "area":
            if value not in AREAS:
                raise ValueError(f"area: {value!r} is not a valid area")
            countries = AREAS[value]
            picked = [p for p in connected if countries is None or p["country_code"] in countries]
        elif kind == "country":
            picked = [p for p in connected if p["country_code"] == value]
        elif kind == "asn":
            asn = int(value.removeprefix("AS"))
            picked = [p for p in connected if asn in (p["asn_v4"], p["asn_v6"])]
        elif kind == "probes":
            wanted_ids = {int(x) for x in value.split(",")}
            picked = [p for p in connected if p["id"] in wanted_ids]
        else:
            raise ValueError(f"type: {kind!r} is not a valid choice")
        return [p["id"] for p in sorted(picked, key=lambda p: p["id"])][:wanted]

    # -- reading -----------------------------------------------------------------------

    def measurement(self, msm_id: int) -> dict[str, Any]:
        msm = self._msm(msm_id)
        msm.reads += 1
        d = msm.definition
        return {
            "id": msm.id,
            "type": "dns",
            "af": d.get("af"),
            "description": d.get("description"),
            "is_oneoff": True,
            "is_public": True,
            "interval": None,
            "resolve_on_probe": False,
            "target": d.get("target") or "",
            "target_ip": d.get("target"),
            "target_asn": None,
            "query_argument": d.get("query_argument"),
            "query_type": d.get("query_type"),
            "use_probe_resolver": bool(d.get("use_probe_resolver")),
            "creation_time": msm.created,
            "start_time": msm.created,
            "stop_time": msm.created + 60 if msm.reads >= self.polls_until_done else None,
            "probes_requested": len(msm.probes),
            "probes_scheduled": len(msm.probes),
            "participant_count": len(msm.probes),
            "status": msm.status(self.polls_until_done),
            "result": f"/api/v2/measurements/{msm.id}/results/",
        }

    def results(self, msm_id: int) -> list[dict[str, Any]]:
        msm = self._msm(msm_id)
        # results arrive probe by probe: all of them once the measurement has stopped
        share = len(msm.probes) if msm.reads >= self.polls_until_done else msm.reads
        d = msm.definition
        key = f"{d['query_argument'].rstrip('.').lower()}. {d['query_type'].upper()}"
        recorded = {r["prb_id"]: r for r in self.recordings.get(key, [])}
        out = []
        for n, prb in enumerate(msm.probes[:share]):
            rec = recorded.get(prb) or {"prb_id": prb, "error": {"timeout": 5000}}
            out.append(_result(msm, d, rec, self.probes[prb], msm.created + n))
        return out

    def _msm(self, msm_id: int) -> Msm:
        if msm_id not in self.msms:
            raise ApiError(HTTPStatus.NOT_FOUND, "Not found.")
        return self.msms[msm_id]

    def probe_list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        found = list(self.probes.values())
        if "id__in" in query:
            ids = {int(x) for x in query["id__in"][0].split(",") if x}
            found = [p for p in found if p["id"] in ids]
        if "country_code" in query:
            found = [p for p in found if p["country_code"] == query["country_code"][0]]
        return {"count": len(found), "next": None, "previous": None, "results": found}

    def probe(self, prb_id: int) -> dict[str, Any]:
        if prb_id not in self.probes:
            raise ApiError(HTTPStatus.NOT_FOUND, "Not found.")
        return self.probes[prb_id]


def _check_definition(d: Any) -> list[tuple[str, str]]:
    if not isinstance(d, dict):
        return [("", "a definition is an object")]
    out = [(f"/{k}", "This field is required.") for k in REQUIRED if d.get(k) in (None, "")]
    if d.get("type") != "dns":
        out.append(("/type", "only dns measurements are modelled by this stand-in"))
    if d.get("af") not in (4, 6):
        out.append(("/af", "af must be 4 or 6"))
    if d.get("use_probe_resolver") and d.get("target"):
        out.append(("/target", "target and use_probe_resolver are mutually exclusive"))
    if not d.get("use_probe_resolver") and not d.get("target"):
        out.append(("/target", "This field is required unless use_probe_resolver is set."))
    if d.get("protocol", "UDP") not in ("UDP", "TCP"):
        out.append(("/protocol", "protocol must be UDP or TCP"))
    if "stop_time" in d and d.get("is_oneoff"):
        out.append(("/stop_time", "one-off measurements must not have a stop_time"))
    return out


def _result(
    msm: Msm, d: dict[str, Any], rec: dict[str, Any], probe: dict[str, Any], t: int
) -> dict[str, Any]:
    """One probe's result in Atlas's DNS result format (firmware 5080)."""
    proto = d.get("protocol", "UDP")
    answer = {"error": rec["error"]} if "error" in rec else {"result": rec["result"]}
    base = {
        "fw": 5080,
        "lts": 21,
        "msm_id": msm.id,
        "msm_name": "Tdig",
        "prb_id": probe["id"],
        "timestamp": t,
        "type": "dns",
        "group_id": msm.id,
        "from": probe["address_v4"],
    }
    if d.get("use_probe_resolver"):
        entry = {
            "af": 4,
            "dst_addr": rec.get("resolver", "192.168.1.1"),
            "lts": 21,
            "proto": proto,
            "src_addr": "192.168.1.20",
            "subid": 1,
            "submax": 1,
            "time": t,
            **answer,
        }
        return {**base, "af": 4, "resultset": [entry]}
    return {
        **base,
        "af": d.get("af", 4),
        "dst_addr": d["target"],
        "dst_port": "53",
        "proto": proto,
        "src_addr": "192.168.1.20",
        **answer,
    }


def route(store: Store, method: str, path: str, query: str, body: Any, key_ok: bool) -> Any:
    q = parse_qs(query)
    if method == "POST" and path == "/api/v2/measurements/":
        if not key_ok:
            raise ApiError(HTTPStatus.FORBIDDEN, "Authentication credentials were not provided.")
        return HTTPStatus.CREATED, store.create(body)
    if method != "GET":
        raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, f'Method "{method}" not allowed.')
    if m := re.fullmatch(r"/api/v2/measurements/(\d+)/", path):
        return HTTPStatus.OK, store.measurement(int(m.group(1)))
    if m := re.fullmatch(r"/api/v2/measurements/(\d+)/results/?", path):
        return HTTPStatus.OK, store.results(int(m.group(1)))
    if path == "/api/v2/probes/":
        return HTTPStatus.OK, store.probe_list(q)
    if m := re.fullmatch(r"/api/v2/probes/(\d+)/", path):
        return HTTPStatus.OK, store.probe(int(m.group(1)))
    raise ApiError(HTTPStatus.NOT_FOUND, "Not found.")


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "RIPE Atlas API v2 (dnsops stand-in)"

    def log_message(self, format: str, *args: Any) -> None:  # quiet; requests are recorded
        pass

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization") or ""
        key_ok = auth == f"Key {self.server.api_key}"
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = None
        with self.server.store.lock:
            self.server.requests.append((self.command, url.path, body, auth))
        try:
            with self.server.store.lock:
                status, doc = route(
                    self.server.store, self.command, url.path, url.query, body, key_ok
                )
        except ApiError as exc:
            self._reply(exc.status, exc.document())
            return
        self._reply(status, doc)

    do_GET = do_POST = do_DELETE = _handle

    def _reply(self, status: HTTPStatus, doc: Any) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api_key: str, store: Store) -> None:
        super().__init__(address, Handler)
        self.api_key = api_key
        self.store = store
        self.requests: list[tuple[str, str, Any, str]] = []


def load_store(directory: Path = FIXTURES) -> Store:
    probes = {p["id"]: p for p in json.loads((directory / "probes.json").read_text())}
    recordings = json.loads((directory / "results.json").read_text())["recordings"]
    return Store(probes, recordings)


class AtlasStandIn:
    """The stand-in on ``address:port`` (0: any free port) over TLS, in a thread.

    ``ca_file`` is its self-signed certificate: clients trust it by name
    (cousteau's ``verify=ca_file``), no verification is switched off.
    """

    def __init__(self, address: str, api_key: str, port: int = 0) -> None:
        self.server = Server((address, port), api_key, load_store())
        self._tmp = tempfile.TemporaryDirectory(prefix="atlas-standin-")
        cert, key = self_signed(Path(self._tmp.name), address)
        self.ca_file = cert
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """``server`` for cousteau: host:port (cousteau always speaks https)."""
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    @property
    def requests(self) -> list[tuple[str, str, Any, str]]:
        return self.server.requests

    def creations(self) -> list[Any]:
        return [body for method, path, body, _ in self.requests if method == "POST"]

    def reset(self) -> None:
        with self.server.store.lock:
            self.server.store = load_store()
            self.server.requests.clear()

    def start(self) -> AtlasStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
        self._tmp.cleanup()
