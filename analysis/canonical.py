"""Canonical entity names: one name per real-world entity across the corpus.

Rules, applied in this order to every mention:

1. **Clean**: quotes and stray punctuation at the ends go; leading titles and
   roles (``president``, ``minister``, ``NAVO-chef``) go; for persons every
   leading word in lower case goes (names are capitalised). Dateline places
   use their readable form (``ALMATY`` -> ``Almaty``).
2. **Casing**: each name takes the form the corpus uses most for it,
   ignoring case; on a tie the form that is not all capitals wins, so
   ``POETIN`` becomes ``Poetin`` and ``NAVO`` stays ``NAVO``.
3. **Inflection**: a genitive (``Trumps``, ``Poetin's``) maps to its base
   name when the corpus has the base with the same label.
4. **Short forms**: a name whose words end a longer person name in the same
   story links to it (``Poetin`` -> ``Vladimir Poetin``), whatever label the
   model gave the short form; a person name with no such partner in its
   story links to the single longer person name the whole corpus uses for
   it, if there is exactly one.

Between steps 2 and 3, variants of one entity get one name
(:func:`merge_acronyms`, :func:`merge_variants`): ``VS`` and ``Verenigde
Staten``, an acronym defined in the text and its full name, ``Kiev`` and
``Kyiv``, ``Zelensky`` and ``Zelenski``.

An entity's label is decided by all its mentions and the knowledge lists
(:func:`analysis.knowledge.label_prior`): a name printed as a dateline place
is ``LOC``; a name the lists know (a city or country, a first name and
surname, an organisation by its form) takes their label whatever the votes,
so it does not depend on which other files are in a run; any other entity
takes the label most of its mentions carry. The user's aliases
(:mod:`analysis.aliases`) rename and relabel last. Every mention then carries
its entity's label.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Iterable, Protocol

from .knowledge import acronyms, enabled, fold, initials_match, is_acronym, label_prior, place_group, translit_key, zipf
from .textnorm import nfc_text

TITLES = {
    "ambassadeur", "bisschop", "bondskanselier", "burgemeester", "commandant", "commissaris",
    "congreslid", "dictator", "dokter", "dr", "dr.", "drs", "drs.", "emir", "eurocommissaris",
    "generaal", "gezant", "gouverneur", "heer", "ir", "ir.", "kanselier", "kardinaal", "koning",
    "koningin", "kroonprins", "leider", "meneer", "mevrouw", "minister", "minister-president",
    "mr", "mr.", "mevr.", "oppositieleider", "partijleider", "paus", "premier", "president",
    "presidente", "prins", "prinses", "prof", "prof.", "professor", "rechter", "senator",
    "sjeik", "staatssecretaris", "sultan", "topman", "trainer", "vicepremier", "vicepresident",
    "voorzitter", "woordvoerder", "secretaris-generaal", "oud-president", "oud-premier",
    "ex-president", "ex-premier", "oud-minister", "defensieminister", "coach", "bondscoach",
    "mister", "sir", "lord", "lady", "dame", "ayatollah", "imam", "rabbijn", "pater", "zuster",
    "de", "het", "een",
}
_ROLE_COMPOUND = re.compile(r"^[A-Z0-9]{1,6}-[a-zà-ÿ][\w-]*$")  # NAVO-chef, EU-buitenlandchef
_EDGE_JUNK = "\"'“”‘’„«»()[]{}.,;:!?-–—/ "
_GENITIVE = re.compile(r"^(?P<base>.+?)['’]s$|^(?P<base3>.+s)['’]$|^(?P<base2>.{2,}[^s'’])s$")


class MentionLike(Protocol):
    story_id: str
    text: str
    label: str
    source: str
    canonical: str
    hint: str | None


def clean(text: str, label: str) -> str:
    """Step 1: the name without edge punctuation, titles or roles."""
    words = " ".join(text.split()).strip(_EDGE_JUNK).split(" ")
    while len(words) > 1:
        w = words[0]
        lw = w.lower().strip(",")
        if lw in TITLES or _ROLE_COMPOUND.match(w) or (label == "PER" and w[:1].islower()):
            words = words[1:]
        else:
            break
    name = " ".join(words).strip(_EDGE_JUNK)
    return name or " ".join(text.split())


def _is_all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def usual_forms(names: Iterable[str]) -> dict[str, str]:
    """Step 2: casefolded name -> the form the corpus uses most."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for n in names:
        counts[n.casefold()][n] += 1
    return {
        key: min(forms.items(), key=lambda kv: (-kv[1], _is_all_caps(kv[0]), kv[0]))[0]
        for key, forms in counts.items()
    }


