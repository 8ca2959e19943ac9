"""Policy regexes (``name_regex``, ``value_regex``), run by RE2.

Why RE2 and not Python's ``re`` with nested quantifiers rejected at load: a
backtracking engine is exponential on more than nested quantifiers (``(a|a)*``,
``(a|ab)*c``, overlapping alternations under a star), and no syntactic filter
catches them all, while a policy regex runs against every value of every zone,
including values an attacker may write (a 50 MB TXT). RE2 matches in time linear
in the text for every pattern it accepts (https://github.com/google/re2/wiki/WhyRE2),
so a policy cannot hang lint. The price: RE2 has no backreferences (``\\1``) and no
lookaround (``(?=``, ``(?<=``); a pattern using them is refused when the policy loads,
with its file and line, before any zone is read.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]  # google-re2: no type information


class Regex(Protocol):
    """What lint needs of a compiled pattern."""

    pattern: str

    def search(self, text: str) -> Any: ...


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print its own message on stderr


def compile_regex(pattern: str) -> Regex:
    """``pattern`` compiled by RE2.

    :raises ValueError: the pattern is not a regex (Python's message), or it is one
        RE2 does not support (RE2's message, and why).
    """
    try:
        return re2.compile(pattern, options=_OPTIONS)  # type: ignore[no-any-return]
    except re2.error as exc:
        reason = _reason(exc)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regex {pattern!r}: {exc}") from None
    raise ValueError(
        f"regex {pattern!r} is not supported: {reason} (policy regexes run with RE2, "
        "in linear time: no backreferences, no lookahead or lookbehind)"
    )


def _reason(exc: Exception) -> str:
    """RE2's message (it comes as bytes)."""
    first = exc.args[0] if exc.args else exc
    return first.decode(errors="replace") if isinstance(first, bytes) else str(first)
