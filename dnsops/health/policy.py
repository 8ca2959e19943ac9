"""The health policy: remapped severities and thresholds, loaded with file and line.

``policies/health/policy.yaml`` (a directory of its own: every ``policies/*.yaml``
is a lint policy)::

    severity:
      ns-axfr-refused: error     # any check id of `dnsops health --list-checks`
      rrset-extra: notice
    latency_ms: 250              # ns-latency: a nameserver's median above this

:raises ConfigError: from ``load_policy``, listing every problem as
    ``file:line: key: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema

from dnsops.errors import ConfigError
from dnsops.findings import Severity, SeverityName
from dnsops.health.checks import CATALOGUE
from dnsops.yamlfile import line_of, load_yaml, pydantic_problems

DEFAULT_PATH = Path("health") / "policy.yaml"  # under the project's policies directory


def _severity(value: Any) -> Any:
    return Severity.parse(value) if isinstance(value, str) else value


class HealthPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: dict[
        str, Annotated[Severity, BeforeValidator(_severity, json_schema_input_type=SeverityName)]
    ] = Field(default_factory=dict)
    latency_ms: float = Field(default=250.0, gt=0)
    source: SkipJsonSchema[str | None] = Field(default=None, exclude=True)  # set by the loader

    def severity_of(self, check_id: str) -> Severity:
        return self.severity.get(check_id, CATALOGUE[check_id].severity)


def load_policy(path: Path) -> HealthPolicy:
    """The policy in ``path``; an empty file is the default policy."""
    data = load_yaml(path, what="health policy")
    if data is None:
        return HealthPolicy(source=str(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:{line_of(data) or 1}: a health policy is a mapping")
    problems = _unknown_checks(path, data)
    try:
        policy = HealthPolicy.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        problems += pydantic_problems(path, data, exc)
        policy = None
    if problems or policy is None:
        raise ConfigError(
            "\n".join(sorted(set(problems), key=problems.index)),
            hint="`dnsops health --list-checks` lists the check ids",
        )
    return policy


def _unknown_checks(path: Path, data: dict[str, Any]) -> list[str]:
    severity = data.get("severity")
    if not isinstance(severity, dict):
        return []
    lines = getattr(severity, "key_lines", {})
    out = []
    for key in severity:
        if key not in CATALOGUE:
            line = lines.get(key) or line_of(severity) or 1
            out.append(f"{path}:{line}: severity.{key}: unknown check id")
    return out


def policy_for(policies_dir: Path, explicit: Path | None) -> HealthPolicy:
    """``explicit`` if given (must exist), else the project's default file if present."""
    if explicit is not None:
        return load_policy(explicit)
    default = policies_dir / DEFAULT_PATH
    return load_policy(default) if default.exists() else HealthPolicy()
