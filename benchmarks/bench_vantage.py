"""SSH vantages vs asking from here: the same questions, the same servers (printed as ratios).

Starts its own lab (PowerDNS, BIND, unbound) and two loopback sshd "hosts" (the
test helper tests/sshd.py: keys made for the run, nothing under ~/.ssh), syncs
the example zone, then asks ``--queries`` questions (the zone's RRsets, round
robin, at the four nameservers) three ways: the probe engine from here, one SSH
vantage (the stdlib probe over one session), two SSH vantages at once (the
batch split between them). Also the cost of a session itself: one question.
Everything runs on this machine, so the figures are the overhead of the SSH
path (session set-up, the probe's thread pool, JSON lines), not network
distance. Needs root (the lab binds port 53).

    .venv/bin/python -m benchmarks.bench_vantage --queries 5000 --runs 3

Writes the same figures as JSON to benchmarks/out/bench_vantage.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dnsops.config import Project, load_project
from dnsops.env import Env
from dnsops.lab.runner import LabRunner
from dnsops.probe import Engine
from dnsops.vantage import check as checker
from dnsops.vantage import plan, registry
from dnsops.vantage.base import VantageRun
from dnsops.zones import load_zones
from tests.conftest import free_port, make_project
from tests.sshd import SshLab, missing
from tests.test_lab import sync_lab

NET = "127.169"  # a lab of its own, away from the demo's and the tests'


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    reason = missing()
    if reason:
        raise SystemExit(reason)
    with tempfile.TemporaryDirectory(prefix="bench-vantage-") as tmp:
        root = make_project(Path(tmp) / "project", NET)
        lab = SshLab(Path(tmp) / "ssh")
        hosts = {"bench-a": f"{NET}.8.1", "bench-b": f"{NET}.8.2"}
        lab.start(hosts, free_port(hosts["bench-a"]))
        text = (root / "dnsops.yaml").read_text()
        vantages = "".join(
            f"      - {{kind: ssh, name: {a}, region: r, host: {a}, ssh_config: "
            f"{lab.ssh_config}, resolver: null, nameservers: true, concurrency: 64}}\n"
            for a in hosts
        )
        text = text.replace("  production:\n", f"    vantages:\n{vantages}\n  production:\n", 1)
        (root / "dnsops.yaml").write_text(text)
        project = load_project(root / "dnsops.yaml")
        runner = LabRunner(project)
        runner.up()
        try:
            figures = measure(project, args.queries, args.runs)
        finally:
            runner.down()
            lab.stop()
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_vantage.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


def measure(project: Project, n: int, runs: int) -> dict[str, object]:
    sync_lab(project)
    _, env = project.lab_environment()
    recs = plan.wanted(load_zones(project, env), env.providers)
    a, b = registry.build(project, env, ["bench-a", "bench-b"], engine=Engine())
    base = plan.queries_for(a, recs, checker.nameservers_of(Env(project), ["example.test."]))
    queries = [base[i % len(base)] for i in range(n)]

    def direct() -> None:
        results = asyncio.run(Engine().run(queries))
        assert all(r.matched for r in results)

    def one() -> None:
        check_runs(registry.gather({a: queries}))

    def two() -> None:
        check_runs(registry.gather({a: queries[: n // 2], b: queries[n // 2 :]}))

    def session() -> None:
        check_runs(registry.gather({a: queries[:1]}))

    t_direct, t_one, t_two = timed(direct, runs), timed(one, runs), timed(two, runs)
    t_session = timed(session, max(3, runs))
    med = statistics.median
    return {
        "queries": n,
        "runs": runs,
        "direct_s": round(med(t_direct), 3),
        "one_ssh_vantage_s": round(med(t_one), 3),
        "two_ssh_vantages_s": round(med(t_two), 3),
        "session_of_one_query_s": round(med(t_session), 3),
        "direct_qps": round(n / med(t_direct)),
        "one_ssh_vantage_qps": round(n / med(t_one)),
        "two_ssh_vantages_qps": round(n / med(t_two)),
        "ratio_one_ssh_to_direct": round(med(t_one) / med(t_direct), 2),
    }


def check_runs(runs: Sequence[VantageRun]) -> None:
    for run in runs:
        assert run.ok, run.problem
        assert all(o.result.matched for o in run.observations)


if __name__ == "__main__":
    main()
