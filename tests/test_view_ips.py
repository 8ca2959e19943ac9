"""RecordView.ip_ints (what CIDR selectors test) reads addresses as ipaddress does."""

from __future__ import annotations

import ipaddress

import pytest

from dnsops.lint.view import _ip_int


@pytest.mark.parametrize(
    "text",
    [
        "192.0.2.1",
        "0.0.0.0",
        "255.255.255.255",
        "2001:db8::1",
        "2001:DB8:0:0:0:0:0:1",
        "::",
        "::ffff:192.0.2.1",
        "::192.0.2.1",
        "fe80::1%lo",
    ],
)
def test_same_as_ipaddress(text: str) -> None:
    ip = ipaddress.ip_address(text)
    assert _ip_int(text) == (ip.version, int(ip))


@pytest.mark.parametrize("text", ["192.0.2.010", "192.0.2", "1.2.3.4.5", "2001:db8:::1", "x"])
def test_what_ipaddress_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ipaddress.ip_address(text)
    with pytest.raises(ValueError):
        _ip_int(text)
