"""The full-text index: its tables, keeping it current, and searching it.

The index lives in the annotation store (:mod:`analysis.store`): a table of
indexed files (path, size, mtime, SHA-256), a table of stories (offsets,
metadata for the filters, and the story's text and headline deflated on their
own with a preset dictionary, :class:`_Packer`, for the exact hits and
keyword-in-context lines) and a contentless FTS5 table over the folded story
texts that finds candidate stories. The exact
hit positions are then found by :class:`analysis.search.match.Matcher`.
:meth:`SearchIndex.refresh` keeps the index in step with the files: only files
whose size or mtime changed are read again, and only those whose content hash
changed are split and indexed again.

Every search checks every input file's size and mtime first, so answers are
never stale. To keep that cheap, a refresh saves what it walked for its paths
(a *scope*); :meth:`SearchIndex.search_paths` searches a saved scope at once
while a forked child stats the files, and keeps the answer when nothing
changed. See :class:`_Walk` and ``SearchIndex._saved``. Under a live
``newsctl index --watch`` that has seen no change since the scope's walk, the
walk is skipped altogether (:mod:`analysis.search.watch`).
"""

from __future__ import annotations

import gc
import json
import marshal
import os
import re
import signal
import sqlite3
import sys
import time
import unicodedata
import weakref
import zlib
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate, chain, islice
from typing import Callable, Iterable, Iterator, Sequence

from ..errors import InputError, QueryError, StoreError, one_line
from ..reader import STDIN, DecodeError, Document, FileEntry, NotRegularFileError, ReadWarning, decode, file_digest
from ..reader import open_regular, path_stem
from ..reader import walk as _reader_walk
from ..store import guarded
from ..textnorm import nfc
from .fold import _NON_ASCII, FOLD_VERSION, fold
from .match import JOIN, Matcher
from .records import Filters, Match, StoryRec
from .watch import covering

# -- walking the inputs -----------------------------------------------------------

def walk(paths: Iterable[str]) -> list[FileEntry]:
    """:func:`analysis.reader.walk` for the index, which cannot hold standard input."""
    paths = list(paths)
    if STDIN in paths:
        raise InputError("standard input cannot be indexed; search it without the index")
    return _reader_walk(paths)


def _scope_key(paths: Sequence[str]) -> bytes:
    """The saved-scope key of a refresh: the paths as given and where they were given (as bytes)."""
    return b"\0".join(map(os.fsencode, [os.getcwd(), *paths]))


def _unmarshal(data: bytes):
    """``marshal.loads``, or None for data this Python cannot read."""
    try:
        return marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None


def _pack_scope(value) -> bytes:
    """A saved scope's entries or files as stored: marshal data, compressed (paths repeat a lot)."""
    return zlib.compress(marshal.dumps(value), 1)


def _unpack_scope(data: bytes):
    """What :func:`_pack_scope` packed, or None for data this Python cannot read."""
    try:
        return _unmarshal(zlib.decompress(data))
    except zlib.error:
        return None


def _fork_writer(write: Callable[[int], None]) -> tuple[int, int] | None:
    """Fork a child that runs ``write(fd)`` on a pipe's write end, then leaves at once.

    Returns ``(pid, read end)``, or None when no pipe or child could be made.
    The child never runs the parent's clean-up (``os._exit``); when ``write``
    fails it exits 1 and the parent, reading a short answer, does the work itself.
    """
    try:
        r, w = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return None
    if pid == 0:
        code = 1
        try:
            gc.disable()  # a collection would touch, and so copy, every page of the parent's heap
            os.close(r)
            write(w)
            code = 0
        except BaseException:  # noqa: BLE001 - the parent makes what is missing, and says what is wrong
            pass
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


class _Walk:
    """:func:`walk` started now and compared with what an earlier walk found.

    :meth:`result` is None when the walk found exactly ``expected`` (the
    earlier entries as :func:`_pack_scope` packed them), otherwise the new entries; it raises
    what :func:`walk` raises. On Linux the walk runs in a forked child: it is
    mostly waiting on one ``stat`` per file, and meanwhile this process can
    search. The child sends back one byte when nothing changed, or else the
    entries. Elsewhere, or when the child cannot start or fails, the walk runs
    here when the result is asked for.
    """

    fork = sys.platform.startswith("linux") and hasattr(os, "fork")
    _SAME = b"="

    def __init__(self, paths: Sequence[str], expected: bytes) -> None:
        self.paths = list(paths)
        self.expected = expected
        self._pid = self._fd = None
        if not self.fork:
            return
        forked = _fork_writer(self._write)
        if forked is not None:
            self._pid, self._fd = forked

    def _write(self, fd: int) -> None:
        try:
            found = self._walk()
            data = self._SAME if found is None else marshal.dumps(("ok", [tuple(e) for e in found]))
        except InputError as exc:
            data = marshal.dumps(("error", str(exc)))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    def _walk(self) -> list[FileEntry] | None:
        entries = walk(self.paths)
        return None if _unpack_scope(self.expected) == entries else entries

    def result(self) -> list[tuple[str, str, int, int, str]] | None:
        """None, or the entries (as plain tuples when they came from the child)."""
        if self._pid is None:
            return self._walk()
        chunks = []
        try:
            while chunk := os.read(self._fd, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self._fd)
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
        data = b"".join(chunks)
        if status != 0:
            return self._walk()
        if data == self._SAME:
            return None
        kind, value = _unmarshal(data) or (None, None)
        if kind == "error":
            raise InputError(value)
        return value if kind == "ok" else self._walk()

    def close(self) -> None:
        """Stop the walk; its result is no longer wanted."""
        if self._pid is not None:
            os.close(self._fd)
            _reap(self._pid)
            self._pid = None


def _reap(pid: int) -> None:
    """Kill a forked helper whose work is no longer wanted (or done), and wait for it."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    os.waitpid(pid, 0)


# -- what the FTS table holds ----------------------------------------------------

def fts_body(text: str) -> str:
    """What the FTS table indexes for a story: its tokens, NFC and folded, one space apart.

    The tokens are found here, by the same rule as the query's and the
    matcher's (:data:`_TOKEN`), and FTS5's ``ascii`` tokenizer only splits
    them at the spaces (it takes every non-ASCII character for part of a
    word), so the index finds a story exactly when the matcher would, whatever
    SQLite's own Unicode tables say about a character.
    """
    folded = fold(nfc(text)[0])
    return folded if folded.isascii() else _NON_ASCII.sub(_body_char, folded)


_BODY_CHAR: dict[str, str] = {}


def _body_char(m: re.Match) -> str:
    """A non-ASCII character of a body: itself in a token, else a space (``ascii`` would keep it)."""
    ch = m.group()
    out = _BODY_CHAR.get(ch)
    if out is None:
        out = _BODY_CHAR[ch] = ch if ch.isalnum() else " "
    return out


# -- the index ----------------------------------------------------------------------

SEARCH_SCHEMA = "8"  # 3: paths as bytes, NFC bodies; 4: texts compressed per file; 5: watchers;
# 6: texts deflated per story with a preset dictionary; 7: zstd frames with a trained dictionary;
# 8: datelines with agency names (Reuters -> RTR) and title-case places
_SCHEMA_KEY = "search_schema"
_GENERATION_KEY = "search_generation"
_BUILT_KEY = "search_built"  # a token made with the tables: a rebuild by another process changes it
_TABLES = ("search_fts", "search_stories", "search_texts", "search_dicts", "search_files", "search_scopes",
           "search_watches")  # search_texts: schema 5 and older
_SCOPES_KEPT = 8  # saved scopes, newest first
_TEXT_CHUNK = 64  # files whose texts a search reads in one statement
_HIT_CHUNK = 512  # matching stories whose hits the lean readings find in one go
_HIT_CHUNK_MIN = 128  # the watcher's chunks for fewer than 16 x _HIT_CHUNK hits: a sixteenth of them, at least this
_HELPER_AHEAD = 3  # the watcher's helper's chunks sent and not back yet, at most: the watcher makes the rest itself
_AHEAD = 20_000  # matches found while the walk runs; the rest come after it
_SCOPE_MAX_FILES = 200_000  # beyond this a saved scope (~150 bytes a file) costs more than it saves
_DDL = """
CREATE TABLE IF NOT EXISTS search_files (
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL UNIQUE,  -- os.fsencode(absolute path): a name need not be UTF-8
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    encoding TEXT NOT NULL,
    stories INTEGER NOT NULL,
    chars INTEGER NOT NULL,
    indexed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS search_stories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a story id names one version of a file
    file INTEGER NOT NULL,
    story INTEGER NOT NULL,
    kind TEXT NOT NULL,
    section TEXT,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    places TEXT NOT NULL,
    agencies TEXT NOT NULL,
    data BLOB NOT NULL  -- the story's text and headline, deflated alone (see _Packer)
);
CREATE TABLE IF NOT EXISTS search_dicts (
    id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 255),  -- named by a story's data's first byte
    data BLOB NOT NULL,  -- a zstd dictionary (make_zdict)
    made REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS search_stories_by_file ON search_stories (file, story);
