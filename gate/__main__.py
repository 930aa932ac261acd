"""``python -m gate`` runs the CLI."""

from gate.runtime.cli import main

main()
