"""Collects check outcomes: failures kept, passes and skips counted.

A 10k-record zone passes 20k record checks; only failures become findings,
with the severity the policy gives their check.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from dnsops.findings import Finding
from dnsops.health.checks import CATALOGUE
from dnsops.health.model import CheckRow, Outcome
from dnsops.health.policy import HealthPolicy
from dnsops.health.rootcause import fold


class Judge:
    def __init__(self) -> None:
        self.tally: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.outcomes: list[Outcome] = []

    def passed(self, check: str, n: int = 1) -> None:
        self.tally[check]["passed"] += n

    def skipped(self, check: str, n: int = 1) -> None:
        self.tally[check]["skipped"] += n

    def failed(self, outcome: Outcome) -> None:
        self.tally[outcome.check]["failed"] += 1
        self.outcomes.append(outcome)

    def verdict(self, ok: bool | None, outcome: Outcome) -> None:
        """``ok`` True: a pass; None: not applicable; False: ``outcome`` is the failure."""
        if ok is None:
            self.skipped(outcome.check)
        elif ok:
            self.passed(outcome.check)
        else:
            self.failed(outcome)

    def findings(self, policy: HealthPolicy) -> list[Finding]:
        """One finding per root cause (dnsops.health.rootcause), most severe first; what
        a root cause explains is kept as its children."""
        order = {check: i for i, check in enumerate(CATALOGUE)}

        def key(f: Finding) -> tuple[int, str, int, str]:
            return (-f.severity, f.zone or "", order[f.id], f.subject)

        def finding(o: Outcome) -> Finding:
            kids = sorted((finding(c) for c in o.children), key=key) if o.children else None
            return Finding(
                id=o.check,
                severity=policy.severity_of(o.check),
                subject=o.subject,
                message=o.message,
                zone=o.zone,
                provider=o.provider,
                file=o.file,
                line=o.line,
                hint=o.hint,
                data=o.data,
                children=kids,
            )

        return sorted((finding(o) for o in fold(self.outcomes)), key=key)

    def rows(self, policy: HealthPolicy) -> list[CheckRow]:
        return [
            CheckRow(
                id=c.id,
                severity=str(policy.severity_of(c.id)),
                title=c.title,
                explain=c.explain,
                passed=self.tally[c.id]["passed"],
                failed=self.tally[c.id]["failed"],
                skipped=self.tally[c.id]["skipped"],
            )
            for c in CATALOGUE.values()
        ]
