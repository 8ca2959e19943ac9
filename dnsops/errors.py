"""One exception root; the CLI maps each family to an exit code and a message.

Every error carries what a tired SRE needs to fix it: the file and line when the
problem is in a file, and a hint when there is an obvious next step.
"""

from __future__ import annotations


class DnsopsError(Exception):
    """Base of every error dnsops raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(DnsopsError):
    """dnsops.yaml, an octoDNS config or a policy/drill file is wrong."""


class InputError(ConfigError):
    """A file dnsops reads can't be loaded safely: unreadable, not UTF-8, not YAML/JSON,
    nested too deep, an alias bomb, a duplicate key, a bad ``!include``.

    The message is ``file:line: what is wrong`` (``file:line:column`` for bytes that are
    not UTF-8; just ``file: ...`` when no line applies, e.g. a missing file).
    """

    def __init__(
        self,
        file: str,
        line: int | None,
        problem: str,
        *,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = file if line is None else f"{file}:{line}"
        if line is not None and column is not None:
            where += f":{column}"
        super().__init__(f"{where}: {problem}", hint=hint)
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem


class ZoneError(DnsopsError):
    """A zone file does not load (YAML error) or holds invalid records."""

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} zone {noun}:\n" + "\n".join(problems), hint=hint)
        self.problems = problems


class LabError(DnsopsError):
    """The local lab could not be started, stopped or inspected."""


class ProviderError(DnsopsError):
    """A provider refused or failed a plan or an apply."""


class LockError(DnsopsError):
    """Another dnsops run holds the environment's lock."""
