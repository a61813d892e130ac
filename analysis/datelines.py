"""Datelines: ``ALMATY (ANP/RTR) - `` at the start of a story.

A dateline is an upper-case place part (one or more places joined by ``/``),
a parenthesised agency part (upper-case codes joined by ``/``) and a hyphen,
en dash or em dash. Only text at the very start of a story is tried, and the
place part must be entirely upper case, so mid-sentence look-alikes such as
``de VN (OCHA) - het bureau`` are never datelines.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from functools import lru_cache
from dataclasses import dataclass
from typing import Iterable, Iterator

# Known agency codes and their full names (documented in the README).
AGENCIES = {
    "ANP": "Algemeen Nederlands Persbureau",
    "RTR": "Reuters",
    "AFP": "Agence France-Presse",
    "DPA": "Deutsche Presse-Agentur",
    "AP": "Associated Press",
    "BELGA": "Belga (Belgian news agency)",
    "BLOOMBERG": "Bloomberg News",
    "EFE": "Agencia EFE",
    "ANSA": "Agenzia Nazionale Stampa Associata",
    "TASS": "TASS (Russian news agency)",
    "NTB": "Norsk Telegrambyrå",
    "PA": "PA Media",
    "UPI": "United Press International",
    "APA": "Austria Presse Agentur",
    "NOS": "NOS (Dutch public broadcaster)",
}

_DASHES = "-\u2013\u2014"  # hyphen, en dash, em dash
_AGENCY_RE = re.compile(r"^[A-Z][A-Z0-9&.]*$")
# letters, combining diacritics (an NFD-spelled GENÈVE), spaces, dots, apostrophes, hyphens
_PLACE_CHARS = re.compile(r"^[^\W\d_](?:[^\W\d_]|[\u0300-\u036f .'\u2019\-])*$")
_LOWER_PARTICLES = {
    "aan", "am", "an", "bij", "d", "da", "das", "de", "del", "della", "den",
    "der", "des", "di", "do", "dos", "du", "el", "en", "im", "in", "la", "le",
    "les", "of", "op", "sur", "ten", "ter", "upon", "van", "von",
}


@dataclass(frozen=True, slots=True)
class Dateline:
    raw: str  # the dateline as printed, without the trailing dash and space
    places_raw: tuple[str, ...]  # upper-case places as printed
    agencies: tuple[str, ...]
    start: int  # offset of the dateline in the text it was parsed from
    end: int  # offset just after the dash
    place_spans: tuple[tuple[int, int], ...]  # offsets of each place


def parse_dateline(text: str, pos: int = 0) -> Dateline | None:
    """Parse a dateline that starts exactly at ``text[pos]``; None if there is none."""
    found = dateline_at(text, pos)
    return None if found is None else make_dateline(found, pos)


def make_dateline(found: tuple, pos: int) -> Dateline:
    """The :class:`Dateline` of what :func:`dateline_at` found at ``pos``."""
    (raw, places, agencies, spans), end = found
    return Dateline(
        raw=raw,
        places_raw=places,
        agencies=agencies,
        start=pos,
        end=end,
        place_spans=tuple((pos + a, pos + b) for a, b in spans),
    )


def dateline_at(text: str, pos: int = 0) -> tuple[tuple, int] | None:
    """:func:`parse_dateline` without the object: ``((raw, places_raw, agencies, relative place spans), end)``.

    The parts are shared by every story with the same dateline; a caller
    that reads a million stories makes no object per dateline.
    """
    # Hand-written scan: this runs on every line start of every digest.
    n = len(text)
    if pos >= n:
        return None
    c = text[pos]
    if c.isspace() or c in "()/" or c.islower():
        return None
    limit = text.find("\n", pos, pos + 170)
    if limit == -1:
        limit = min(n, pos + 170)
    opening = text.find("(", pos, limit)
    if opening == -1:
        return None
    closing = text.find(")", opening + 1, min(limit, opening + 62))
    if closing == -1:
        return None
    dash = closing + 1
    while dash < limit and text[dash] in " \t":
        dash += 1
    if dash >= limit or text[dash] not in _DASHES:
        return None
    raw = text[pos: dash + 1]
    parsed = _PARSED.get(raw)
    if parsed is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        parsed = _PARSED[raw] = _parse_parts(raw, opening - pos, closing - pos)
    if not parsed:
        return None
    return parsed, dash + 1


# A corpus repeats a few hundred datelines: each distinct one is checked once.
_PARSED: dict[str, tuple | bool] = {}
_PARSED_MAX = 8192


def _parse_parts(raw: str, opening: int, closing: int) -> tuple | bool:
    """The checked parts of dateline ``raw`` (``(`` and ``)`` at these offsets), offsets relative; False if none."""
    places_part = raw[:opening].rstrip(" \t")
    agencies = tuple(a.strip() for a in raw[opening + 1: closing].split("/"))
    if not places_part or len(places_part) > 100 or ")" in places_part:
        return False
    if not all(_AGENCY_RE.match(a) for a in agencies):
        return False
    places: list[str] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    for piece in places_part.split("/"):
        stripped = piece.strip()
        lead = len(piece) - len(piece.lstrip())
        if not stripped or not _is_upper_place(stripped):
            return False
        places.append(stripped)
        spans.append((offset + lead, offset + lead + len(stripped)))
        offset += len(piece) + 1
    return (
        sys.intern(raw),  # interned: one string for every story with this dateline
        _shared(tuple(sys.intern(p) for p in places)),
        _shared(tuple(sys.intern(a) for a in agencies)),
        tuple(spans),
    )


@lru_cache(maxsize=4096)
def _shared(names: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple object for equal tuples of names (memory: stories share their places and agencies)."""
    return names


