"""Matching: the exact hits of a query (or a regular expression) in a story's text.

Text and query are folded (:func:`analysis.search.fold.fold`), so matching
ignores case and diacritics and every offset is an offset into the text. The
index only finds candidate stories; the hits are always found here.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from typing import Iterable, Iterator, Sequence

from ..errors import QueryError
from ..filters import StoryFilter, stories_mentioning
from ..textnorm import nfc
from .fold import _NON_ASCII, _fold_match, fold
from .query import _SEP_CLASS, _TOKEN_CLASS, And, Node, Or, Term, fts_expression, parse_query
from .records import Filters, Match, Span, StoryRec

def _term_regex(tokens: Sequence[str], prefix: bool, flags: int = 0) -> re.Pattern:
    """The term's tokens in a row, ending a token; the start is checked by :func:`_find`.

    A pattern that opens with a literal lets ``re`` skip ahead fast; a
    look-behind at its start would make it try every position.
    """
    body = (_SEP_CLASS + "+").join(re.escape(t) for t in tokens)
    tail = _TOKEN_CLASS + "*" if prefix else ""
    return re.compile(f"{body}{tail}(?!{_TOKEN_CLASS})", flags)


def _find(pattern: re.Pattern, text: str) -> list[tuple[int, int]]:
    """Every match of ``pattern`` that starts a token (not preceded by a letter or digit)."""
    out = []
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return out
        s = m.start()
        if s and text[s - 1].isalnum():
            pos = s + 1
            continue
        out.append((s, m.end()))
        pos = m.end()


def _find_within(pattern: re.Pattern, text: str, ends: Sequence[int]) -> list[tuple[int, int]]:
    """:func:`_find` over texts joined by a separator: a match that runs past its text's end is no match.

    ``ends``: where each text ends (ascending; the separator's offset).
    """
    out = []
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return out
        s = m.start()
        if (s and text[s - 1].isalnum()) or m.end() > ends[bisect_right(ends, s)]:
            pos = s + 1
            continue
        out.append((s, m.end()))
        pos = m.end()


JOIN = "\x00"  # joins the texts given to Matcher.joined_spans


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
            except re.error as exc:
                raise QueryError(f"invalid regular expression {regex!r}: {exc}") from None
        else:
            self.node = parse_query(query)
        self._patterns: dict[Term, re.Pattern] = {}

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
        asks :meth:`spans` story by story).
        """
        node = self.node
        if not isinstance(node, Term) or self.case_sensitive or self.regex is not None:
            return None
        if joined.isascii():
            folded = joined.lower()
        else:
            if not unicodedata.is_normalized("NFC", joined):
                return None  # NFD text: offsets need the map back (spans does it)
            folded = _NON_ASCII.sub(_fold_match, joined).lower()
            if len(folded) != len(joined):
                return None  # a character whose lower case is longer: fold() goes another way
        pattern = self._pattern(node)
        if len(node.tokens) > 1:  # a phrase: a match may run over a separator into the next text
            return _find_within(pattern, folded, ends)
        # One token: a match lies within one token, so no match starts inside a match
        # that was refused for starting inside a word, and none can cross a separator.
        return [(s, e) for s, e in map(re.Match.span, pattern.finditer(folded))
                if not (s and folded[s - 1].isalnum())]

    def _pattern(self, term: Term) -> re.Pattern:
        p = self._patterns.get(term)
        if p is None:
            tokens = term.tokens if self.case_sensitive else term.folded
            p = self._patterns[term] = _term_regex(tokens, term.prefix)
        return p

    def _eval(self, node: Node, text: str) -> list[Span] | None:
        if isinstance(node, Term):
            return _find(self._pattern(node), text) or None
        left = self._eval(node.left, text)
        if isinstance(node, Or):
            right = self._eval(node.right, text)
            return None if left is None and right is None else (left or []) + (right or [])
        if left is None:
            return None
        right = self._eval(node.right, text)
        if isinstance(node, And):
            return None if right is None else left + right
        return left if right is None else None  # Not


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
