"""`promtool check metrics` (Debian's prometheus package) on a textfile dnsops wrote."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI


def check(path: Path) -> None:
    """Fail unless promtool accepts the file (lint problems included); without promtool,
    skip (and fail under CI=true: `make setup` installs it)."""
    exe = shutil.which("promtool")
    if exe is None:
        reason = "promtool missing (apt install prometheus)"
        pytest.fail(f"CI=true: {reason}") if IN_CI else pytest.skip(reason)
    got = subprocess.run(
        [exe, "check", "metrics"],
        input=path.read_bytes(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    text = (got.stdout + got.stderr).decode(errors="replace")
    assert got.returncode == 0 and text.strip() == "", f"promtool on {path}:\n{text}"
