"""Plans through octoDNS, applied to both providers of an environment."""
