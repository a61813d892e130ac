"""The annotation store: one embedded SQLite database shared by every command.

Model output is kept per file content (SHA-256 of the bytes) and pipeline key,
so an unchanged file is never sent through the model twice and a changed file
is processed alone. Each file's record is written in one transaction: an
interrupted run never leaves half a record behind.

Every SQLite error met while using the store, also one found long after it
was opened (a damaged page read in the middle of a query, a full disk), is
raised as :class:`~analysis.errors.StoreError` (:class:`StoreFullError` for a
full disk) naming the store and the way out; see :func:`store_error`.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import StoreError, StoreFullError

SCHEMA_VERSION = 1
SQLITE_FULL = getattr(sqlite3, "SQLITE_FULL", 13)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS annotated (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    created REAL NOT NULL,
    UNIQUE (sha256, pipeline)
);
CREATE TABLE IF NOT EXISTS sentences (
    annotated INTEGER NOT NULL REFERENCES annotated(id) ON DELETE CASCADE,
    story INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_by_file ON sentences (annotated);
CREATE TABLE IF NOT EXISTS mentions (
    annotated INTEGER NOT NULL REFERENCES annotated(id) ON DELETE CASCADE,
    story INTEGER NOT NULL,
    sentence INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    label TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mentions_by_file ON mentions (annotated);
"""


def default_store_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "newsctl" / "store.sqlite"


# SQLite's primary result codes (the low byte of an extended code)
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 11, 13, 26


def store_error(exc: sqlite3.Error, path) -> StoreError:
    """The :class:`StoreError` to raise for ``exc``, met while using the store at ``path``."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    detail = str(exc) or exc.__class__.__name__
    if primary == _SQLITE_FULL or "disk is full" in detail:
        return StoreFullError(
            f"the disk holding the store {path} is full ({detail}); free some space, "
            "or give another place with --store, or run with --no-cache")
    if (primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in detail
            or "vtable constructor failed" in detail or "not a database" in detail):
        return StoreError(
            f"the store {path} is damaged ({detail}); run with --no-cache, or delete it "
            "(and its -wal and -shm files): it is a cache, and newsctl builds it again")
    return StoreError(f"cannot use the store {path} ({detail}); run with --no-cache, or give another --store")


# Errors of newsctl's own making (a constraint broken, a bad statement): a
# traceback serves better than a message about the store.
_BUGS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)


def guarded(method):
    """Decorate a method of an object with a ``path``: SQLite errors become :class:`StoreError`.

    A generator method is guarded while it is iterated, so an error met in
    the middle of a query, long after the call, is turned as well.
    """
    if method.__code__.co_flags & 0x20:  # CO_GENERATOR

        @functools.wraps(method)
        def generator(self, *args, **kwargs):
            try:
                yield from method(self, *args, **kwargs)
            except _BUGS:
                raise
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc

        return generator

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except _BUGS:
            raise
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    return wrapper


@dataclass(frozen=True)
class StoredSentence:
    story: int
    idx: int
    start: int
    end: int


@dataclass(frozen=True)
class StoredMention:
    story: int
    sentence: int
    start: int
    end: int
    label: str


class Store:
    """Thin wrapper over the SQLite file; create with :func:`open_store`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- annotations ---------------------------------------------------------

    def get_annotations(self, sha256: str, pipeline: str):
        """``(sentences, mentions)`` stored for this content and pipeline, or None."""
        return self.get_many([sha256], pipeline).get(sha256)

    @guarded
    def get_many(self, sha256s, pipeline: str, *, rows: bool = False) -> dict:
        """``{sha256: (sentences, mentions)}`` for the stored ones among ``sha256s``.

        ``rows``: plain tuples ``(story, idx, start, end)`` and ``(story,
        sentence, start, end, label)`` instead of :class:`StoredSentence` and
        :class:`StoredMention` (several times quicker to make, and to send to
        a worker process).
        """
        ids = {aid: sha for sha, aid in self.stored_ids(sha256s, pipeline).items()}
        return self.records_of(ids, rows=rows)

    @guarded
    def stored_ids(self, sha256s, pipeline: str) -> dict[str, int]:
        """``{sha256: record id}`` for the stored ones among ``sha256s`` (see :meth:`records_of`)."""
        out: dict[str, int] = {}
        wanted = list(dict.fromkeys(sha256s))
        for k in range(0, len(wanted), 500):
            chunk = wanted[k: k + 500]
            marks = ",".join("?" * len(chunk))
            for aid, sha in self.conn.execute(
                f"SELECT id, sha256 FROM annotated WHERE pipeline = ? AND sha256 IN ({marks})", (pipeline, *chunk)
            ):
                out[sha] = aid
        return out

    @guarded
    def records_of(self, ids: dict[int, object], *, rows: bool = False) -> dict:
        """``{key: (sentences, mentions)}`` for ``ids``, record id -> key (``rows``: see :meth:`get_many`)."""
        out: dict = {key: ([], []) for key in ids.values()}
        aids = list(ids)
        for k in range(0, len(aids), 500):
            chunk = aids[k: k + 500]
            marks = ",".join("?" * len(chunk))
            for slot, query, make in (
                (0, "SELECT annotated, story, idx, start, end FROM sentences WHERE annotated IN ({}) "
                    "ORDER BY annotated, story, idx", StoredSentence),
                (1, "SELECT annotated, story, sentence, start, end, label FROM mentions WHERE annotated IN ({}) "
                    "ORDER BY annotated, start, end", StoredMention),
            ):
                for row in self.conn.execute(query.format(marks), chunk):
                    out[ids[row[0]]][slot].append(row[1:] if rows else make(*row[1:]))
        return out

    @guarded
    def put_annotations(self, sha256: str, pipeline: str, sentences, mentions) -> None:
        """Replace the record for this content and pipeline, atomically.

        Raises :class:`StoreFullError` when the disk is full (nothing of the
        record is written) and :class:`StoreError` for a damaged store.
        """
        with self.conn:
            self.conn.execute("DELETE FROM annotated WHERE sha256 = ? AND pipeline = ?", (sha256, pipeline))
            cur = self.conn.execute(
                "INSERT INTO annotated (sha256, pipeline, created) VALUES (?, ?, ?)",
                (sha256, pipeline, time.time()),
            )
            aid = cur.lastrowid
            self.conn.executemany(
                "INSERT INTO sentences (annotated, story, idx, start, end) VALUES (?, ?, ?, ?, ?)",
                [(aid, s.story, s.idx, s.start, s.end) for s in sentences],
            )
            self.conn.executemany(
                "INSERT INTO mentions (annotated, story, sentence, start, end, label) VALUES (?, ?, ?, ?, ?, ?)",
                [(aid, m.story, m.sentence, m.start, m.end, m.label) for m in mentions],
            )

    @guarded
    def annotation_count(self, pipeline: str | None = None) -> int:
        if pipeline is None:
            return self.conn.execute("SELECT count(*) FROM annotated").fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM annotated WHERE pipeline = ?", (pipeline,)).fetchone()[0]


