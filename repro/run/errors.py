"""Run room, errors: what the user must fix, each message naming what and where."""

from __future__ import annotations


class ReproError(Exception):
    """Something the user must fix; the message says what and where."""


class UsageError(ReproError):
    """Bad input on the command line (unknown key, bad override, bad seeds): exit status 2."""


class PaperModuleError(ReproError):
    """A paper module that cannot be used (import error, missing CLAIMS/Config/run)."""
