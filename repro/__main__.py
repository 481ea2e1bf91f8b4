"""`python -m repro ...`: see repro.cli (and `python -m repro --help`)."""

import sys

from repro.cli import main

sys.exit(main())
