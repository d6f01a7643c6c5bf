"""Developer command-line tools (never deployed): `python -m tools.<name> --help`."""
