"""A local stand-in for NS1's REST API (v1), for tests only.

It follows NS1's documented API (https://ns1.com/api, the shapes recorded in
ns1-js's test fixtures, the error messages ns1-go matches on) for the part that
octodns-ns1 uses to populate, plan and apply ordinary records:

==========  ===============================  =====================================
GET         /v1/zones                        active zones, without records
GET         /v1/zones/{zone}                 the zone, its records summarised
PUT         /v1/zones/{zone}                 create; NS1 adds the apex NS itself
DELETE      /v1/zones/{zone}                 delete the zone and its records
GET         /v1/zones/{zone}/{domain}/{type} one record, full form (answers)
PUT         /v1/zones/{zone}/{domain}/{type} create a record
POST        /v1/zones/{zone}/{domain}/{type} update a record (fields given)
DELETE      /v1/zones/{zone}/{domain}/{type} delete a record
==========  ===============================  =====================================

Every request needs the ``X-NSONE-Key`` header (401 ``Unauthorized``
otherwise). Errors are ``{"message": ...}`` with NS1's status codes and texts:
404 ``zone not found`` / ``record not found``, 400 ``zone already exists`` /
``record already exists``. Like NS1, it stores host names without the trailing
dot and reports each answer's rdata joined by spaces in ``short_answers``.

Not modelled: monitors, data feeds, filter chains beyond storing them,
pagination (zones here are small). Rate limiting: the headers are sent with
generous values, unless :meth:`Ns1StandIn.rate_limit` sets a token bucket (one for
all endpoints, NS1 has one per endpoint and method): then ``X-RateLimit-Limit``,
``-Period`` and ``-Remaining`` describe it and an empty bucket answers 429
``rate limit exceeded``. ``arrivals`` holds the time each request came in.

NS1's endpoint is always https (ns1-python builds ``https://endpoint:port``),
so the stand-in serves TLS with a self-signed certificate made at start;
clients set ``ignore-ssl-errors``. Run it by hand with
``python -m tests.fakes.ns1 --address 127.0.0.1 --port 8443`` (the API key is
read from ``$NS1_API_KEY``).
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import re
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

# NS1's nameservers for a zone; the real ones are per account (dnsN.pNN.nsone.net).
DNS_SERVERS = [f"dns{i}.p01.nsone.net" for i in (1, 2, 3, 4)]
DEFAULTS = {"ttl": 3600, "refresh": 43200, "retry": 7200, "expiry": 1209600, "nx_ttl": 3600}

# rdata fields per answer, and which of them are host names (stored without the dot)
RDATA: dict[str, tuple[int, tuple[int, ...]]] = {
    "A": (1, ()),
    "AAAA": (1, ()),
    "ALIAS": (1, (0,)),
    "CAA": (3, ()),
    "CNAME": (1, (0,)),
    "DNAME": (1, (0,)),
    "DS": (4, ()),
    "MX": (2, (1,)),
    "NAPTR": (6, (5,)),
    "NS": (1, (0,)),
    "PTR": (1, (0,)),
    "SPF": (1, ()),
    "SRV": (4, (3,)),
    "TLSA": (4, ()),
    "TXT": (1, ()),
    "URLFWD": (5, ()),
}
RECORD_FIELDS = ("ttl", "filters", "regions", "meta", "link", "networks", "use_client_subnet")


class ApiError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _id() -> str:
    return uuid.uuid4().hex[:24]


@dataclass
class Store:
    """NS1's data: zones and their records, guarded by one lock."""

    zones: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def zone(self, name: str) -> dict[str, Any]:
        try:
            return self.zones[name]
        except KeyError:
            raise ApiError(HTTPStatus.NOT_FOUND, "zone not found") from None

    def zone_view(self, name: str, with_records: bool = True) -> dict[str, Any]:
        view = dict(self.zone(name))
        if with_records:
            view["records"] = [
                {
                    "id": r["id"],
                    "domain": r["domain"],
                    "type": r["type"],
                    "ttl": r["ttl"],
                    "tier": r["tier"],
                    "link": r["link"],
                    "short_answers": [_short(a) for a in r["answers"]],
                }
                for r in self.records[name].values()
            ]
        else:
            view["records"] = []
        return view

    def create_zone(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("zone", name) != name:
            raise ApiError(HTTPStatus.BAD_REQUEST, "zone name does not match the URL")
        if name in self.zones:
            raise ApiError(HTTPStatus.BAD_REQUEST, "zone already exists")
        zone: dict[str, Any] = {
            "id": _id(),
            "zone": name,
            "hostmaster": "hostmaster@nsone.net",
            "dns_servers": list(DNS_SERVERS),
            "networks": [0],
            "meta": {},
            "link": None,
            "primary": {"enabled": False, "secondaries": []},
        }
        for key, default in DEFAULTS.items():
            zone[key] = int(body.get(key, default))
        self.zones[name] = zone
        self.records[name] = {}
        # NS1 creates the apex NS record with the zone (https://ns1.com/api?docId=2184)
        self.put_record(name, name, "NS", {"answers": [{"answer": [s]} for s in DNS_SERVERS]})
        return self.zone_view(name)

    def delete_zone(self, name: str) -> dict[str, Any]:
        self.zone(name)
        del self.zones[name]
        del self.records[name]
        return {}

    def record(self, zone: str, domain: str, rtype: str) -> dict[str, Any]:
        self.zone(zone)
        try:
            return self.records[zone][(domain, rtype)]
        except KeyError:
            raise ApiError(HTTPStatus.NOT_FOUND, "record not found") from None

    def put_record(
        self, zone: str, domain: str, rtype: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        self.zone(zone)
        _check_target(zone, domain, rtype, body)
        if (domain, rtype) in self.records[zone]:
            raise ApiError(HTTPStatus.BAD_REQUEST, "record already exists")
        if not body.get("answers"):
            raise ApiError(HTTPStatus.BAD_REQUEST, "a record needs at least one answer")
        record: dict[str, Any] = {
            "id": _id(),
            "zone": zone,
            "domain": domain,
            "type": rtype,
            "ttl": self.zones[zone]["ttl"],
            "tier": 1,
            "answers": [],
            "filters": [],
            "regions": {},
            "meta": {},
            "link": None,
            "networks": [0],
            "use_client_subnet": True,
        }
        self._update(record, body)
        self.records[zone][(domain, rtype)] = record
        return record

    def post_record(
        self, zone: str, domain: str, rtype: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        record = self.record(zone, domain, rtype)
        _check_target(zone, domain, rtype, body)
        self._update(record, body)
        return record

    def delete_record(self, zone: str, domain: str, rtype: str) -> dict[str, Any]:
        self.record(zone, domain, rtype)
        del self.records[zone][(domain, rtype)]
        return {}

    @staticmethod
    def _update(record: dict[str, Any], body: dict[str, Any]) -> None:
        for key in RECORD_FIELDS:
            if key in body:
                record[key] = body[key]
        if not isinstance(record["ttl"], int) or record["ttl"] < 0:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"invalid ttl {record['ttl']!r}")
        if "answers" in body:
            record["answers"] = [_answer(record["type"], a) for a in body["answers"]]
        record["tier"] = 2 if record["filters"] or record["meta"] else 1


def _check_target(zone: str, domain: str, rtype: str, body: dict[str, Any]) -> None:
    if rtype not in RDATA:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"unsupported record type {rtype}")
    if domain != zone and not domain.endswith("." + zone):
        raise ApiError(HTTPStatus.BAD_REQUEST, f"domain {domain} is not in zone {zone}")
    for key, want in (("zone", zone), ("domain", domain), ("type", rtype)):
        if key in body and body[key] != want:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"{key} in the body does not match the URL")


