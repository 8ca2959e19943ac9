"""`python -m dnsops`: the same as the `dnsops` command."""

from dnsops.cli.app import main

main()
