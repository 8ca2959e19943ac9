"""Every Route 53 and NS1 API call dnsops makes through octoDNS is bounded: a rate
(Route 53: 5 requests per second per account; NS1: a cap under which its rate-limit
headers are followed) and a deadline per call.

Route 53 is moto_server behind a counting proxy (tests/fakes/proxy.py), NS1 the
stand-in (tests/fakes/ns1.py): both record when each request arrived, so the rates
asserted here are the ones the servers saw.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dnsops import octo
from tests.conftest import TEST_NET, make_project, reset_moto
from tests.fakes.ns1 import Ns1StandIn
from tests.fakes.proxy import CountingProxy, most_in_a_second
from tests.test_production_providers import Production, production_environ

PROXY_ADDRESS = f"{TEST_NET}.9.3"
# The proxy and the stand-in run in this process: the time they note a request's arrival
# can lag by up to ~0.1 s (threads, the GIL). Windows are measured 0.1 s short for that;
# dnsops's limiter keeps the same 10 % in hand against a real network's jitter.
SECOND = 0.9
EXTRA_ZONES = ("example2.test.", "example3.test.")


@pytest.fixture(scope="module")
def proxy(moto_server: str) -> Iterator[CountingProxy]:
    counting = CountingProxy(PROXY_ADDRESS, moto_server).start()
    try:
        yield counting
    finally:
        counting.stop()


@pytest.fixture
def bounded(
    tmp_path: Path,
    moto_server: str,
    proxy: CountingProxy,
    ns1_standin: Ns1StandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Production]:
    """Production (the repo's one zone), Route 53 reached through the counting proxy;
    every limiter starts afresh (a 429 of one test must not hold back the next)."""
    reset_moto(moto_server)
    ns1_standin.reset()
    proxy.reset()
    proxy.stall(False)
    octo.forget_limiters()
    root = make_project(tmp_path / "project")
    config = root / "config" / "production.yaml"
    data = yaml.safe_load(config.read_text())
    data["providers"]["ns1"]["client_config"] = ns1_standin.client_config()
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    for name, value in production_environ(proxy.url).items():
        monkeypatch.setenv(name, value)
    yield Production(root, proxy.url, ns1_standin, [])
    octo.forget_limiters()


SMALL_ZONE = """\
---
'':
  - ttl: 3600
    type: A
    value: 192.0.2.80
  - ttl: 3600
    type: AAAA
    value: 2001:db8::80
www:
  ttl: 3600
  type: CNAME
  value: {zone}
"""


def add_zones(prod: Production) -> None:
    """Two more zones of three records each (the repo's zone has twelve)."""
    for zone in EXTRA_ZONES:
        path = prod.root / "zones" / f"{zone[:-1]}.yaml"
        path.write_text(SMALL_ZONE.format(zone=zone))


def set_bounds(prod: Production, text: str) -> None:
    """Add a provider_api section to the production environment of dnsops.yaml."""
    path = prod.root / "dnsops.yaml"
    marker = "    providers: [route53, ns1]\n"
    body = path.read_text()
    assert marker in body
    path.write_text(body.replace(marker, marker + text))


def test_a_sync_of_three_zones_keeps_to_the_default_rates(
    bounded: Production, proxy: CountingProxy, cli: CliRunner
) -> None:
    add_zones(bounded)
    started = time.monotonic()
    result = bounded.cli(cli, "sync", "--env", "production", "--doit")
    assert result.exit_code == 0, result.output
    for provider in ("route53", "ns1"):
        assert f"{provider}: applied 18 change(s)" in result.output
    route53 = proxy.arrivals()
    ns1 = bounded.ns1.server.arrivals
    assert len(route53) > 5 and len(ns1) > 10  # enough requests for the bound to matter
    assert most_in_a_second(route53, SECOND) <= 5
    assert most_in_a_second(ns1, SECOND) <= 10
    assert time.monotonic() - started < 20


def test_the_rates_are_configurable(
    bounded: Production, proxy: CountingProxy, cli: CliRunner
) -> None:
    set_bounds(bounded, "    provider_api:\n      route53: {rate: 3}\n      ns1: {rate: 5}\n")
    result = bounded.cli(cli, "sync", "--env", "production", "--doit")
    assert result.exit_code == 0, result.output
    route53, ns1 = proxy.arrivals(), bounded.ns1.server.arrivals
    assert len(route53) > 3 and len(ns1) > 5
    assert most_in_a_second(route53, SECOND) <= 3
    assert most_in_a_second(ns1, SECOND) <= 5
    # paced, not merely lucky: n requests at 5 per 1.1 s take at least this long
    assert max(ns1) - min(ns1) >= (len(ns1) - 1) // 5 * 1.1 - 0.3


def test_ns1_rate_limit_headers_are_followed(bounded: Production, cli: CliRunner) -> None:
    """NS1's bucket holds 4 requests, refilled at 4 per second, below dnsops's own cap
    (10 per second): following the headers, dnsops never meets a 429 (without, this
    sync met about ten)."""
    bounded.ns1.rate_limit(4, 1)
    result = bounded.cli(cli, "sync", "--env", "production", "--doit")
    assert result.exit_code == 0, result.output
    assert "ns1: applied 12 change(s)" in result.output
    assert len(bounded.ns1.server.arrivals) > 12
    assert bounded.ns1.server.limited == 0


def test_a_call_ends_at_its_deadline(
    bounded: Production, proxy: CountingProxy, cli: CliRunner
) -> None:
    """Route 53 stops answering, NS1 answers 429 for five minutes: each call gives up at
    its deadline (2 s here) instead of waiting or retrying for ever."""
    set_bounds(
        bounded,
        "    provider_api:\n"
        "      route53: {deadline: 2, connect_timeout: 0.5, read_timeout: 0.5}\n"
        "      ns1: {deadline: 2}\n",
    )
    proxy.stall()
    bounded.ns1.rate_limit(1, 300, tokens=0)
    started = time.monotonic()
    result = bounded.cli(cli, "plan", "--env", "production")
    elapsed = time.monotonic() - started
    proxy.stall(False)
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "route53" in text and "ns1" in text
    assert "deadline" in text
    assert elapsed < 8, result.output


# --- the limiter itself ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_limiter_never_lets_more_than_the_rate_into_a_window() -> None:
    clock = Clock()
    limiter = octo.Limiter(5, clock=clock)
    slots = [limiter.slot() for _ in range(12)]
    assert slots[:5] == [100.0] * 5  # five at once, then the next five a window later
    assert slots[5:10] == [pytest.approx(101.1)] * 5
    assert most_in_a_second(slots) == 5
    with pytest.raises(octo.ApiDeadlineExceeded):
        limiter.slot(deadline=101.5)  # the next slot is at 102.2


def test_limiter_fractional_rate_and_hold() -> None:
    clock = Clock()
    half = octo.Limiter(0.5, clock=clock)
    assert [half.slot() for _ in range(3)] == [100.0, pytest.approx(102.2), pytest.approx(104.4)]
    limiter = octo.Limiter(10, clock=clock)
    limiter.hold(103.0)
    assert limiter.slot() == 103.0


def test_limiters_are_shared_per_account_and_never_keep_the_key() -> None:
    one = octo.limiter("ns1", "secret-key-1", 10)
    assert octo.limiter("ns1", "secret-key-1", 10) is one
    assert octo.limiter("ns1", "secret-key-2", 10) is not one
    assert not any("secret-key" in str(k) for k in octo._LIMITERS)


def test_ns1_client_config_keeps_what_the_user_set() -> None:
    from dnsops.config import ProviderApis

    config: dict[str, Any] = {
        "providers": {
            "ns1": {"class": "octodns_ns1.Ns1Provider", "client_config": {"timeout": 3}},
            "r53": {"class": "octodns_route53.Route53Provider"},
        }
    }
    out = octo.bounded_ns1_config(config, ProviderApis().ns1)
    assert config["providers"]["ns1"]["client_config"] == {"timeout": 3}  # not modified
    assert out["providers"]["ns1"]["client_config"] == {
        "timeout": 3,
        "transport": "dnsops-bounded",
        "dnsops_bounds": {"rate": 10.0, "deadline": 60.0},
    }
    assert out["providers"]["r53"] == config["providers"]["r53"]