def _answer(rtype: str, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict) or not isinstance(given.get("answer"), list):
        raise ApiError(HTTPStatus.BAD_REQUEST, "an answer is an object with an 'answer' list")
    count, hosts = RDATA[rtype]
    rdata = list(given["answer"])
    if len(rdata) != count:
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            f"a {rtype} answer has {count} field(s), got {len(rdata)}: {rdata!r}",
        )
    if rtype in ("A", "AAAA"):
        version = 4 if rtype == "A" else 6
        try:
            if ipaddress.ip_address(str(rdata[0])).version != version:
                raise ValueError
        except ValueError:
            raise ApiError(
                HTTPStatus.BAD_REQUEST, f"invalid IPv{version} address {rdata[0]!r}"
            ) from None
    for i in hosts:
        rdata[i] = str(rdata[i]).rstrip(".")
    answer = {k: v for k, v in given.items() if k != "answer"}
    answer.update({"id": given.get("id") or _id(), "answer": rdata, "meta": given.get("meta", {})})
    return answer


def _short(answer: dict[str, Any]) -> str:
    return " ".join(str(x) for x in answer["answer"])


ZONES = re.compile(r"^/v1/zones/?$")
ZONE = re.compile(r"^/v1/zones/(?P<zone>[^/]+)/?$")
RECORD = re.compile(r"^/v1/zones/(?P<zone>[^/]+)/(?P<domain>[^/]+)/(?P<type>[A-Za-z0-9]+)/?$")


