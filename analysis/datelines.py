"""Datelines: ``ALMATY (ANP/RTR) - `` at the start of a story.

A dateline is an upper-case place part (one or more places joined by ``/``),
a parenthesised agency part (upper-case codes joined by ``/``) and a hyphen,
en dash or em dash. Only text at the very start of a story is tried, and the
place part must be entirely upper case, so mid-sentence look-alikes such as
``de VN (OCHA) - het bureau`` are never datelines.

Two spellings that other wire copy uses are read too: an agency written as a
name (``Reuters``, ``Bloomberg News``) stands for its code (``RTR``,
``BLOOMBERG``), and when every agency is a known one the places may be
written in title case (``Den Haag (ANP) - ``, ``'s-Hertogenbosch/Tilburg
(ANP/Belga) - ``). A name that is not a known agency (``(VVD)``,
``(Oekraïne)``) makes no dateline.
"""

from __future__ import annotations

import operator
import re
import sys
from collections import Counter
from functools import lru_cache
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from .textnorm import lower

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
# Agencies written as names (case-folded) -> their code. A code itself in any case
# (``Belga``, ``Tass``) is looked up in AGENCIES.
AGENCY_NAMES = {
    "reuters": "RTR",
    "bloomberg news": "BLOOMBERG",
    "associated press": "AP",
    "agence france-presse": "AFP",
    "agence france presse": "AFP",
    "deutsche presse-agentur": "DPA",
    "deutsche presse agentur": "DPA",
    "pa media": "PA",
    "united press international": "UPI",
}


def agency_code(name: str) -> str | None:
    """The code of a known agency written as a code or a name in any case (``Reuters`` -> ``RTR``); else None."""
    folded = " ".join(name.split()).casefold()
    code = AGENCY_NAMES.get(folded) or folded.upper()
    return code if code in AGENCIES else None

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
    # This runs at every item start of every digest: the first character checked here, the rest in C (_SHAPE).
    n = len(text)
    if pos >= n:
        return None
    c = text[pos]
    if c.isspace() or c in "()/" or c.islower():
        return None
    m = _SHAPE.match(text, pos)
    if m is None:
        return None
    end = m.end()
    if end > pos + _DATELINE_MAX:
        return None
    raw = text[pos: end]
    parsed = _PARSED.get(raw)
    if parsed is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        opening = raw.find("(")
        parsed = _PARSED[raw] = _parse_parts(raw, opening, raw.find(")", opening + 1))
    if not parsed:
        return None
    return parsed, end


# The shape of a dateline within one line and _DATELINE_MAX characters, in one call in C: the
# places up to the first "(" (at most 169 characters), the agencies up to the first ")" after it
# (at most 60), blanks, a dash. The first "(" and ")" and the dash are those a walk with str.find
# finds: neither part can hold the character that ends it.
_DATELINE_MAX = 170
_SHAPE = re.compile("[^\\n(]{0,%d}\\([^\\n)]{0,60}\\)[ \\t]*[%s]" % (_DATELINE_MAX - 1, _DASHES))
# A corpus repeats a few hundred datelines: each distinct one is checked once.
_PARSED: dict[str, tuple | bool] = {}
_PARSED_MAX = 8192


def _parse_parts(raw: str, opening: int, closing: int) -> tuple | bool:
    """The checked parts of dateline ``raw`` (``(`` and ``)`` at these offsets), offsets relative; False if none."""
    places_part = raw[:opening].rstrip(" \t")
    printed = [a.strip() for a in raw[opening + 1: closing].split("/")]
    if not places_part or len(places_part) > 100 or ")" in places_part:
        return False
    agencies = []
    known = True  # every agency a known one: the places may be in title case
    for a in printed:
        code = agency_code(a)
        if code is None:
            if not _AGENCY_RE.match(a):
                return False  # a name that is no agency: "(VVD)", "(Oekraïne)"
            known = False
            code = a  # an upper-case code of its own, kept as printed
        agencies.append(code)
    places: list[str] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    for piece in places_part.split("/"):
        stripped = piece.strip()
        lead = len(piece) - len(piece.lstrip())
        if not stripped or not (_is_upper_place(stripped) or known and _is_title_place(stripped)):
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


