"""The lint gate: sync and apply refuse zones that ``dnsops lint`` finds errors in.

The gate asks :mod:`dnsops.lint` for its findings on the zones being synced
(already loaded: lint does not load them again) and refuses when any has
severity error or worse.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from octodns.zone import Zone

from dnsops.config import Project
from dnsops.errors import DnsopsError
from dnsops.findings import Finding, failing

LintFunction = Callable[[Project, str, dict[str, Zone]], list[Finding]]


class LintRefusal(DnsopsError):
    """The zones have error-level lint findings: nothing is synced."""

    def __init__(self, findings: list[Finding]) -> None:
        errors = [f for f in findings if failing([f])]
        lines = [
            f"{f.where or f.zone or '-'}: {f.id}: {f.subject}: {f.message}" for f in errors[:20]
        ]
        if len(errors) > len(lines):
            lines.append(f"… and {len(errors) - len(lines)} more")
        super().__init__(
            f"lint found {len(errors)} error(s); nothing was synced:\n  " + "\n  ".join(lines),
            hint="run `dnsops lint` for details, fix the zones (or the policy), then sync again",
        )
        self.findings = findings


def lint_function() -> LintFunction | None:
    """``dnsops.lint.lint_zones`` when the lint capability is installed, else None."""
    try:
        module: Any = importlib.import_module("dnsops.lint")
    except ModuleNotFoundError as exc:
        if exc.name == "dnsops.lint":
            return None
        raise
    fn = getattr(module, "lint_zones", None)
    return fn if callable(fn) else None


def check(project: Project, environment: str, zones: dict[str, Zone]) -> list[Finding]:
    """Lint the zones about to be synced.

    :returns: every finding (for display); empty when lint is not installed.
    :raises LintRefusal: some finding has severity error or worse.
    """
    fn = lint_function()
    if fn is None:
        return []
    findings = fn(project, environment, zones)
    if failing(findings):
        raise LintRefusal(findings)
    return findings
