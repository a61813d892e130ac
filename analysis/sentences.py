"""Rule-based sentence bounds for Dutch news text, without the NLP model.

A sentence ends at ``.``, ``!`` or ``?`` (with closing quotes or brackets)
followed by white space, except after a known abbreviation (``dr.``,
``o.a.``) or a single initial (``J. Smit``); a line break always ends one.
Used by ``search --sentence`` and ``show``'s plain view; the entity pass has
its own sentences from the model.
"""

from __future__ import annotations

import re

from .stories import _ABBREVIATIONS, _SENTENCE_STARTERS

_END = re.compile(r"[.!?]+[\"'\u201d\u2019)]*(?=\s|$)")
MAX_REACH = 1000  # a "sentence" with no end in sight is cut this far from the hit


def _is_stop(text: str, m: re.Match) -> bool:
    """Does the punctuation run ``m`` end a sentence?"""
    if m.group(0) != ".":
        return True
    dot = m.start()
    k = dot
    while k > 0 and (text[k - 1].isalpha() or text[k - 1] == "."):
        k -= 1
    word = text[k:dot]
    if len(word) == 1 and word.isupper():
        nxt = re.match(r"\s*(\S+)", text[dot + 1: dot + 40])
        return not nxt or nxt.group(1) in _SENTENCE_STARTERS
    return word.lower() not in _ABBREVIATIONS


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """``(s, e)``: the sentence(s) of ``text`` around ``text[start:end]``, white space trimmed."""
    lo = max(text.rfind("\n", 0, start) + 1, start - MAX_REACH)
    hi = text.find("\n", end)
    hi = len(text) if hi == -1 else hi
    hi = min(hi, end + MAX_REACH)
    s = lo
    for m in _END.finditer(text, lo, start):
        if m.end() <= start and _is_stop(text, m):
            s = m.end()
    e = hi
    for m in _END.finditer(text, max(end - 1, lo), hi):
        if m.end() >= end and _is_stop(text, m):
            e = m.end()
            break
    while s < start and text[s].isspace():
        s += 1
    while e > end and text[e - 1].isspace():
        e -= 1
    return s, e