CREATE TABLE IF NOT EXISTS search_scopes (
    scope BLOB PRIMARY KEY,
    entries BLOB NOT NULL,
    files BLOB NOT NULL,
    stories INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    saved REAL NOT NULL,
    watch_id INTEGER,  -- a live watcher's id and event count, read before the walk behind it (watch.py)
    watch_events INTEGER
);
CREATE TABLE IF NOT EXISTS search_watches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    roots BLOB NOT NULL,  -- marshal list of os.fsencode(real path)
    lock TEXT NOT NULL,  -- held (flock) while the watcher runs
    pid INTEGER NOT NULL,
    events INTEGER NOT NULL,  -- events received so far
    trusted INTEGER NOT NULL,
    started REAL NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    body, content='', columnsize=0, tokenize='ascii'
);
"""
_SEP = "\x1f"  # joins places and agencies in one column


_ZDICT_MAX = 64 * 1024  # bytes of a trained dictionary (32 KB: CoNLL-sentence stories 5 % larger)
_ZDICT_SAMPLE = 2 << 20  # characters of text a dictionary is made from (zstd: some 30x the dictionary)
_ZDICT_MIN_TEXT = 256 * 1024  # a refresh with less new text makes no dictionary yet (its stories go without)
_ZDICT_FILES = 64  # files read first, spread over the refresh's new files; then those beside them, to the sample's size
_ZSTD_LEVEL = 9  # 12: 1 % smaller, as fast; 3: 15 % larger, 3x faster to pack; 19: larger and 30x slower
_WORDS = re.compile(r"\w+\W*")


def _zstd():
    import zstandard  # here: a search that lists files (-l) never loads it

    return zstandard


def _words_zdict(texts: Iterable[str], size: int) -> bytes:
    """A raw-content dictionary: the sample texts' commonest words and word pairs.

    Each fragment (a word with the spaces and punctuation after it, or two
    such in a row) is scored by the bytes it would save, ``(count - 1) x
    length``; the best are kept up to ``size`` bytes, the best last (the
    shortest distances reach the end of the dictionary).
    """
    from collections import Counter

    counts: Counter = Counter()
    for text in texts:
        words = _WORDS.findall(text)
        counts.update(words)
        counts.update(map(str.__add__, words, words[1:]))
    scored = sorted(((n - 1) * len(w.encode("utf-8", "surrogatepass")), w) for w, n in counts.items() if n > 2)
    picked: list[bytes] = []
    room = size
    for _, w in reversed(scored):
        data = w.encode("utf-8", "surrogatepass")
        if len(data) <= room:
            picked.append(data)
            room -= len(data)
            if room < 8:
                break
    return b"".join(reversed(picked))


def make_zdict(samples: Sequence[bytes], size: int = _ZDICT_MAX) -> bytes:
    """A zstd dictionary for stories packed as :class:`_Packer` packs them, from sample stories (their raw bytes).

    Trained by zstd (``zstandard.train_dictionary``); where the sample is too
    small or too uniform for that, a raw-content dictionary of the samples'
    commonest words and word pairs. zstd tells the two apart by the trained
    one's magic number.
    """
    zstd = _zstd()
    try:
        return zstd.train_dictionary(size, list(samples), level=_ZSTD_LEVEL).as_bytes()
    except zstd.ZstdError:
        return _words_zdict((b.decode("utf-8", "surrogatepass") for b in samples), size)


class _Packer:
    """Packs a story (text and headline) on its own: a zstd frame, with the index's dictionary.

    Stored as one byte naming the dictionary (its id in ``search_dicts``; 0:
    none), then a zstd frame (with its content size and checksum) of the
    UTF-8 of the text, a NUL and the headline (file texts hold no NUL:
    :func:`analysis.reader.decode`). A story is unpacked alone, so a search
    inflates only its matching stories, a few hundred bytes each; zstd with a
    trained dictionary packs them to less than half of what deflate with a
    preset dictionary did, and unpacks them about 5x faster.
    """

    def __init__(self, zdict_id: int = 0, zdict: bytes = b"") -> None:
        zstd = _zstd()
        self.id = zdict_id
        self.head = bytes((zdict_id,))
        d = None
        if zdict:
            d = zstd.ZstdCompressionDict(zdict)
            d.precompute_compress(level=_ZSTD_LEVEL)
        self._compress = zstd.ZstdCompressor(level=_ZSTD_LEVEL, dict_data=d, write_checksum=True,
                                             write_content_size=True, write_dict_id=False).compress

    def pack(self, text: str, headline: str) -> bytes:
        return self.head + self._compress(f"{text}\x00{headline}".encode("utf-8", "surrogatepass"))


_UNPACKERS: list = [None, {}]  # [the zdicts they were made for, {dictionary id: its decompress}]


def _unpackers(zdicts: dict[int, bytes]) -> dict:
    """``{dictionary id: decompress}`` for the index's dictionaries (0: none), made once for a set."""
    if _UNPACKERS[0] is not zdicts:
        zstd = _zstd()
        out = {zid: zstd.ZstdDecompressor(dict_data=zstd.ZstdCompressionDict(z)).decompress
               for zid, z in zdicts.items()}
        out[0] = zstd.ZstdDecompressor().decompress
        _UNPACKERS[:] = [zdicts, out]
    return _UNPACKERS[1]


def _damaged(exc: BaseException) -> sqlite3.DatabaseError:
    return sqlite3.DatabaseError(f"database disk image is malformed (a stored text: {exc})")


