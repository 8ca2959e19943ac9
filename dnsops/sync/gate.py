"""The lint gate: sync and apply refuse zones that ``dnsops lint`` finds errors in.

The gate runs the lint exactly as ``dnsops lint`` does without ``--online``, on the
same environment model as the sync (the zones are loaded once for both)
(policies from ``policies/``, octoDNS validation included, suppressions
honoured) and refuses when any finding has severity error or worse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dnsops.env import Env
from dnsops.errors import DnsopsError
from dnsops.findings import Finding, failing
from dnsops.lint import driver

Progress = Callable[[str], None]


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


def check(
    env: Env, zone: str | Sequence[str] | None = None, progress: Progress | None = None
) -> list[Finding]:
    """Lint the environment's zones (or one), offline rules only.

    :returns: every finding left after suppressions (for display).
    :raises LintRefusal: some finding has severity error or worse.
    :raises ConfigError: a policy file is invalid (lint's own error).
    """
    findings = list(driver.run(env, zone, progress=progress).findings)
    if failing(findings):
        raise LintRefusal(findings)
    return findings
