"""The secrets this process knows, kept out of every file dnsops reads and every line it
prints or logs.

Known secrets are the values of the environment variables with secret-like names
(``*KEY*``, ``*SECRET*``, ``*TOKEN*``, ``*PASSW*``, ``*CREDENTIAL*``; not ``*_NAME``:
a TSIG key's *name* is public) and the lab's generated secrets (its state directory's
``secrets.json``). The CLI registers them once per command, before it reads any file.

* :func:`found_in` tells which secret a text holds (by name, never the value): the
  safe loader (:mod:`dnsops.yamlfile`) refuses any file holding one, so a secret can
  never reach a zone, a plan, a policy message or a drill, and from there DNS.
* :func:`scrub` replaces each secret by ``***``: every message the CLI prints, and
  every log record (octoDNS's and its providers' included: :func:`install_logging`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

MIN_LENGTH = 12  # shorter values ("testing", "changeme") would match too much
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL", re.IGNORECASE)
_PUBLIC_NAME = re.compile(r"_NAME$", re.IGNORECASE)

_lock = threading.Lock()
_known: dict[str, str] = {}  # value -> the name it is known by


def secret_name(name: str) -> bool:
    """Does an environment variable of this name hold a secret?"""
    return bool(_SECRET_NAME.search(name)) and not _PUBLIC_NAME.search(name)


def register(value: str, name: str, *, rename: bool = False) -> None:
    """Know ``value`` as a secret called ``name`` (too short a value is ignored); a
    value known already keeps its first name unless ``rename``."""
    if len(value) >= MIN_LENGTH:
        with _lock:
            if rename:
                _known[value] = name
            else:
                _known.setdefault(value, name)


def register_environ(environ: Mapping[str, str] | None = None) -> None:
    """Every environment variable with a secret-like name."""
    for name, value in (os.environ if environ is None else environ).items():
        if secret_name(name):
            register(value, name)


def register_lab(state_dir: Path) -> None:
    """The lab's generated secrets, if it has any yet (read as plain JSON: the one file
    that may hold them)."""
    path = state_dir / "lab" / "secrets.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and secret_name(key):
                # where it really comes from (the lab exports it as DNSOPS_LAB_...)
                register(value, f"the lab's {key} ({path.parent.name}/secrets.json)", rename=True)


def reset() -> None:
    with _lock:
        _known.clear()


def known() -> dict[str, str]:
    with _lock:
        return dict(_known)


def found_in(text: str) -> tuple[str, int] | None:
    """(name, offset) of the first known secret in ``text``, or None."""
    best: tuple[str, int] | None = None
    for value, name in known().items():
        at = text.find(value)
        if at >= 0 and (best is None or at < best[1]):
            best = (name, at)
    return best


def problem(name: str) -> str:
    """The message for a file holding a secret (never the value)."""
    return (
        f"holds the value of {name}, a secret: secrets never go into a file dnsops reads "
        "(they would reach DNS, plans and reports); use the environment"
    )


def scrub(text: str) -> str:
    """``text`` with every known secret replaced by ``***`` (longest first)."""
    for value in sorted(known(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return text


# -- logging -----------------------------------------------------------------------------

_installed = False


def install_logging() -> None:
    """Scrub every log record as it is made (message, arguments and traceback), whoever
    logs it and whichever handler shows it. Installed once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not _known:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it as it would
            return record
        scrubbed = scrub(message)
        if scrubbed != message:  # else the arguments stay, for filters that read them
            record.msg, record.args = scrubbed, ()
        if record.exc_info:
            text = formatter.formatException(record.exc_info)
            if scrub(text) != text:
                record.exc_text = scrub(text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