def _unpack(data: bytes, zdicts: dict[int, bytes]) -> tuple[str, str]:
    """``(story text, headline)`` from :meth:`_Packer.pack`'s bytes; damaged bytes raise ``sqlite3.DatabaseError``.

    (So that :func:`analysis.store.guarded` reports them as a damaged store.)
    ``zdicts``: the index's dictionaries by id.
    """
    try:
        raw = _unpackers(zdicts)[data[0]](data[1:])
        text, headline = raw.decode("utf-8", "surrogatepass").rsplit("\x00", 1)
    except (_zstd().ZstdError, MemoryError, ValueError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise _damaged(exc) from exc
    return text, headline


_FTS_TOKEN = re.compile("[0-9A-Za-z\u0080-\U0010ffff]+")  # a token of FTS5's ascii tokenizer
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")  # and its case fold


def _plain(text: str, specials: str) -> bool:
    """Whether ``text`` holds none of ``specials`` and encodes as UTF-8 (no surrogate escapes)."""
    if any(c in text for c in specials):
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _store_path(conn: sqlite3.Connection) -> str:
    """The file of the connection's main database (reads no page, so works on a damaged one)."""
    try:
        for _, name, file in conn.execute("PRAGMA database_list"):
            if name == "main":
                return file or "(in memory)"
    except sqlite3.Error:
        pass
    return "(unknown)"


def _statements(script: str) -> list[str]:
    """``script``'s statements one by one (a trigger's body holds semicolons), for ``execute``
    inside a transaction, where ``executescript`` would commit first."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


_DDL_STATEMENTS = _statements(_DDL)


def _empty_store() -> sqlite3.Connection:
    """An empty store with an empty index, in memory: what a missing one reads as."""
    from ..store import _SCHEMA

    conn = sqlite3.connect(":memory:")
    conn.executescript(_SCHEMA + _DDL)
    with conn:
        conn.execute("INSERT INTO meta VALUES (?, ?)", (_SCHEMA_KEY, _schema_tag()))
    return conn


def _schema_tag() -> str:
    # The FTS table holds no text: deleting a story needs the exact folded text
    # it was indexed with, so any change to folding rebuilds the index.
    return f"{SEARCH_SCHEMA}/{FOLD_VERSION}/{unicodedata.unidata_version}/m{marshal.version}"


@dataclass
class Refresh:
    """What :meth:`SearchIndex.refresh` found and did."""

    files: list[tuple[str, int]] = field(default_factory=list)  # (path, file id) now indexed, input order
    new: int = 0
    changed: int = 0
    unchanged: int = 0  # includes files whose mtime changed but whose content did not
    removed: int = 0
    skipped: int = 0
    unreadable: int = 0  # skipped because they could not be read (not binary data)
    stories: int = 0
    warnings: list[ReadWarning] = field(default_factory=list)


def indexed_paths(conn: sqlite3.Connection, fragment: str) -> list[str]:
    """Paths of indexed files that contain ``fragment``, read without touching the schema.

    For looking files up by stem (``newsctl show``) in a store opened
    read-only; a store without an index gives ``[]``.
    """
    try:
        return [os.fsdecode(r[0]) for r in conn.execute(  # paths are stored as os.fsencode bytes
            "SELECT path FROM search_files WHERE instr(path, ?) > 0 ORDER BY path", (os.fsencode(fragment),))]
    except sqlite3.OperationalError:
        return []


class _Texts:
    """The texts of ``picked`` stories, read from the index a chunk of stories at a time.

    Each chunk is one statement by story id. Story ids are never reused, so a
    story whose file another newsctl indexed again meanwhile is no longer
    there: it is left out (:meth:`has` is false), rather than given a text
    that no longer goes with its offsets. With ``lazy``, :meth:`has` checks
    only that, and the texts are read when one is first asked for
    (:meth:`get`); a story gone in between is then an error. A text is
    unpacked only when a record's text is first asked for.
    """

    def __init__(self, index: "SearchIndex", picked: list, *, lazy: bool = False, chunk: int | None = None) -> None:
        self.conn = index.conn
        self.path = index.path  # named by a StoreError
        self.zdicts = index._zdicts
        self.lazy = lazy
        self.chunk = chunk or _TEXT_CHUNK
        self.sids = [p[2] for p in picked]
        self.pos = {sid: k for k, sid in enumerate(self.sids)}
        self.present: set[int] = set()
        self.checked: set[int] = set()
        self.data: dict[int, bytes] = {}

    def _chunk(self, sid: int, with_data: bool) -> tuple[dict[int, bytes | None], list[int]]:
        part = self.sids[self.pos[sid]:self.pos[sid] + self.chunk]
        return dict(self.conn.execute(
            f"SELECT id, {'data' if with_data else 'NULL'} FROM search_stories"
            f" WHERE id IN ({','.join('?' * len(part))})", part)), part

    @guarded
    def has(self, sid: int) -> bool:
        """Whether the story is still there: its chunk is checked when first asked for."""
        if sid not in self.checked:
            found, part = self._chunk(sid, not self.lazy)
            self.checked.update(part)
            self.present.update(found)
            if not self.lazy:
                self.data = found
        return sid in self.present

    @guarded  # called when a record's text is first asked for, outside SearchIndex.search
    def get(self, sid: int) -> tuple[str, str]:
        """``(story text, headline)`` of a story :meth:`has` found."""
        if sid not in self.data:
            self.data, _ = self._chunk(sid, True)
            if sid not in self.data:
                raise StoreError(f"the index in {self.path} changed while this search read it "
                                 "(another newsctl indexed a file again); run the search again")
        return _unpack(self.data[sid], self.zdicts)


class _IndexRec(StoryRec):
    """A :class:`StoryRec` from the index: its text and headline are unpacked when first asked for."""

    _texts: _Texts | None = None  # set with _sid once the story is picked
    _loaded = False

    def _load(self) -> None:
        self._text, self._headline = self._texts.get(self._sid) if self._texts is not None else ("", "")
        self._loaded = True

    @property
    def text(self) -> str:  # type: ignore[override]
        if not self._loaded:
            self._load()
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value

    @property
    def headline(self) -> str:  # type: ignore[override]
        if not self._loaded:
            self._load()
        return self._headline

    @headline.setter
    def headline(self, value: str) -> None:
        self._headline = value


class _IndexMatch(Match):
    """A :class:`Match` whose story the index found exactly: its hits are found when first asked for."""

    def __init__(self, rec: StoryRec, matcher: Matcher) -> None:
        self.rec = rec
        self._matcher = matcher

    def __getattr__(self, name: str):
        if name != "spans":
            raise AttributeError(name)
        self.spans = self._matcher.spans(self.rec.text) or []  # never []: the index found the story
        return self.spans


_STEMS: dict[str, str] = {}  # path -> path_stem(path), kept from search to search (a watcher answers many)


def _stem_of(path: str) -> str:
    stem = _STEMS.get(path)
    if stem is None:
        if len(_STEMS) > 1_000_000:
            _STEMS.clear()
        stem = _STEMS[path] = path_stem(path)
    return stem


def _chunk_hits(chunk: list, matcher: Matcher, zdicts: dict[int, bytes], metas: list | None = None):
    """The texts of a chunk of matching stories (from ``SearchIndex._hit_stories``) and their hits.

    ``(joined, starts, ends, metas, spans, strict)``: the stories' texts joined by
    :data:`analysis.search.match.JOIN`, where each starts and ends in
    ``joined``, each one's ``(stem, story, path, offset in the file)``, and
    the hits as offsets into ``joined``, in order. The hits of all the
    chunk's stories are found in one go where the matcher can
    (:meth:`Matcher.joined_spans`), else story by story; ``strict``: True when
    ``joined`` is known to be strict UTF-8 (no lone surrogates). Damaged data raises
    ``sqlite3.DatabaseError``. With ``metas``, ``chunk`` is only the packed texts.
    """
    datas = chunk if metas is not None else [c[3] for c in chunk]
    got = _joined_texts(datas, zdicts)
    if got is not None:
        joined, starts, ends, strict = got
        texts = None
    else:  # a text that holds a JOIN, or damaged data: story by story
        unpack = _unpackers(zdicts)
        texts = []
        add = texts.append
        for data in datas:
            try:
                raw = unpack[data[0]](data[1:])
                add(raw[:raw.rindex(0)].decode("utf-8", "surrogatepass"))
            except Exception:  # noqa: BLE001 - zstd's errors among them
                add(_unpack(data, zdicts)[0])  # raises the damaged store's error
        ends = list(accumulate(map(len, texts), lambda pos, n: pos + 1 + n))  # each text's end; a JOIN after it
        starts = [e - len(t) for e, t in zip(ends, texts)]
        joined = JOIN.join(texts)
        strict = False
    spans = matcher.joined_spans(joined, ends)
    if spans is None:
        if texts is None:
            texts = joined.split(JOIN)
        spans = []
        for t, b in zip(texts, starts):
            spans.extend((s + b, e + b) for s, e in matcher.spans(t) or ())
    if metas is None:
        get = _STEMS.get
        metas = [(get(path) or _stem_of(path), story, path, base) for (_, path), story, base, _ in chunk]
    return joined, starts, ends, metas, spans, strict


_JOIN_BYTE = JOIN.encode("ascii")


def _joined_texts(datas: list, zdicts: dict[int, bytes]) -> tuple[str, list[int], list[int]] | None:
    """``(joined, starts, ends, strict)`` of :func:`_chunk_hits` for the packed texts ``datas``, decoded in one go.

    The texts' UTF-8 is joined by :data:`JOIN` and decoded once (not text by
    text); where each starts and ends comes from the JOINs found in the
    result. None where that cannot say: a text that holds a JOIN itself,
    or data that does not unpack or decode (the caller goes story by story).
    """
    unpack = _unpackers(zdicts)
    raws = []
    add = raws.append
    try:
        for data in datas:
            raw = unpack[data[0]](data[1:])
            add(raw[:raw.rindex(0)])
        data = _JOIN_BYTE.join(raws)
        try:
            joined, strict = data.decode("utf-8"), True
        except UnicodeDecodeError:
            joined, strict = data.decode("utf-8", "surrogatepass"), False
    except Exception:  # noqa: BLE001 - zstd's errors among them
        return None
    ends = []
    put = ends.append
    find = joined.find
    pos = find(JOIN)
    while pos >= 0:
        put(pos)
        pos = find(JOIN, pos + 1)
    put(len(joined))
    if len(ends) != len(raws):
        return None
    starts = [0]
    starts += [e + 1 for e in ends[:-1]]
    return joined, starts, ends, strict


_WINDOW_SPARSE = 300  # characters a hit, at least, for _chunk_lines to flatten hit by hit (not the whole text)


def _heads(paths: list[str], stories: list[int], bases: list[int], escape: Callable[[str], str],
           specials: str) -> tuple[list[str], list[int]]:
    """What :func:`_chunk_lines` puts before each story's hits (``id``, ``file``, tab-separated), and ``bases``.

    For stories ``(path, story index)``; ``bases``: where each story starts
    in its file. The paths are checked for what ``escape`` would change
    all at once (:func:`_plain` of them joined), and one by one only where
    that finds something.
    """
    get = _STEMS.get
    if _plain("".join(paths), specials):
        return [f"{get(p) or _stem_of(p)}:{story}\t{p}\t" for p, story in zip(paths, stories)], bases
    names: dict[str, bool] = {}
    pres = []
    for p, story in zip(paths, stories):
        plain = names.get(p)
        if plain is None:
            plain = names[p] = _plain(p, specials)
        stem = get(p) or _stem_of(p)
        pres.append(f"{stem}:{story}\t{p}\t" if plain else f"{escape(f'{stem}:{story}')}\t{escape(p)}\t")
    return pres, bases


def _chunk_lines(hits, context: int, escape: Callable[[str], str], specials: str,
                 heads: tuple[list[str], list[int]] | None = None) -> tuple[str, int]:
    """The tab-separated lines of :func:`_chunk_hits`'s hits (see ``SearchIndex.hit_lines``): ``(lines, how many)``.

    ``heads``: :func:`_heads` of the chunk's stories, when ``hits`` holds no metas.
    """
    joined, starts, ends, metas, spans, strict = hits
    if not spans:
        return "", 0
    # clean: no field needs escape (a newline becomes a space first); then where hits are few next to
    # the text (window), only each hit's window is flattened, not the whole text
    clean = (not any(c in joined for c in specials if c != "\n") and (" " not in specials or "\n" not in joined)
             and (strict or _plain(joined, "")))
    window = clean and len(spans) * _WINDOW_SPARSE < len(joined)
    flat = joined if window else joined.replace("\n", " ")
    if heads is None:
        heads = _heads([m[2] for m in metas], [m[1] for m in metas], [m[3] for m in metas], escape, specials)
    pres, bases = heads
    offs = [base - b for base, b in zip(bases, starts)]
    lines: list[str] = []
    add = lines.append
    j = 0
    end = ends[0]
    for s, e in spans:
        if s >= end:
            j += 1
            while s >= ends[j]:
                j += 1
            end = ends[j]
        lo = s - context
        if lo < starts[j]:
            lo = starts[j]
        hi = e + context
        if hi > end:
            hi = end
        off = offs[j]
        if window:
            w = flat[lo:hi].replace("\n", " ")
            add(f"{pres[j]}{s + off}\t{e + off}\t{w[:s - lo]}\t{w[s - lo:e - lo]}\t{w[e - lo:]}\n")
        elif clean:
            add(f"{pres[j]}{s + off}\t{e + off}\t{flat[lo:s]}\t{flat[s:e]}\t{flat[e:hi]}\n")
        else:
            add(f"{pres[j]}{s + off}\t{e + off}\t{escape(flat[lo:s])}\t{escape(flat[s:e])}\t{escape(flat[e:hi])}\n")
    return "".join(lines), len(lines)


class _Helper:
    """A forked child that makes the lines of every other chunk (the odd ones) while this process makes the rest.

    The work is all in memory (the stories were read before the fork), so
    the child touches no database. It sends each chunk's lines down a pipe,
    in order, as it makes them; :meth:`result` reads chunk ``k``'s, or gives
    None when the child failed or is gone, and this process makes that chunk
    (and whatever follows) itself, so the output is the same either way.
    """

    fork = sys.platform.startswith("linux") and hasattr(os, "fork")

    def __init__(self, chunks: list, lines: Callable) -> None:
        self._pid = None
        self._file = None

        def write(fd: int) -> None:  # the odd chunks, in order
            with os.fdopen(fd, "wb", buffering=1 << 16) as out:
                for k in range(1, len(chunks), 2):
                    text, n = lines(chunks[k])
                    data = text.encode("utf-8", "surrogatepass")
                    out.write(k.to_bytes(4, "little") + n.to_bytes(4, "little") + len(data).to_bytes(8, "little"))
                    out.write(data)

        forked = _fork_writer(write)
        if forked is not None:
            self._pid = forked[0]
            self._file = os.fdopen(forked[1], "rb")

    def result(self, k: int) -> tuple[str, int] | None:
        if self._file is None:
            return None
        try:
            head = self._file.read(16)
            if len(head) == 16 and int.from_bytes(head[:4], "little") == k:
                size = int.from_bytes(head[8:], "little")
                data = self._file.read(size)
                if len(data) == size:
                    return data.decode("utf-8", "surrogatepass"), int.from_bytes(head[4:8], "little")
        except (OSError, ValueError):
            pass
        self.close()  # the child failed: this process makes the rest
        return None

    def close(self) -> None:
        if self._pid is not None:
            self._file.close()
            self._file = None
            _reap(self._pid)
            self._pid = None


class _Pipe:
    """A forked helper that makes the lines of the chunks sent to it (see ``SearchIndex._piped_lines``).

    Chunks go down one pipe (``k``, then the starts and packed texts, marshal
    data) and lines come back up another, in the order sent. Neither side
    waits on a full pipe while it has work of its own: each keeps what it
    could not write yet and writes it when it next can.
    """

    def __init__(self, lines: Callable, utf8: bool = False, worker: "_Worker | None" = None,
                 search: bytes | None = None) -> None:
        """``worker``: a :class:`_Worker` to send the chunks to, with ``search`` (the search's
        context, pickled: see :func:`_worker_lines`), instead of a helper forked for this search."""
        import select

        self._select = select.select
        self._utf8 = utf8  # lines may stay UTF-8 bytes (see SearchIndex.hit_lines)
        self.sent: set[int] = set()  # chunks sent
        self.got: dict[int, tuple[str, int]] = {}
        self.back = 0  # chunks whose lines came back
        self._out = bytearray()  # chunks not yet written to the helper
        self._in = bytearray()  # lines read from the helper, not yet parsed
        self._pid = None
        self._w = self._r = -1
        self._worker = worker
        self.finished = False  # the worker has answered every chunk of this search
        self._ended = False  # the search's end is sent (once: the worker answers each with _DONE)
        if worker is not None:
            if worker.pid is not None and search is not None:
                self._pid, self._r, self._w = worker.pid, worker.r, worker.w
                self._out += _message(_SEARCH, 0, search)
            return
        try:
            r, w = os.pipe()
        except OSError:
            return

        def work(fd: int) -> None:
            os.close(w)
            _pipe_size(fd)
            _pipe_size(r)
            _helper_loop(r, fd, lines)

        forked = _fork_writer(work)
        os.close(r)
        if forked is None:
            os.close(w)
            return
        self._pid, self._r = forked
        self._w = w
        _pipe_size(w)
        os.set_blocking(w, False)
        os.set_blocking(self._r, False)

    def send(self, k: int, starts: list[int], datas: list[bytes], heads: tuple[list[str], list[int]] = ((), ())
             ) -> bool:
        """Queue chunk ``k`` for the helper; False when there is no helper.

        ``heads``: the chunk's stories' ``(paths, story indexes)``, for a worker.
        """
        if self._pid is None or self._w < 0:
            return False
        if self._worker is not None:
            self._out += _message(_CHUNK, k, marshal.dumps((heads[0], heads[1], starts, datas)))
        else:
            data = marshal.dumps((starts, datas))
            self._out += k.to_bytes(4, "little") + len(data).to_bytes(8, "little") + data
        self.sent.add(k)
        return True

    def pump(self, wait: bool = False) -> None:
        """Write what the helper can take and read what it has made, without waiting (unless ``wait``)."""
        if self._pid is None:
            return
        writing = [self._w] if self._out and self._w >= 0 else []
        try:
            readable, writable, _ = self._select([self._r], writing, [], None if wait else 0)
        except (OSError, ValueError):
            self._gone()
            return
        if writable:
            try:
                n = os.write(self._w, self._out)
                del self._out[:n]
            except BlockingIOError:
                pass
            except OSError:
                self._gone()
                return
        if readable:
            try:
                data = os.read(self._r, 1 << 20)
            except BlockingIOError:
                data = None
            except OSError:
                data = b""
            if data == b"":
                self._gone()  # the helper is gone: what it did not send is made here
                return
            if data:
                self._in += data
                self._parse()

    def _parse(self) -> None:
        buf = self._in
        while len(buf) >= 16:
            size = int.from_bytes(buf[8:16], "little")
            if len(buf) < 16 + size:
                break
            k, n = int.from_bytes(buf[:4], "little"), int.from_bytes(buf[4:8], "little")
            if k == _DONE:
                self.finished = True
                del buf[:16 + size]
                continue
            strict = n & _STRICT  # the text encoded as strict UTF-8 (no lone surrogates)
            n &= ~_STRICT
            data = bytes(buf[16:16 + size])
            self.got[k] = (data if strict and self._utf8 else data.decode("utf-8", "surrogatepass"), n)
            self.back += 1
            del buf[:16 + size]

    def backlog(self) -> int:
        """How many chunks the helper has yet to send back."""
        return len(self.sent) - self.back

    def has(self, k: int) -> bool:
        return k in self.got

    def take(self, k: int) -> tuple[str, int]:
        return self.got.pop(k)

    def done(self) -> None:
        """Tell the helper that no more chunks come (it finishes and leaves; a worker says it is done)."""
        if self._pid is not None and self._w >= 0:
            if self._worker is not None:
                if not self._ended:
                    self._out += _message(_END, 0, b"")
                    self._ended = True
            else:
                self._out += (0xFFFFFFFF).to_bytes(4, "little") + (0).to_bytes(8, "little")

    def result(self, k: int) -> tuple[str, int] | None:
        """Chunk ``k``'s lines, waiting for them; None when it is not the helper's or the helper failed."""
        while k not in self.got and self._pid is not None and k in self.sent:
            if self._out:
                self.pump(wait=True)
                if not self._out and self._w >= 0 and self._worker is None:
                    os.close(self._w)  # all sent: the helper sees the end
                    self._w = -1
            else:
                self.pump(wait=True)
        return self.got.pop(k, None)

    def _gone(self) -> None:
        """The helper failed or left: it is stopped, and this process makes what it did not send."""
        if self._worker is not None:
            if self._pid is not None:
                self._worker.stop()
                self._pid = None
                self._w = self._r = -1
            return
        self.close()

    def close(self) -> None:
        """The end of this search: a worker is left with nothing to do (it has said so), a helper is stopped."""
        if self._worker is not None:
            if self._pid is not None and not self.finished:
                self.done()
                deadline = time.monotonic() + 30
                while self._pid is not None and not self.finished:  # what it still makes is dropped
                    if time.monotonic() > deadline:
                        self._gone()
                        break
                    self.pump(wait=True)
                self.got.clear()
            return
        if self._pid is not None:
            for fd in (self._w, self._r):
                if fd >= 0:
                    os.close(fd)
            self._w = self._r = -1
            _reap(self._pid)
            self._pid = None


_STRICT = 1 << 31  # in a helper's line count: its lines are strict UTF-8
_SEARCH, _CHUNK, _END = 1, 2, 3  # what the watcher sends its worker: a search's context, a chunk, the search's end
_DONE = 0xFFFFFFFE  # the worker's answer to _END, after the search's last lines


def _message(kind: int, k: int, payload: bytes) -> bytes:
    return bytes((kind,)) + k.to_bytes(4, "little") + len(payload).to_bytes(8, "little") + payload


class _Worker:
    """A helper forked once and kept from search to search by the watcher's index (``SearchIndex._worker``).

    A helper forked for each search cost the watcher about as much as a
    tenth of the search: the fork, and the copy-on-write page faults of
    every page of its heap that either process wrote while both lived (some
    14,000 a search of 92,000 hits). The worker is forked once, closes every
    descriptor it got (the request's output, the store, the watcher's lock:
    none may outlive the watcher through it) and touches no database: each
    search sends it its context (the matcher, the escaping, the
    dictionaries; :func:`_worker_lines`) and then the packed texts of its
    chunks, as to a helper forked for the search (:class:`_Pipe`). It leaves
    when the watcher does (the end of its pipe) or when a chunk fails (the
    watcher then makes that search's other chunks, and forks another worker
    for the next search).
    """

    def __init__(self) -> None:
        self.pid: int | None = None
        self.r = self.w = -1
        try:
            down_r, down_w = os.pipe()
        except OSError:
            return
        try:
            up_r, up_w = os.pipe()
        except OSError:
            os.close(down_r)
            os.close(down_w)
            return
        try:
            pid = os.fork()
        except OSError:
            for fd in (down_r, down_w, up_r, up_w):
                os.close(fd)
            return
        if pid == 0:
            code = 1
            try:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)  # not the watcher's output either: a reader of it sees its end with the watcher's
                _close_fds_but(0, 1, 2, down_r, up_w)
                gc.freeze()  # what the watcher made is not the worker's garbage: never traversed (written)
                _pipe_size(down_r)
                _pipe_size(up_w)
                _worker_loop(down_r, up_w)
                code = 0
            except BaseException:  # noqa: BLE001 - the watcher makes what is missing
                pass
            finally:
                os._exit(code)
        os.close(down_r)
        os.close(up_w)
        self.pid, self.r, self.w = pid, up_r, down_w
        _pipe_size(down_w)
        os.set_blocking(down_w, False)
        os.set_blocking(up_r, False)

    def stop(self) -> None:
        if self.pid is not None:
            for fd in (self.w, self.r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.r = self.w = -1
            _reap(self.pid)
            self.pid = None


_SPARE: list = []  # a worker forked ahead (start_worker), for the first index that needs one


def start_worker() -> None:
    """Fork the watcher's worker now (:class:`_Worker`), while this process is small and has no thread.

    The first search that needs a worker takes it (``SearchIndex._piped_lines``);
    without this call it is forked then. A worker shares the pages of the
    process it was forked from and keeps them when that process writes
    them: forked before the index is read, it keeps little.
    """
    if not _SPARE and _Helper.fork:
        worker = _Worker()
        if worker.pid is not None:
            _SPARE.append(worker)
            weakref.finalize(worker, worker.stop)


def _close_fds_but(*keep: int) -> None:
    """Close every descriptor of this process but ``keep``."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 4096))
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


