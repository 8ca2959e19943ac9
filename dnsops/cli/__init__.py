"""The command line: typer apps, one module per command group. The only place that prints."""