def _is_upper_place(place: str) -> bool:
    if not _PLACE_CHARS.match(place) and not (
        place[0] in "'\u2019" and _PLACE_CHARS.match(place[1:] or "x")
    ):
        return False
    letters = [c for c in place if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and "  " not in place


# Where the regex engine's IGNORECASE and str.lower() agree: every character
# below U+0250 but dotted I, dotless i and long s (which IGNORECASE matches
# with i, I and s), and every character without case (quotes, dashes, ...).
_CASE_ODD = re.compile("[\u0130\u0131\u017f]")
_WIDE = re.compile("[^\x00-\u024f\u2000-\u206f\u20a0-\u20cf]")  # punctuation and currency have no case
_LOWER_MAX = 1_000_000  # a longer text takes the plain path: no lower-cased copy of a big file


def _case_safe(text: str) -> bool:
    """True when IGNORECASE matching in ``text`` is plain matching in ``text.lower()``, position for position."""
    try:
        text.encode("latin-1")  # every character below U+0100: safe (the common case, checked in C)
        return True
    except UnicodeEncodeError:
        pass
    if _CASE_ODD.search(text):
        return False
    seen: set[str] = set()
    for m in _WIDE.finditer(text):
        c = m.group()
        if c not in seen:
            if not c.lower() == c == c.upper():
                return False
            seen.add(c)
    return True


@lru_cache(maxsize=8)
def forms_patterns(wanted: frozenset[str]) -> tuple:
    """The pattern finding any of the casefolded ``wanted`` names in running text (None: no names),
    the same names as plain lower-case alternatives (None when a name is not case-safe), and
    the :func:`_anchors` of the names (None when not case-safe, or too many)."""
    if not wanted:
        return None, None, None
    names = sorted(wanted, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w'\u2019-])(?:"
        + "|".join(re.escape(w) for w in names)
        + r")(?![\w-])",
        re.IGNORECASE,
    )
    safe = all(n == n.lower() and _case_safe(n) for n in names)
    if not safe:
        return pattern, None, None
    return pattern, re.compile(_trie(names)), _anchors(names)


_ANCHORS_MAX = 48  # a str.find a name beats the trie's one pass up to about 72 names (datelines bench pages)


def _anchors(names: Iterable[str]) -> tuple[tuple[str, tuple[int, ...]], ...] | None:
    """Pieces of the names to look for with ``str.find``, each with where it starts in the names it stands for.

    A name is its own piece unless a shorter name's piece is in it (``haag``
    stands for ``den haag`` too, at 4). A match of a name at ``s`` in the
    lower-cased text holds its piece at ``s + offset``: the places found,
    less the offsets, hold every match. None: too many pieces for a
    ``str.find`` each to pay.
    """
    found: dict[str, set[int]] = {}
    for name in sorted(names, key=lambda n: (len(n), n)):
        for key, offsets in found.items():
            at = name.find(key)
            if at >= 0:
                offsets.add(at)
                break
        else:
            if len(found) == _ANCHORS_MAX:
                return None
            found[name] = {0}
    return tuple((key, tuple(sorted(offsets))) for key, offsets in sorted(found.items()))


def _trie(words: Iterable[str]) -> str:
    """A pattern matching any of ``words`` where one of them starts, with shared beginnings taken once.

    ``(?:den\\ haag|den\\ helder)`` becomes ``den\\ h(?:aag|elder)``: the regex
    engine tries one branch per character instead of one per word.
    """
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


def count_forms(patterns: tuple, text: str, forms: Counter,
                low: str | None = None) -> None:
    """Count in ``forms`` each match of the :func:`forms_patterns` in ``text`` that is not all upper case.

    The matches are those of ``pattern.finditer(text)``. For a text of
    case-safe characters (nearly every Dutch text) the names are looked for in
    ``text.lower()`` with the plain pattern, which the regex engine skips
    through quickly, and ``pattern`` itself is tried only where a name
    starts: a match there is the one ``finditer`` finds, as both see the
    same case. With few names (:func:`_anchors`) the places where one may
    start are found with one ``str.find`` pass of the lower-cased text per
    name instead, far quicker than the regex engine's pass over every
    character. ``low``: ``text.lower()``, when the caller has it.
    """
    pattern, fast = patterns[0], patterns[1]
    anchors = patterns[2] if len(patterns) > 2 else None
    if pattern is None:
        return
    if fast is None or len(text) > _LOWER_MAX or not _case_safe(text):
        matches = pattern.finditer(text)
    elif anchors is not None:
        matches = _matches_at_anchors(pattern, anchors, text, low)
    else:
        matches = _matches_at_names(pattern, fast, text, low)
    found = Counter(m.group(0) for m in matches)
    for form, n in found.items():  # each form checked once, however often it occurs
        letters = [c for c in form if c.isalpha()]
        if letters and not all(c.isupper() for c in letters):
            forms[form] += n


def _matches_at_anchors(pattern: re.Pattern, anchors: tuple, text: str, low: str | None = None) -> list[re.Match]:
    if low is None:
        low = text.lower()
    starts: list[int] = []
    add = starts.append
    find = low.find
    for key, offsets in anchors:
        i = find(key)
        if i < 0:
            continue
        if len(offsets) == 1:  # (0,): the key is a name, in no longer name
            while i >= 0:
                add(i)
                i = find(key, i + 1)
        else:
            while i >= 0:
                starts.extend([i - o for o in offsets])
                i = find(key, i + 1)
    if not starts:
        return []
    if len(starts) > 1:
        starts.sort()
    out = []
    end = 0
    match = pattern.match
    for s in starts:
        if s >= end:  # as finditer: the next match starts where the last ended, or later
            m = match(text, s)
            if m is not None:
                out.append(m)
                end = m.end()
    return out


def _matches_at_names(pattern: re.Pattern, fast: re.Pattern, text: str, low: str | None = None) -> Iterator[re.Match]:
    if low is None:
        low = text.lower()  # as long as text: no character below U+0250 but U+0130 grows
    pos = 0
    while True:
        hit = fast.search(low, pos)
        if hit is None:
            return
        m = pattern.match(text, hit.start())
        if m is None:
            pos = hit.start() + 1
        else:
            yield m
            pos = max(m.end(), hit.start() + 1)


def title_case_place(place: str) -> str:
    """A readable form of an upper-case place: ``'S-HERTOGENBOSCH`` -> ``'s-Hertogenbosch``."""
    words = place.lower().split(" ")
    out = []
    for i, word in enumerate(words):
        parts = word.split("-")
        new_parts = []
        for j, part in enumerate(parts):
            if part in ("'s", "\u2019s", "'t", "\u2019t"):
                new_parts.append(part)  # 's-Hertogenbosch, 't Zand
            elif (i > 0 or j > 0) and part in _LOWER_PARTICLES and j == 0 and len(parts) == 1:
                new_parts.append(part)
            else:
                new_parts.append(_capitalise(part))
        out.append("-".join(new_parts))
    return " ".join(out)


def _capitalise(word: str) -> str:
    m = re.match(r"^([^\W\d_])(['\u2019])([^\W\d_].*)$", word)
    if m:  # N'Djamena, O'Hare
        return m.group(1).upper() + m.group(2) + _capitalise(m.group(3))
    for k, ch in enumerate(word):
        if ch.isalpha():
            return word[:k] + ch.upper() + word[k + 1:]
    return word


class PlaceNamer:
    """Chooses the readable form of dateline places for one corpus.

    The casing the corpus itself uses for a name in running text wins (most
    frequent mixed-case occurrence); otherwise :func:`title_case_place`.
    """

    def __init__(self) -> None:
        self._seen: dict[str, Counter[str]] = {}

    def learn(self, names: Iterable[str], texts: Iterable[str]) -> None:
        wanted = {n.casefold() for n in names if n}
        wanted -= set(self._seen)
        if not wanted:
            return
        for key in wanted:
            self._seen[key] = Counter()
        patterns = forms_patterns(frozenset(wanted))
        forms: Counter[str] = Counter()
        for text in texts:
            count_forms(patterns, text, forms)
        self.add_forms(forms)

    def add_forms(self, forms: Iterable[tuple[str, int]] | Counter) -> None:
        """Add counts of running-text forms (from :func:`count_forms`) of names being learnt."""
        items = forms.items() if isinstance(forms, dict) else forms
        for form, n in items:
            self._seen[form.casefold()][form] += n

    def expect(self, names: Iterable[str]) -> None:
        """Start learning these casefolded names (their forms come through :meth:`add_forms`)."""
        for key in names:
            self._seen.setdefault(key, Counter())

    def name(self, place: str) -> str:
        forms = self._seen.get(place.casefold())
        if forms:
            return sorted(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        return title_case_place(place)
