"""The ``newsctl`` program: a watcher's answer (:mod:`cli.client`), the short way for ``search ... -l`` (:mod:`cli.fast`), else the Typer application."""

from __future__ import annotations

import os
import sys


def _standard_streams() -> None:
    """Give a closed standard stream (``newsctl ... >&-``) a stand-in, before any file is opened.

    Otherwise the first file newsctl opens would take its number, and what is
    meant for stdout would go into it. A closed stdout becomes /dev/null opened
    for reading, so every write to it fails (EBADF) and the command ends with
    one error line, as for a full disk; a closed stderr or stdin, /dev/null.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        try:
            got = os.open(os.devnull, os.O_WRONLY if fd == 2 else os.O_RDONLY)
        except OSError:
            return
        if got != fd:
            os.dup2(got, fd)
            os.close(got)
        stream = open(fd, "r" if fd == 0 else "w", closefd=False, encoding="utf-8", errors="surrogateescape")
        setattr(sys, ("stdin", "stdout", "stderr")[fd], stream)


def main() -> int | None:
    _standard_streams()
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
