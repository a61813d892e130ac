"""The ``newsctl`` program: a watcher's answer (:mod:`cli.client`), the short way for ``search ... -l`` (:mod:`cli.fast`), else the Typer application."""

from __future__ import annotations

import sys


def main() -> int | None:
    from .client import ask

    status = ask(sys.argv[1:])  # a live watcher answers it (cli/serve.py)
    if status is not None:
        return status
    from .fast import run

    status = run(sys.argv[1:])
    if status is not None:
        return status
    from .app import main as full

    return full()
