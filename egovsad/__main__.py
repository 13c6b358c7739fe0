"""``python -m egovsad`` runs the command line."""

from egovsad.cli import main

main()