def _is_title_place(place: str) -> bool:
    """``Den Haag``, ``'s-Hertogenbosch``, ``Frankfurt am Main``, ``Sint-Niklaas``: each word capitalised
    or a particle, at most four words, the first one capitalised; a dot only after a short word (``St.``)."""
    if not _place_shaped(place):
        return False
    words = place.split(" ")
    if len(words) > 4 or "" in words:
        return False
    for i, word in enumerate(words):
        if "." in word[:-1] or word[-1] == "." and len(word) > 4:
            return False  # a sentence before the place ("Tekst. Almaty"); "St. Louis" is one
        head = word
        if word[:1] in "'\u2019" and word[1:2].lower() in ("s", "t"):
            head = word[2:].lstrip("-")  # 's-Hertogenbosch
            if not head:
                if i == len(words) - 1:
                    return False
                continue  # 's Gravenhage: the particle alone
        first = next((c for c in head if c.isalpha()), "")
        if first.isupper():
            continue
        if i == 0 or word not in _LOWER_PARTICLES:
            return False
    return True


def _place_shaped(place: str) -> bool:
    """Letters, spaces, dots, apostrophes and hyphens, starting with a letter or an apostrophe."""
    return bool(_PLACE_CHARS.match(place) or place[0] in "'\u2019" and _PLACE_CHARS.match(place[1:] or "x"))


def _is_upper_place(place: str) -> bool:
    if not _place_shaped(place):
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
    """How :func:`count_forms` finds the casefolded ``wanted`` names in running text.

    ``(pattern, True, anchors, index, odd, finder)``: the pattern finding
    any of the names (None: no names); the case-safe names' :func:`_anchors`
    (None when there are too many) or else their :func:`_word_index`; a
    pattern finding where any other name starts (``ĐẮK LẮK``: its case is
    not the lower-cased text's; None when there is none); and the case-safe
    names' :func:`_finder` (None without ahocorasick_rs), which stands in
    for the anchors and the word index. A text is searched lower-cased for
    the case-safe names, and with ``odd`` for the others. A seventh item,
    the others' :func:`_odd_keys`, spares the texts that cannot hold any of
    them (nearly all) the ``odd`` pass over every position.
    """
    if not wanted:
        return None, None, None, None, None, None, None
    names = sorted(wanted, key=len, reverse=True)
    pattern = re.compile(_alternatives(names), re.IGNORECASE)
    plain = [n for n in names if n == n.lower() and _case_safe(n)]
    safe = set(plain)
    others = [n for n in names if n not in safe]  # (a set made once: one a name was quadratic)
    # Every place where one of the others matches, overlapping ones too: the pattern is tried at each.
    odd = re.compile(f"(?={_alternatives(others)})", re.IGNORECASE) if others else None
    anchors = _anchors(plain)
    return (pattern, True, anchors, _word_index(plain) if anchors is None else None, odd, _finder(plain),
            _odd_keys(others))


_NARROW = (range(0x100), range(0x2000, 0x2070), range(0x20A0, 0x20D0))  # the characters _WIDE leaves out


def _odd_keys(names: list[str]) -> tuple[tuple[str, ...], ...] | None:
    """For each name, its characters that IGNORECASE matches with no character outside :data:`_WIDE`.

    ``ḩā'il``: ``ḩ`` and ``ā``. Such a name can match in a text only if the
    text's :data:`_WIDE` characters match each of them; a text with none
    (Latin-1 and punctuation: nearly every text) cannot hold it. None when
    some name has no such character (it is looked for in every text).
    """
    out = []
    for name in names:
        keys = tuple(c for c in dict.fromkeys(name) if not _narrow_variant(c))
        if not keys:
            return None
        out.append(keys)
    return tuple(out) or None


@lru_cache(maxsize=4096)
def _narrow_variant(c: str) -> bool:
    """Whether the regex engine's IGNORECASE matches ``c`` with a character that :data:`_WIDE` leaves out."""
    pattern = re.compile(re.escape(c), re.IGNORECASE)
    return any(pattern.fullmatch(chr(i)) for r in _NARROW for i in r)


@lru_cache(maxsize=65536)
def _variant(c: str, x: str) -> bool:
    return re.fullmatch(re.escape(c), x, re.IGNORECASE) is not None


def _may_hold(keys: tuple[tuple[str, ...], ...], text: str) -> bool:
    """Whether ``text`` may hold a name of :func:`_odd_keys`: its wide characters match each key of one."""
    try:
        text.encode("latin-1")
        return False  # no wide character at all (the common case, checked in C)
    except UnicodeEncodeError:
        pass
    wide = {m.group() for m in _WIDE.finditer(text)}
    return any(all(any(_variant(k, x) for x in wide) for k in name) for name in keys)


