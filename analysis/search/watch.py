"""A file-system watcher that keeps the index current, and the handshake that lets a search trust it.

This is what git's fsmonitor does with watchman. ``newsctl index --watch
PATHS`` runs a :class:`Watcher`: it indexes PATHS, then follows inotify events
(through watchdog's ``Inotify``) and brings the index up to date for each
directory where something happened. It keeps a count of the events it has
received in the store (``search_watches.events``). It holds an exclusive
``flock`` on a lock file as long as it runs, so a dead watcher (killed, crashed,
the machine rebooted) is never trusted.

A search may skip the stat walk only when all of these hold (see
:meth:`analysis.search.index.SearchIndex.search_paths`):

1. its paths lie under the roots of a live, trusted watcher (:func:`covering`);
2. a scope is saved for its paths, tagged with that watcher's id and its event
   count as read *before* the walk that made or confirmed the scope began;
3. the watcher has caught up (:meth:`Watch.sync`): the search creates a cookie
   file in each root and waits until the watcher deletes it. inotify reports
   the events of a tree in order, so when the cookie's event has been handled,
   every change made before the search began has been counted;
4. the count, read after the sync, is still the scope's.

Any event after the scope's walk began therefore sends the search back to the
walk, which refreshes the index and tags the scope afresh. A watcher stops
being trusted for good when it sees a symbolic link in its tree (inotify does
not follow one, the walk does) or loses its root; a queue overflow (events
lost) counts as an event and makes it re-index its whole tree. Without a live
watcher, a search walks as before.

The watcher also answers searches itself, over a unix socket next to the store
(:func:`socket_path`): a client (``cli/client.py``) sends its command line and
working directory, and its standard output and error as file descriptors, and
the watcher writes the answer straight into them. It answers a request only
after its own cookie for the request has come back and what changed before has
been indexed, and with the same scope check as above; when it cannot answer
(the paths are not under its roots, the form is not one it takes, a warning
would be printed), it declines before writing anything and the client searches
the usual way. A request that no watcher accepts within :data:`SYNC_TIMEOUT`
goes the usual way too.
"""

from __future__ import annotations

import fcntl
import marshal
import os
import sqlite3
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from ..errors import InputError

if TYPE_CHECKING:
    import queue

SOCKET_SUFFIX = ".search.sock"  # the store's path, then this: where a watcher answers searches
COOKIE = ".newsctl-cookie-"  # files a search creates in a watched root to see the watcher catch up
SYNC_TIMEOUT = 2.0  # seconds a search waits for the watcher before it walks instead
_IDLE = 0.05  # seconds without events before the watcher re-indexes what changed


# -- what a search asks ---------------------------------------------------------------

def _alive(lock: str) -> bool:
    """Whether a watcher holds ``lock`` (an exclusive flock that ends with its process)."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # also drops a shared lock we got: nobody held it
    return False


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass
class Watch:
    """A live watcher whose roots cover a search's paths."""

    conn: sqlite3.Connection
    id: int
    roots: list[str]  # the roots that hold the search's paths
    lock: str

    def events(self) -> int | None:
        """The watcher's event count now; None when it is gone or no longer trusted."""
        row = self.conn.execute("SELECT events FROM search_watches WHERE id = ? AND trusted = 1",
                                (self.id,)).fetchone()
        return row[0] if row is not None else None

    def tag(self) -> tuple[int, int] | None:
        """``(watcher id, event count)`` to save with a scope, read before its walk begins."""
        n = self.events()
        return None if n is None else (self.id, n)

    def sync(self, timeout: float = SYNC_TIMEOUT) -> bool:
        """Wait until the watcher has handled every event before this call; False if it did not."""
        cookies = []
        try:
            for root in self.roots:
                name = os.path.join(root, f"{COOKIE}{os.getpid()}-{time.monotonic_ns()}")
                os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                cookies.append(name)
        except OSError:  # a root we cannot write to
            _remove(cookies)
            return False
        deadline = time.monotonic() + timeout
        pause, checked = 0.0002, time.monotonic()
        while cookies:
            cookies = [c for c in cookies if os.path.lexists(c)]
            if not cookies:
                return True
            now = time.monotonic()
            if now > deadline:
                break
            if now - checked > 0.1:  # the watcher may have died meanwhile
                if not _alive(self.lock):
                    break
                checked = now
            time.sleep(pause)
            pause = min(pause * 2, 0.005)
        _remove(cookies)
        return False


