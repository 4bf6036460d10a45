"""The bodies of the CLI's commands (cli.py holds the typer app)."""