def open_store(path: str | os.PathLike | None = None, *, readonly: bool = False) -> Store:
    """Open (and create) the store at ``path`` or the default location.

    ``readonly``: only read it (see :func:`connect_readonly`), and create
    nothing: a missing store is an empty one, held in memory.
    """
    p = Path(path) if path else default_store_path()
    if readonly:
        conn = connect_readonly(p)
        if conn is None:
            conn = sqlite3.connect(":memory:")
            conn.executescript(_SCHEMA)
        return Store(conn, p)
    conn = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(p), timeout=30)
        conn.execute("PRAGMA foreign_keys = ON")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.executescript(_SCHEMA)
        with conn:
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise store_error(exc, p) from exc
    except OSError as exc:
        raise StoreError(f"cannot open the annotation store {p}: {exc.strerror or exc}") from exc
    return Store(conn, p)


_SQLITE_READONLY, _SQLITE_CANTOPEN = 8, 14
_SQLITE_BUSY = 5


def _use_wal(conn: sqlite3.Connection, timeout: float = 30.0) -> None:
    """Put the store in WAL mode (once, in its file), waiting for other processes as the busy timeout would.

    Switching to WAL takes no busy timeout: when other processes open a new
    store at the same moment (two commands started together), SQLite
    answers "database is locked" at once. So the switch is tried again for
    up to ``timeout`` seconds, as any other statement waits.
    """
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) or 0
            if code & 0xFF != _SQLITE_BUSY or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(2 * delay, 0.05)


def connect_readonly(path: str | os.PathLike) -> sqlite3.Connection | None:
    """A read-only connection to the store at ``path``; None when there is no file there.

    Nothing is created or written. A store in WAL mode needs its ``-shm``
    file, which SQLite makes beside it when the directory may be written or
    the file is there already. In a directory that cannot be written the
    store is read as a plain file (``immutable``) when it has no write-ahead
    log left (one that nobody can write there either); a log with changes in
    it cannot be read without the ``-shm`` file: :class:`StoreError` says so.
    """
    p = Path(path)
    try:
        if not p.exists():
            return None
        if not p.is_file():
            raise StoreError(f"cannot use the store {p}: not a regular file")
        uri = p.resolve().as_uri()
    except OSError as exc:
        raise StoreError(f"cannot open the annotation store {p}: {exc.strerror or exc}") from exc
    conn = None
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) or 0
            if code & 0xFF not in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
                raise
            conn.close()
            conn = None
            wal = Path(f"{p}-wal")
            if wal.exists() and wal.stat().st_size:
                raise StoreError(
                    f"cannot read the store {p}: its directory cannot be written, and its write-ahead log "
                    f"{wal} holds changes that SQLite reads only with the {p}-shm file beside it; run newsctl "
                    "once where the store can be written (that folds the log in), or copy the store and its "
                    "-wal file to a place you can write and give it with --store") from exc
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=30)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise store_error(exc, p) from exc
    except OSError as exc:
        if conn is not None:
            conn.close()
        raise StoreError(f"cannot open the annotation store {p}: {exc.strerror or exc}") from exc