def _remove(paths: Sequence[str]) -> None:
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass


def covering(conn: sqlite3.Connection, paths: Sequence[str]) -> Watch | None:
    """A live, trusted watcher whose roots hold every one of ``paths``, or None."""
    try:
        rows = conn.execute("SELECT id, roots, lock FROM search_watches WHERE trusted = 1 ORDER BY id DESC").fetchall()
    except sqlite3.OperationalError:  # an index made before watchers
        return None
    if not rows:
        return None
    real = [os.path.realpath(p) for p in paths]
    for wid, blob, lock in rows:
        roots = [os.fsdecode(r) for r in marshal.loads(blob)]
        used = []
        for p in real:
            root = next((r for r in roots if _under(p, r)), None)
            if root is None:
                break
            if root not in used:
                used.append(root)
        else:
            if used and _alive(lock):
                return Watch(conn, wid, used, lock)
    return None


def socket_path(store_path) -> str:
    """Where a watcher of the store at ``store_path`` answers searches."""
    return os.fspath(store_path) + SOCKET_SUFFIX


class Request:
    """A search a client sent over the socket: its payload, and the descriptors it writes the answer to.

    ``answer(request, caught_up, roots, index)`` (given to :class:`Watcher`) calls
    :meth:`accept` right before it writes anything, and returns the exit
    status, or None to decline.
    """

    def __init__(self, conn, payload: bytes, fds: list[int]) -> None:
        self.conn = conn
        self.payload = payload
        self.fds = fds
        self.accepted = False
        self.cookies: set[str] = set()

    def accept(self) -> None:
        self.conn.sendall(b"A")
        self.accepted = True

    def finish(self, status: int | None) -> None:
        """Send the exit status (or the refusal), and close the connection and descriptors."""
        try:
            if not self.accepted:
                self.conn.sendall(b"D")
            else:
                self.conn.sendall(bytes([status if status is not None and 0 <= status < 256 else 2]))
        except OSError:
            pass
        finally:
            self.close()

    def close(self) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []
        try:
            self.conn.close()
        except OSError:
            pass


_MAX_REQUEST = 1 << 20  # bytes; a command line is far shorter
_SUN_PATH = 107  # the longest socket path (bytes) Linux takes; a store deeper than that is not served


def _receive(conn) -> Request | None:
    """Read one request from a new connection: a 4-byte length, then marshal data; None for a bad one."""
    import socket
    import sys

    fds: list[int] = []
    try:
        conn.settimeout(SYNC_TIMEOUT)
        data, anc, _, _ = conn.recvmsg(1 << 16, socket.CMSG_SPACE(8 * 4))
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.extend(int.from_bytes(raw[i:i + 4], sys.byteorder) for i in range(0, len(raw) - len(raw) % 4, 4))
        if len(data) < 4 or len(fds) != 2:
            raise OSError("a bad request")
        size = int.from_bytes(data[:4], "little")
        if size > _MAX_REQUEST:
            raise OSError("request too long")
        data = data[4:]
        while len(data) < size:
            more = conn.recv(size - len(data))
            if not more:
                raise OSError("short request")
            data += more
        conn.settimeout(None)
        return Request(conn, data[:size], fds)
    except OSError:
        for fd in fds:
            os.close(fd)
        conn.close()
        return None