def _finder(names: list[str]):
    """An Aho-Corasick automaton of the case-safe lower-case ``names`` (None without ahocorasick_rs, or names).

    One pass of a text in compiled code finds every place where any name
    starts (overlapping ones included; in Latin-1 bytes, the places
    :func:`_inner_starts` adds to a leftmost-longest search's): about three times quicker than a
    ``str.find`` a name with the 16 places of a wire corpus, and as quick
    with a thousand. It lives in the process that made it (it cannot be
    pickled), as :func:`forms_patterns`' cache does.
    """
    if not names:
        return None
    try:
        from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, MatchKind
    except ImportError:  # the find-a-name and word-index paths do the same, more slowly
        return None
    from .textnorm import LATIN1_KEY

    latin = sorted({n.encode("latin-1").translate(LATIN1_KEY) for n in names if n.isascii() or max(n) <= "\xff"})
    if not latin:
        return _Finder(AhoCorasick(names), None, None)
    inner = _inner_starts(latin)
    return _Finder(AhoCorasick(names), BytesAhoCorasick(latin, matchkind=MatchKind.LeftmostLongest),
                   inner if any(inner) else None)


def _inner_starts(names: list[bytes]) -> list[tuple[int, ...]]:
    """For each name, the offsets past its start where another name (or itself) may start.

    A leftmost-longest search reports one name at a place and goes on after
    it: a name starting inside that one is not reported. Such a name holds
    the rest of the reported one from its start, or is held in it, so it can
    only start at these offsets, which :func:`_matches_found` adds to the
    places it tries. A name of :func:`_alternatives`' pattern starts after
    no word character, apostrophe or hyphen, and in a Latin-1 text a
    character is one of those when its lower case is: so only offsets after
    another character count. Most names have none.
    """
    whole = set(names)
    prefixes = {n[:k] for n in names for k in range(1, len(n) + 1)}
    return [tuple(o for o in range(1, len(n))
                  if not (chr(n[o - 1]).isalnum() or n[o - 1] in _NOT_BEFORE)
                  and (n[o:] in prefixes or any(n[o: o + k] in whole for k in range(1, len(n) - o))))
            for n in names]


_NOT_BEFORE = b"_'-"  # with the letters and digits: what no name of _alternatives' pattern follows


class _Finder(NamedTuple):
    """:func:`_finder`'s automata: of the names, and of the Latin-1 names' bytes.

    A Latin-1 text is searched as the bytes of its lower-cased text, where
    a character is a byte: about twice as quick as the text itself, which
    the automaton reads as UTF-8 and whose offsets it counts back into
    characters. No other name can be in such a text. In those bytes (those
    of :func:`analysis.textnorm.lower_keyed`) and in the names' each white
    space character is a space: a name is found wherever it is, and maybe
    in a few places more, where its pattern does not match the text.
    """
    text: object
    latin: object | None
    inner: list[tuple[int, ...]] | None  # :func:`_inner_starts` of the Latin-1 names, None where all are empty


def _alternatives(names: list[str]) -> str:
    """Any of ``names`` (longest first), standing as a word of running text."""
    return r"(?<![\w'\u2019-])(?:" + "|".join(re.escape(w) for w in names) + r")(?![\w-])"


_ANCHORS_MAX = 20  # a str.find a piece beats the word index up to about 20 pieces (datelines bench pages)


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


# Letters a-z stay, every other byte becomes a space: the words of a lower-cased text
# encoded as ASCII (every other character one "?") are its runs of a-z.
_WORD_BYTES = bytes(c if 97 <= c <= 122 else 32 for c in range(256))


def _words(lowered: str) -> list[bytes]:
    """The runs of letters a-z of a lower-cased text, as bytes (all in C: encode, translate, split)."""
    return lowered.encode("ascii", "replace").translate(_WORD_BYTES).split()


class _WordIndex(NamedTuple):
    """Which names a text may hold, from the set of its :func:`_words` (:func:`_word_index`)."""

    words: frozenset[bytes]  # every word of every name
    by_word: dict[bytes, tuple[tuple[str, frozenset[bytes]], ...]]  # a name's longest word -> (name, its words)
    always: tuple[str, ...]  # names without a word a-z: looked for in every text


