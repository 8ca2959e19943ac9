#!/usr/bin/env python3
"""The drill scenarios one step of dns-drill.yml runs: their names, one per line.

    dnsops drill list --format json | drill_names.py ENVIRONMENT [SCENARIO]

Only the scenarios of ENVIRONMENT are printed: the lab step asks for `lab`, the one step
that holds the production credentials for `production`, so the credentials reach
production scenarios only. SCENARIO (the dispatch input; empty: every scenario) must name
a scenario. A scenario in scope whose environment no step of the workflow runs fails the
run instead of being skipped without a word.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

ENVIRONMENTS = ("lab", "production")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # the scenario model's own pattern


def select(doc: dict[str, Any], environment: str, scenario: str = "") -> list[str]:
    if environment not in ENVIRONMENTS:
        raise SystemExit(f"drill_names: environment must be one of {', '.join(ENVIRONMENTS)}")
    scenarios = list(doc["scenarios"])
    if scenario:
        scenarios = [s for s in scenarios if s["name"] == scenario]
        if not scenarios:
            raise SystemExit(f"drill_names: no drill scenario named {scenario!r}")
    strays = [
        f"{s['name']} ({s['environment']})"
        for s in scenarios
        if s["environment"] not in ENVIRONMENTS
    ]
    if strays:
        raise SystemExit(
            "drill_names: no step of dns-drill.yml runs the environment of " + ", ".join(strays)
        )
    names = [s["name"] for s in scenarios if s["environment"] == environment]
    for name in names:
        if not NAME.match(name):
            raise SystemExit(f"drill_names: unexpected scenario name {name!r}")
    return names


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 64
    scenario = argv[2] if len(argv) == 3 else ""
    for name in select(json.load(sys.stdin), argv[1], scenario):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
