"""Spread a large batch of queries over worker processes (both cores).

One asyncio loop tops out near 15-20k queries/s here, most of it spent in the
kernel's send path and in Python per reply; a second process adds to that
when a core is free (``workers_for``). Workers are forked (they inherit the queries, nothing is
pickled on the way in), each asks an interleaved share of the queries with
``concurrency`` and ``qps`` divided between them, and sends back compact
tuples: the raw reply only for queries that did not match their Expected
answer. Small batches run in-process.

.. important:: call ``run`` from synchronous code (no running event loop):
   forking a process that runs a loop hands the child a broken copy of it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from dnsops.probe.engine import Engine, ProbeError, Progress
from dnsops.probe.model import Query, Result

MIN_PER_WORKER = 2000  # below this, forking costs more than it saves

_Row = tuple[
    int | None, int, float | None, str | None, str, int, bytes | None, bool | None, int | None
]


def workers_for(count: int, workers: int | None = None) -> int:
    """How many processes ``count`` queries get: ``workers``, or the idle cores.

    By default a core busy with something else (1-minute load average) is not
    counted: on a loaded machine a second process only competes with the first
    (and with local servers: measured 11k vs 8k queries/s at load 5 on 2 cores).
    """
    if workers is None:
        cpus = os.cpu_count() or 1
        workers = max(1, cpus - int(os.getloadavg()[0]))
    return max(1, min(workers, count // MIN_PER_WORKER))


def run(
    queries: Sequence[Query],
    engine: Engine,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[Result]:
    """``engine.run(queries)``, on several processes when the batch is large."""
    n = workers_for(len(queries), workers)
    if n <= 1:
        return asyncio.run(engine.run(queries, progress))
    share = Engine(
        concurrency=max(1, engine.concurrency // n),
        qps=engine.qps / n if engine.qps else None,
        timeout=engine.timeout,
        retries=engine.retries,
        tcp_fallback=engine.tcp_fallback,
        rcvbuf=engine.rcvbuf,
    )
    ctx = multiprocessing.get_context("fork")
    conns: dict[Connection, int] = {}
    procs = []
    for k in range(n):
        reader, writer = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(queries, k, n, share, writer), daemon=True)
        proc.start()
        writer.close()
        conns[reader] = k
        procs.append(proc)
    try:
        rows = _collect(conns, len(queries), progress)
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    results: list[Result] = []
    for i, q in enumerate(queries):
        rcode, flags, latency, error, transport, attempts, data, matched, ttl = rows[i % n][i // n]
        results.append(
            Result(q, rcode, flags, latency, error, transport, attempts, data, matched, ttl)
        )
    return results


def _collect(
    conns: dict[Connection, int], total: int, progress: Progress | None
) -> dict[int, list[_Row]]:
    done = dict.fromkeys(conns.values(), 0)
    rows: dict[int, list[_Row]] = {}
    open_conns = list(conns)
    while open_conns:
        for conn in wait(open_conns, timeout=0.2):
            assert isinstance(conn, Connection)
            k = conns[conn]
            try:
                kind, payload = conn.recv()
            except EOFError:
                open_conns.remove(conn)
                if k not in rows:
                    raise ProbeError(f"probe worker {k} exited without results") from None
                continue
            if kind == "progress":
                done[k] = payload
                if progress is not None:
                    progress(sum(done.values()), total)
            elif kind == "rows":
                rows[k] = payload
            else:
                raise ProbeError(f"probe worker {k} failed:\n{payload}")
    return rows


def _worker(queries: Sequence[Query], k: int, n: int, engine: Engine, conn: Connection) -> None:
    try:
        mine = queries[k::n]
        last = [0.0]

        def progress(done: int, _total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.1 or done == len(mine):
                last[0] = now
                conn.send(("progress", done))

        results = asyncio.run(engine.run(mine, progress))
        rows: list[Any] = [
            (
                r.rcode,
                r.flags,
                r.latency,
                r.error,
                r.transport,
                r.attempts,
                None if r.matched else r.wire,
                r.matched,
                r.ttl,
            )
            for r in results
        ]
        conn.send(("rows", rows))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()