def genitive_base(name: str) -> str | None:
    """``Trumps`` -> ``Trump``, ``Poetin's`` -> ``Poetin``; None if no genitive ending."""
    m = _GENITIVE.match(name)
    if not m:
        return None
    return m.group("base") or m.group("base3") or m.group("base2")


def _words(name: str) -> tuple[str, ...]:
    if enabled("translit"):
        return tuple(translit_key(w) for w in name.split())
    return tuple(name.casefold().split())


def merge_acronyms(names: list[str], mentions: list[MentionLike]) -> None:
    """Step 2b: an acronym and its full name become one name.

    Well-known pairs come from ``analysis/data/acronyms_nl.tsv`` and are
    named by the acronym (``Verenigde Staten`` -> ``VS``); an acronym defined
    in the text right after a name that it abbreviates ("de Nederlandse
    Aardolie Maatschappij (NAM)") is named by the full name everywhere.
    """
    table = acronyms()
    for i, n in enumerate(names):
        hit = table.get(fold(n))
        if hit is not None:
            names[i] = hit[0]
    defined: dict[str, str] = {}
    by_story: dict[str, list[int]] = defaultdict(list)
    for i, m in enumerate(mentions):
        if getattr(m, "start", None) is not None and m.source == "model":
            by_story[m.story_id].append(i)
    for idx in by_story.values():
        idx.sort(key=lambda i: mentions[i].start)
        for a, b in zip(idx, idx[1:]):
            full, short = names[a], names[b]
            gap = mentions[b].start - mentions[a].end
            if (2 <= gap <= 3 and is_acronym(short) and fold(short) not in table and " " in full
                    and initials_match(short, full)):
                defined[fold(short)] = full
    if defined:
        for i, n in enumerate(names):
            names[i] = defined.get(fold(n), n)


def merge_variants(names: list[str], mentions: list[MentionLike]) -> None:
    """Step 2c: spellings of one person or place become one name (see :func:`variant_renames`)."""
    rename = variant_renames(Counter(n for n, m in zip(names, mentions) if m.label in ("PER", "LOC")))
    if rename:
        for i, n in enumerate(names):
            names[i] = rename.get(n, n)


def variant_renames(counts: Counter) -> dict[str, str]:
    """Each spelling that merges into another -> that one, from the PER/LOC names' mention counts.

    Two names of one city in the place lists (``Kiev``, ``Kyiv``) and
    transliterations with the same key (``Zelensky``, ``Zelenski``,
    ``Zelenskyy``: :func:`analysis.knowledge.translit_key`) take the form
    the corpus uses most (the wire's current spelling: ``Kyiv``), ties going
    to the form most frequent in Dutch (wordfreq).
    """
    groups: dict[tuple, set[str]] = defaultdict(set)
    # A single name spelled as the last word of a full name keeps that spelling,
    # so the short-form step can link it ("Zelenski" -> "Volodymyr Zelensky").
    last_words = {fold(n.split()[-1]) for n in counts if " " in n}
    for n in counts:
        g = place_group(n)
        if g is not None:
            groups[("place", g)].add(n)
        elif len(n) >= 5 and not n.isupper():
            groups[("key", translit_key(n))].add(n)
    rename = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        best = max(members, key=lambda n: (fold(n) in last_words, counts[n], zipf(n) if " " not in n else 0.0, n))
        rename.update({n: best for n in members if n != best})
    return rename


