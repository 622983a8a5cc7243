"""``python -m blina`` runs the command line."""

from blina.cli import main

main()