_LAST_ZDICTS: list = [None]  # the worker's dictionaries: the same object while they stay the same


def _worker_lines(matcher: Matcher, context: int, escape: Callable[[str], str], specials: str,
                  zdicts: dict[int, bytes]) -> Callable:
    """A search's ``lines(paths, story indexes, starts, packed texts)`` in the worker: what the watcher makes."""
    if zdicts == _LAST_ZDICTS[0]:
        zdicts = _LAST_ZDICTS[0]  # its unpackers are made already (_unpackers)
    _LAST_ZDICTS[0] = zdicts

    def lines(paths: list[str], stories: list[int], starts: list[int], datas: list[bytes]) -> tuple[str, int]:
        heads = _heads(paths, stories, starts, escape, specials)
        return _chunk_lines(_chunk_hits(datas, matcher, zdicts, ()), context, escape, specials, heads)

    return lines


def _worker_loop(r: int, w: int) -> None:
    """The worker (:class:`_Worker`): searches and their chunks in from ``r``, lines out to ``w``, until the end of ``r``."""
    import pickle

    pending = bytearray()
    inbox = open(r, "rb", buffering=1 << 20)
    os.set_blocking(w, False)
    lines = None
    while True:
        head = inbox.read(13)
        if len(head) < 13:
            return
        kind, k, size = head[0], int.from_bytes(head[1:5], "little"), int.from_bytes(head[5:], "little")
        payload = inbox.read(size)
        if len(payload) < size:
            return
        if kind == _SEARCH:
            lines = _worker_lines(*pickle.loads(payload))
            continue
        if kind == _END:
            pending += _DONE.to_bytes(4, "little") + bytes(12)
            _write_all(w, pending)
            continue
        pending += _framed(k, *lines(*marshal.loads(payload)))
        _write_some(w, pending)


def _framed(k: int, text: str, n: int) -> bytes:
    """Chunk ``k``'s lines as the client reads them: its number, line count (with _STRICT when the
    text is plain UTF-8), size and bytes."""
    try:
        data = text.encode("utf-8")
        n |= _STRICT
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return k.to_bytes(4, "little") + n.to_bytes(4, "little") + len(data).to_bytes(8, "little") + data


def _write_some(w: int, pending: bytearray) -> None:
    """Write what the non-blocking pipe ``w`` takes now of ``pending``, and drop it from there."""
    try:
        del pending[:os.write(w, pending)]
    except BlockingIOError:
        pass


def _write_all(w: int, pending: bytearray) -> None:
    """Write all of ``pending`` to the non-blocking pipe ``w``, waiting for room."""
    import select

    while pending:
        select.select([], [w], [])
        _write_some(w, pending)


def _pipe_size(fd: int) -> None:
    """Give a pipe a 1 MB buffer where Linux allows it (fewer waits)."""
    try:
        import fcntl

        fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ
    except (OSError, ImportError, AttributeError):
        pass


def _helper_loop(r: int, w: int, lines: Callable) -> None:
    """The helper of :class:`_Pipe`: chunks in from ``r``, their lines out to ``w``, until the end mark."""
    pending = bytearray()
    inbox = open(r, "rb", buffering=1 << 20)
    os.set_blocking(w, False)
    while True:
        head = inbox.read(12)
        if len(head) < 12:
            return
        k = int.from_bytes(head[:4], "little")
        if k == 0xFFFFFFFF:
            break
        size = int.from_bytes(head[4:], "little")
        payload = inbox.read(size)
        if len(payload) < size:
            return
        starts, datas = marshal.loads(payload)
        pending += _framed(k, *lines(k, starts, datas))
        _write_some(w, pending)
    _write_all(w, pending)


