"""The audit's zone-transfer reader against a small TCP server of hand-built replies:
signed, multi-message, tampered, unsigned, cut short. No lab needed."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring
import pytest

from dnsops.audit.axfr import TransferFailed, TsigKey, transfer
from tests.conftest import TEST_NET

ZONE = "x.test."
KEY = TsigKey("xfr-key", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw==")
RING = dns.tsigkeyring.from_text({KEY.name: KEY.secret})
SOA = dns.rrset.from_text(ZONE, 3600, "IN", "SOA", "ns1.x.test. h.x.test. 7 3600 600 86400 60")
BODY = [
    dns.rrset.from_text("www.x.test.", 300, "IN", "A", "192.0.2.1", "192.0.2.2"),
    dns.rrset.from_text("Mail.X.test.", 300, "IN", "MX", "10 MX1.x.test."),
    dns.rrset.from_text("t.x.test.", 60, "IN", "TXT", '"v=spf1" " -all"'),
]
Replies = Callable[[dns.message.Message], list[bytes]]


def signed(query: dns.message.Message, sections: list[list[dns.rrset.RRset]]) -> list[bytes]:
    """One reply message per section list, each signed and chained as AXFR wants."""
    out, ctx = [], None
    for answer in sections:
        reply = dns.message.make_response(query)
        reply.answer = answer
        out.append(reply.to_wire(multi=True, tsig_ctx=ctx))
        ctx = reply.tsig_ctx
    return out


@pytest.fixture
def server() -> Iterator[Callable[[Replies], int]]:
    """serve(replies) -> port: answer one AXFR connection with replies(query)."""
    sock = socket.create_server((f"{TEST_NET}.9.3", 0))
    threads = []

    def serve(replies: Replies) -> int:
        def run() -> None:
            conn, _ = sock.accept()
            with conn:
                (n,) = struct.unpack("!H", conn.recv(2))
                wire = b""
                while len(wire) < n:
                    wire += conn.recv(n - len(wire))
                query = dns.message.from_wire(wire, keyring=RING)
                for message in replies(query):
                    conn.sendall(struct.pack("!H", len(message)) + message)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        threads.append(t)
        return int(sock.getsockname()[1])

    yield serve
    sock.close()
    for t in threads:
        t.join(timeout=5)


def fetch(port: int, key: TsigKey | None = KEY) -> dict[tuple[str, str], tuple[int, int]]:
    view = transfer(f"{TEST_NET}.9.3", ZONE, key, port=port, timeout=5)
    return {k: (v.ttl, len(v.values)) for k, v in view.items()}


def test_a_signed_transfer_over_several_messages(server: Callable[[Replies], int]) -> None:
    port = server(lambda q: signed(q, [[SOA, BODY[0]], [BODY[1]], [BODY[2], SOA]]))
    assert fetch(port) == {
        ("x.test.", "SOA"): (3600, 1),
        ("www.x.test.", "A"): (300, 2),
        ("mail.x.test.", "MX"): (300, 1),  # owner names lower-cased
        ("t.x.test.", "TXT"): (60, 1),
    }


def test_values_are_canonical(server: Callable[[Replies], int]) -> None:
    port = server(lambda q: signed(q, [[SOA, *BODY, SOA]]))
    view = transfer(f"{TEST_NET}.9.3", ZONE, KEY, port=port, timeout=5)
    assert view[("mail.x.test.", "MX")].texts("MX") == ["10 mx1.x.test."]
    assert view[("t.x.test.", "TXT")].texts("TXT") == ['"v=spf1 -all"']  # chunks joined


def test_a_tampered_message_is_refused(server: Callable[[Replies], int]) -> None:
    def tampered(q: dns.message.Message) -> list[bytes]:
        first, last = signed(q, [[SOA, BODY[0]], [SOA]])
        i = first.index(bytes([192, 0, 2, 1]))
        return [first[:i] + bytes([192, 0, 2, 66]) + first[i + 4 :], last]

    with pytest.raises(TransferFailed, match="TSIG"):
        fetch(server(tampered))


def test_an_unsigned_reply_to_a_signed_request_is_refused(
    server: Callable[[Replies], int],
) -> None:
    def unsigned(q: dns.message.Message) -> list[bytes]:
        reply = dns.message.Message(id=q.id)  # no TSIG at all
        reply.flags = dns.flags.QR | dns.flags.AA
        reply.question = q.question
        reply.answer = [SOA, BODY[0], SOA]
        return [reply.to_wire()]

    with pytest.raises(TransferFailed, match="not signed"):
        fetch(server(unsigned))


def test_the_last_message_must_be_signed(server: Callable[[Replies], int]) -> None:
    def unsigned_end(q: dns.message.Message) -> list[bytes]:
        (first,) = signed(q, [[SOA, BODY[0]]])
        end = dns.message.Message(id=q.id)
        end.flags = dns.flags.QR | dns.flags.AA
        end.answer = [SOA]
        return [first, end.to_wire()]

    with pytest.raises(TransferFailed, match="last message of the transfer is not signed"):
        fetch(server(unsigned_end))


def test_a_refusal_names_the_rcode(server: Callable[[Replies], int]) -> None:
    def refuse(q: dns.message.Message) -> list[bytes]:
        reply = dns.message.make_response(q)
        reply.set_rcode(dns.rcode.REFUSED)
        return [reply.to_wire()]

    with pytest.raises(TransferFailed, match=r"^REFUSED$"):
        fetch(server(refuse))


def test_a_transfer_cut_short_is_an_error(server: Callable[[Replies], int]) -> None:
    port = server(lambda q: signed(q, [[SOA, BODY[0]]]))
    with pytest.raises(TransferFailed, match="connection closed"):
        fetch(port)


def test_a_transfer_must_start_with_the_soa(server: Callable[[Replies], int]) -> None:
    port = server(lambda q: signed(q, [[BODY[0], SOA]]))
    with pytest.raises(TransferFailed, match="does not start with the zone's SOA"):
        fetch(port)


def test_the_secret_is_not_in_the_key_repr() -> None:
    assert KEY.secret not in repr(KEY)
