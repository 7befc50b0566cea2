"""CLI command groups, one module per component; see ``triage.cli.COMMAND_MODULES``."""
