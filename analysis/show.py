"""One story by its id: finding its file, its dateline fields, text and entities.

Story ids are ``<file stem>:<index>`` as every command prints them
(``000_6886c8d2ffe8f8a4:3``); a bare stem stands for every story of the file.
The file is looked for under the given paths (walked for ``*.txt``) and,
for ids not found there, among the files the search index in the store has
seen (:func:`indexed_paths`).
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .errors import InputError
from .reader import expand_paths, path_stem

_ID = re.compile(r"^(?P<stem>.+?)(?::(?P<index>\d+))?$")


@dataclass(frozen=True)
class StoryRef:
    raw: str  # as typed
    stem: str
    index: int | None  # None: every story of the file


def parse_ids(ids: Iterable[str]) -> list[StoryRef]:
    """``["000_x:3", "001_y"]`` -> story references; a malformed id raises InputError."""
    refs = []
    for raw in ids:
        m = _ID.match(raw.strip())
        if not m or m.group("stem").startswith(":") or "/" in m.group("stem"):
            raise InputError(f"not a story id: {raw!r} (ids look like 000_6886c8d2ffe8f8a4:3)")
        index = m.group("index")
        refs.append(StoryRef(raw, m.group("stem"), int(index) if index is not None else None))
    return refs


def _stem(path: str) -> str:
    return path_stem(path)  # ``stdin`` for ``-``, as the ids of stories read from standard input


def find_files(refs: list[StoryRef], paths: Iterable[str], *, store_path: str | os.PathLike | None = None) -> list[str]:
    """The files that hold ``refs``' stories: under ``paths`` first, then from the store.

    The store is only read, and only when it exists; ``store_path`` None
    means the default store.
    """
    stems = {r.stem for r in refs}
    found: dict[str, list[str]] = {}
    for path in expand_paths(paths):
        stem = _stem(path)
        if stem in stems:
            found.setdefault(stem, []).append(path)
    missing = stems - set(found)
    if missing:
        for path in indexed_paths(missing, store_path):
            found.setdefault(_stem(path), []).append(path)
    return [p for stem in sorted(found) for p in found[stem]]


def indexed_paths(stems: set[str], store_path: str | os.PathLike | None = None) -> Iterator[str]:
    """Paths of existing files with these stems that the search index knows (read-only)."""
    from .errors import StoreError
    from .store import connect_readonly, default_store_path

    p = Path(store_path) if store_path else default_store_path()
    try:
        conn = connect_readonly(p)  # also in a directory this user cannot write
    except StoreError:  # not a store, or one that cannot be read here: the store is only a help
        return
    if conn is None:
        return
    from .search import indexed_paths as known

    try:
        rows = [path for stem in sorted(stems) for path in known(conn, stem)]
    except sqlite3.Error:  # not a store, or a damaged one: the store is only a help here
        return
    finally:
        conn.close()
    for path in rows:
        if _stem(path) in stems and os.path.isfile(path):
            yield path


def pick_stories(corpus, refs: list[StoryRef]) -> tuple[list[tuple], list[StoryRef]]:
    """``([(doc, story), ...] in the order asked, refs not found)``."""
    by_id = {}
    by_stem: dict[str, list] = {}
    for doc, s in corpus.stories():
        by_id.setdefault(s.id, (doc, s))
        by_stem.setdefault(doc.stem, []).append((doc, s))
    picked, missing = [], []
    for r in refs:
        if r.index is None:
            got = by_stem.get(r.stem, [])
        else:
            one = by_id.get(f"{r.stem}:{r.index}")
            got = [one] if one else []
        if got:
            picked += [g for g in got if g not in picked]
        else:
            missing.append(r)
    return picked, missing


STORY_FIELDS = ("id", "file", "story", "kind", "section", "places", "agencies", "age_minutes", "dateline",
                "headline", "duplicate_of", "start", "end", "text")


def story_record(doc, story, mentions=None) -> dict:
    """A story with its dateline fields and text; with ``mentions``, its entities.

    Entity offsets (``start``, ``end``) point into the file text, as
    everywhere; the story's own ``start`` says where its ``text`` begins.
    """
    rec = {
        "id": story.id, "file": doc.path, "story": story.index, "kind": story.kind, "section": story.section,
        "places": list(story.places), "agencies": story.agencies, "age_minutes": story.age_minutes,
        "dateline": story.dateline.raw if story.dateline else None, "headline": story.headline,
        "duplicate_of": story.duplicate_of, "start": story.start, "end": story.end,
        "text": doc.text[story.start:story.end],
    }
    if mentions is not None:
        rec["entities"] = [
            {"text": m.text, "label": m.label, "canonical": m.canonical, "start": m.start, "end": m.end,
             "source": m.source}
            for m in sorted(mentions, key=lambda m: (m.start, m.end))
        ]
    return rec