def _word_index(names: Iterable[str]) -> _WordIndex:
    """The :class:`_WordIndex` of case-safe lower-case names.

    A name found in a lower-cased text (a match of :func:`forms_patterns`'
    pattern) is that text's characters exactly, with no letter, digit or
    hyphen on either side; so each of its :func:`_words` is a whole word of
    the text's words, and a name with a word the text lacks is not in it.
    The text is then searched only for the names whose words it has: one
    pass of the text in C however many names there are.
    """
    every: set[bytes] = set()
    by_word: dict[bytes, list[tuple[str, frozenset[bytes]]]] = {}
    always = []
    for name in names:
        words = _words(name)
        if not words:
            always.append(name)
            continue
        every.update(words)
        by_word.setdefault(max(words, key=len), []).append((name, frozenset(words)))
    return _WordIndex(frozenset(every), {w: tuple(v) for w, v in by_word.items()}, tuple(always))


def count_forms(patterns: tuple, text: str, forms: Counter,
                low: str | None = None, low_bytes: bytes | None = None) -> None:
    """Count in ``forms`` each match of the :func:`forms_patterns` in ``text`` that is not all upper case.

    The matches are those of ``pattern.finditer(text)``. For a text of
    case-safe characters (nearly every Dutch text) the places where a name
    may start are found in ``text.lower()`` with ``str.find``, and
    ``pattern`` itself is tried only there: a match at such a place is the
    one ``finditer`` finds, as both see the same case. With few names
    (:func:`_anchors`) every name is looked for; with more, only the names
    whose words the text has (:func:`_word_index`). Either is far quicker
    than the regex engine's pass over every character. ``low``:
    ``text.lower()``, when the caller has it; ``low_bytes``: that in
    Latin-1, each white-space character a space, when the text is Latin-1
    (:func:`analysis.textnorm.lower_keyed`).
    ``patterns[2:]`` may be left
    out (or None): the plain ``finditer``. With a finder (ahocorasick_rs)
    the places are found by it, in one pass for all the names.
    """
    pattern, safe = patterns[0], patterns[1]
    anchors, index, odd, finder, odd_keys = (*patterns[2:], None, None, None, None, None)[:5]
    if pattern is None:
        return
    if not safe or (anchors is None and index is None) or len(text) > _LOWER_MAX or not _case_safe(text):
        matches = pattern.finditer(text)
    else:
        if odd is not None and (odd_keys is None or _may_hold(odd_keys, text)):
            extra = [m.start() for m in odd.finditer(text)]
        else:
            extra = None
        if finder is not None:
            matches = _matches_found(pattern, finder, text, low, extra, low_bytes)
        elif anchors is not None:
            matches = _matches_at_anchors(pattern, anchors, text, low, extra)
        else:
            matches = _matches_of_words(pattern, index, text, low, extra)
    found = Counter(map(_WHOLE, matches))  # each match's text
    for form, n in found.items():  # each form checked once, however often it occurs
        mixed = _MIXED.get(form)
        if mixed is None:
            if len(_MIXED) >= 65536:
                _MIXED.clear()
            letters = [c for c in form if c.isalpha()]
            mixed = _MIXED[form] = bool(letters) and not all(c.isupper() for c in letters)
        if mixed:
            forms[form] += n


_WHOLE = operator.itemgetter(0)
_MIXED: dict[str, bool] = {}  # form -> not all upper case (a corpus repeats its forms)


def _matches_at_anchors(pattern: re.Pattern, anchors: tuple, text: str, low: str | None = None,
                        extra: list[int] | None = None) -> list[re.Match]:
    """``pattern.finditer(text)``, the pattern tried only where a key of ``anchors`` or one of ``extra`` starts."""
    if low is None:
        low = lower(text)
    starts: list[int] = extra or []
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
    return _matches_at(pattern, starts, text) if starts else []


def _matches_at(pattern: re.Pattern, starts: list[int], text: str) -> list[re.Match]:
    """The matches of ``pattern.finditer(text)``, given a list holding (at least) every place one starts."""
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


def _matches_found(pattern: re.Pattern, finder: _Finder, text: str, low: str | None = None,
                   extra: list[int] | None = None, low_bytes: bytes | None = None) -> list[re.Match]:
    """:func:`_matches_at_anchors` with the places where a name starts found by a :func:`_finder`.

    ``low_bytes``: the lower-cased text in Latin-1, when it is a Latin-1 text.
    """
    if low_bytes is not None:
        if finder.latin is None:
            found = []
        else:
            # Leftmost-longest: its search skips ahead with SIMD (about 3 against 8 us a page of the
            # overlapping search); the places inside a reported name where another may start are added.
            found = finder.latin.find_matches_as_indexes(low_bytes)
            if finder.inner is not None and found:
                inner = finder.inner
                starts = [s for _, s, _ in found]
                for i, s, _ in found:
                    if inner[i]:
                        starts.extend([s + o for o in inner[i]])
                if extra:
                    starts.extend(extra)
                return _matches_at(pattern, starts, text)
    else:
        if low is None:
            low = lower(text)
        found = finder.text.find_matches_as_indexes(low, overlapping=True)  # (name, start, end), in characters
    if not found and not extra:
        return []
    starts = [s for _, s, _ in found]
    if extra:
        starts.extend(extra)
    return _matches_at(pattern, starts, text)