def canonicalise(mentions: list[MentionLike], aliases=None) -> dict[str, str]:
    """Set ``canonical`` on every mention; return canonical name -> label.

    ``aliases`` (:class:`analysis.aliases.Aliases`, the user's corrections)
    rename and relabel entities last, over every rule here.
    """
    # NFC first: the NFD and NFC spellings of a name are one name.
    bases = [nfc_text(m.hint if m.hint else clean(m.text, m.label)) for m in mentions]
    usual = usual_forms(bases)
    names = [usual[b.casefold()] for b in bases]
    if enabled("acronyms"):
        merge_acronyms(names, mentions)
    if enabled("translit"):
        merge_variants(names, mentions)

    # Step 3: genitives map to a base name with the same label.
    labelled = {(n.casefold(), m.label) for n, m in zip(names, mentions)}
    for i, (n, m) in enumerate(zip(names, mentions)):
        if m.label == "MISC" or m.source != "model":
            continue
        base = genitive_base(n)
        if base and (base.casefold(), m.label) in labelled:
            names[i] = usual[base.casefold()] if base.casefold() in usual else base

    # Step 4: person short forms -> full names (same story first, then corpus).
    # Longer person names are indexed by their proper word suffixes, so a
    # short form finds its candidates with one look-up.
    words_of: dict[str, tuple[str, ...]] = {}
    by_suffix: dict[tuple[str, ...], set[str]] = defaultdict(set)
    story_by_suffix: dict[tuple[str, tuple[str, ...]], set[str]] = defaultdict(set)
    for n, m in zip(names, mentions):
        if m.label != "PER":
            continue
        if n not in words_of:
            words_of[n] = _words(n)
            for j in range(1, len(words_of[n])):
                by_suffix[words_of[n][j:]].add(n)
        for j in range(1, len(words_of[n])):
            story_by_suffix[(m.story_id, words_of[n][j:])].add(n)

    def longest_expansion(short: str, cands: set[str]) -> str | None:
        if not cands:
            return None
        maximal = {
            c for c in cands
            if not any(c != d and words_of[d][-len(words_of[c]):] == words_of[c] for d in cands)
        }
        return next(iter(maximal)) if len(maximal) == 1 else None

    corpus_cache: dict[str, str | None] = {}
    for i, (n, m) in enumerate(zip(names, mentions)):
        if m.source != "model":
            continue
        # In its own story a short form links whatever label the model gave it
        # ("Rutte" next to "Mark Rutte"); across the corpus only persons link.
        key = _words(n)
        full = longest_expansion(n, story_by_suffix.get((m.story_id, key), set()))
        if full is None and m.label == "PER":
            if n not in corpus_cache:
                corpus_cache[n] = longest_expansion(n, by_suffix.get(key, set()))
            full = corpus_cache[n]
        if full:
            names[i] = full

    if aliases:
        for i, (b, n) in enumerate(zip(bases, names)):
            names[i] = aliases.canonical(n, b) or n

    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for n, m in zip(names, mentions):
        m.canonical = n
        # A dateline place is a place whatever the model thinks of the name.
        votes[n][m.label] += 1_000_000 if m.source == "dateline" else 1
    # Ties: persons first, but an acronym (CSTO, NAVO) is an organisation first.
    order = {"PER": 0, "ORG": 1, "LOC": 2, "MISC": 3}
    acronym_order = {"ORG": 0, "LOC": 1, "MISC": 2, "PER": 3}
    labels = {}
    for n, c in votes.items():
        prior = None if any(v >= 1_000_000 for v in c.values()) else label_prior(n)
        if prior is not None:
            labels[n] = prior  # knowledge outweighs the votes (analysis/knowledge.py)
        else:
            rank = acronym_order if _is_all_caps(n) and len(n) <= 6 else order
            labels[n] = min(c.items(), key=lambda kv: (-kv[1], rank.get(kv[0], 9)))[0]
    if aliases:
        for n in labels:
            labels[n] = aliases.labels.get(n, labels[n])
    for m in mentions:
        m.label = labels[m.canonical]
    return labels
