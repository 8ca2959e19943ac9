"""The local lab: PowerDNS and BIND 9 as the two providers, a BIND parent for
``test.`` delegating to both, and unbound resolvers as regional vantage points —
all real servers, on loopback, started and stopped by dnsops by PID.

``render`` builds every config as text (no I/O); ``runner`` writes them, starts
the processes, waits for them to answer and stops them.
"""
