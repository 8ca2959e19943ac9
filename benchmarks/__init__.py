"""Side-by-side measurements of dnsops against the tools it builds on (printed as ratios)."""
