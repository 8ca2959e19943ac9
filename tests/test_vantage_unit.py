"""The vantage layer without SSH or Atlas: the stdlib probe, commands, config, summaries."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.rrset
import pytest

from dnsops.config import AtlasVantage as AtlasConfig
from dnsops.config import SshVantage as SshConfig
from dnsops.config import load_project
from dnsops.errors import ConfigError
from dnsops.probe import Engine, Query, Result, Target, wire
from dnsops.vantage import remote_probe
from dnsops.vantage.atlas_plan import estimate
from dnsops.vantage.base import HOST_RESOLVER, Observation, Origin
from dnsops.vantage.ssh import classify, program, ssh_command
from dnsops.vantage.summary import percentile, summarise
from tests.conftest import LAB_RESOLVERS, TEST_NET, free_port, make_project

ADDRESS = f"{TEST_NET}.8.20"


class Responder:
    """A tiny DNS server for the probe: UDP and TCP on one port, in threads.

    ``big.example.test.`` is truncated over UDP (the probe must ask again over
    TCP); every UDP reply is preceded by a datagram with a wrong ID (ignored).
    """

    def __init__(self) -> None:
        self.port = free_port(ADDRESS)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((ADDRESS, self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((ADDRESS, self.port))
        self.tcp.listen(8)
        self.seen: list[dns.message.Message] = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for t in self.threads:
            t.start()

    def answer(self, query: dns.message.Message, tcp: bool) -> dns.message.Message:
        self.seen.append(query)
        r = dns.message.make_response(query)
        name = query.question[0].name.to_text()
        if name == "big.example.test." and not tcp:
            r.flags |= dns.flags.TC
            return r
        r.answer.append(dns.rrset.from_text(name, 300, "IN", "A", "192.0.2.1"))
        return r

    def _serve_udp(self) -> None:
        self.udp.settimeout(0.2)
        while not self.stop.is_set():
            try:
                data, peer = self.udp.recvfrom(4096)
            except OSError:
                continue
            q = dns.message.from_wire(data)
            reply = self.answer(q, tcp=False).to_wire()
            bogus = struct.pack("!H", (q.id + 1) & 0xFFFF) + reply[2:]
            self.udp.sendto(bogus, peer)
            self.udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        self.tcp.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                size = struct.unpack("!H", conn.recv(2))[0]
                data = b""
                while len(data) < size:
                    data += conn.recv(size - len(data))
                reply = self.answer(dns.message.from_wire(data), tcp=True).to_wire()
                conn.sendall(struct.pack("!H", len(reply)) + reply)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def responder() -> Iterator[Responder]:
    r = Responder()
    try:
        yield r
    finally:
        r.close()


def run_probe(queries: list[Query], engine: Engine | None = None) -> list[dict[str, object]]:
    """The SSH probe exactly as an SSH host runs it (``python3 -``), minus SSH."""
    import json

    prog = program(queries, engine or Engine(timeout=1.0, retries=0), 4)
    done = subprocess.run(
        [sys.executable, "-"], input=prog, capture_output=True, check=True, timeout=30
    )
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def test_probe_encodes_queries_and_falls_back_to_tcp(responder: Responder) -> None:
    t = Target(ADDRESS, responder.port)
    queries = [
        Query.make(t, "www.example.test.", "A", rd=True),
        Query.make(t, "big.example.test.", "A", edns=None),
        Query.make(t, "tcp.example.test.", "A", tcp=True),
    ]
    lines = run_probe(queries)
    assert list(lines[0]) == ["hello"]
    assert set(lines[0]["hello"]) == {"host", "python", "resolvers", "pid"}
    assert lines[-1]["done"] == 3
    answers = sorted((ln for ln in lines[1:-1]), key=lambda ln: ln["i"])
    assert [(a["i"], a["transport"], a["attempts"], a["error"], a["rcode"]) for a in answers] == [
        (0, "udp", 1, None, 0),
        (1, "tcp", 1, None, 0),
        (2, "tcp", 1, None, 0),
    ]
    # what the server saw: the probe's own encoding, parsed by dnspython
    by_name = {}
    for m in responder.seen:
        by_name.setdefault(m.question[0].name.to_text(), []).append(m)
    www = by_name["www.example.test."][0]
    assert (www.flags & dns.flags.RD, www.edns, www.payload) == (dns.flags.RD, 0, 1232)
    assert [m.edns for m in by_name["big.example.test."]] == [-1, -1]  # UDP, then TCP
    assert by_name["big.example.test."][0].flags & dns.flags.RD == 0
    # the reply travels back byte for byte and is judged like the engine's own
    import base64

    reply = dns.message.from_wire(base64.b64decode(str(answers[1]["wire"])))
    assert reply.answer[0].to_text() == "big.example.test. 300 IN A 192.0.2.1"


def test_probe_errors_are_lines_not_crashes() -> None:
    port = free_port(ADDRESS)  # nothing listens there
    queries = [
        Query.make(Target(ADDRESS, port), "a.example.test.", "A"),
        Query.make(Target(HOST_RESOLVER, 53), "b.example.test.", "A", rd=True),
    ]
    lines = run_probe(queries)
    answers = sorted((ln for ln in lines if "i" in ln), key=lambda ln: ln["i"])
    assert answers[0]["error"] == "connection refused"
    assert "wire" not in answers[0]
    # "system" is the host's first resolv.conf nameserver
    resolvers = remote_probe.system_resolvers()
    assert answers[1]["server"] == (resolvers[0] if resolvers else HOST_RESOLVER)


def test_system_resolvers_and_empty_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# comment\nsearch example.test\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\n"
    )
    assert remote_probe.system_resolvers(str(conf)) == ["10.0.0.53", "fe80::1"]
    assert remote_probe.system_resolvers(str(tmp_path / "missing")) == []
    spec = [0, "system", 53, "AA==", 1, True, 0, 1232, False]
    assert remote_probe.ask(spec, [], 1.0, 0) == {
        "i": 0,
        "server": "system",
        "attempts": 0,
        "error": "no nameserver in /etc/resolv.conf",
    }


def test_encode_name() -> None:
    assert remote_probe.encode_name("www.example.test.") == b"\x03www\x07example\x04test\x00"
    assert remote_probe.encode_name(".") == b"\x00"
    with pytest.raises(ValueError, match="empty label"):
        remote_probe.encode_name("a..b.")


def test_ssh_command_never_prompts() -> None:
    cfg = SshConfig(
        kind="ssh",
        name="lhr-ssh",
        region="eu-west",
        host="probe-lhr",
        user="probe",
        port=2222,
        jump="bastion",
        ssh_config="ssh/config",
        connect_timeout=4,
    )
    assert ssh_command(cfg, Path("/repo")) == [
        "ssh",
        "-T",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=4",
        "-o",
        "ServerAliveInterval=5",
        "-o",
        "ServerAliveCountMax=3",
        "-o",
        "LogLevel=ERROR",
        "-F",
        "/repo/ssh/config",
        "-p",
        "2222",
        "-l",
        "probe",
        "-J",
        "bastion",
        "--",
        "probe-lhr",
        "python3",
        "-",
    ]


@pytest.mark.parametrize(
    ("code", "stderr", "hello", "expected"),
    [
        (
            255,
            "ssh: connect to host 10.1.1.1 port 22: Connection refused\n",
            False,
            (
                "unreachable",
                "connection refused: ssh: connect to host 10.1.1.1 port 22: Connection refused",
            ),
        ),
        (
            255,
            "ssh: connect to host 10.1.1.1 port 22: Connection timed out\n",
            False,
            (
                "unreachable",
                "connection timed out: ssh: connect to host 10.1.1.1 port 22: Connection timed out",
            ),
        ),
        (
            255,
            "probe@h: Permission denied (publickey,password).\n",
            False,
            (
                "unreachable",
                "authentication failed (permission denied): probe@h: Permission "
                "denied (publickey,password).",
            ),
        ),
        (
            255,
            "Host key verification failed.\n",
            False,
            ("unreachable", "host key verification failed: Host key verification failed."),
        ),
        (
            127,
            "bash: line 1: python3: command not found\n",
            False,
            ("error", "no Python on the host (bash: line 1: python3: command not found)"),
        ),
        (
            1,
            "Traceback...\nMemoryError\n",
            True,
            ("error", "the session ended early (ssh exit 1): MemoryError"),
        ),
    ],
)
def test_classify(code: int, stderr: str, hello: bool, expected: tuple[str, str]) -> None:
    assert classify(code, stderr, hello) == expected


def write_vantages(tmp_path: Path, text: str) -> Path:
    root = make_project(tmp_path / "p")
    path = root / "dnsops.yaml"
    path.write_text(path.read_text().replace("  production:\n", text + "\n  production:\n"))
    return path


def test_config_errors_name_file_line_and_key(tmp_path: Path) -> None:
    path = write_vantages(
        tmp_path,
        """    vantages:
      - {kind: ssh, name: a-ssh, region: r, host: h, resolver: null}
      - kind: ripe-atlas
        name: atlas
        region: eu
        probes: [{type: country, value: de, requested: 3}]
        api_key: secret-in-the-file
      - {kind: carrier-pigeon, name: p, region: r}""",
    )
    with pytest.raises(ConfigError) as exc:
        load_project(path)
    text = exc.value.message
    lines = path.read_text().splitlines()
    ssh = lines.index("      - {kind: ssh, name: a-ssh, region: r, host: h, resolver: null}") + 1
    assert text.splitlines() == [
        f"{path}:{ssh}: environments.lab.vantages.0.ssh: Value error, an ssh vantage asks its "
        "resolver, the nameservers, or both",
        f"{path}:{ssh + 1}: environments.lab.vantages.1.ripe-atlas.probes.0: Value error, "
        "country 'de': an ISO 3166 two-letter code in capitals (DE, JP)",
        f"{path}:{ssh + 1}: environments.lab.vantages.1.ripe-atlas.max_credits: Field required",
        f"{path}:{ssh + 1}: environments.lab.vantages.1.ripe-atlas.api_key: unknown key",
        f"{path}:{ssh + 6}: environments.lab.vantages.2: Input tag 'carrier-pigeon' found using "
        "'kind' does not match any of the expected tags: 'resolver', 'ssh', 'ripe-atlas'",
    ]
    assert "secret-in-the-file" not in text


def test_vantage_names_are_unique_across_resolvers(tmp_path: Path) -> None:
    path = write_vantages(
        tmp_path, "    vantages:\n      - {kind: ssh, name: iad, region: r, host: h}"
    )
    with pytest.raises(ConfigError, match=r"duplicate resolver/vantage name\(s\): iad"):
        load_project(path)


def test_existing_resolvers_keep_working(tmp_path: Path) -> None:
    path = write_vantages(
        tmp_path,
        "    vantages:\n      - {kind: resolver, name: extra, address: 192.0.2.53, region: r}",
    )
    _, env = load_project(path).environment("lab")
    assert [(v.name, v.kind) for v in env.all_vantages] == [
        *((r, "resolver") for r in LAB_RESOLVERS),
        ("extra", "resolver"),
    ]


def atlas_cfg(**over: object) -> AtlasConfig:
    base: dict[str, object] = {
        "kind": "ripe-atlas",
        "name": "a",
        "region": "eu",
        "probes": [
            {"type": "country", "value": "DE", "requested": 10},
            {"type": "asn", "value": "AS3320", "requested": 5},
        ],
        "max_credits": 5000,
    }
    return AtlasConfig.model_validate({**base, **over})


def test_estimate_counts_every_probe_and_question() -> None:
    t = Target(HOST_RESOLVER)
    qs = [Query.make(t, "a.example.", "A"), Query.make(t, "b.example.", "A", tcp=True)]
    cost = estimate(atlas_cfg(), qs)
    # 15 probes; UDP 10 and TCP 20 credits a result, one-off x2
    assert (cost.probes, cost.measurements, cost.credits, cost.within_budget) == (15, 2, 900, True)
    assert not estimate(atlas_cfg(max_credits=899), qs).within_budget
    assert estimate(atlas_cfg(protocol="TCP"), qs[:1]).credits == 600


def test_percentiles_and_summaries() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 95) == 5.0
    q = Query.make(
        Target("192.0.2.1"), "a.example.", "A", expect=wire.expected("A", 60, ["192.0.2.9"])
    )
    obs = [
        Observation(
            "v",
            "ripe-atlas",
            "eu",
            Result(q, rcode=0, matched=True, latency=0.010),
            Origin(country="DE", asn=1),
        ),
        Observation(
            "v",
            "ripe-atlas",
            "eu",
            Result(q, rcode=0, matched=False, latency=0.030),
            Origin(country="DE", asn=2),
        ),
        Observation("v", "ripe-atlas", "eu", Result(q, error="timeout"), Origin(country="FR")),
    ]
    [de, fr] = summarise(obs, "country")
    assert (de.key, de.answers, de.matched, de.mismatched, de.failed, de.p50_ms, de.p95_ms) == (
        "DE",
        2,
        1,
        1,
        0,
        10.0,
        30.0,
    )
    assert (fr.key, fr.failed, fr.success, fr.p50_ms) == ("FR", 1, 0.0, None)
    assert [s.key for s in summarise(obs, "asn")] == ["AS1", "AS2", "unknown"]


def test_the_commented_production_example_is_valid(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    path = root / "dnsops.yaml"
    lines = path.read_text().splitlines()
    start = lines.index("    # vantages:")
    block = []
    for line in lines[start:]:
        if not line.startswith("    #"):
            break
        block.append(line)
    # uncomment: drop "# " and the trailing comments after values
    text = "\n".join("    " + ln[len("    # ") :] for ln in block)
    lines[start : start + len(block)] = [text]
    path.write_text("\n".join(lines) + "\n")
    _, env = load_project(path).environment("production")
    assert [(v.name, v.kind, v.region) for v in env.vantages] == [
        ("lhr-ssh", "ssh", "eu-west"),
        ("nrt-ssh", "ssh", "ap-northeast"),
        ("atlas-eu", "ripe-atlas", "europe"),
    ]
    atlas = env.vantages[2]
    assert isinstance(atlas, AtlasConfig)
    assert (atlas.requested, atlas.max_credits, atlas.api_key_env) == (
        13,
        5000,
        "RIPE_ATLAS_API_KEY",
    )


def test_the_probe_is_stdlib_only_and_old_python_syntax() -> None:
    import ast

    source = Path(remote_probe.__file__).read_text()
    tree = ast.parse(source, feature_version=(3, 7))  # hosts may run an old python3
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == set()  # nothing to install there