class SearchIndex:
    """The full-text index on an open :class:`analysis.store.Store` connection."""

    def __init__(self, conn: sqlite3.Connection, *, keep_story_files: bool = False, readonly: bool = False) -> None:
        """``keep_story_files``: keep a table of story -> (file, story index) in memory for
        :meth:`matching_paths` and the hits' order (8 bytes a story; for a process that answers
        search after search, the watcher).

        ``readonly``: write nothing (a read-only connection, ``index --status``); an index
        that is missing or of another version (rebuilt on its next refresh) reads as empty."""
        from array import array

        self.conn = conn
        self.keep_story_files = keep_story_files
        self._story_file = array("i")  # story id -> file id (0: none known)
        self._story_index = array("i")  # story id -> the story's index in its file
        self._built = None  # the index's build token the two tables belong to (see load_story_files)
        self._places: tuple[list, object] | None = None  # files -> numpy array: file id -> first place (-1: none)
        self._bumps = 0  # generation bumps by this refresh
        self._last_files: tuple[bytes, list] | None = None  # the last saved scope's files, as stored and unpacked
        self._order: tuple[list, dict] | None = None  # files -> {file id: (place, path)}, for the last files searched
        self._worker: _Worker | None = None  # the helper kept from search to search (keep_story_files)
        self.path = _store_path(conn)  # named by every StoreError
        if readonly:
            if not self._current():
                self.conn = _empty_store()
        else:
            self._ensure_schema()
        self._zdicts: dict[int, bytes] = {}  # the preset dictionaries, by id (see _Packer)
        self._zdict_made: dict[int, float] = {}
        self._packer: _Packer | None = None
        self._load_zdicts()

    @guarded
    def _load_zdicts(self) -> None:
        """Read the preset dictionaries (there is one, made by the first large refresh; a rebuild makes another)."""
        made = dict(self.conn.execute("SELECT id, made FROM search_dicts"))
        if made != self._zdict_made:
            self._zdicts = dict(self.conn.execute("SELECT id, data FROM search_dicts"))
            self._zdict_made = made
            self._packer = None
        if self._packer is None and self._zdicts:
            zid = max(self._zdicts)
            self._packer = _Packer(zid, self._zdicts[zid])

    def _ensure_zdict(self, todo: Sequence[tuple[int, FileEntry]]) -> None:
        """Make the dictionary from a sample of the stories about to be indexed, if none is made yet.

        Under the write lock (another newsctl may have made one meanwhile). A
        refresh with less than :data:`_ZDICT_MIN_TEXT` of text in its sample
        makes none (a refresh whose files hold fewer bytes reads nothing for
        it): its stories are packed without one, and a later, larger refresh
        makes it.
        """
        self._load_zdicts()
        if self._zdicts or sum(e.size for _, e in todo) < _ZDICT_MIN_TEXT:  # too little to learn from: read nothing
            return
        from ..stories import split_page

        step = max(1, len(todo) // _ZDICT_FILES)
        sample: list[bytes] = []
        chars = 0
        spread = (todo[k] for first in range(step) for k in range(first, len(todo), step))
        for _, e in spread:
            if chars >= _ZDICT_SAMPLE:
                break
            try:
                with open_regular(e.path) as fh:
                    text, encoding = decode(fh.read(_ZDICT_SAMPLE))
            except (OSError, NotRegularFileError, DecodeError):
                continue
            sample.extend(f"{text[s.start:s.end]}\x00{s.headline}".encode("utf-8", "surrogatepass")
                          for s in split_page(Document(e.path, text, encoding, "")))  # as _Packer packs them
            chars += len(text)
        if chars < _ZDICT_MIN_TEXT or not sample:
            return
        zdict = make_zdict(sample)
        if zdict:
            self.conn.execute("INSERT OR IGNORE INTO search_dicts VALUES (1, ?, ?)", (zdict, time.time()))
            self._load_zdicts()

    def _pack(self, text: str, headline: str) -> bytes:
        if self._packer is None:
            self._packer = _Packer()
        return self._packer.pack(text, headline)

    @guarded
    def _current(self) -> bool:
        """Whether the connection holds an index of this version (read only)."""
        if not self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            return False
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (_SCHEMA_KEY,)).fetchone()
        return row is not None and row[0] == _schema_tag()

    @guarded
    def _ensure_schema(self) -> None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (_SCHEMA_KEY,)).fetchone()
        if row is not None and row[0] == _schema_tag():
            return
        # Checked again, and the tables made, in one write transaction: another process may be
        # making them now, and its tables without their key yet would read as leftovers (below),
        # dropped under it ("no such table: search_scopes" in a concurrent refresh).
        if self.conn.in_transaction:
            self.conn.commit()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (_SCHEMA_KEY,)).fetchone()
            if row is not None and row[0] == _schema_tag():
                self.conn.commit()  # made by another process meanwhile
                return
            # No schema key and search tables: the leftovers of a build that was stopped
            # before its key was written (Ctrl-C, kill -9). Start from nothing.
            if row is not None or self.conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE name IN (%s)" % ",".join("?" * len(_TABLES)), _TABLES).fetchone():
                self._drop_tables()
            for statement in _DDL_STATEMENTS:
                self.conn.execute(statement)
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_SCHEMA_KEY, _schema_tag()))
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_BUILT_KEY, os.urandom(8).hex()))
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

    def _drop_tables(self) -> None:
        """Inside a transaction: the schema key and every search table gone."""
        self.conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (_SCHEMA_KEY, _BUILT_KEY))
        for table in _TABLES:
            self.conn.execute(f"DROP TABLE IF EXISTS {table}")

    @guarded
    def drop(self) -> None:
        """Remove every search table (the annotations stay), all or nothing.

        sqlite3 opens no transaction for DROP TABLE by itself, so each drop
        would be committed alone, and a Ctrl-C between two of them left a
        schema key over missing tables ("no such table: search_fts" from then
        on): the drops and the key go in one explicit transaction.
        """
        if self.conn.in_transaction:
            self.conn.commit()
        self.conn.execute("BEGIN")
        try:
            self._drop_tables()
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

    @guarded
    def rebuild(self) -> None:
        self.drop()
        self._ensure_schema()

    # -- keeping it current -------------------------------------------------------

    @guarded
    def refresh(
        self,
        paths: Iterable[str],
        *,
        progress: Callable[[int, int], None] | None = None,
        batch: int = 200,
        entries: Sequence[tuple[str, str, int, int, str]] | None = None,
        save_scope: bool = True,
        watch_tag: tuple[int, int] | None = None,
    ) -> Refresh:
        """Bring the index up to date for ``paths``; return what is indexed now.

        Files are stat'ed; only those whose size or mtime differ from the index
        are read, and only those whose SHA-256 differs are split and indexed
        again. Indexed files under a given directory that are no longer there
        drop out. Files that cannot be read or are binary are skipped with a
        warning (and drop out if they were indexed). ``entries``: the walk of
        ``paths``, when the caller has already made it (and found it differs
        from the saved scope). ``save_scope=False``: keep no scope for
        ``paths`` (the watcher's refreshes). ``watch_tag``: see :mod:`.watch`.
        """
        paths = list(paths)
        scope = _scope_key(paths)
        if entries is None:
            entries = walk(paths)
            fresh = self._fresh(scope, entries)
            if fresh is not None:
                return fresh
        generation = self._generation()
        self._bumps = 0
        # path -> (path, id, size, mtime_ns, stories): the stat check needs no file read
        known = {os.fsdecode(row[0]): row for row in self.conn.execute(
            "SELECT path, id, size, mtime_ns, stories FROM search_files")}
        result = Refresh()
        slots: list[tuple[str, int] | None] = []
        todo: list[tuple[int, FileEntry]] = []
        stories = 0
        for e in entries:
            path, key, size, mtime_ns, problem = e  # plain unpacking: this loop runs once per file
            row = known.get(key)
            if row is not None and row[2] == size and row[3] == mtime_ns and not problem:
                slots.append((path, row[1]))
                stories += row[4]
            else:
                todo.append((len(slots), FileEntry._make(e)))
                slots.append(None)
        result.stories = stories
        result.unchanged = len(entries) - len(todo)
        if progress:
            progress(0, len(todo))
        done: dict[str, tuple[int, int] | None] = {}
        for k in range(0, len(todo), batch):
            with self.conn:
                # The write lock first, then a fresh look at each file's row:
                # another newsctl may have indexed it since `known` was read.
                self.conn.execute("BEGIN IMMEDIATE")
                if k == 0:
                    self._ensure_zdict(todo)
                for slot, e in todo[k:k + batch]:
                    if e.key not in done:  # a file named twice is indexed once
                        done[e.key] = self._update(e, result)
                    got = done[e.key]
                    if got is not None:
                        slots[slot] = (e.path, got[0])
                        result.stories += got[1]
            if progress:
                progress(min(k + batch, len(todo)), len(todo))
        gone = self._vanished(paths, known, {e[1] for e in entries})
        if gone:
            with self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                for fid in gone:
                    self._delete_file(fid)
            result.removed += len(gone)
        result.files = [f for f in slots if f is not None]
        if result.new + result.changed > 1000:
            self.optimize()
        if save_scope and len(result.files) == len(entries) <= _SCOPE_MAX_FILES:  # nothing skipped: the next query may take the short way
            self._save_scope(scope, entries, result, generation + self._bumps, watch_tag)
        return result

    # -- scopes: the short way for a query over unchanged files -----------------------
    #
    # After a refresh that skipped nothing, the walked entries (path, key, size,
    # mtime) and the file ids they map to are kept per scope (the paths as given,
    # and the working directory). A later refresh of the same scope that walks
    # exactly the same entries reuses them instead of loading and comparing every
    # file row. Each change or removal of an indexed file bumps a generation
    # number; a scope saved under an older generation is not trusted, so file ids
    # a scope holds always still name the same, unchanged, file.

    def _generation(self) -> int:
        row = self.conn.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?", (_GENERATION_KEY,)).fetchone()
        return row[0] if row else 0

    def _bump(self) -> None:
        self.conn.execute(
            "INSERT INTO meta VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (_GENERATION_KEY,))
        self._bumps += 1

    def _saved(self, scope: bytes) -> tuple[bytes, Refresh, tuple[int, int] | None] | None:
        """``(walked entries as packed, refresh result, watch tag)`` saved for ``scope``, if current."""
        row = self.conn.execute(
            "SELECT s.entries, s.files, s.stories, s.generation = coalesce("
            " (SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?), 0), s.watch_id, s.watch_events"
            " FROM search_scopes s WHERE s.scope = ?", (_GENERATION_KEY, scope)).fetchone()
        if row is None or not row[3]:
            return None
        if self._last_files is not None and self._last_files[0] == row[1]:
            files = self._last_files[1]  # the same bytes as last time: a watcher answering search after search
        else:
            files = _unpack_scope(row[1])
            if not isinstance(files, list):
                return None
            self._last_files = (row[1], files)
        tag = (row[4], row[5]) if row[4] is not None else None
        return row[0], Refresh(files=files, unchanged=len(files), stories=row[2]), tag

    def _fresh(self, scope: bytes, entries: list[FileEntry]) -> Refresh | None:
        """The refresh result straight from a saved scope, or None when anything differs."""
        saved = self._saved(scope)
        return saved[1] if saved is not None and _unpack_scope(saved[0]) == entries else None

    def _save_scope(self, scope: bytes, entries: list[FileEntry], result: Refresh, generation: int,
                    watch_tag: tuple[int, int] | None = None) -> None:
        blob = _pack_scope([tuple(e) for e in entries])
        files = _pack_scope(result.files)
        wid, events = watch_tag or (None, None)
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            if self._generation() != generation:  # another newsctl changed the index meanwhile
                return
            self.conn.execute("INSERT OR REPLACE INTO search_scopes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              (scope, blob, files, result.stories, generation, time.time(), wid, events))
            self.conn.execute(
                "DELETE FROM search_scopes WHERE scope NOT IN"
                " (SELECT scope FROM search_scopes ORDER BY saved DESC LIMIT ?)", (_SCOPES_KEPT,))

    def _update(self, e: FileEntry, result: Refresh) -> tuple[int, int] | None:
        """Index one file whose stat changed; ``(id, stories)``, or None when skipped."""
        row = self.conn.execute(
            "SELECT id, size, mtime_ns, stories, sha256 FROM search_files WHERE path = ?",
            (os.fsencode(e.key),)).fetchone()
        if row is not None and (row[1], row[2]) == (e.size, e.mtime_ns) and not e.problem:
            result.unchanged += 1
            return row[0], row[3]
        try:
            if e.problem:
                raise NotRegularFileError(0, e.problem, e.path)
            with open_regular(e.path) as fh:
                st = os.fstat(fh.fileno())  # before reading: a later change shows as a newer mtime
                data = fh.read()
        except NotRegularFileError as exc:  # a FIFO, a socket, a device or a directory that cannot be read
            result.warnings.append(ReadWarning(e.path, f"skipped: {exc.strerror}", True))
            result.skipped += 1
            if exc.strerror.startswith("cannot read"):
                result.unreadable += 1
            if row is not None:
                self._delete_file(row[0])
            return None
        except OSError as exc:
            result.warnings.append(ReadWarning(e.path, f"skipped: cannot read ({exc.strerror or exc.__class__.__name__})", True))
            result.skipped += 1
            result.unreadable += 1
            if row is not None:
                self._delete_file(row[0])
            return None
        sha = file_digest(data)
        if row is not None and row[4] == sha:
            self.conn.execute("UPDATE search_files SET size = ?, mtime_ns = ? WHERE id = ?",
                              (st.st_size, st.st_mtime_ns, row[0]))
            result.unchanged += 1
            return row[0], row[3]
        try:
            text, encoding = decode(data)
        except DecodeError as exc:
            result.warnings.append(ReadWarning(e.path, f"skipped: {exc}", True))
            result.skipped += 1
            if row is not None:
                self._delete_file(row[0])
            return None
        if encoding == "cp1252":
            result.warnings.append(ReadWarning(e.path, "not valid UTF-8; decoded as Windows-1252", False))
        from ..stories import split_page  # here: a search over unchanged files never splits a page

        stories = split_page(Document(e.path, text, encoding, sha))
        values = (st.st_size, st.st_mtime_ns, sha, encoding, len(stories), len(text), time.time())
        if row is None:
            fid = self.conn.execute(
                "INSERT INTO search_files (size, mtime_ns, sha256, encoding, stories, chars, indexed, path)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values + (os.fsencode(e.key),)).lastrowid
            result.new += 1
        else:
            fid = row[0]
            self._delete_stories(fid)
            self.conn.execute(
                "UPDATE search_files SET size = ?, mtime_ns = ?, sha256 = ?, encoding = ?, stories = ?,"
                " chars = ?, indexed = ? WHERE id = ?", values + (fid,))
            result.changed += 1
        pack = self._pack
        self.conn.executemany(
            "INSERT INTO search_stories (file, story, kind, section, start, end, places, agencies, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(fid, s.index, s.kind, s.section, s.start, s.end,
              _SEP.join(s.dateline.places_raw) if s.dateline else "", _SEP.join(s.agencies),
              pack(text[s.start:s.end], s.headline)) for s in stories])
        self.conn.executemany(
            "INSERT INTO search_fts (rowid, body) VALUES (?, ?)",
            [(sid, fts_body(text[start:end])) for sid, start, end in self.conn.execute(
                "SELECT id, start, end FROM search_stories WHERE file = ?", (fid,))])
        return fid, len(stories)

    def _delete_stories(self, fid: int) -> None:
        """Drop a file's stories and text; the FTS rows go with the exact bodies they were indexed with."""
        self._bump()
        self._load_zdicts()
        self.conn.executemany(
            "INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', ?, ?)",
            [(sid, fts_body(_unpack(data, self._zdicts)[0])) for sid, data in self.conn.execute(
                "SELECT id, data FROM search_stories WHERE file = ?", (fid,))])
        self.conn.execute("DELETE FROM search_stories WHERE file = ?", (fid,))

    def _delete_file(self, fid: int) -> None:
        self._delete_stories(fid)
        self.conn.execute("DELETE FROM search_files WHERE id = ?", (fid,))

    @staticmethod
    def _vanished(paths: Iterable[str], known: dict, seen: set[str]) -> list[int]:
        """Indexed files below a walked directory that the walk did not find."""
        roots = []
        for raw in paths:
            p = os.path.abspath(raw)
            if os.path.isdir(p):
                roots.append(p.rstrip(os.sep) + os.sep)
        if not roots:
            return []
        roots_t = tuple(roots)
        return [known[key][1] for key in known.keys() - seen if key.startswith(roots_t)]

    @guarded
    def prune(self) -> int:
        """Drop every indexed file that no longer exists; return how many."""
        gone = [fid for fid, path in self.conn.execute("SELECT id, path FROM search_files")
                if not os.path.isfile(path)]
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            for fid in gone:
                self._delete_file(fid)
        return len(gone)

    @guarded
    def optimize(self) -> None:
        """Merge the FTS segments (faster queries after a large build)."""
        with self.conn:
            self.conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")

    # -- searching -----------------------------------------------------------------

    @guarded
    def search_paths(self, paths: Iterable[str], matcher: Matcher, filters: Filters = Filters(), *,
                     progress: Callable[[int, int], None] | None = None,
                     caught_up: tuple[int, int] | None = None) -> tuple[Refresh, Iterator[Match]]:
        """:meth:`refresh` for ``paths``, then :meth:`search` them: ``(refresh result, matches)``.

        When a scope is saved for ``paths``, the search runs on it at once while
        the files are stat'ed beside it (:class:`_Walk`); if the walk finds the
        same files, unchanged, those matches are the answer, otherwise the index
        is refreshed and the search runs again. Either way the answer is that of
        refreshing first.

        ``caught_up``: the ``(id, event count)`` of the live watcher that calls
        this (it answers searches, :mod:`.watch`), has handled every event up
        to this call and covers ``paths``: a scope saved with that tag is the
        answer; otherwise the paths are walked and refreshed.
        """
        paths = list(paths)
        scope = _scope_key(paths)
        saved = self._saved(scope)
        if caught_up is not None:
            if saved is None:
                refreshed = self.refresh(paths, progress=progress, watch_tag=caught_up)
            elif saved[2] == caught_up:
                refreshed = saved[1]
            else:
                entries = walk(paths)
                if _unpack_scope(saved[0]) == entries:
                    self._retag(scope, caught_up)
                    refreshed = saved[1]
                else:
                    refreshed = self.refresh(paths, progress=progress, entries=entries, watch_tag=caught_up)
            return refreshed, self.search(refreshed.files, matcher, filters)
        watch = covering(self.conn, paths) if STDIN not in paths else None
        if watch is not None and saved is not None and saved[2] is not None and saved[2] == watch.tag():
            # A live watcher, nothing counted since the scope's walk began: once the
            # watcher has caught up with this moment, the scope is the answer.
            if watch.sync() and saved[2] == watch.tag():
                return saved[1], self.search(saved[1].files, matcher, filters)
        tag = watch.tag() if watch is not None else None  # before the walk begins
        if saved is None:
            refreshed = self.refresh(paths, progress=progress, watch_tag=tag)
            return refreshed, self.search(refreshed.files, matcher, filters)
        walker = _Walk(paths, expected=saved[0])
        matches = self.search(saved[1].files, matcher, filters)
        try:
            # Only a query the index answers is run ahead, and only its first hits:
            # every story matches '' and a regex, and nothing may be printed before
            # the walk has vouched for the answer.
            ahead = list(islice(matches, _AHEAD)) if matcher.fts is not None and matcher.regex is None else []
        except BaseException:
            walker.close()
            raise
        entries = walker.result()  # raises what walk() raises (a missing path)
        if entries is None:  # the same files, unchanged
            if tag is not None and tag != saved[2]:
                self._retag(scope, tag)
            return saved[1], chain(ahead, matches)
        refreshed = self.refresh(paths, progress=progress, entries=entries, watch_tag=tag)
        return refreshed, self.search(refreshed.files, matcher, filters)


    def _retag(self, scope: bytes, tag: tuple[int, int]) -> None:
        """Tag a saved scope with a watcher's count, read before the walk that found it unchanged."""
        with self.conn:
            self.conn.execute("UPDATE search_scopes SET watch_id = ?, watch_events = ? WHERE scope = ?",
                              (*tag, scope))

    @guarded
    def load_story_files(self) -> None:
        """Add the stories made since the last call to the in-memory table of story -> file.

        Story ids are never reused within one build of the index; when another
        process has dropped and rebuilt it meanwhile (its token differs), the
        tables start again.
        """
        from array import array

        built = self.conn.execute("SELECT value FROM meta WHERE key = ?", (_BUILT_KEY,)).fetchone()
        if built != self._built:
            self._story_file, self._story_index = array("i"), array("i")
            self._places = self._last_files = self._order = None
            self._built = built
        table, index = self._story_file, self._story_index
        known = len(table)
        top = self.conn.execute("SELECT max(id) FROM search_stories").fetchone()[0] or 0
        if top >= known:
            table.extend(array("i", bytes(table.itemsize * (top + 1 - known))))
            index.extend(array("i", bytes(index.itemsize * (top + 1 - known))))
            for sid, fid, story in self.conn.execute("SELECT id, file, story FROM search_stories WHERE id >= ?",
                                                     (known,)):
                table[sid] = fid
                index[sid] = story

    def _story_files_hit(self, fts: str) -> set[int] | None:
        """The files of the stories ``fts`` matches, through :attr:`_story_file` (kept up to date here).

        A story id is never reused and always names one file, so the table of
        story -> file only grows: each call adds the stories made since, in the
        same read transaction as the query. None when the query gives a story
        the table does not hold (which that transaction rules out).
        """
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN")
        try:
            self.load_story_files()
            table = self._story_file
            hit = set()
            n = len(table)
            for (sid,) in self.conn.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH ?", (fts,)):
                if sid >= n or not table[sid]:
                    return None
                hit.add(table[sid])
            return hit
        finally:
            if own and self.conn.in_transaction:
                self.conn.execute("COMMIT")

    @guarded
    def matching_paths(self, files: Sequence[tuple[str, int]], matcher: Matcher) -> list[str] | None:
        """The paths of ``files`` (from :meth:`refresh`) that have a matching story, in input order.

        What ``matching_files(search(files, matcher))`` gives, straight from
        the index: one statement finds the files of the matching stories, and
        no record is built and no text read. Only for a query whose matches the
        index finds exactly (:attr:`Matcher.index_is_exact`) and without
        filters; None for any other, which :meth:`search` must answer.
        """
        if matcher.fts is None or not matcher.index_is_exact:
            return None
        try:
            hit = self._story_files_hit(matcher.fts) if self.keep_story_files else None
            if hit is None:
                hit = {row[0] for row in self.conn.execute(
                    "SELECT DISTINCT s.file FROM search_fts JOIN search_stories s ON s.id = search_fts.rowid"
                    " WHERE search_fts MATCH ?", (matcher.fts,))}
        except sqlite3.OperationalError as exc:
            if str(exc).startswith("fts5: syntax error"):
                raise QueryError(f"the index cannot run this query: {exc}") from exc
            raise  # a damaged index: a StoreError (see guarded)
        out = []
        for path, fid in files:
            if fid in hit:
                hit.discard(fid)  # a file named twice is listed once, where it came first
                out.append(path)
        return out

    def hit_rows(self, files: Sequence[tuple[str, int]], matcher: Matcher,
                 context: int = 40) -> Iterator[tuple[str, str, int, int, str, str, str]] | None:
        """``(id, file, start, end, left, match, right)`` of every hit in ``files``, or None.

        What :func:`analysis.search.records.hit_records` makes of
        :meth:`search`'s matches (as tuples, in its column order), read lean:
        one statement gives the matching stories with their packed texts (only
        those are unpacked), and the hits are found a chunk of stories at a
        time (:func:`_chunk_hits`); no record is kept, so memory grows only
        with the matching stories' packed texts, less than the lines printed.
        Only for a query whose matches the index finds exactly
        (:attr:`Matcher.index_is_exact`) and without filters; None for any
        other, which :meth:`search` must answer.
        """
        if matcher.fts is None or not matcher.index_is_exact:
            return None
        return self._hit_rows(files, matcher, context)

    def hit_lines(self, files: Sequence[tuple[str, int]], matcher: Matcher, context: int = 40, *,
                  escape: Callable[[str], str] = lambda t: t, specials: str = "",
                  utf8: bool = False) -> Iterator[tuple[str | bytes, int]] | None:
        """The lines of :meth:`hit_rows` as tab-separated text, a block at a time: ``(lines, how many)``.

        Each line is ``id, file, start, end, left, match, right`` joined by tabs,
        with a newline; every text field passes through ``escape``. ``escape``
        must leave alone any text that holds none of ``specials`` and can be
        encoded as UTF-8: a block of hits whose texts are such is written
        without calling it per hit (the caller's tsv escaping). None where
        :meth:`hit_rows` gives None. With ``utf8``, a block may come as the
        UTF-8 of its text instead (bytes), made so by a helper process: a
        caller that writes UTF-8 writes it as it is.
        """
        if matcher.fts is None or not matcher.index_is_exact:
            return None
        return self._hit_lines(files, matcher, context, escape, specials, utf8)

    @guarded
    def _hit_lines(self, files, matcher: Matcher, context: int, escape, specials: str, utf8: bool = False):
        if self.keep_story_files and _Helper.fork:
            own = not self.conn.in_transaction
            if own:
                self.conn.execute("BEGIN")  # one snapshot for the query and every chunk's texts
            try:
                found = self._sorted_hits(files, matcher)
                if found is not None:
                    yield from self._piped_lines(files, found, matcher, context, escape, specials, utf8)
                    return
            finally:
                if own and self.conn.in_transaction:
                    self.conn.execute("COMMIT")
        picked, zdicts = self._hit_stories(files, matcher)
        chunks = [picked[c:c + _HIT_CHUNK] for c in range(0, len(picked), _HIT_CHUNK)]
        del picked

        def lines(chunk) -> tuple[str, int]:
            return _chunk_lines(_chunk_hits(chunk, matcher, zdicts), context, escape, specials)

        if len(chunks) < 4 or not _Helper.fork:
            yield from (got for got in map(lines, chunks) if got[1])
            return
        helper = _Helper(chunks, lines)  # a forked child does every other chunk beside this process
        try:
            for k, chunk in enumerate(chunks):
                got = helper.result(k) if k % 2 else None
                if got is None:
                    got = lines(chunk)
                if got[1]:
                    yield got
        finally:
            helper.close()

    def _file_places(self, files):
        """numpy array: file id -> its first place in ``files`` (-1: not there); kept for the same list."""
        import numpy as np

        if self._places is not None and self._places[0] is files:
            return self._places[1]
        fids = np.array([fid for _, fid in files], dtype=np.int64)
        places = np.full(int(fids.max()) + 1 if len(fids) else 1, -1, dtype=np.int64)
        unique, first = np.unique(fids, return_index=True)  # a file named twice is searched where it came first
        places[unique] = first
        self._places = (files, places)
        return places

    def _sorted_hits(self, files, matcher: Matcher):
        """The matching stories of ``files`` in output order, from the in-memory table of stories (the watcher).

        ``(story ids, places in files, story indexes, ascending)``: numpy
        arrays (a chunk at a time becomes Python ints: less memory where a
        query matches most stories); ``ascending``: True when the ids ascend too (as they do when the files
        were indexed in the order given). The query reads only the index's
        rowids, as one string (``group_concat``: no row object a story). None
        where the table does not hold a story the query gives (then
        :meth:`_hit_stories` reads them). Called in a read transaction.
        """
        import numpy as np

        self._load_zdicts()
        self.load_story_files()
        try:
            got = self.conn.execute("SELECT group_concat(rowid) FROM search_fts WHERE search_fts MATCH ?",
                                    (matcher.fts,)).fetchone()[0]
        except sqlite3.OperationalError as exc:
            if str(exc).startswith("fts5: syntax error"):
                raise QueryError(f"the index cannot run this query: {exc}") from exc
            raise
        if got:
            ids = np.fromstring(got, dtype=np.int64, sep=",")  # text mode: C's strtol, one pass
            if len(ids) != got.count(",") + 1:
                raise sqlite3.DatabaseError(f"unexpected rowids from the index: {got[:40]!r}")
        else:
            ids = np.zeros(0, dtype=np.int64)
        del got
        if len(ids) and int(ids.max()) >= len(self._story_file):
            return None
        table = np.frombuffer(self._story_file, dtype=np.int32)  # views: dropped before the arrays grow again
        index = np.frombuffer(self._story_index, dtype=np.int32)
        try:
            fids, stories = table[ids], index[ids]
        finally:
            del table, index
        if len(fids) and not fids.all():
            return None
        places = self._file_places(files)
        where = np.where(fids < len(places), places[np.minimum(fids, len(places) - 1)], -1)
        keep = where >= 0
        ids, where, stories = ids[keep], where[keep], stories[keep].astype(np.int64)
        key = (where << 32) | stories  # a story's index in its file is below 2**31
        if len(key) > 1 and not bool((key[1:] > key[:-1]).all()):  # not in output order yet
            order = np.lexsort((stories, where))
            ids, where, stories = ids[order], where[order], stories[order]
        ascending = len(ids) < 2 or bool((ids[1:] > ids[:-1]).all())
        return ids, where, stories, ascending

    def _chunk_rows(self, ids: list[int], ascending: bool = False) -> tuple[list[int], list[bytes]]:
        """``(starts, packed texts)`` of the stories ``ids``, in that order; a story gone is a StoreError.

        ``ascending``: the ids are known to ascend; they are read in that
        order (``ORDER BY id``, which the rowid look-ups give as they are)
        without the ids themselves.
        """
        marks = ",".join("?" * len(ids))
        if ascending:
            rows = self.conn.execute(f"SELECT start, data FROM search_stories WHERE id IN ({marks}) ORDER BY id",
                                     ids).fetchall()
            if len(rows) == len(ids):
                if not rows:
                    return [], []
                starts, datas = zip(*rows)
                return list(starts), list(datas)
        else:
            rows = self.conn.execute(f"SELECT id, start, data FROM search_stories WHERE id IN ({marks})",
                                     ids).fetchall()
            if rows:
                order, starts, datas = zip(*rows)
                if list(order) == ids:  # the usual case: ids ascending, as SQLite gives them
                    return list(starts), list(datas)
            got = {sid: (start, data) for sid, start, data in rows}
            try:
                rows = [got[sid] for sid in ids]
            except KeyError:
                pass
            else:
                return [r[0] for r in rows], [r[1] for r in rows]
        raise StoreError(f"the index in {self.path} changed while this search read it "
                         "(another newsctl indexed a file again); run the search again")

    def _piped_lines(self, files, found, matcher: Matcher, context: int, escape, specials: str, utf8: bool):
        """:meth:`hit_lines` for the watcher: each chunk's texts read here, and most chunks made by a helper.

        The helper gets the packed texts of its chunks down a pipe as they
        are read and sends back their lines; this process reads every chunk,
        sends it to the helper while fewer than :data:`_HELPER_AHEAD` of the
        helper's are not back yet (so neither waits long on the other), makes
        the rest itself, and gives the lines in order. The helper is this
        index's :class:`_Worker`, kept from search to search (forked ahead by
        :func:`start_worker`, or at the first search), where the search's
        context can be pickled; else one forked for this search. A helper that
        fails leaves its chunks to this process: the output is the same.
        """
        ids, places, stories, ascending = found
        zdicts = self._zdicts
        size = min(_HIT_CHUNK, max(_HIT_CHUNK_MIN, len(ids) // 16))  # few hits: smaller chunks keep both busy sooner
        bounds = list(range(0, len(ids), size))

        def meta(k: int) -> tuple[list[str], list[int]]:
            b = bounds[k]
            return [files[w][0] for w in places[b:b + size].tolist()], stories[b:b + size].tolist()

        def lines(k: int, starts: list[int], datas: list[bytes]) -> tuple[str, int]:
            paths, indexes = meta(k)
            heads = _heads(paths, indexes, starts, escape, specials)
            return _chunk_lines(_chunk_hits(datas, matcher, zdicts, ()), context, escape, specials, heads)

        def rows(k: int) -> tuple[list[int], list[bytes]]:
            return self._chunk_rows(ids[bounds[k]:bounds[k] + size].tolist(), ascending)

        if len(bounds) < 4:
            for k in range(len(bounds)):
                got = lines(k, *rows(k))
                if got[1]:
                    yield got
            return
        search = self._worker_search(matcher, context, escape, specials)
        if search is not None:
            if self._worker is None or self._worker.pid is None:
                self._worker = _SPARE.pop() if _SPARE else _Worker()
                self._worker_end = weakref.finalize(self, self._worker.stop)
            helper = _Pipe(lines, utf8, self._worker, search)
        else:
            helper = _Pipe(lines, utf8)
        try:
            ready: dict[int, tuple[str, int]] = {}
            nxt = 0
            for k in range(len(bounds)):
                starts, datas = rows(k)
                helper.pump()
                if (helper.backlog() >= _HELPER_AHEAD
                        or not helper.send(k, starts, datas, meta(k) if search is not None else ((), ()))):
                    ready[k] = lines(k, starts, datas)
                helper.pump()
                while nxt <= k and (nxt in ready or helper.has(nxt)):
                    got = ready.pop(nxt, None) or helper.take(nxt)
                    nxt += 1
                    if got[1]:
                        yield got
            helper.done()
            for k in range(nxt, len(bounds)):
                got = ready.pop(k, None) or helper.result(k)
                if got is None:
                    got = lines(k, *rows(k))  # the helper failed: made here
                if got[1]:
                    yield got
        finally:
            helper.close()

    def _worker_search(self, matcher: Matcher, context: int, escape, specials: str) -> bytes | None:
        """The search's context for the worker (:func:`_worker_lines`), pickled; None where it cannot be
        (an ``escape`` that is no module's function: a helper is forked for the search instead)."""
        import pickle

        try:
            return pickle.dumps((matcher, context, escape, specials, self._zdicts))
        except (pickle.PicklingError, TypeError, AttributeError):
            return None

    @guarded
    def _hit_rows(self, files, matcher: Matcher, context: int):
        picked, zdicts = self._hit_stories(files, matcher)
        for c in range(0, len(picked), _HIT_CHUNK):
            joined, starts, ends, metas, spans, _ = _chunk_hits(picked[c:c + _HIT_CHUNK], matcher, zdicts)
            j = 0
            for s, e in spans:
                while s >= ends[j]:
                    j += 1
                stem, story, path, base = metas[j]
                t0, t1 = starts[j], ends[j]
                yield (f"{stem}:{story}", path, base + s - t0, base + e - t0,
                       joined[max(t0, s - context):s].replace("\n", " "), joined[s:e].replace("\n", " "),
                       joined[e:min(t1, e + context)].replace("\n", " "))

    @guarded
    def _hit_stories(self, files, matcher: Matcher) -> tuple[list, dict[int, bytes]]:
        """The matching stories of ``files``, in order, and the preset dictionaries they were packed with.

        Each story as ``((the file's place in files, its path), story, offset in
        the file, packed text)``, read in one statement (with the dictionaries,
        in one transaction).
        """
        if self._order is not None and self._order[0] is files:
            order = self._order[1]  # the same list as last time: a watcher answering search after search
        else:
            order = {}
            for k, (path, fid) in enumerate(files):
                order.setdefault(fid, (k, path))  # a file named twice is searched once, where it came first
            self._order = (files, order)
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN")
        try:
            self._load_zdicts()  # in the transaction: every story read was packed with one of these
            try:
                rows = self.conn.execute(
                    "SELECT s.file, s.story, s.start, s.data FROM search_fts JOIN search_stories s"
                    " ON s.id = search_fts.rowid WHERE search_fts MATCH ?", (matcher.fts,)).fetchall()
            except sqlite3.OperationalError as exc:
                if str(exc).startswith("fts5: syntax error"):
                    raise QueryError(f"the index cannot run this query: {exc}") from exc
                raise
        finally:
            if own and self.conn.in_transaction:
                self.conn.execute("COMMIT")
        # Only the matching stories' data is kept: compressed, less than the lines printed for them.
        get = order.get
        out = [(where, story, start, data) for f, story, start, data in rows if (where := get(f)) is not None]
        del rows
        out.sort()  # input order: where = (the file's place, its path)
        return out, self._zdicts

    @guarded
    def search(self, files: Sequence[tuple[str, int]], matcher: Matcher,
               filters: Filters = Filters()) -> Iterator[Match]:
        """The matching stories of ``files`` (from :meth:`refresh`), in input order.

        With a query, the index finds the candidate stories; without one
        (``''`` or ``--regex``) every story of the files is a candidate. The
        texts of the candidates the filters admit are then read, file by file
        as the matches are asked for, and the exact hits found in them.
        """
        self._load_zdicts()
        order: dict[int, tuple[int, str]] = {}
        for k, (path, fid) in enumerate(files):
            order.setdefault(fid, (k, path))  # a file named twice is searched once, where it came first
        stems: dict[str, str] = {}
        cols = "s.id, s.file, s.story, s.kind, s.section, s.start, s.end, s.places, s.agencies"
        expr = matcher.fts if matcher.regex is None else None
        try:
            if expr is not None:
                rows = self.conn.execute(
                    f"SELECT {cols} FROM search_fts JOIN search_stories s ON s.id = search_fts.rowid"
                    " WHERE search_fts MATCH ?", (expr,))
            else:
                rows = self.conn.execute(
                    f"SELECT {cols} FROM search_stories s WHERE s.file IN (SELECT value FROM json_each(?))",
                    (json.dumps(list(order)),))
            picked = []
            for row in rows:
                where = order.get(row[1])
                if where is None:
                    continue
                stem = stems.get(where[1]) or stems.setdefault(where[1], path_stem(where[1]))
                rec = _IndexRec(f"{stem}:{row[2]}", where[1], row[2], row[3], row[4], row[5], row[6], "",
                                tuple(row[7].split(_SEP)) if row[7] else (),
                                tuple(row[8].split(_SEP)) if row[8] else ())
                if filters.admits(rec):
                    picked.append((where[0], rec.story, row[0], row[1], rec))
        except sqlite3.OperationalError as exc:
            if str(exc).startswith("fts5: syntax error"):
                raise QueryError(f"the index cannot run this query: {exc}") from exc
            raise  # a damaged index: a StoreError (see guarded)
        picked.sort(key=lambda t: (t[0], t[1]))
        yield from self._matches(picked, matcher)

    def _matches(self, picked: list, matcher: Matcher) -> Iterator[Match]:
        """The matches among ``picked`` stories; each file's text is read and unpacked once.

        When the index's candidates are the matches (:attr:`Matcher.index_is_exact`),
        texts and hits are read only when asked for: ``search -l`` reads none.
        """
        exact = matcher.index_is_exact
        texts = _Texts(self, picked, lazy=exact)
        for _, _, sid, _, rec in picked:
            if not texts.has(sid):
                continue
            rec._texts, rec._sid = texts, sid
            if exact:
                yield _IndexMatch(rec, matcher)
                continue
            spans = matcher.spans(rec.text)
            if spans is not None:
                yield Match(rec, spans)

    def filter_values(self, files: Sequence[tuple[str, int]]) -> dict[str, set[str]]:
        """The dateline values of the stories of ``files`` (from :meth:`refresh`), per filter.

        Places come in readable case (``Kyiv``); for the hints of
        :func:`analysis.filters.hints`.
        """
        from ..datelines import title_case_place

        out: dict[str, set[str]] = {"place": set(), "agency": set(), "section": set(), "kind": set()}
        rows = self.conn.execute(
            "SELECT DISTINCT places, agencies, section, kind FROM search_stories"
            " WHERE file IN (SELECT value FROM json_each(?))", (json.dumps([fid for _, fid in files]),))
        for places, agencies, section, kind in rows:
            out["place"].update(title_case_place(p) for p in places.split(_SEP) if p)
            out["agency"].update(a for a in agencies.split(_SEP) if a)
            if section:
                out["section"].add(section)
            out["kind"].add(kind)
        return out

    # -- what it holds ----------------------------------------------------------------

    @guarded
    def status(self, paths: Iterable[str] | None = None) -> dict:
        """Totals of the index; with ``paths``, how they compare (stat only, nothing read)."""
        files, stories, chars, size, last = self.conn.execute(
            "SELECT count(*), coalesce(sum(stories), 0), coalesce(sum(chars), 0), coalesce(sum(size), 0),"
            " max(indexed) FROM search_files").fetchone()
        out = {"files": files, "stories": stories, "characters": chars, "corpus_bytes": size,
               "index_bytes": self.size_on_disk(),
               "last_indexed": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last)) if last else None}
        if paths is not None:
            entries = walk(paths)
            known = {os.fsdecode(row[0]): row[1:]
                     for row in self.conn.execute("SELECT path, size, mtime_ns FROM search_files")}
            seen = {e.key for e in entries}
            new = sum(e.key not in known for e in entries)
            stale = sum(e.key in known and known[e.key] != (e.size, e.mtime_ns) for e in entries)
            gone = self._vanished(paths, {k: (k, k) for k in known}, seen)
            out.update({"inputs": len(entries), "up_to_date": len(entries) - new - stale,
                        "new": new, "changed": stale, "removed": len(gone)})
        return out

    def check(self, progress: Callable[[int, int], None] | None = None) -> dict:
        """Look the index over for damage: ``{what: "ok" | what is wrong}``, each part checked.

        A damaged full-text index can answer without an error and miss hits
        (a flipped byte in a posting list), so this reads all of it:
        SQLite's ``quick_check`` of the store's pages, FTS5's own
        ``integrity-check`` of the index's structure, each story's packed
        text (its zstd checksum) and each file's count of stories. The
        way out of any damage is ``index --rebuild``. Needs a connection
        that may write (FTS5's check is an INSERT), though nothing is written.
        """
        out: dict[str, str] = {}
        try:
            rows = [r[0] for r in self.conn.execute("PRAGMA quick_check")]
            out["pages"] = "ok" if rows == ["ok"] else "; ".join(map(str, rows[:3]))
        except sqlite3.DatabaseError as exc:
            out["pages"] = one_line(exc)
        try:
            self.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
            out["full_text_index"] = "ok"
        except sqlite3.DatabaseError as exc:
            out["full_text_index"] = one_line(exc)
        bad, n, first = 0, 0, None
        terms: dict[str, list[int]] = {}  # term -> [instances, sum of their story ids], as the texts give them
        try:
            total = self.conn.execute("SELECT count(*) FROM search_stories").fetchone()[0]
            self._load_zdicts()
            for sid, data in self.conn.execute("SELECT id, data FROM search_stories"):
                n += 1
                try:
                    text = _unpack(data, self._zdicts)[0]
                except sqlite3.DatabaseError:
                    bad += 1
                    first = sid if first is None else first
                    continue
                for term, k in Counter(_FTS_TOKEN.findall(fts_body(text).translate(_ASCII_LOWER))).items():
                    got = terms.get(term)
                    if got is None:
                        terms[term] = [k, k * sid]
                    else:
                        got[0] += k
                        got[1] += k * sid
                if progress is not None and n % 4096 == 0:
                    progress(n, total)
            if progress is not None:
                progress(n, total)
            out["story_texts"] = f"ok ({n})" if not bad else f"{bad} of {n} damaged (the first: story {first})"
        except sqlite3.DatabaseError as exc:
            out["story_texts"] = one_line(exc)
        if out["full_text_index"] == "ok" and out["story_texts"].startswith("ok"):
            # Every term of every story, as FTS5 holds it: what a flipped byte in a posting list changes.
            try:
                out["full_text_index"] = self._compare_terms(terms)
            except sqlite3.DatabaseError as exc:
                out["full_text_index"] = one_line(exc)
        del terms
        try:
            wrong = self.conn.execute(
                "SELECT count(*) FROM search_files f WHERE f.stories !="
                " (SELECT count(*) FROM search_stories s WHERE s.file = f.id)").fetchone()[0]
            out["files"] = "ok" if not wrong else f"{wrong} files whose stories do not add up"
        except sqlite3.DatabaseError as exc:
            out["files"] = one_line(exc)
        return out

    def _compare_terms(self, terms: dict[str, list[int]]) -> str:
        """"ok", or which terms the full-text index holds otherwise than the stories' texts say.

        FTS5's vocabulary table lists every instance of every term; SQLite sums,
        per term, the instances and their story ids, to compare with ``terms``.
        """
        self.conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_fts_terms"
                          " USING fts5vocab(main, search_fts, instance)")
        try:
            wrong, seen = [], 0
            for term, k, ids in self.conn.execute(
                    "SELECT term, count(*), sum(doc) FROM temp.search_fts_terms GROUP BY term"):
                seen += 1
                if terms.get(term) != [k, ids]:
                    wrong.append(term)
            if seen != len(terms):
                held = {t for t, in self.conn.execute("SELECT DISTINCT term FROM temp.search_fts_terms")}
                wrong += [t for t in terms if t not in held]
        finally:
            self.conn.execute("DROP TABLE IF EXISTS temp.search_fts_terms")
        if not wrong:
            return "ok"
        shown = ", ".join(repr(t) for t in sorted(wrong)[:3])
        return f"{len(wrong)} terms held otherwise than the stories' texts say ({shown}{', ...' if len(wrong) > 3 else ''})"

    def size_on_disk(self) -> int | None:
        """Bytes taken by the search tables, their indexes and the FTS shadow tables."""
        if _store_path(self.conn) == "(in memory)":  # no index on disk (index --status, no store)
            return 0
        try:
            row = self.conn.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search\\_%' ESCAPE '\\'"
                " OR name LIKE 'sqlite\\_autoindex\\_search\\_%' ESCAPE '\\'").fetchone()
        except sqlite3.Error:
            return None
        return row[0] or 0
