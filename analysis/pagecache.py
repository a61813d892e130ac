"""Page-level results kept in the store, for :mod:`analysis.entitystream`.

What the page-level rules (:func:`analysis.entities.propagate_within_file`,
:func:`analysis.entities.refine_page`) make of one file depends on the file,
the model's output and newsctl's own code and word lists, never on the other
files. It is kept in the store's ``pages`` table per file content, pipeline
and :func:`page_version` (a hash of that code and those lists), so a second
run reads compact rows instead of splitting the file and running the rules
again. The casings of dateline places do depend on the corpus: each file's
counts are kept with the set of names they were counted for, and used only
when the corpus has that set (``forms``).
"""

from __future__ import annotations

from array import array
from pathlib import Path

from .store import guarded

_PAGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    sha256 TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    version TEXT NOT NULL,
    data BLOB NOT NULL,
    forms BLOB,
    PRIMARY KEY (sha256, pipeline, version)
);
"""
_PAGE_CODE = ("entities.py", "pagecache.py", "knowledge.py", "stories.py", "datelines.py", "textnorm.py",
              "reader.py", "nlp.py")


def page_version(pipeline: str) -> str:
    """The key of page-level results: the pipeline, the code and word lists that make them, the switches."""
    import hashlib

    from . import knowledge

    h = hashlib.blake2b(digest_size=12)
    h.update(pipeline.encode())
    h.update(repr(sorted(knowledge._DISABLED)).encode())
    here = Path(__file__).resolve().parent
    for name in _PAGE_CODE:
        h.update((here / name).read_bytes())
    for p in sorted((here / "data").iterdir()):
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


class PageCache:
    """The ``pages`` table of the store: per file, its stories and mentions as compact rows."""

    def __init__(self, store, pipeline: str, version: str) -> None:
        # A store without an SQLite connection (a stand-in) keeps no pages.
        self.store, self.conn, self.pipeline, self.version = store, getattr(store, "conn", None), pipeline, version
        self.path = getattr(store, "path", None)  # named by the StoreError of a read that fails
        self.broken = False  # set when the store stopped taking writes (a full disk): go on without
        try:
            self.conn.executescript(_PAGE_SCHEMA)
        except Exception as exc:  # noqa: BLE001 - a read-only or full store: run without the cache
            self.broken = True
            self._why = exc

    @guarded
    def get_many(self, sha256s: list[str]) -> dict[str, tuple]:
        if self.broken:
            return {}
        out = {}
        wanted = list(dict.fromkeys(sha256s))
        for k in range(0, len(wanted), 500):
            chunk = wanted[k:k + 500]
            marks = ",".join("?" * len(chunk))
            for sha, data, forms in self.conn.execute(
                    f"SELECT sha256, data, forms FROM pages WHERE pipeline = ? AND version = ? AND sha256 IN ({marks})",
                    (self.pipeline, self.version, *chunk)):
                got = _decoded(data, forms)
                if got is not None:  # a damaged row is a miss: the rules make it again and replace it
                    out[sha] = got
        return out

    def put_many(self, records: list[tuple[str, tuple]]) -> None:
        import marshal
        import sqlite3
        import zlib

        if self.broken or not records:
            return
        try:
            with self.conn:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO pages (sha256, pipeline, version, data, forms) VALUES (?, ?, ?, ?, NULL)",
                    [(sha, self.pipeline, self.version, zlib.compress(marshal.dumps(rec), 1)) for sha, rec in records])
        except sqlite3.Error:
            self.broken = True  # a full or read-only store: the next run does the rules again

    def put_forms(self, forms: list[tuple[str, tuple]]) -> None:
        import marshal
        import sqlite3

        if self.broken or not forms:
            return
        try:
            with self.conn:
                self.conn.executemany(
                    "UPDATE pages SET forms = ? WHERE sha256 = ? AND pipeline = ? AND version = ?",
                    [(marshal.dumps(f), sha, self.pipeline, self.version) for sha, f in forms])
        except sqlite3.Error:
            self.broken = True


def _decoded(data: bytes, forms: bytes | None) -> tuple | None:
    """A ``pages`` row's ``(record, forms)``, or None when its bytes are damaged.

    The rows are a cache of what the rules make of the stored annotations, so
    a row that does not unpack (zlib's checksum catches a change in ``data``)
    or has not the shape :func:`page_record` gives is made again rather than
    ending the run with a traceback.
    """
    import marshal
    import zlib

    try:
        rec = marshal.loads(zlib.decompress(data))
        got = marshal.loads(forms) if forms else None
    except (zlib.error, ValueError, EOFError, TypeError):
        return None
    if not (isinstance(rec, tuple) and len(rec) == 4 and isinstance(rec[0], tuple) and isinstance(rec[1], tuple)
            and isinstance(rec[2], bytes) and isinstance(rec[3], bytes)):
        return None
    if got is not None and not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], dict)):
        return None
    return rec, got


def page_record(page: list) -> tuple:
    """One file's annotated stories (:class:`analysis.entities.AnnotatedStory`) as compact rows.

    ``(stories, keys, mentions, acronym pairs)``: per story ``(index,
    sentences, digest of its text or None, dateline places as printed)``;
    the distinct ``(text, label, source, place as printed)`` of its
    mentions (a dateline mention's place as printed, whatever readable form
    the caller gave it); per mention ``(story, sentence, key)`` and the pairs of
    consecutive model mentions 2-3 characters apart, as bytes of int32.
    """
    from .entities import DATELINE, MODEL
    from .textnorm import story_digest

    stories, keys, key_ids = [], [], {}
    rows, pairs = array("i"), array("i")
    n = 0
    for j, ann in enumerate(page):
        s = ann.story
        body = ann.doc.text[s.body_start:s.end]
        digest = story_digest(body) if body.strip() else None
        if digest is not None and digest >= 1 << 63:
            digest -= 1 << 64  # a signed 64-bit number, as numpy keeps it
        stories.append((s.index, len(ann.sentences), digest, tuple(s.dateline.places_raw) if s.dateline else ()))
        # A dateline place is kept as printed (its readable form depends on the corpus, see the module).
        printed = dict(zip(s.dateline.place_spans, s.dateline.places_raw)) if s.dateline else {}
        prev = None
        for m in ann.mentions:
            hint = printed.get((m.start, m.end), m.hint) if m.source == DATELINE else m.hint
            key = (m.text, m.label, m.source, hint)
            kid = key_ids.get(key)
            if kid is None:
                kid = key_ids[key] = len(keys)
                keys.append(key)
            rows.extend((j, m.sentence, kid))
            if m.source == MODEL:
                if prev is not None and 2 <= m.start - prev[1] <= 3:
                    pairs.extend((prev[0], n))
                prev = (n, m.end)
            n += 1
    return tuple(stories), tuple(keys), rows.tobytes(), pairs.tobytes()


