"""Splitting a wire page into stories.

A page is a headline (first non-empty line), a lead story whose first
paragraph may open with a dateline, and optionally one or more digests. A
digest starts at a line ``Meer uit <Section>`` and holds items, each opening
with a dateline and followed by a relative age (``13 minuten geleden``) that
is glued to the next item's dateline. The age after an item belongs to it.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .datelines import Dateline, PlaceNamer, dateline_at, make_dateline
from .reader import Document

LEAD = "lead"
ITEM = "item"

_DIGEST_RE = re.compile(r"^[ \t]*Meer uit[ \t]+(?P<section>\S[^\n]*?)[ \t]*$", re.MULTILINE)

_AGE_UNITS = {
    "seconde": 0, "seconden": 0,
    "minuut": 1, "minuten": 1,
    "uur": 60, "uren": 60,
    "dag": 1440, "dagen": 1440,
    "week": 10080, "weken": 10080,
    "maand": 43200, "maanden": 43200,
    "jaar": 525600, "jaren": 525600,
    "sec": 0, "min": 1, "u": 60, "mnd": 43200,
}
# An age stands at the start of a line or glued to the end of an item's text
# ("...Post.13 minuten geleden"), and is followed by the end of the line, the
# next item's dateline or other text glued to it ("geledenMeer");
# "2 jaar geleden begon" at the start of a line is text, not an age.
_AGE_RE = re.compile(
    r"(?:^[ \t]*|(?<=[^\s\d]))(?P<n>\d{1,4})[ \t]*(?P<unit>" + "|".join(sorted(_AGE_UNITS, key=len, reverse=True))
    + r")\.?[ \t]+(?P<word>geleden)(?![a-zà-ÿ])[ \t]*",
    re.MULTILINE,
)
# Where a digest item may begin: a line start, or an upper-case letter glued to
# the end of the text before it ("zojuistMOSKOU (ANP) - ").
_ITEM_START = re.compile(r"(?:(?<=\n)|(?<=[a-zß-ÿ.!?\"\u201d)\]]))(?=[A-ZÀ-Þ'\u2019])")
# The same positions (m.start()), found about 7 times faster: the upper-case
# letter first (the regex engine skips to it), then the letter before it.
_ITEM_START_FAST = re.compile(r"[A-ZÀ-Þ'\u2019](?<=[\na-zß-ÿ.!?\"\u201d)\]].)")
# "[.!?]+..." written with one plain [.!?] first: the regex engine then skips
# to the next punctuation mark instead of trying the pattern at every character.
_SENTENCE_END = re.compile(r"[.!?][.!?]*[\"'\u201d\u2019)]*(?=\s|$)")


@dataclass(slots=True)  # slots: a 500 MB file holds a million stories
class Story:
    """One story of a page; offsets index the document's text."""

    id: str
    file: str
    index: int
    kind: str  # "lead" or "item"
    section: str | None
    start: int
    end: int
    headline: str
    body_start: int  # where the story's own text begins (after the page headline for a lead)
    dateline: Dateline | None = None
    places: list[str] = field(default_factory=list)
    age_minutes: int | None = None
    age_text: str | None = None
    duplicate_of: str | None = None

    @property
    def agencies(self) -> list[str]:
        return list(self.dateline.agencies) if self.dateline else []


def age_to_minutes(n: int, unit: str) -> int:
    return n * _AGE_UNITS[unit]


# Abbreviations and initials whose period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "dr", "drs", "ir", "ing", "prof", "mevr", "dhr", "st", "sr", "jr", "ca", "bijv", "bv", "o.a",
    "d.w.z", "m.a.w", "i.p.v", "z.g", "zgn", "nr", "vs", "blz", "resp", "incl", "excl", "etc", "e.d",
    "jl", "a.s", "max", "min", "gen", "lt", "kol", "mgr", "ds",
}


_ABBREVIATION_MAX = max(map(len, _ABBREVIATIONS))

_SENTENCE_STARTERS = {
    "De", "Het", "Een", "Dat", "Die", "Dit", "Deze", "Ook", "In", "Op", "Hij", "Zij", "Ze", "Er", "Maar",
    "En", "Volgens", "Wie", "Wat", "Waar", "Toen", "Nu", "Daar", "Daarnaast", "Bovendien", "Zo", "Ik", "We",
    "Wij", "Het", "Bij", "Met", "Na", "Voor", "Om", "Als", "Of", "Niet", "Tot", "Sinds", "Ondertussen",
}


