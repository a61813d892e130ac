"""Unicode normalisation (NFC) that keeps offsets pointing into the text as read.

The same word can be stored two ways: ``Oekraïne`` with one code point for
``ï`` (NFC, what keyboards type) or with ``i`` and a combining diaeresis
(NFD, what some Mac software writes). Everywhere newsctl compares, tokenises
or indexes text it uses the NFC form, and maps what it finds there back to
offsets in the file text (:class:`OffsetMap`), so offsets keep their one
meaning: code points of the file as read (:mod:`analysis.reader`).

Text that is already NFC, as nearly all text is, comes back as it is, with
no map: one quick check is the whole cost.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

from xxhash import xxh3_64_intdigest as key_digest  # XXH3, 64 bits: about 7x quicker than BLAKE2b here

__all__ = ["LATIN1_KEY", "OffsetMap", "key_digest", "lower", "lower_keyed", "nfc", "nfc_text", "story_digest"]


# Every Latin-1 character lower-cases to one Latin-1 character: a byte table does it.
_LATIN1_LOWER = bytes(ord(chr(c).lower()) for c in range(256))


def lower(text: str) -> str:
    """``text.lower()``, several times quicker for text in Latin-1 (nearly every Dutch page).

    ``str.lower`` looks each character up in the Unicode tables once the text
    is not ASCII; Latin-1 text goes through one 256-byte table in C instead.
    """
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        return text.lower()
    return data.translate(_LATIN1_LOWER).decode("latin-1")


def lower_keyed(text: str) -> tuple[bytes | None, bool]:
    """The page in Latin-1, lower-cased, each white-space character a space; and whether it gives the stories' keys.

    None for a page beyond Latin-1. Otherwise, where the page's case fold
    is its lower case (all but pages with ``ß`` or ``µ``: True), a stretch
    of these bytes with its spaces collapsed (``b" ".join(piece.split())``)
    is the key of :func:`story_digest` of that stretch of the text in
    Latin-1, and :func:`key_digest` of it its digest: no copy of the text,
    case fold or encoding a story. The place names are searched in the same
    bytes (:func:`analysis.datelines.count_forms`, the names' own bytes
    through :data:`LATIN1_KEY` too).
    """
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        return None, False
    return data.translate(LATIN1_KEY), b"\xdf" not in data and b"\xb5" not in data


# Each Latin-1 character lower-cased (one character each) and each of the 12 that str.split() splits on
# a space, the one white space bytes.split() and str.split() agree on.
LATIN1_KEY = bytes(32 if chr(c).isspace() else ord(chr(c).lower()) for c in range(256))


def story_digest(text: str) -> int:
    """8 bytes of the story text's hash, case and spacing ignored (the duplicate key), as a number.

    The key is ``" ".join(text.casefold().split())``; :func:`key_digest`
    hashes it (the datelines scan takes it from :func:`lower_keyed`'s bytes
    where it can).
    """
    if "\n" in text:
        text = text.replace("\n", " ")  # a lead's paragraphs: split() treats the two alike
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        # One space between words already (printable text has no other
        # white space), as ``" ".join(text.split())`` would leave it; the
        # case fold adds no white space.
        key = text.casefold()
    else:
        key = " ".join(text.casefold().split())
    try:
        return key_digest(key.encode("latin-1"))
    except UnicodeEncodeError:
        return key_digest(key.encode("utf-8"), 1)  # its own seed: no key is hashed as another's bytes


def nfc_text(text: str) -> str:
    """``text`` in NFC (for names and short strings, where no offsets are kept)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


class OffsetMap:
    """Offsets in the NFC text -> offsets in the original text.

    Kept as the stretches that normalisation changed, each ``(nfc start, nfc
    length, original start, original length)``; between them the two texts
    are the same, shifted. An offset inside a changed stretch (between two
    code points that came from one composed cluster) maps to the stretch's
    start with :meth:`start` and to its end with :meth:`end`, so a span
    always covers whole characters of the original.
    """

    __slots__ = ("_starts", "_pieces")

    def __init__(self, pieces: list[tuple[int, int, int, int]]) -> None:
        self._pieces = pieces
        self._starts = [p[0] for p in pieces]

    def _map(self, i: int, end: bool) -> int:
        k = bisect.bisect_right(self._starts, i) - 1
        if k < 0:
            return i
        ns, nl, os_, ol = self._pieces[k]
        if i >= ns + nl:
            return os_ + ol + (i - ns - nl)
        if i == ns:
            return os_
        return os_ + ol if end else os_

    def start(self, i: int) -> int:
        """The original offset for a span starting at NFC offset ``i``."""
        return self._map(i, False)

    def end(self, i: int) -> int:
        """The original offset for a span ending at NFC offset ``i``."""
        return self._map(i, True)


# ASCII characters never combine with what precedes them, so NFC works on the
# non-ASCII runs alone, each with the ASCII character before it (``e`` + U+0301).
_RUN = re.compile(r"[\x00-\x7f]?[^\x00-\x7f]+")


def nfc(text: str) -> tuple[str, OffsetMap | None]:
    """``(text in NFC, map back to offsets in text)``; ``(text, None)`` when it is NFC already."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text, None
    out: list[str] = []
    pieces: list[tuple[int, int, int, int]] = []
    done = 0  # original text copied up to here
    shift = 0  # NFC offset minus original offset at `done`
    for m in _RUN.finditer(text):
        run = m.group()
        if unicodedata.is_normalized("NFC", run):
            continue
        start = m.start()
        out.append(text[done:start])
        for offset, original, normal in _clusters(run):
            if original != normal:
                pieces.append((start + offset + shift, len(normal), start + offset, len(original)))
                shift += len(normal) - len(original)
        out.append(unicodedata.normalize("NFC", run))
        done = m.end()
    out.append(text[done:])
    return "".join(out), OffsetMap(pieces)


def _clusters(run: str) -> list[tuple[int, str, str]]:
    """``(offset, original, NFC)`` per cluster of ``run``: a character and the combining marks after it.

    Used only when normalising cluster by cluster gives the same text as
    normalising the run; otherwise (Hangul jamo, some Indic vowel signs
    combine across clusters) the run is one cluster.
    """
    bounds = [k for k, ch in enumerate(run) if k == 0 or not unicodedata.combining(ch)]
    bounds.append(len(run))
    parts = [(s, run[s:e]) for s, e in zip(bounds, bounds[1:])]
    out = [(s, part, unicodedata.normalize("NFC", part)) for s, part in parts]
    if "".join(n for _, _, n in out) != unicodedata.normalize("NFC", run):
        return [(0, run, unicodedata.normalize("NFC", run))]
    return out
