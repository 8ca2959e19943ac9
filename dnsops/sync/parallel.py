"""Plan each provider in a forked process, so two providers plan on two cores.

Threads share one interpreter lock, and planning a large zone is mostly Python
work (octoDNS turning an AXFR or an API listing into records, then diffing): in
threads the two providers of an environment take turns. Forked workers plan in
parallel from the zones and providers the parent already built (inherited, not
copied or loaded again), while the parent does its own share of the work.

A worker sends back plain data (plan models, octoDNS plan data), never octoDNS
objects: what it computes can be shown and saved, not applied.

.. important:: a worker never writes through the parent's ``sys.stdout`` /
   ``sys.stderr`` objects: a parent thread (a progress spinner) may have held
   their locks at the instant of the fork. It gets new file objects on the same
   descriptors, and so do the logging handlers that wrote to the old ones.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # multiprocessing is imported when a plan forks, not for every plan
    from multiprocessing.connection import Connection

T = TypeVar("T")
M = TypeVar("M")
Say = Callable[[str], None]

MIN_RECORDS = 2000  # below this, forking saves less than it costs: threads


def _multiprocessing() -> Any:
    import multiprocessing

    return multiprocessing


def worthwhile(providers: int, records: int) -> bool:
    """Whether planning ``providers`` providers of ``records`` records in all should fork."""
    return (
        providers > 1
        and (os.cpu_count() or 1) > 1
        and records >= MIN_RECORDS
        and "fork" in _multiprocessing().get_all_start_methods()
    )


class Outcome(Generic[T]):
    """A worker's value, or why it has none (the worker raised, or died)."""

    def __init__(self, value: T | None = None, error: str | None = None) -> None:
        self.value = value
        self.error = error


def run_each(
    names: Sequence[str],
    work: Callable[[str, Say], T],
    say: Say,
    meanwhile: Callable[[], M],
) -> tuple[dict[str, Outcome[T]], M]:
    """``work(name, say)`` for every name, each in a forked process; ``meanwhile()`` here.

    ``work``'s messages to ``say`` are passed on to this process's ``say``; its
    value must pickle. Never raises for a worker's failure: see :class:`Outcome`.
    """
    ctx = _multiprocessing().get_context("fork")
    # Objects the workers inherit stay out of the collector's sight: its passes would
    # otherwise touch (and so copy, page by page) the whole inherited heap in each.
    gc.freeze()
    conns: dict[Connection, str] = {}
    procs: dict[str, Any] = {}
    for name in names:
        reader, writer = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(work, name, writer), daemon=True)
        proc.start()
        writer.close()
        conns[reader] = name
        procs[name] = proc
    try:
        extra = meanwhile()
        outcomes = _collect(conns, say)
    finally:
        gc.unfreeze()
        for proc in procs.values():
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()
    for name, proc in procs.items():
        if name not in outcomes:
            outcomes[name] = Outcome(error=f"its planning process exited with code {proc.exitcode}")
    return outcomes, extra


def _collect(conns: dict[Connection, str], say: Say) -> dict[str, Outcome[Any]]:
    from multiprocessing.connection import Connection, wait

    outcomes: dict[str, Outcome[Any]] = {}
    open_conns = list(conns)
    while open_conns:
        for conn in wait(open_conns):
            assert isinstance(conn, Connection)
            name = conns[conn]
            try:
                kind, payload = conn.recv()
            except EOFError:
                open_conns.remove(conn)
                continue
            if kind == "say":
                say(payload)
            elif kind == "done":
                outcomes[name] = Outcome(value=payload)
            else:
                outcomes[name] = Outcome(error=payload)
    return outcomes


def _worker(work: Callable[[str, Say], Any], name: str, conn: Connection) -> None:
    try:
        _fresh_std_streams()
        result = work(name, lambda message: conn.send(("say", message)))
        conn.send(("done", result))
    except BaseException as exc:  # reported to the parent, which decides
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        conn.send(("error", f"its planning process failed: {last}"))
    finally:
        conn.close()


def _fresh_std_streams() -> None:
    """New file objects for stdout/stderr (see the module's note); logging follows them."""
    swapped: dict[int, Any] = {}
    for attr in ("stdout", "stderr"):
        old = getattr(sys, attr)
        try:
            fd = old.fileno()
        except (AttributeError, OSError, ValueError):
            continue  # not a real file (captured by a test runner): nothing shared
        new = open(fd, "w", buffering=1, closefd=False, errors="backslashreplace")  # noqa: SIM115
        setattr(sys, attr, new)
        swapped[id(old)] = new
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in swapped:
                handler.stream = swapped[id(handler.stream)]  # not setStream: it flushes the old
