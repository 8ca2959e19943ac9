"""One Finding model shared by lint, health and audit, and rendered by render/."""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

# how files name a severity (Severity.parse also takes capitals)
SeverityName = Literal["info", "notice", "warning", "error", "critical"]


class Severity(IntEnum):
    """Zonemaster's scale. ``error`` and above fail a command (exit 1)."""

    INFO = 0
    NOTICE = 1
    WARNING = 2
    ERROR = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (one of {names})") from None

    def __str__(self) -> str:
        return self.name.lower()


class Finding(BaseModel):
    """One thing worth telling: what, where, how bad, and what to do about it."""

    model_config = ConfigDict(frozen=True)

    id: str  # rule or check id, e.g. "ttl-band" or "ns-aa"
    severity: Severity
    subject: str  # what it is about: "api.example.test. A", "pdns 127.53.1.1", ...
    message: str
    zone: str | None = None
    provider: str | None = None
    file: str | None = None
    line: int | None = None
    hint: str | None = None
    data: dict[str, Any] | None = None  # machine-readable details (values, TTLs, latency)
    record: str | None = None  # the record's FQDN, when the finding is about one
    rtype: str | None = None  # its type
    suppressed: str | None = None  # the reason, when a suppression silenced it
    # findings with the same root cause, folded under this one (a lame server's records)
    children: list[Finding] | None = None

    @property
    def where(self) -> str | None:
        if self.file is None:
            return None
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def explains(self) -> str | None:
        """What is folded under this finding, counted by id: "13 rrset-served, ns-tcp"."""
        if not self.children:
            return None
        counts: dict[str, int] = {}
        for c in self.children:
            counts[c.id] = counts.get(c.id, 0) + 1
        return ", ".join(f"{n} {i}" if n > 1 else i for i, n in counts.items())

    def to_json(self) -> dict[str, Any]:
        out = self.model_dump(exclude_none=True, exclude={"children"})
        out["severity"] = str(self.severity)
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out


def worst(findings: list[Finding]) -> Severity | None:
    return max((f.severity for f in findings), default=None)


def failing(findings: list[Finding], threshold: Severity = Severity.ERROR) -> bool:
    """True when any finding is at or above ``threshold`` (the exit-1 rule)."""
    return any(f.severity >= threshold for f in findings)