def _matches_of_words(pattern: re.Pattern, index: _WordIndex, text: str, low: str | None = None,
                      extra: list[int] | None = None) -> list[re.Match]:
    """:func:`_matches_at_anchors` for the names whose words the text has (:func:`_word_index`)."""
    if low is None:
        low = lower(text)
    present = index.words.intersection(_words(low))
    names = [(name, (0,)) for name in index.always]
    by_word = index.by_word
    for word in present:
        for name, words in by_word.get(word, ()):
            if words <= present:
                names.append((name, (0,)))
    return _matches_at_anchors(pattern, names, text, low, extra) if names or extra else []


def title_case_place(place: str) -> str:
    """A readable form of an upper-case place: ``'S-HERTOGENBOSCH`` -> ``'s-Hertogenbosch``.

    A name the gazetteer writes otherwise is written its way (``IJMUIDEN`` ->
    ``IJmuiden``, ``DAR ES SALAAM`` -> ``Dar es Salaam``, ``MCALLEN`` ->
    ``McAllen``: ``data/place_casing.txt``); the rest word by word.
    """
    known = _place_casing().get(place.lower())
    return known if known is not None else _title_case_words(place)


@lru_cache(maxsize=1)
def _place_casing() -> dict[str, str]:
    """Lower-cased name -> its written form, for the places whose case title case gets wrong."""
    from pathlib import Path

    try:
        text = (Path(__file__).resolve().parent / "data" / "place_casing.txt").read_text(encoding="utf-8")
    except OSError:
        return {}
    return {ln.lower(): ln for ln in text.splitlines() if ln and not ln.startswith("#")}


def _title_case_words(place: str) -> str:
    """Title case word by word, particles in lower case, Dutch IJ kept (``IJSLAND`` -> ``IJsland``)."""
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
    if "\u0130" in place:  # a dotted capital I lower-cases to i and a combining dot: İZMİR -> İzmir
        return " ".join(out).replace("I\u0307", "\u0130").replace("i\u0307", "i")
    return " ".join(out)


def _capitalise(word: str) -> str:
    m = re.match(r"^([^\W\d_])(['\u2019])([^\W\d_].*)$", word)
    if m:  # N'Djamena, O'Hare
        return m.group(1).upper() + m.group(2) + _capitalise(m.group(3))
    if word[:2] == "ij" and word[2:3].isalpha() and word[2] not in "aeiouy":
        return "IJ" + word[2:]  # the Dutch digraph: IJsselstein, IJzendijke
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
        self._odd: dict[str, str] = {}  # form -> the name it stands for, where its case fold is another

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
        seen = self._seen
        for form, n in items:
            counts = seen.get(form.casefold())
            if counts is None:
                counts = seen.get(self._name_of(form))
                if counts is None:
                    continue  # a form of no name being learnt
            counts[form] += n

    def _name_of(self, form: str) -> str | None:
        """The name a form found by :func:`count_forms` stands for, where its case fold is another.

        The regex engine's IGNORECASE matches ``i`` with dotless ``ı`` and
        ``s`` with long ``ſ``, so the text's ``Şanlıurfa`` is a form of
        ``ŞANLIURFA`` (case fold ``şanliurfa``) though it folds to ``şanlıurfa``.
        """
        if form in self._odd:
            return self._odd[form]
        name = next((key for key in sorted(self._seen) if re.fullmatch(re.escape(key), form, re.IGNORECASE)), None)
        if name is not None and len(self._odd) < 65536:  # names are only ever added: a found one stays right
            self._odd[form] = name
        return name

    def expect(self, names: Iterable[str]) -> None:
        """Start learning these casefolded names (their forms come through :meth:`add_forms`)."""
        for key in names:
            self._seen.setdefault(key, Counter())

    def name(self, place: str) -> str:
        forms = self._seen.get(place.casefold())
        if forms:
            return sorted(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        return title_case_place(place)
