"""Command-line room, entry point: `python -m repro ...` (see repro.cli and `--help`)."""

import sys

from repro.cli import main

sys.exit(main())
