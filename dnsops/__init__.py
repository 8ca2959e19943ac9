"""dnsops: DNS-as-code and dual-provider failover orchestration for SREs."""

__version__ = "0.1.0"
