"""Markdown for GitHub comments: data shown literally, and a comment that fits.

Every markdown output (plan, lint, health, audit, vantage) is built from these, so
record names and values, provider messages and policy texts render as the text they
are, whatever they hold:

* :func:`text` for any piece of data outside a code block: HTML, links, images,
  code spans, emphasis, math, tables and autolinks cannot form (markdown punctuation
  becomes character references), and ``@name`` / ``#123`` mention no one and link
  nothing (a zero-width space follows the ``@`` and ``#``: GitHub finds mentions in
  the rendered text, where character references are already decoded);
* :func:`cell` for a table cell (:func:`text`, newlines as ``<br>``);
* :func:`fence` for a fenced block around data lines (longer than any backtick run
  in them), :func:`code_line` for each line in it;
* :func:`shorten` for one piece that may be huge (a 70 KB TXT record): cut, saying
  how much was left out and where the whole is;
* :func:`fit` last, on the whole comment: at most :data:`LIMIT` characters (GitHub
  refuses longer comments), cut inside a line if it must be, open code fences and
  ``<details>`` closed, and a note saying what was cut and where the whole is.
"""

from __future__ import annotations

import re

LIMIT = 65_536  # GitHub's limit on an issue or pull-request comment, in characters
MAX_PIECE = 2_000  # characters of one record line or table cell shown
_RESERVE = 1_000  # room fit() keeps for closing tags and its note

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_SPECIAL = re.compile(r"[\\`*_{}\[\]<>|!&~$]|[@#]|://|(?i:www)\.")
_ZWSP = "&#8203;"  # after @ and #: no mention, no issue link
_PARTIAL_REFERENCE = re.compile(r"&#?[0-9A-Za-z]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _escape(match: re.Match[str]) -> str:
    found = match.group()
    if found in ("@", "#"):
        return f"&#{ord(found)};{_ZWSP}"
    if found == "://":
        return "&#58;//"
    if found[-1] == ".":  # www.
        return found[:-1] + "&#46;"
    return f"&#{ord(found)};"


def _visible(value: str) -> str:
    """Control characters as ``\\xNN`` (a value cannot break a line or a terminal)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def text(value: str) -> str:
    """Data as literal markdown text (one line; a newline shows as ``\\x0a``)."""
    return _SPECIAL.sub(_escape, _visible(value).replace("\n", "\\x0a"))


def cell(value: str, max_chars: int = MAX_PIECE, whole: str = "--format json") -> str:
    """Data as a literal table cell: :func:`text`, newlines as ``<br>``, at most
    ``max_chars`` characters of ``value`` (the rest said, see :func:`shorten`)."""
    return "<br>".join(text(line) for line in shorten(value, max_chars, whole).split("\n"))


def row(cells: list[str], max_chars: int = MAX_PIECE, whole: str = "--format json") -> str:
    """One table row of data cells."""
    return "| " + " | ".join(cell(c, max_chars, whole) for c in cells) + " |"


def shorten(value: str, max_chars: int = MAX_PIECE, whole: str = "--format json") -> str:
    """``value``, or its first ``max_chars`` characters and what was left out."""
    if len(value) <= max_chars:
        return value
    return f"{value[:max_chars]} … [{len(value) - max_chars:,} more characters: {whole}]"


def code_line(value: str, max_chars: int = MAX_PIECE, whole: str = "--format json") -> str:
    """A line inside a :func:`fence`: only control characters made visible, shortened."""
    return shorten(_visible(value).replace("\n", "\\x0a"), max_chars, whole)


def fence(lines: list[str]) -> str:
    """A backtick fence longer than any backtick run in ``lines`` (at least 3)."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def size(value: str) -> int:
    """Length as GitHub counts it (UTF-16 code units: a character beyond U+FFFF is 2)."""
    return len(value) + sum(1 for c in value if c > "\uffff")


def fit(doc: str, whole: str, limit: int = LIMIT) -> str:
    """``doc``, cut to at most ``limit`` characters if it is longer.

    The cut is at a line end if one is close, else inside the line (never inside a
    character reference); an open code fence and open ``<details>`` are closed; a
    note says how much was left out, from which line, and ``whole``: where to see
    all of it (e.g. "`dnsops plan --format json`").
    """
    total = size(doc)
    if total <= limit:
        return doc
    budget = limit - _RESERVE
    kept: list[str] = []
    used = 0
    open_fence: str | None = None
    open_details = 0
    lines = doc.split("\n")
    cut_line = len(lines)
    inside = False
    for number, line in enumerate(lines, 1):
        cost = size(line) + 1
        if used + cost > budget:
            cut_line, part = number, _cut(line, budget - used - 2, open_fence is not None)
            if part.strip():
                kept.append(part + "…")
                inside = True
            break
        kept.append(line)
        used += cost
        found = _FENCE.match(line)
        if open_fence is None and found:
            open_fence = found.group(1)
        elif open_fence is not None and line.strip() == open_fence:
            open_fence = None
        elif open_fence is None:
            open_details += line.count("<details>") - line.count("</details>")
    shown = size("\n".join(kept))
    tail = [open_fence] if open_fence else []
    tail += ["", "</details>"] * max(open_details, 0)
    where = f"line {cut_line}" + (" (inside it)" if inside else "")
    tail += [
        "",
        "> [!NOTE]",
        f"> Cut to fit GitHub's {limit:,}-character comment limit: {total - shown:,} of "
        f"{total:,} characters left out, from {where} on. The whole: {whole}.",
        "",
    ]
    return "\n".join([*kept, *tail])


def _cut(line: str, room: int, in_code: bool) -> str:
    """The first ``room`` characters of ``line`` (UTF-16 units), not ending inside a
    character reference (outside code)."""
    part = line[: max(room, 0)]
    while part and size(part) > room:
        part = part[:-1]
    if not in_code:
        part = _PARTIAL_REFERENCE.sub("", part)
    return part