def _bind(path: str):
    """A listening unix socket at ``path``, or None when another live watcher serves there (or it cannot be made)."""
    import socket

    if len(os.fsencode(path)) > _SUN_PATH:  # beyond the room in sockaddr_un
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
            sock.close()
            return None  # a live watcher answers there already
        except OSError:
            pass
        finally:
            probe.close()
        try:
            os.unlink(path)  # a dead watcher's
        except OSError:
            pass
        mask = os.umask(0o177)  # only this user may connect: no moment with a wider mode
        try:
            sock.bind(path)
        finally:
            os.umask(mask)
        sock.listen(16)
        sock.settimeout(0.2)
        return sock
    except OSError:
        sock.close()
        return None


# -- the watcher ------------------------------------------------------------------------

def _inotify_class():
    """watchdog's ``Inotify``, made to report a queue overflow (which it drops) in ``overflowed``."""
    try:
        from watchdog.observers import inotify_c
    except ImportError:
        raise InputError("newsctl index --watch needs the 'watchdog' package: pip install 'newsctl[watch]'") from None
    except OSError as exc:  # not Linux
        raise InputError(f"newsctl index --watch needs inotify (Linux): {exc}") from None
    cls = inotify_c.Inotify
    if not getattr(cls, "_newsctl_overflow", False):
        parse = cls._parse_event_buffer

        def parse_noting_overflow(event_buffer):
            for wd, mask, cookie, name in parse(event_buffer):
                if wd == -1 and mask & inotify_c.InotifyConstants.IN_Q_OVERFLOW:
                    _OVERFLOW.set()
                yield wd, mask, cookie, name

        cls._parse_event_buffer = staticmethod(parse_noting_overflow)
        cls._newsctl_overflow = True
    return inotify_c


class _Overflow:
    """Set when inotify reported a full queue (events lost); the watcher clears it when it has counted it."""

    flag = False

    @classmethod
    def set(cls) -> None:
        cls.flag = True

    @classmethod
    def is_set(cls) -> bool:
        return cls.flag

    @classmethod
    def clear(cls) -> None:
        cls.flag = False


_OVERFLOW = _Overflow  # a search never loads threading for it (start-up time)


def _has_symlink(root: str) -> bool:
    """Whether the tree under ``root`` holds a symbolic link (which inotify would not follow)."""
    todo = [root]
    while todo:
        try:
            with os.scandir(todo.pop()) as it:
                for entry in it:
                    if entry.is_symlink():
                        return True
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(entry.path)
        except OSError:
            continue
    return False