def first_sentence(text: str, start: int = 0, end: int | None = None) -> str:
    """The first sentence of ``text[start:end]`` (whitespace collapsed), with no copy of the rest.

    The first line of the stripped text is searched for a sentence end
    (:data:`_SENTENCE_END`, not after an abbreviation). A sentence end
    starts with ``.``, ``!`` or ``?``: those are found with ``str.find``
    (in C), and the pattern is tried only there, where its own search
    would step through every character.
    """
    s, e = start, len(text) if end is None else end
    if s < e and text[s] == " ":
        s += 1  # the space after a dateline's dash (the common start): stripped without a call
    if s < e and (text[s].isspace() or text[e - 1].isspace()):
        s, e = _strip_span(text, s, e)
    nl = text.find("\n", s, e)
    if nl != -1:
        e = nl  # the first line
    find, match = text.find, _SENTENCE_END.match
    pos = s
    while True:
        stop = find(".", pos, e)
        if stop < 0:
            stop = e
        k = find("!", pos, stop)
        if k >= 0:
            stop = k
        k = find("?", pos, stop)
        if k >= 0:
            stop = k
        if stop == e:
            return _collapse(text[s:e])
        last = stop + 1
        if last < e and text[last] == " ":
            m = True  # the pattern's match is this one character: nothing it takes can follow it
        else:
            m = match(text, stop, e)  # the line ends at e: "$" matches there, as at the end of the line alone
            if m is not None:
                last = m.end()
        if m is not None:
            if last != stop + 1 or text[stop] != ".":
                break  # "?", "!", "..." or a quote after it: no abbreviation
            if stop - s > _ABBREVIATION_MAX and text[stop - _ABBREVIATION_MAX - 1: stop].isalpha():
                break  # a word longer than any abbreviation before the period (the common case)
            if not _is_abbreviation(text, stop, s, e):
                break
        pos = stop + 1  # no sentence ends here: finditer would look on from the next character
    sentence = text[s:last]  # from a non-space to a sentence end: only its inside can need collapsing
    if sentence.isprintable() and "  " not in sentence:
        return sentence
    return " ".join(sentence.split())


