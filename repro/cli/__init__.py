"""Command-line room (top floor below the paper cards): the parser, the commands, the scaffolder.

`python -m repro` and the `seqnotes` script call `main`.
"""

from repro.cli.commands import main

__all__ = ["main"]
