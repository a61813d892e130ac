"""Matching: the exact hits of a query (or a regular expression) in a story's text.

Text and query are folded (:func:`analysis.search.fold.fold`), so matching
ignores case and diacritics and every offset is an offset into the text. The
index only finds candidate stories; the hits are always found here.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from bisect import bisect_right
from itertools import accumulate
from typing import Iterable, Iterator, Sequence

from ..errors import QueryError
from ..filters import StoryFilter, stories_mentioning
from ..textnorm import nfc
from .fold import _FOLD, _NON_ASCII, _fold_match, fold
from .query import _SEP_CLASS, _TOKEN_CLASS, And, Node, Or, Term, chain, fts_expression, parse_query
from .records import Filters, Match, Span, StoryRec

def _term_regex(tokens: Sequence[str], prefix: bool, flags: int = 0) -> re.Pattern:
    """The term's tokens in a row, ending a token; the start is checked by :func:`_find`.

    A pattern that opens with a literal lets ``re`` skip ahead fast; a
    look-behind at its start would make it try every position.
    """
    body = (_SEP_CLASS + "+").join(re.escape(t) for t in tokens)
    tail = _TOKEN_CLASS + "*" if prefix else ""
    return re.compile(f"{body}{tail}(?!{_TOKEN_CLASS})", flags)


def _find(pattern: re.Pattern, text: str, ends: Sequence[int] | None = None) -> list[tuple[int, int]]:
    """Every match of ``pattern`` that starts a token (not preceded by a letter or digit).

    With ``ends``, ``text`` is several texts joined by a separator and ``ends``
    says where each one ends (ascending; the separator's offset): a match that
    runs past its own text's end is no match.
    """
    out = []
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return out
        s = m.start()
        if (s and text[s - 1].isalnum()) or (ends is not None and m.end() > ends[bisect_right(ends, s)]):
            pos = s + 1
            continue
        out.append((s, m.end()))
        pos = m.end()


JOIN = "\x00"  # joins the texts given to Matcher.joined_spans

# -- folding to bytes: one byte a character, for many texts at once -------------------------
#
# Matcher.joined_spans folds a chunk of texts by encoding it as ASCII with an error
# handler that gives each other character one byte: its folding when that is ASCII,
# else 0x80 when the folding is a letter or digit and 0x81 when it is not. Then
# bytes.lower() folds the ASCII letters. A term whose folded tokens are ASCII is
# found in those bytes at the offsets it has in the folded text, with the letters
# and digits of a token spelled [a-z0-9\x80].

_TOKEN_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789\x80")
_TOKEN_BYTE_CLASS = "[a-z0-9\\x80]"
_SEP_BYTE_CLASS = "[^a-z0-9\\x80]"
_FOLD_BYTE: dict[str, bytes] = {}
_FOLD_ERRORS = "newsctl-fold-byte"


class _NoByte(Exception):
    """A character folded one way alone and another within a text (see :func:`_fold_byte`)."""


def _fold_byte(ch: str) -> bytes:
    """The byte of a character other than ASCII; raises :class:`_NoByte` for one that may not be NFC.

    A text whose characters all have a byte is NFC: none is a mark, a
    Hangul jamo or a character that is not NFC on its own, so the quick check
    says yes for every one.
    """
    if (unicodedata.category(ch) in ("Mn", "Mc", "Me") or 0x1100 <= ord(ch) <= 0x11FF
            or not unicodedata.is_normalized("NFC", ch)):
        raise _NoByte(ch)  # NFC may compose it with what comes before: spans() maps the offsets back
    f = fold(ch)
    if len(f) != 1 or chr(_FOLD[ord(ch)]) != f:
        # fold() of a text with a character whose lower case is longer goes another way
        # (_FOLD alone): only a character on which both ways agree has one byte.
        raise _NoByte(ch)
    if f.isascii():
        return f.encode("ascii")
    return b"\x80" if f.isalnum() else b"\x81"


# Latin-1 characters are encoded as themselves and folded by a table afterwards (the
# error handler then runs only for the rarer characters beyond U+00FF); for those the
# handler gives a Latin-1 byte that the table maps to the right byte: the folding when
# it is ASCII, else 0xAA (ª, a letter) or 0x81 (a control character).
_LATIN1_STANDS_FOR = {b"\x80": b"\xaa", b"\x81": b"\x81"}


def _latin1_table() -> bytes | None:
    """bytes.translate's table: a Latin-1 byte -> its folded byte; None when a Latin-1 character has none."""
    out = bytearray()
    try:
        for b in range(256):
            out += _fold_byte(chr(b)) if b >= 0x80 else bytes([b]).lower()
    except _NoByte:
        return None
    if any(bytes([out[b[0]]]) != folded for folded, b in _LATIN1_STANDS_FOR.items()):
        return None
    return bytes(out)


_LATIN1 = _latin1_table()


def _fold_bytes_errors(exc: UnicodeEncodeError) -> tuple[bytes, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start:exc.end]:
        b = _FOLD_BYTE.get(ch)
        if b is None:
            b = _FOLD_BYTE[ch] = _fold_byte(ch)
        out.append(_LATIN1_STANDS_FOR.get(b, b) if exc.encoding == "latin-1" else b)
    return b"".join(out), exc.end


codecs.register_error(_FOLD_ERRORS, _fold_bytes_errors)


def _fold_bytes(text: str) -> bytes | None:
    """``text`` folded, one byte a character (see above), or None where that cannot be done."""
    try:
        if _LATIN1 is not None:
            return text.encode("latin-1", _FOLD_ERRORS).translate(_LATIN1)
        return text.encode("ascii", _FOLD_ERRORS).lower()
    except _NoByte:
        return None


def _find_within_bytes(pattern: re.Pattern, text: bytes, ends: Sequence[int]) -> list[tuple[int, int]]:
    """:func:`_find` with ``ends`` over folded bytes (a token byte before a match: not a token start)."""
    out = []
    pos = 0
    token = _TOKEN_BYTES
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return out
        s = m.start()
        if (s and text[s - 1] in token) or m.end() > ends[bisect_right(ends, s)]:
            pos = s + 1
            continue
        out.append((s, m.end()))
        pos = m.end()


def _split_spans(pattern: re.Pattern, text: bytes) -> list[tuple[int, int]]:
    """The spans of ``pattern`` (one group: the whole match) in ``text``, from ``re.split``'s pieces.

    No match object is made for a hit: the pieces' lengths, added up, are
    where each match starts and ends.
    """
    pieces = pattern.split(text)
    if len(pieces) == 1:
        return []
    ends = list(accumulate(map(len, pieces)))
    return list(zip(ends[0::2], ends[1::2]))


_TOKEN_TABLE = bytes(b in _TOKEN_BYTES for b in range(256))  # byte -> 1 where it is a token byte


def _token_spans(token: bytes, text: bytes) -> list[tuple[int, int]]:
    """:func:`_split_spans` for a one-token term that is no prefix: each ``token`` in ``text`` that is a whole token.

    Found with ``bytes.find``, faster than the pattern where hits are few
    next to the text (a longer word: ``joined_spans`` leaves short ones to it). After an occurrence that is not a whole token the
    search goes on at its end: one that starts inside it comes after a
    token byte (``token`` is token bytes only), so is none either.
    """
    out = []
    add = out.append
    find = text.find
    tok = _TOKEN_TABLE
    n = len(token)
    last = len(text) - 1
    pos = find(token)
    while pos >= 0:
        end = pos + n
        if (not pos or not tok[text[pos - 1]]) and (end > last or not tok[text[end]]):
            add((pos, end))
        pos = find(token, end)
    return out


class Matcher:
    """Finds the hits of a query (or a regular expression) in one story's text.

    :meth:`spans` returns the ``(start, end)`` offsets of every hit in the
    text, or None when the story does not match. An empty query matches every
    story with one empty hit at its start.
    """

    def __init__(self, query: str = "", *, regex: str | None = None, case_sensitive: bool = False) -> None:
        self.case_sensitive = case_sensitive
        self.regex: re.Pattern | None = None
        self.node: Node | None = None
        if regex is not None:
            try:
                self.regex = re.compile(regex, 0 if case_sensitive else re.IGNORECASE)
            except (re.error, OverflowError, RecursionError) as exc:  # x{99999999999}: OverflowError
                raise QueryError(f"invalid regular expression {regex!r}: {exc}") from None
        else:
            self.node = parse_query(query)
        self._patterns: dict = {}  # Term -> its pattern over folded text; ("bytes", Term) -> _bytes_pattern

    @property
    def fts(self) -> str | None:
        """The MATCH expression for the index; None when every story is a candidate."""
        if self.node is None:
            return None
        return fts_expression(self.node, with_not=not self.case_sensitive)

    @property
    def index_is_exact(self) -> bool:
        """Whether the stories the index finds (:attr:`fts`) are exactly the stories that match.

        The index's bodies are tokenised by the rule of the query and of
        :meth:`spans` (:func:`analysis.search.index.fts_body`), so for a query
        that ignores case they agree; a regular expression and a case-sensitive
        query are checked on the text.
        """
        return self.regex is None and (self.node is None or not self.case_sensitive)

    def spans(self, text: str) -> list[Span] | None:
        if self.node is None and self.regex is None:
            return [(0, 0)]
        norm, back = nfc(text)  # NFD and NFC spellings match alike; offsets stay in `text`
        if self.regex is not None:
            found = [m.span() for m in self.regex.finditer(norm)]
        else:
            found = self._eval(self.node, norm if self.case_sensitive else fold(norm))
        if not found:
            return None
        if back is not None:
            found = [(back.start(s), back.end(e)) for s, e in found]
        return sorted(set(found)) if self.regex is None else found

    def joined_spans(self, joined: str, ends: Sequence[int]) -> list[Span] | None:
        """The hits of many texts at once, or None where only :meth:`spans` (text by text) can say.

        ``joined``: the texts joined by :data:`JOIN`; ``ends``: the offset where
        each text ends (its separator, or the end of ``joined``). The hits are
        those :meth:`spans` finds in each text, as offsets into ``joined``, in
        order. Only a one-term query that ignores case (a word, a phrase or a
        prefix) over NFC text is answered: folding is one character for one
        and no character's folding looks at its neighbours (:func:`fold`), and
        the separator is neither a letter nor a digit, so it ends a token as
        the end of a text does. None for anything else (and then the caller
        asks :meth:`spans` story by story). A term whose folded tokens are
        ASCII is found in the text folded to one byte a character
        (:func:`_fold_bytes`, fast); others in the folded text.
        """
        node = self.node
        if not isinstance(node, Term) or self.case_sensitive or self.regex is not None:
            return None
        pattern = self._bytes_pattern(node)
        if pattern is not None:
            folded = _fold_bytes(joined)  # None also for text that may not be NFC
            if folded is not None:
                if len(node.tokens) > 1:
                    return _find_within_bytes(pattern, folded, ends)
                token = node.folded[0].encode("ascii")
                if not node.prefix and len(token) >= 5 and all(_TOKEN_TABLE[b] for b in token):  # short: many hits
                    return _token_spans(token, folded)
                return _split_spans(self._split_pattern(node), folded)
        if joined.isascii():
            folded = joined.lower()
        else:
            if not unicodedata.is_normalized("NFC", joined):
                return None  # NFD text: offsets need the map back (spans does it)
            folded = _NON_ASCII.sub(_fold_match, joined).lower()
            if len(folded) != len(joined):
                return None  # a character whose lower case is longer: fold() goes another way
        return self._find_joined(self._pattern(node), node, folded, ends)

    @staticmethod
    def _find_joined(pattern: re.Pattern, node: Term, text: str, ends: Sequence[int]) -> list[Span]:
        if len(node.tokens) > 1:  # a phrase: a match may run over a separator into the next text
            return _find(pattern, text, ends)
        # One token: a match lies within one token, so no match starts inside a match
        # that was refused for starting inside a word, and none can cross a separator.
        return [(s, e) for s, e in map(re.Match.span, pattern.finditer(text))
                if not (s and text[s - 1].isalnum())]

    def _bytes_pattern(self, term: Term) -> re.Pattern | None:
        """The term's pattern over folded bytes (:func:`_fold_bytes`); None when a folded token is not ASCII."""
        key = ("bytes", term)
        if key not in self._patterns:
            pattern = None
            if all(t.isascii() for t in term.folded):
                body = (_SEP_BYTE_CLASS + "+").join(re.escape(t) for t in term.folded)
                tail = _TOKEN_BYTE_CLASS + "*" if term.prefix else ""
                pattern = re.compile(f"{body}{tail}(?!{_TOKEN_BYTE_CLASS})".encode("ascii"))
            self._patterns[key] = pattern
        return self._patterns[key]

    def _split_pattern(self, term: Term) -> re.Pattern:
        """A one-token term's pattern over folded bytes that checks the token's start too, as one group.

        The look-behind comes after the token's letters (``re`` still skips
        ahead to the literal fast) and looks past them at the byte before.
        """
        key = ("split", term)
        pattern = self._patterns.get(key)
        if pattern is None:
            token = term.folded[0].encode("ascii")
            tail = _TOKEN_BYTE_CLASS.encode() + b"*" if term.prefix else b""
            pattern = self._patterns[key] = re.compile(
                b"(" + re.escape(token) + b"(?<!" + _TOKEN_BYTE_CLASS.encode() + b"[\\x00-\\xff]{%d})" % len(token)
                + tail + b"(?!" + _TOKEN_BYTE_CLASS.encode() + b"))")
        return pattern

    def _pattern(self, term: Term) -> re.Pattern:
        p = self._patterns.get(term)
        if p is None:
            tokens = term.tokens if self.case_sensitive else term.folded
            p = self._patterns[term] = _term_regex(tokens, term.prefix)
        return p

    def _eval(self, node: Node, text: str) -> list[Span] | None:
        if isinstance(node, Term):
            return _find(self._pattern(node), text) or None
        parts = chain(node)  # a run of one operator, without recursing into it (thousands of terms)
        if isinstance(node, Or):
            found = [self._eval(p, text) for p in parts]
            if all(f is None for f in found):
                return None
            return [span for f in found if f for span in f]
        left = self._eval(parts[0], text)
        if left is None:
            return None
        if isinstance(node, And):
            for p in parts[1:]:
                right = self._eval(p, text)
                if right is None:
                    return None
                left = left + right
            return left
        for p in parts[1:]:  # Not: the first, and none of the others
            if self._eval(p, text) is not None:
                return None
        return left


def search_corpus(corpus, matcher: Matcher, filters: Filters = Filters()) -> Iterator[Match]:
    """Search a corpus read into memory (``analysis.corpus.Corpus``): no index."""
    for doc, s in corpus.stories():
        raw = s.dateline.places_raw if s.dateline else ()
        rec = StoryRec(s.id, doc.path, s.index, s.kind, s.section, s.start, s.end, s.headline,
                       tuple(raw) + tuple(s.places), tuple(s.agencies), doc.text[s.start:s.end])
        if not filters.admits(rec):
            continue
        spans = matcher.spans(rec.text)
        if spans is not None:
            yield Match(rec, spans)


def entity_story_keys(annotated, labels_of: dict[str, str], *, entity: str | None = None,
                      labels: Iterable[str] | None = None) -> frozenset[tuple[str, int]]:
    """``(file, story index)`` of the stories that mention the entity / a label.

    ``entity`` is matched as every ``--entity`` option matches
    (:func:`analysis.entities.entities_named`): ``Poetin`` selects the entity
    ``Vladimir Poetin`` and with it every story mentioning him in any form.
    ``labels`` keeps entities whose label is one of them.
    """
    filt = StoryFilter(entity=(entity,) if entity else (), label=tuple(labels or ()))
    if not filt.needs_entities:
        return frozenset((m.file, m.story) for m in annotated.mentions())
    return stories_mentioning(annotated, labels_of, filt)