def route(store: Store, method: str, path: str, query: str, body: Any) -> Any:
    """Dispatch one authenticated request; raises ApiError for NS1's error answers."""
    if not isinstance(body, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, "the request body must be a JSON object")
    if ZONES.match(path) and method == "GET":
        return [dict(zone) for zone in store.zones.values()]
    if m := ZONE.match(path):
        zone = m["zone"]
        if method == "GET":
            records = parse_qs(query).get("records", ["true"])[0] != "false"
            return store.zone_view(zone, with_records=records)
        if method == "PUT":
            return store.create_zone(zone, body)
        if method == "DELETE":
            return store.delete_zone(zone)
        raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
    if m := RECORD.match(path):
        zone, domain, rtype = m["zone"], m["domain"], m["type"].upper()
        if method == "GET":
            return store.record(zone, domain, rtype)
        if method == "PUT":
            return store.put_record(zone, domain, rtype, body)
        if method == "POST":
            return store.post_record(zone, domain, rtype, body)
        if method == "DELETE":
            return store.delete_record(zone, domain, rtype)
        raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
    raise ApiError(HTTPStatus.NOT_FOUND, "Not Found")


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "NSONE API v1 (dnsops stand-in)"

    def log_message(self, format: str, *args: Any) -> None:  # quiet; requests counted instead
        pass

    def setup(self) -> None:
        self.request.settimeout(30)
        self.request.do_handshake()
        super().setup()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with self.server.store.lock:
            self.server.requests.append((self.command, url.path))
            self.server.arrivals.append(time.monotonic())
        if self.headers.get("X-NSONE-Key") != self.server.api_key:
            self._reply(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"})
            return
        self._remaining = self.server.bucket.take() if self.server.bucket else 899
        if self._remaining < 0:
            self.server.limited += 1
            self._reply(HTTPStatus.TOO_MANY_REQUESTS, {"message": "rate limit exceeded"})
            return
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            self._reply(HTTPStatus.BAD_REQUEST, {"message": "invalid JSON in the request body"})
            return
        try:
            with self.server.store.lock:
                result = route(self.server.store, self.command, url.path, url.query, body)
        except ApiError as exc:
            self._reply(exc.status, {"message": exc.message})
            return
        self._reply(HTTPStatus.OK, result)

    do_GET = do_PUT = do_POST = do_DELETE = _handle

    def _reply(self, status: HTTPStatus, doc: Any) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        bucket = self.server.bucket
        limit, period = (bucket.limit, bucket.period) if bucket else (900, 300)
        for name, value in (("By", "customer"), ("Limit", limit), ("Period", period)):
            self.send_header(f"X-RateLimit-{name}", str(value))
        self.send_header("X-RateLimit-Remaining", str(max(0, getattr(self, "_remaining", 899))))
        self.end_headers()
        self.wfile.write(data)


class Bucket:
    """NS1's token bucket: ``limit`` tokens, refilled at ``limit / period`` per second."""

    def __init__(self, limit: int, period: int, tokens: int | None = None) -> None:
        self.limit, self.period = limit, period
        self.tokens = float(limit if tokens is None else tokens)
        self.at = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> int:
        """Take a token: the tokens left (-1: none was there, nothing taken)."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.limit, self.tokens + (now - self.at) * self.limit / self.period)
            self.at = now
            if self.tokens < 1:
                return -1
            self.tokens -= 1
            return int(self.tokens)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api_key: str) -> None:
        super().__init__(address, Handler)
        self.api_key = api_key
        self.store = Store()
        self.requests: list[tuple[str, str]] = []
        self.arrivals: list[float] = []
        self.bucket: Bucket | None = None
        self.limited = 0  # 429s answered


class Ns1StandIn:
    """The stand-in on ``address:port`` (0: any free port) over TLS, in a thread."""

    def __init__(self, address: str, api_key: str, port: int = 0) -> None:
        if not api_key:
            raise ValueError("the NS1 stand-in needs an API key to enforce")
        self.server = Server((address, port), api_key)
        self._tmp = tempfile.TemporaryDirectory(prefix="ns1-standin-")
        cert, key = self_signed(Path(self._tmp.name), address)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        # the TLS handshake happens in each connection's own thread (Handler.setup), so a
        # client that stalls or fails its handshake cannot hold up the accept loop
        self.server.socket = context.wrap_socket(
            self.server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def store(self) -> Store:
        return self.server.store

    def client_config(self) -> dict[str, Any]:
        """octodns-ns1's ``client_config`` for this stand-in (ns1-python wants a string port)."""
        return {"endpoint": self.address, "port": str(self.port), "ignore-ssl-errors": True}

    def reset(self) -> None:
        """Forget every zone and record (a fresh NS1 account, no rate limit)."""
        with self.store.lock:
            self.server.store = Store()
            self.server.requests.clear()
            self.server.arrivals.clear()
            self.server.bucket = None
            self.server.limited = 0

    def rate_limit(self, limit: int, period: int, tokens: int | None = None) -> None:
        """Limit requests as NS1 does: a bucket of ``limit`` tokens per ``period`` s
        (``tokens`` in it now: full by default)."""
        self.server.bucket = Bucket(limit, period, tokens)

    def start(self) -> Ns1StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
        self._tmp.cleanup()


def self_signed(directory: Path, address: str) -> tuple[Path, Path]:
    """A fresh EC key and a self-signed certificate for ``address`` (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ns1 stand-in")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    args = parser.parse_args()
    key = os.environ.get("NS1_API_KEY", "")
    if not key:
        parser.error("set NS1_API_KEY: the stand-in accepts only requests carrying that key")
    standin = Ns1StandIn(args.address, key, args.port).start()
    print(f"NS1 stand-in on https://{standin.address}:{standin.port}/v1 (Ctrl-C stops it)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
