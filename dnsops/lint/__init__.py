"""dnsops lint: checks of the zones against intent, declared in ``policies/*.yaml``.

The layers, outermost first:

- ``driver``: loads the project, zones, policies and provider capabilities, runs the
  offline rules, does the online I/O (DNS, HTTP) for the opt-in online rules, applies
  suppressions and returns a ``LintReport``. The only module here that does I/O
  (with ``online`` for the network and ``capabilities`` for importing provider classes).
- ``rules/``: one module per rule family; each check is a pure function
  ``(rule, ZoneView, LintContext) -> list[Finding]``; online rules split into
  ``targets(...)`` (what to look up) and ``judge(...)`` (findings from what was seen).
- ``policy``: the pydantic models of a policy file and their loader.
- ``view``: read-only views of octoDNS records and zones built once per lint (linear).
"""
