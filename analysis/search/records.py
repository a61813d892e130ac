"""What a search yields (stories and their hits) and the records printed for them.

:class:`StoryRec` and :class:`Match` are what both ways of searching (the
index, :mod:`analysis.search.index`, and a corpus read into memory,
:func:`analysis.search.match.search_corpus`) produce; the ``*_records``
functions turn matches into keyword-in-context, story and count rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from ..filters import StoryFilter

Span = tuple[int, int]


@dataclass
class StoryRec:
    """What search needs of one story; ``text`` is the story's span of the file text."""

    id: str
    file: str
    story: int
    kind: str
    section: str | None
    start: int
    end: int
    headline: str
    places: tuple[str, ...]  # dateline places as printed (upper case) and in readable form
    agencies: tuple[str, ...]
    text: str = ""


# The story filters are those of every command (analysis/filters.py).
Filters = StoryFilter


@dataclass
class Match:
    """A story that matched, with its hits as offsets into ``rec.text``."""

    rec: StoryRec
    spans: list[Span]


# -- records for output ---------------------------------------------------------

HIT_FIELDS = ("id", "file", "start", "end", "left", "match", "right")
STORY_FIELDS = ("id", "file", "hits", "headline")
COUNT_FIELDS = ("file", "hits")


def _flat(text: str) -> str:
    return text.replace("\n", " ")


def hit_records(matches: Iterable[Match], *, context: int = 40, sentence: bool = False) -> Iterator[dict]:
    """One keyword-in-context record per hit; offsets into the file text.

    ``left`` and ``right`` hold up to ``context`` characters of the story on
    each side of the match, or with ``sentence`` the rest of the sentence the
    match is in (:func:`analysis.sentences.sentence_bounds`); newlines are
    shown as spaces.
    """
    if sentence:
        from ..sentences import sentence_bounds
    for m in matches:
        text, base = m.rec.text, m.rec.start
        for s, e in m.spans:
            lo, hi = sentence_bounds(text, s, e) if sentence else (max(0, s - context), e + context)
            yield {
                "id": m.rec.id, "file": m.rec.file, "start": base + s, "end": base + e,
                "left": _flat(text[lo:s]), "match": _flat(text[s:e]),
                "right": _flat(text[e:hi]),
            }


def unique_stories(matches: Iterable[Match]) -> Iterator[Match]:
    """The matches less the wire duplicates: a story whose text repeats one before it.

    Texts compare as :class:`analysis.stories.StorySplitter` compares them for
    ``duplicate_of`` (case and white space ignored).
    """
    from ..stories import _duplicate_key

    seen: set[str] = set()
    for m in matches:
        key = _duplicate_key(m.rec.text)
        if key not in seen:
            seen.add(key)
            yield m


def files_without_match(files: Iterable[str], matches: Iterable[Match]) -> Iterator[str]:
    """``files`` (in order) that no match is in: ``grep -L``."""
    hit = set(matching_files(matches))
    seen: set[str] = set()
    for f in files:
        if f not in hit and f not in seen:
            seen.add(f)
            yield f


def story_records(matches: Iterable[Match]) -> Iterator[dict]:
    for m in matches:
        yield {"id": m.rec.id, "file": m.rec.file, "hits": len(m.spans), "headline": m.rec.headline}


def count_records(matches: Iterable[Match]) -> Iterator[dict]:
    """Hits per file, for files with at least one hit, in input order."""
    current, hits = None, 0
    for m in matches:
        if m.rec.file != current:
            if current is not None:
                yield {"file": current, "hits": hits}
            current, hits = m.rec.file, 0
        hits += len(m.spans)
    if current is not None:
        yield {"file": current, "hits": hits}


def matching_files(matches: Iterable[Match]) -> Iterator[str]:
    current = None
    for m in matches:
        if m.rec.file != current:
            current = m.rec.file
            yield current
