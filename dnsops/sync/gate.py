"""The lint gate: sync and apply refuse zones that ``dnsops lint`` finds errors in.

The gate runs the lint capability (``dnsops.lint``, when it is part of the
install) exactly as ``dnsops lint`` does without ``--online``, and refuses when
any finding has severity error or worse. Without the lint capability the gate
lets everything through (octoDNS's validation still runs when zones load).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from dnsops.config import Project
from dnsops.errors import DnsopsError
from dnsops.findings import Finding, failing

LintRun = Callable[..., Any]


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


def lint_run() -> LintRun | None:
    """``dnsops.lint.driver.run`` when the lint capability is installed, else None.

    Its contract: ``run(project, env_name, zone) -> report`` with ``report.findings``
    (a list of :class:`~dnsops.findings.Finding`, suppressed ones excluded).
    """
    try:
        module: Any = importlib.import_module("dnsops.lint.driver")
    except ModuleNotFoundError as exc:
        if exc.name in ("dnsops.lint", "dnsops.lint.driver"):
            return None
        raise
    fn = getattr(module, "run", None)
    return fn if callable(fn) else None


def check(project: Project, environment: str, zone: str | None = None) -> list[Finding]:
    """Lint the environment's zones (or one) as ``dnsops lint`` would, offline rules only.

    :returns: every finding (for display); empty when lint is not installed.
    :raises LintRefusal: some finding has severity error or worse.
    """
    run = lint_run()
    if run is None:
        return []
    findings = list(run(project, environment, zone).findings)
    if failing(findings):
        raise LintRefusal(findings)
    return findings
