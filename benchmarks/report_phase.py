"""``octodns-report`` exactly as installed, with the length of its query phase reported.

octodns-report builds every query task first, then runs them all in one
``loop.run_until_complete``: this wrapper times that call (and nothing else
changes), so queries/s of the query phase can be told apart from the octoDNS
set-up before it. Arguments are octodns-report's. On exit it prints one line
to stderr: ``BENCH-PHASE {"phase_s": ...}``.

    python -m benchmarks.report_phase --config-file config/lab.yaml --zone bench.test. \\
        --source zones 127.67.1.1 127.67.2.1
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

MARK = "BENCH-PHASE "


def main() -> None:
    import octodns.cmds.report as report

    marks: dict[str, float] = {}

    def new_event_loop() -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        run = loop.run_until_complete

        def run_until_complete(future: Any) -> Any:
            start = time.perf_counter()
            try:
                return run(future)
            finally:
                marks["phase_s"] = time.perf_counter() - start

        loop.run_until_complete = run_until_complete  # type: ignore[method-assign]
        return loop

    report.new_event_loop = new_event_loop
    sys.argv = ["octodns-report", *sys.argv[1:]]
    try:
        report.main()
    finally:
        print(MARK + json.dumps(marks), file=sys.stderr, flush=True)


def phase(stderr: str) -> float | None:
    """The query phase's seconds from a wrapped run's stderr (None if it never started)."""
    for line in reversed(stderr.splitlines()):
        if line.startswith(MARK):
            value = json.loads(line[len(MARK) :]).get("phase_s")
            return float(value) if value is not None else None
    return None


if __name__ == "__main__":
    main()
