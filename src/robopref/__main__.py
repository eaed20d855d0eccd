"""`python -m robopref` runs the CLI."""

from robopref.cli import main

main()
