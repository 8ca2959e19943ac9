"""Drills: scripted failover rehearsals with guardrails, rollback and measured convergence.

- ``model``: scenarios (drills/*.yaml) as pydantic models, errors with file:line
- ``machine``: the state machine — pure decisions over observations, no I/O
- ``measure``: samples -> per-vantage measurements (pure)
- ``journal``: the crash-safety journal, written before every action
- ``sampler``: the steady-rate prober through every vantage (a thread)
- ``actions``: the I/O of each step (outage, record change, checks)
- ``executor``: the thin driver tying them together
- ``history``: past reports, cadence and overdue status
"""