class Watcher:
    """Keeps the index of ``paths`` (directories) current until :meth:`stop` or Ctrl-C."""

    def __init__(self, store_path, paths: Sequence[str],
                 answer: Callable[[Request, tuple[int, int], list[str], object], int | None] | None = None) -> None:
        import threading

        self.store_path = store_path
        self.roots: list[str] = []
        for p in paths:
            if not os.path.isdir(p):
                raise InputError(f"--watch takes directories: {p}")
            self.roots.append(os.path.realpath(p))
        if not self.roots:
            raise InputError("no input: give the directories to watch")
        self._stop = threading.Event()
        self.id: int | None = None
        self.events = 0
        self.answer = answer  # answers searches over the socket (cli/serve.py), if given
        self.trusted = False

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, ready: Callable[[object], None] | None = None) -> None:
        """Index the roots, call ``ready(refresh result)``, then follow their changes until stopped."""
        import hashlib
        import queue
        import threading

        from ..store import open_store
        from .index import SearchIndex, start_worker

        inotify_c = _inotify_class()
        if self.answer is not None:
            start_worker()  # the helper of the hits it answers: forked before the index and the threads exist
        with open_store(self.store_path) as st:
            index = SearchIndex(st.conn, keep_story_files=True)  # it answers search after search
            own = {str(st.path) + suffix for suffix in ("", "-wal", "-shm", "-journal")}
            lock_path = f"{st.path}.watch-{hashlib.sha1(marshal.dumps(sorted(self.roots))).hexdigest()[:12]}.lock"
            lock = open(lock_path, "a+")
            try:
                try:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise InputError(f"another newsctl already watches {', '.join(self.roots)}") from None
                own.add(lock_path)
                mask = (inotify_c.InotifyConstants.IN_MODIFY | inotify_c.InotifyConstants.IN_ATTRIB
                        | inotify_c.InotifyConstants.IN_CLOSE_WRITE | inotify_c.InotifyConstants.IN_MOVED_FROM
                        | inotify_c.InotifyConstants.IN_MOVED_TO | inotify_c.InotifyConstants.IN_CREATE
                        | inotify_c.InotifyConstants.IN_DELETE | inotify_c.InotifyConstants.IN_DELETE_SELF
                        | inotify_c.InotifyConstants.IN_MOVE_SELF)
                try:
                    watches = [inotify_c.Inotify(os.fsencode(r), recursive=True, event_mask=mask) for r in self.roots]
                except OSError as exc:  # e.g. the limit of inotify watches reached
                    raise InputError(f"cannot watch {', '.join(self.roots)}: {exc}") from None
                events: queue.Queue = queue.Queue()
                readers = [threading.Thread(target=self._read, args=(w, events), daemon=True) for w in watches]
                for t in readers:
                    t.start()
                try:
                    self._serve(index, lock_path, own, events, ready, socket_path(st.path))
                finally:
                    for w in watches:
                        w.close()
            finally:
                lock.close()  # releases the flock: searches stop trusting this watcher

    def _read(self, inotify, events: queue.Queue) -> None:
        while not self._stop.is_set():
            try:
                got = inotify.read_events()
            except OSError:
                got = None
            if not got:
                if self._stop.is_set() or got is None:
                    events.put(None)  # the watch is gone
                    return
                continue
            events.put(got)

    def _listen(self, sock, events: queue.Queue) -> None:
        """Take requests on the socket and queue them with the events, until stopped."""
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            request = _receive(conn)
            if request is not None:
                events.put(request)

    def _serve(self, index, lock_path: str, own: set[str], events: queue.Queue, ready,
               sock_path: str | None = None) -> None:
        import threading
        from queue import Empty

        conn = index.conn
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            for wid, lock in conn.execute("SELECT id, lock FROM search_watches").fetchall():
                if not _alive(lock):
                    conn.execute("DELETE FROM search_watches WHERE id = ?", (wid,))
            trusted = not any(_has_symlink(r) for r in self.roots)
            self.id = conn.execute(
                "INSERT INTO search_watches (roots, lock, pid, events, trusted, started) VALUES (?, ?, ?, 0, ?, ?)",
                (marshal.dumps([os.fsencode(r) for r in self.roots]), lock_path, os.getpid(), int(trusted),
                 time.time())).lastrowid
        self.trusted = bool(trusted)
        first = index.refresh(self.roots, save_scope=False)
        sock = _bind(sock_path) if self.answer is not None and sock_path else None
        if sock is not None:
            index.load_story_files()  # now rather than in the first search
            own.add(sock_path)
            threading.Thread(target=self._listen, args=(sock, events), daemon=True).start()
        try:
            if ready is not None:
                ready(first)
            self._loop(index, own, events)
        finally:
            if sock is not None:
                sock.close()
                _remove([sock_path])
                while True:  # requests still queued are declined: their clients search the usual way
                    try:
                        item = events.get_nowait()
                    except Empty:
                        break
                    if isinstance(item, Request):
                        item.finish(None)

    def _loop(self, index, own: set[str], events: queue.Queue) -> None:
        from queue import Empty

        conn = index.conn
        dirty: set[str] = set()
        everything = False
        saved_events = 0
        waiting: dict[str, Request] = {}  # a request's cookie -> the request
        ready: list[Request] = []
        serial = 0
        try:
            while not self._stop.is_set():
                try:
                    batch = events.get(timeout=_IDLE)
                except Empty:
                    batch = ()
                if batch is None:  # a root is gone: stop being trusted, and stop
                    self._distrust(conn)
                    return
                if isinstance(batch, Request):
                    serial += 1
                    if not self.trusted or not self._send_cookies(batch, serial):
                        batch.finish(None)
                    else:
                        waiting.update((c, batch) for c in batch.cookies)
                    continue
                cookies = []
                for ev in batch:
                    path = os.fsdecode(ev.src_path)
                    name = os.path.basename(path)
                    if name.startswith(COOKIE):
                        if ev.is_create:
                            cookies.append(path)
                            request = waiting.pop(path, None)
                            if request is not None:
                                request.cookies.discard(path)
                                if not request.cookies:
                                    ready.append(request)
                        continue
                    if path in own:
                        continue
                    self.events += 1
                    if (ev.is_delete_self or ev.is_move_self) and path in self.roots:
                        self._distrust(conn)
                        return
                    if (ev.is_create or ev.is_moved_to) and os.path.islink(path):
                        self._distrust(conn)  # the walk follows links, inotify does not
                    new_dir = ev.is_directory and (ev.is_create or ev.is_moved_to)
                    dirty.add(path if new_dir else os.path.dirname(path))
                if _OVERFLOW.is_set():  # events were lost: count it, and index everything again
                    _OVERFLOW.clear()
                    self.events += 1
                    everything = True
                if self.events != saved_events:  # counted before any cookie below is answered
                    with conn:
                        conn.execute("UPDATE search_watches SET events = ? WHERE id = ?", (self.events, self.id))
                    saved_events = self.events
                _remove(cookies)
                if (ready or not batch) and (dirty or everything):
                    self._apply(index, sorted(self.roots) if everything else sorted(dirty))
                    dirty.clear()
                    everything = False
                for request in ready:
                    self._answer(request, index)
                ready.clear()
        finally:
            for request in {id(r): r for r in [*waiting.values(), *ready]}.values():
                if request.fds:
                    request.finish(None)
            _remove(sorted(waiting))

    def _send_cookies(self, request: Request, serial: int) -> bool:
        """Create the request's cookie in every root; False when one cannot be made."""
        try:
            for root in self.roots:
                name = os.path.join(root, f"{COOKIE}w{os.getpid()}-{serial}")
                os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                request.cookies.add(name)
        except OSError:
            _remove(sorted(request.cookies))
            request.cookies.clear()
            return False
        return True

    def _answer(self, request: Request, index) -> None:
        """Answer a request whose cookies came back: every change before it is counted and indexed."""
        status = None
        cwd = os.getcwd()
        try:
            if self.trusted:
                status = self.answer(request, (self.id, self.events), list(self.roots), index)
        except Exception as exc:  # noqa: BLE001 - a request never ends the watcher
            if request.accepted:
                try:
                    os.write(request.fds[1], f"Error: the watcher could not finish this search: {exc}\n".encode())
                except (OSError, IndexError):
                    pass
                status = 2
        finally:
            try:
                os.chdir(cwd)
            except OSError:
                pass
            request.finish(status)


    def _apply(self, index, dirs: list[str]) -> None:
        """Index again the directories where something happened (each walk covers those below it)."""
        top: list[str] = []
        for d in dirs:  # sorted: a directory comes before those below it
            if not any(_under(d, t) for t in top) and any(_under(d, r) for r in self.roots):
                top.append(d)
        for d in top:
            if os.path.isdir(d):
                try:
                    index.refresh([d], save_scope=False)
                except InputError:
                    pass  # gone meanwhile: its parent's events follow

    def _distrust(self, conn) -> None:
        self.trusted = False
        with conn:
            conn.execute("UPDATE search_watches SET trusted = 0 WHERE id = ?", (self.id,))