def _collapse(text: str) -> str:
    """``" ".join(text.split())``, without the split where there is nothing to collapse."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # printable text has no white space but the space, and that single
    return " ".join(text.split())


def _is_abbreviation(line: str, dot: int, start: int = 0, end: int | None = None) -> bool:
    """Whether the period at ``dot`` of the line ``line[start:end]`` ends an abbreviation or an initial."""
    if dot - start > _ABBREVIATION_MAX and line[dot - _ABBREVIATION_MAX - 1: dot].isalpha():
        return False  # a word longer than any abbreviation (the common case, checked in C)
    k = dot
    stop = max(start, dot - _ABBREVIATION_MAX - 1)  # a longer word is no abbreviation: no need to walk it all
    while k > stop and (line[k - 1].isalpha() or line[k - 1] == "."):
        k -= 1
    word = line[k:dot]
    if len(word) == 1 and word.isupper():
        # An initial ("J. Smit"), unless a sentence plainly starts after it ("op X. De ...").
        following = line[dot + 1: end].split(None, 1)
        return bool(following) and following[0] not in _SENTENCE_STARTERS
    return len(word) <= _ABBREVIATION_MAX and word.lower() in _ABBREVIATIONS


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    if start < end and not text[start].isspace() and not text[end - 1].isspace():
        return start, end  # the common case: nothing to strip
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_page(doc: Document) -> list[Story]:
    """Split one document into stories (no places or duplicates resolved yet)."""
    stories = [
        Story(id=f"{doc.stem}:{i}", file=doc.path, index=i, kind=kind, section=section, start=s, end=e,
              headline=headline, body_start=body_start, dateline=dateline,
              age_minutes=age[0] if age else None, age_text=age[1] if age else None)
        for i, (kind, section, s, e, body_start, headline, dateline, age) in enumerate(page_parts(doc.text))
    ]
    return stories


def page_parts(text: str) -> Iterator[tuple]:
    """The stories of a page's text as plain tuples, in order (what :func:`split_page` makes stories of).

    Each is ``(kind, section, start, end, body_start, headline, dateline, age)``,
    ``age`` being ``(age_minutes, age_text)`` or None: no object per story
    but the dateline (see :func:`page_fields` for none at all).
    """
    for kind, section, s, e, body_start, headline, found, at, age in page_fields(text):
        yield kind, section, s, e, body_start, headline, make_dateline(found, at) if found else None, age


def page_fields(text: str, headlines: bool = True) -> Iterator[tuple]:
    """:func:`page_parts` with the dateline as :func:`analysis.datelines.dateline_at` gives it.

    Each is ``(kind, section, start, end, body_start, headline, found, at, age)``:
    ``found`` is ``((raw, places_raw, agencies, spans), end)`` or None and
    ``at`` the dateline's offset. The parts are shared between stories, so a
    caller that reads a million stories (``datelines``) makes no object per
    dateline. ``headlines=False``: every headline is None (``--summary``
    reads none).
    """
    start, end = _strip_span(text, 0, len(text))
    if start == end:
        return
    digests = digest_markers(text, start)
    lead_end = digests[0].start() if digests else end

    # The headline is the first non-empty line, unless that line already
    # opens with a dateline (a bare article): then there is no headline line.
    line_end = text.find("\n", start, lead_end)
    line_end = lead_end if line_end == -1 else line_end
    found = dateline_at(text, start)
    at = start
    if found is None and line_end < lead_end:
        headline = _collapse(text[start:line_end]) if headlines else None
        body_start, _ = _strip_span(text, line_end, lead_end)
        found = dateline_at(text, body_start)
        at = body_start
    else:
        body_start = start
        headline = first_sentence(text, found[1] if found else start, lead_end) if headlines else None
    s, e = _strip_span(text, start, lead_end)
    if s < e:
        yield LEAD, None, s, e, min(max(body_start, s), e), headline, found, at, None

    for k, marker in enumerate(digests):
        region_end = digests[k + 1].start() if k + 1 < len(digests) else len(text)
        section = marker.group("section").strip(" :»>›-–—.")
        for item_start, item_end, age, found in _digest_items(text, marker.end(), region_end):
            yield (ITEM, section, item_start, item_end, item_start,
                   first_sentence(text, found[1] if found else item_start, item_end) if headlines else None,
                   found, item_start, age)


def digest_markers(text: str, start: int = 0) -> list[re.Match]:
    """``list(_DIGEST_RE.finditer(text, start))``, the pattern tried only on lines that hold ``Meer uit``.

    A match is a whole line (blanks, ``Meer uit``, the section), so it can
    only start where a line holding the words starts; ``str.find`` skips to
    those lines, where the regex engine would try every position.
    """
    out = []
    pos = start
    while True:
        k = text.find(_MARKER, pos)
        if k == -1:
            return out
        line = text.rfind("\n", 0, k) + 1
        if line >= pos:
            m = _DIGEST_RE.match(text, line)
            if m is not None:
                out.append(m)
                pos = m.end()
                continue
        nl = text.find("\n", k)  # no marker line starts before the next line
        if nl == -1:
            return out
        pos = nl + 1


_MARKER = "Meer uit"


def _digest_items(text: str, start: int, end: int) -> Iterator[tuple[int, int, tuple[int, str] | None, tuple | None]]:
    """Yield ``(start, end, (age_minutes, age_text) | None, dateline)`` for each digest item.

    Items end at an age marker (the age is theirs) and also where a line
    opens with a dateline or a dateline is glued to the text before it, for
    digests without (recognised) ages. ``dateline``: what
    :func:`analysis.datelines.dateline_at` finds at the item's start.
    """
    pos = start
    for m in age_matches(text, start, end):
        after = m.end()
        glued = m.end("word") < end and not text[m.end("word")].isspace()
        if not (glued or after >= end or text[after] == "\n" or dateline_at(text, after)):
            continue
        said = m.group(0)
        age = _AGES.get(said)
        if age is None:
            if len(_AGES) >= 4096:
                _AGES.clear()
            age = _AGES[said] = (age_to_minutes(int(m.group("n")), m.group("unit")), sys.intern(" ".join(said.split())))
        yield from _split_on_datelines(text, pos, m.start(), age)
        pos = m.end()
    yield from _split_on_datelines(text, pos, end, None)


_AGES: dict[str, tuple[int, str]] = {}  # an age as written -> (minutes, text): a corpus repeats a few hundred

_AGE_WORD = "geleden"
_AGE_LEAD = 13  # non-blank characters of an age before its word at most: 4 digits, an 8-letter unit, a dot


def age_matches(text: str, start: int, end: int) -> Iterator[re.Match]:
    """``_AGE_RE.finditer(text, start, end)``, without running the pattern over every character.

    An age lies within one line and holds the word ``geleden``, with at
    most :data:`_AGE_LEAD` non-blank characters before it. So the pattern
    runs only over a short window around each ``geleden`` (found with
    ``str.find``), from the first place such an age could start to the end
    of the blanks after the word plus the one character the look-ahead reads.
    The matches are the same, in the same order.
    """
    pos = start
    word = text.find(_AGE_WORD, pos, end)
    while word != -1:
        p, solid = word, 0
        line = max(pos, text.rfind("\n", pos, word) + 1)
        if word - line <= _AGE_LEAD:
            p = line  # the walk below would stop there: too few characters to count past _AGE_LEAD
        while p > pos:
            c = text[p - 1]
            if c == "\n":
                break
            if c not in " \t":
                solid += 1
                if solid > _AGE_LEAD:
                    break
            p -= 1
        e = word + len(_AGE_WORD)
        while e < end and text[e] in " \t":
            e += 1
        m = _AGE_RE.search(text, p, min(end, e + 1))
        if m is not None:
            yield m
            pos = m.end()
        word = text.find(_AGE_WORD, max(pos, word + 1), end)


def _split_on_datelines(text: str, start: int, end: int, age):
    start, end = _strip_span(text, start, end)
    if start >= end:
        return
    first = dateline_at(text, start)
    # A dateline after the first starts at a letter past ``start`` and has its "(" after that, before
    # ``end``: a stretch ends at an age (the word "geleden" is lower case, which no place is) or before
    # the line of the next digest. So without a "(" past the first dateline's own, a dateline can
    # start only in front of that one, and the places are searched alone (the common case), not the
    # whole item.
    if first is None:
        stop = end if text.find("(", start + 1, end) != -1 else start
    else:
        own = text.find("(", start + 1, end)  # the first dateline's
        stop = end if own == -1 or text.find("(", own + 1, end) != -1 else own
    m = _ITEM_START_FAST.search(text, start + 1, stop) if stop > start + 1 else None
    if m is None:  # the common case: one item
        yield start, end, age, first
        return
    cuts = [(start, first)]
    for m in _ITEM_START_FAST.finditer(text, m.start(), end):
        found = dateline_at(text, m.start())
        if found:
            cuts.append((m.start(), found))
    cuts.append((end, None))
    last = len(cuts) - 2
    for i in range(last + 1):
        (a, found), b = cuts[i], cuts[i + 1][0]
        s, e = _strip_span(text, a, b)  # a cut after the first is a letter: s == a, and found is s's
        if s < e:
            yield s, e, age if i == last else None, found


def _duplicate_key(text: str) -> str:
    return hashlib.sha1(" ".join(text.casefold().split()).encode("utf-8")).hexdigest()


class StorySplitter:
    """Splits a corpus into stories, with readable places and duplicates marked.

    Place casing is learnt from the whole corpus, so :meth:`split` takes every
    document before it yields stories.
    """

    def __init__(self) -> None:
        self.namer = PlaceNamer()
        self._seen: dict[str, str] = {}

    def split(self, docs: Iterable[Document]) -> Iterator[tuple[Document, list[Story]]]:
        pages = [(doc, split_page(doc)) for doc in docs]
        names = {p for _, stories in pages for s in stories if s.dateline for p in s.dateline.places_raw}
        self.namer.learn(names, (doc.text for doc, _ in pages))
        for doc, stories in pages:
            self.finish(doc, stories)
            yield doc, stories

    def finish(self, doc: Document, stories: list[Story]) -> None:
        for story in stories:
            if story.dateline:
                story.places = [self.namer.name(p) for p in story.dateline.places_raw]
            body = doc.text[story.body_start: story.end]
            if not body.strip():
                continue
            key = _duplicate_key(body)
            first = self._seen.setdefault(key, story.id)
            story.duplicate_of = None if first == story.id else first


def split_corpus(docs: Iterable[Document]) -> Iterator[tuple[Document, list[Story]]]:
    return StorySplitter().split(docs)
