"""Files the user names for output (``plan --out``, ``--prom-file``, ``audit --log``).

dnsops creates the directories it owns (the state directory and what is in it), never
one the user named: a typo in ``--out`` must not leave ``/nonexistent/`` behind. A
path is checked before the command does any work, so a bad one costs nothing and
writes nothing.
"""

from __future__ import annotations

from pathlib import Path

from dnsops.errors import ConfigError


def check(path: Path, option: str) -> None:
    """``path`` can be written as a file: its directory exists, and it is no directory.

    :raises ConfigError: naming the option, the path and what is wrong.
    """
    parent = path.parent
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a directory, expected a file name")
    if not parent.exists():
        raise ConfigError(
            f"{option} {path}: the directory {parent} does not exist",
            hint="dnsops creates no directory for an output file: create it first",
        )
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: {parent} is not a directory")
