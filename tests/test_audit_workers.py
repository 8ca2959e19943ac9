"""The audit's forked workers: waiting for one job reads every job's pipe."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from dnsops.audit.workers import Job


def _chatty(progress: Callable[[str], None], marker: str) -> str:
    for i in range(3000):  # ~200 KiB of progress: more than a pipe holds unread
        progress(f"line {i:05d} " + "x" * 60)
    Path(marker).write_text("done")
    return "chatty"


def _waiting(progress: Callable[[str], None], marker: str) -> bool:
    deadline = time.monotonic() + 10
    while not Path(marker).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_waiting_for_one_job_reads_the_others(tmp_path: Path) -> None:
    """The second job waits on what the first does after its progress lines (as the
    populate worker waits for a transfer slot the transfer worker holds): reading only
    the awaited job's pipe would leave the first blocked on its full pipe."""
    marker = str(tmp_path / "marker")
    chatty = Job("chatty", _chatty, marker)
    waiting = Job("waiting", _waiting, marker)
    lines: list[str] = []
    try:
        assert waiting.result(lines.append, [chatty, waiting]) is True
        assert chatty.result(lines.append) == "chatty"
    finally:
        chatty.cancel()
        waiting.cancel()
    assert len(lines) == 3000 and lines[-1].startswith("line 02999")
