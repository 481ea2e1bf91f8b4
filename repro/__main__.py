"""Command-line room, entry point: `python -m repro ...` (see repro.cli and `--help`)."""

import sys

from repro.cli import main

if __name__ == "__main__":  # spawn workers import this module too
    sys.exit(main())
