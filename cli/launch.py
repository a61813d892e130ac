"""The ``newsctl`` program: the short way for ``search ... -l`` (:mod:`cli.fast`), else the Typer application."""

from __future__ import annotations

import sys


def main() -> int | None:
    from .fast import run

    status = run(sys.argv[1:])
    if status is not None:
        return status
    from .app import main as full

    return full()
