"""Views read in forked child processes, so the audit uses both cores.

octoDNS's populate and a zone transfer are CPU work in Python (parsing 10k records);
in threads they would queue behind the source loading on one interpreter lock. Each job
runs in a child forked before any thread exists (it inherits the providers, nothing is
pickled on the way in) and sends back its result, compact views of canonical bytes,
through a pipe.

.. important:: start jobs from synchronous code with no running event loop and no other
   thread (forking copies a running loop broken and a held lock held forever).
"""

from __future__ import annotations

import gc
import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from dnsops.errors import DnsopsError

Progress = Callable[[str], None]


class WorkerError(DnsopsError):
    """An audit worker process died without a result."""


class Job:
    """One function running in a forked child; ``result()`` waits for its return value.

    The function's exceptions come back as a :class:`JobFailed` value, not raised: a
    provider that cannot be read is a finding, not a crash.
    """

    def __init__(self, name: str, fn: Callable[..., Any], *args: Any) -> None:
        self.name = name
        ctx = multiprocessing.get_context("fork")
        self._conn, writer = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(fn, args, writer), daemon=True)
        self._proc.start()
        writer.close()
        self._done = False
        self._value: Any = None
        self.messages: list[str] = []

    @property
    def conn(self) -> Connection:
        return self._conn

    def pump(self, progress: Progress) -> bool:
        """Read what the child sent (progress lines, the result); True once it is done."""
        while not self._done and self._conn.poll():
            try:
                kind, payload = self._conn.recv()
            except EOFError:
                self._finish(JobFailed(f"{self.name}: worker exited without a result"))
                break
            if kind == "progress":
                progress(payload)
            else:
                self._finish(payload)
        return self._done

    def _finish(self, value: Any) -> None:
        self._done = True
        self._value = value
        self._conn.close()
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()

    def result(self, progress: Progress, meanwhile: Sequence[Job] = ()) -> Any:
        """Wait for this job's value, reading the ``meanwhile`` jobs' pipes too.

        A child blocks on a full pipe (its progress lines) until someone reads it; a
        child blocked so while holding a zone-transfer slot of a server would stall every
        other job waiting for that slot, this one included: so every live job is read.
        """
        others = [job for job in meanwhile if job is not self]
        while not self.pump(progress):
            live = [job for job in others if not job._done]
            wait([self._conn, *(job._conn for job in live)])
            for job in live:
                job.pump(progress)
        return self._value

    def cancel(self) -> None:
        if not self._done:
            self._proc.kill()
            self._proc.join()
            self._conn.close()
            self._done = True


class JobFailed:
    """What a job returns when its function raised: the first line of the error."""

    def __init__(self, error: str) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"JobFailed({self.error!r})"


def _child(fn: Callable[..., Any], args: tuple[Any, ...], conn: Connection) -> None:
    # a short-lived child: the cyclic collector would only walk the inherited heap
    # (touching, so copying, its pages) to find next to nothing
    gc.disable()

    def progress(message: str) -> None:
        conn.send(("progress", message))

    try:
        value = fn(progress, *args)
    except Exception as exc:  # octoDNS providers raise anything: HTTP, DNS, auth errors
        text = str(exc).strip() or type(exc).__name__
        value = JobFailed(text.splitlines()[0])
    except BaseException:
        value = JobFailed(traceback.format_exc().strip().splitlines()[-1])
    try:
        conn.send(("result", value))
    finally:
        conn.close()
