#!/usr/bin/env python3
"""The drill scenarios dns-drill.yml runs: their names, one per line.

    dnsops drill list --format json | drill_names.py production [SCENARIO]

The workflow runs the production scenarios (`environment: production`), against
production, and nothing else: lab scenarios are rehearsed by the test suite (ci.yml,
tests/test_drill_lab.py), never on the workflow's runner. SCENARIO (the dispatch input;
empty: every production scenario) must name a production scenario. A scenario of any
other environment fails the run instead of being skipped without a word.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

RUN_HERE = ("production",)
ELSEWHERE = {"lab": "the test suite rehearses it (tests/test_drill_lab.py), not dns-drill.yml"}
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # the scenario model's own pattern


def select(doc: dict[str, Any], environment: str, scenario: str = "") -> list[str]:
    if environment not in RUN_HERE:
        raise SystemExit(
            f"drill_names: dns-drill.yml runs the environment(s) {', '.join(RUN_HERE)} "
            f"only, not {environment!r}"
        )
    scenarios = list(doc["scenarios"])
    if scenario:
        scenarios = [s for s in scenarios if s["name"] == scenario]
        if not scenarios:
            raise SystemExit(f"drill_names: no drill scenario named {scenario!r}")
        (chosen,) = scenarios
        if chosen["environment"] in ELSEWHERE:
            raise SystemExit(
                f"drill_names: {scenario!r} is a scenario of environment "
                f"{chosen['environment']!r}: {ELSEWHERE[chosen['environment']]}"
            )
    strays = [
        f"{s['name']} ({s['environment']})"
        for s in scenarios
        if s["environment"] not in (*RUN_HERE, *ELSEWHERE)
    ]
    if strays:
        raise SystemExit(
            "drill_names: neither dns-drill.yml nor the test suite runs the environment of "
            + ", ".join(strays)
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
