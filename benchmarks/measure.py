"""Timing primitives of the harness: one process run, rounds of alternating runs, medians.

Every command is measured as users run it: a separate process, its wall time, its
CPU time (user + system, of the process and the children it waited for) and its
peak RSS, all from ``os.wait4`` on that one process, so runs of other helpers'
tests on the same machine never leak into a figure. Rounds rotate the order of
the commands, so none always runs first (cold) or last (behind the others).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Run:
    """One process run."""

    argv: list[str]
    wall: float  # seconds
    cpu: float  # user + system seconds of the process (and waited-for children)
    rss_mb: float  # peak resident set of the process (largest waited-for child), MiB
    code: int
    stdout: str = ""
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # what the caller parsed out of it

    def tail(self, chars: int = 2000) -> str:
        return (self.stderr or self.stdout)[-chars:]


class CommandFailed(Exception):
    """A measured command did not do what the figure needs (exit code, output)."""


NO_BYTECODE = "PYTHONDONTWRITEBYTECODE"
GNU_TIME = Path("/usr/bin/time")  # Debian package "time" (the Makefile installs it)


class Started:
    """A process started by :func:`start`; :meth:`wait` measures it."""

    def __init__(
        self, argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None, out_file: Path | None
    ) -> None:
        self.argv = [str(a) for a in argv]
        self.out_file = out_file
        self._stack = contextlib.ExitStack()
        self._err = self._stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        self._out = self._stack.enter_context(
            out_file.open("wb") if out_file else tempfile.TemporaryFile()  # noqa: SIM115
        )
        # The peak RSS of a process forked from this one starts at this one's (the
        # kernel keeps the high-water mark across exec): GNU time forks the command
        # from its own small process and reports the command's peak alone.
        self._rss = self._stack.enter_context(tempfile.NamedTemporaryFile("r"))  # noqa: SIM115
        prefix = [str(GNU_TIME), "-f", "%M", "-o", self._rss.name] if GNU_TIME.exists() else []
        # A user's dnsops has its bytecode cached: a shell's PYTHONDONTWRITEBYTECODE would
        # make every measured run compile dnsops's modules again (~0.2 s of CPU each).
        environ = {k: v for k, v in (env or os.environ).items() if k != NO_BYTECODE}
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            prefix + self.argv,
            cwd=cwd,
            env=environ,
            stdout=self._out,
            stderr=self._err,
        )

    def wait(self) -> Run:
        try:
            _, status, usage = os.wait4(self.proc.pid, 0)
            wall = time.perf_counter() - self.start
            self.proc.returncode = os.waitstatus_to_exitcode(status)
            rss_kb = float(usage.ru_maxrss)
            measured = self._rss.read().split()  # "[Command exited with ... N\n]KB"
            if measured and measured[-1].isdigit():
                rss_kb = float(measured[-1])
            stdout = ""
            if self.out_file is None:
                self._out.seek(0)
                stdout = self._out.read().decode("utf-8", "replace")
            self._err.seek(0)
            stderr = self._err.read().decode("utf-8", "replace")
        finally:
            self._stack.close()
        return Run(
            argv=self.argv,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            rss_mb=rss_kb / 1024,
            code=self.proc.returncode,
            stdout=stdout,
            stderr=stderr,
        )


def start(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    out_file: Path | None = None,
) -> Started:
    """Start ``argv``; stdout to ``out_file`` (else captured), stderr captured, both through
    files (never pipes: a large output or a progress bar never blocks the process)."""
    return Started(argv, cwd, env, out_file)


def timed(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    out_file: Path | None = None,
) -> Run:
    """Run ``argv`` to completion: its wall time, CPU time and peak RSS."""
    return start(argv, cwd=cwd, env=env, out_file=out_file).wait()


Step = Callable[[], Run]


def rounds(
    steps: Mapping[str, Step], count: int, say: Callable[[str], None] = print
) -> dict[str, list[Run]]:
    """``count`` rounds of every step; round i starts with step i (mod the number of steps)."""
    names = list(steps)
    out: dict[str, list[Run]] = {n: [] for n in names}
    for i in range(count):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            run = steps[name]()
            out[name].append(run)
            say(
                f"  round {i + 1}/{count} {name}: {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, "
                f"{run.rss_mb:.0f} MiB"
            )
    return out


@dataclass
class Stats:
    """Medians over a figure's runs (peak RSS: the largest)."""

    wall: float
    cpu: float
    rss_mb: float
    runs: int
    walls: list[float]

    @classmethod
    def of(cls, runs: Sequence[Run]) -> Stats:
        if not runs:
            raise ValueError("no runs")
        return cls(
            wall=statistics.median(r.wall for r in runs),
            cpu=statistics.median(r.cpu for r in runs),
            rss_mb=max(r.rss_mb for r in runs),
            runs=len(runs),
            walls=[round(r.wall, 3) for r in runs],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall, 3),
            "cpu_s": round(self.cpu, 3),
            "peak_rss_mb": round(self.rss_mb, 1),
            "runs": self.runs,
            "walls_s": self.walls,
        }


def median_of(runs: Sequence[Run], key: str) -> float:
    """The median of a number each run's caller stored in ``extra``."""
    return statistics.median(float(r.extra[key]) for r in runs)


def load() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages (what `uptime` shows)."""
    return os.getloadavg()
