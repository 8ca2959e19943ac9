"""The rule families. Offline checks are pure: ``(rule, ZoneView, LintContext) -> findings``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dnsops.findings import Finding
from dnsops.lint.rules.base import LintContext
from dnsops.lint.rules.declarative import check_forbid, check_require
from dnsops.lint.rules.providers import check_apex_ns, check_occluded, check_provider_support
from dnsops.lint.rules.ttl import check_ttl_band, check_ttl_floor
from dnsops.lint.rules.wire import (
    check_hostname,
    check_provider_limits,
    check_rrset_size,
    check_ttl_ceiling,
    check_wire_limits,
)
from dnsops.lint.view import ZoneView

Check = Callable[[Any, ZoneView, LintContext], list[Finding]]

OFFLINE: dict[str, Check] = {
    "ttl-band": check_ttl_band,
    "ttl-floor": check_ttl_floor,
    "ttl-ceiling": check_ttl_ceiling,
    "hostname": check_hostname,
    "wire-limits": check_wire_limits,
    "rrset-size": check_rrset_size,
    "provider-limits": check_provider_limits,
    "forbid": check_forbid,
    "require": check_require,
    "provider-support": check_provider_support,
    "occluded": check_occluded,
    "apex-ns-providers": check_apex_ns,
}

__all__ = ["OFFLINE", "Check", "LintContext"]
