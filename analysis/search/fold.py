"""Diacritic and case folding, one character for one, so offsets carry over.

Text and query are *folded* one character at a time (:func:`fold`): the folded
text has exactly the length of the original, and every offset found in it is
an offset into the original text.
"""

from __future__ import annotations

import re
import unicodedata

FOLD_VERSION = "1"


class _FoldTable(dict):
    """Code point -> folded code point, filled lazily."""

    def __missing__(self, cp: int) -> int:
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        for candidate in (base.casefold(), ch.casefold(), ch.lower()):
            if len(candidate) == 1:
                self[cp] = ord(candidate)
                return self[cp]
        self[cp] = cp  # folding would change the length (e.g. "ß" -> "ss"): keep the character
        return cp


_FOLD = _FoldTable()
_FOLD_STR: dict[str, str] = {}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _fold_match(m: re.Match) -> str:
    ch = m.group()
    out = _FOLD_STR.get(ch)
    if out is None:
        out = _FOLD_STR[ch] = chr(_FOLD[ord(ch)])
    return out


def fold(text: str) -> str:
    """Case and diacritics removed, one character for one: ``len(fold(t)) == len(t)``.

    ``Oekraïne`` -> ``oekraine``, ``CAFÉ`` -> ``cafe``. A character whose
    folded form would be longer or shorter (``ß``, ``ﬁ``) is kept as it is.
    """
    if text.isascii():
        return text.lower()
    out = _NON_ASCII.sub(_fold_match, text).lower()
    if len(out) != len(text):  # lower() of a kept character changed the length
        out = text.translate(_FOLD)
    return out
