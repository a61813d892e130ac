"""Hand a plain ``newsctl search`` to a live ``newsctl index --watch`` that answers it (:mod:`cli.serve`).

The watcher already holds the index open and knows, without a walk, whether
anything changed; this process only starts Python, sends its command line,
working directory and standard output and error (as descriptors) over the
watcher's socket, and waits for the exit status while the watcher writes the
answer. Only built-in modules are loaded here (start-up time). When no watcher
answers (no socket, a dead or busy watcher, a form or paths it does not take),
:func:`ask` returns None before anything was written, and the command runs the
usual way, which is exactly as correct.
"""

from __future__ import annotations

import os
import sys

ACCEPT_TIMEOUT = 2.0  # seconds to wait for a watcher to take the request (analysis.search.watch.SYNC_TIMEOUT)
_SUFFIX = ".search.sock"  # analysis.search.watch.SOCKET_SUFFIX


def _store_path(store: str | None) -> str:
    """``--store`` or the default store (analysis.store.default_store_path), as a string."""
    if store is not None:
        return store
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "newsctl", "store.sqlite")


def ask(argv: list[str]) -> int | None:
    """The exit status of ``newsctl argv`` when a watcher answered it, else None (nothing written)."""
    if not argv or argv[0] != "search":
        return None
    from .fast import parse_plain

    parsed = parse_plain(argv)
    if parsed is None:
        return None
    files_only, fmt = parsed[3], parsed[4]
    try:
        if fmt is None and os.isatty(1):  # a table or a file list for a person: the usual way (escapes)
            return None
        out = sys.stdout
        request = (1, list(argv), os.getcwd(), out.encoding, out.errors)
        path = _store_path(parsed[2]) + _SUFFIX
        if len(os.fsencode(path)) > 107 or not os.path.exists(path):
            return None
        import _socket
        import marshal

        payload = marshal.dumps(request)
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    except (OSError, AttributeError, ValueError):
        return None
    try:
        try:
            sock.settimeout(ACCEPT_TIMEOUT)
            sock.connect(path)
            out.flush()
            fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (1, 2))
            sock.sendmsg([len(payload).to_bytes(4, "little") + payload],
                         [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
            if sock.recv(1) != b"A":  # declined, gone, or no answer in time
                return None
        except (OSError, ValueError):
            return None
        sock.settimeout(None)
        try:
            status = sock.recv(1)
        except OSError:
            status = b""
        if not status:
            sys.stderr.write("Error: the watcher answering this search stopped; run it again\n")
            return 2
        return status[0]
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130
    finally:
        sock.close()
