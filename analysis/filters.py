"""Which stories count: the one story filter every command uses.

``datelines``, ``entities``, ``cooccur`` and ``search`` take the same filters
(``--place``, ``--agency``, ``--section``, ``--kind``, ``--entity``,
``--label``). Each filter holds a tuple of values that are OR-ed; different
filters are AND-ed. Names are compared ignoring case, diacritics and spacing
(:func:`fold_name`): ``--place kyiv`` finds ``KYIV``, ``--section buitenland``
finds ``Buitenland``.

The dateline filters are decided per story (:meth:`StoryFilter.admits`).
``entity`` and ``label`` need the NLP pass: :meth:`StoryFilter.resolve` turns
them into the set of stories that mention such an entity (``stories``).
Commands that list entities rather than stories (``entities``, ``cooccur``)
use them to choose the entities shown instead (:meth:`StoryFilter.entity_names`).

A value that matches nothing in the corpus gets a hint with close matches
(:func:`hints`), so a typo does not pass for an empty answer.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Mapping

from .errors import InputError

KINDS = ("lead", "item")
LABELS = ("PER", "ORG", "LOC", "MISC")
DATELINE_FILTERS = ("place", "agency", "section", "kind")


def fold_name(name: str) -> str:
    """A name as filters compare it: no case, no diacritics, single spaces."""
    decomposed = unicodedata.normalize("NFKD", " ".join(name.split()).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_fold_value = functools.lru_cache(maxsize=8192)(fold_name)  # places and agencies repeat story after story


def agency_key(value: str) -> str:
    """An agency as filters compare it: a known agency's code whether written as code or name
    (``reuters`` and ``RTR`` alike), folded."""
    from .datelines import agency_code  # here: a search without --agency does not import datelines

    return fold_name(agency_code(value) or value)


def split_values(values: str | Iterable[str] | None) -> tuple[str, ...]:
    """Repeated options and comma lists as one tuple: ``['a,b', 'c']`` -> ``('a', 'b', 'c')``."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        for part in str(v).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return tuple(out)


@dataclass(frozen=True)
class StoryFilter:
    """Story filters: the values of one filter are OR-ed, the filters AND-ed.

    A plain string is taken as one value (``StoryFilter(place="Kyiv")``).
    ``stories``: the allowed ``(file, story index)`` pairs, set by
    :meth:`resolve` from ``entity``/``label``; None allows every story.
    """

    place: tuple[str, ...] = ()
    agency: tuple[str, ...] = ()
    section: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    entity: tuple[str, ...] = ()
    label: tuple[str, ...] = ()
    stories: frozenset[tuple[str, int]] | None = None
    _folded: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("place", "agency", "section", "kind", "entity", "label"):
            value = getattr(self, name)
            if value is None or isinstance(value, str):
                object.__setattr__(self, name, (value,) if value else ())
            else:
                object.__setattr__(self, name, tuple(value))
        kinds = tuple(k.strip().lower() for k in self.kind)
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise InputError(f"unknown kind {', '.join(bad)} (choose from {', '.join(KINDS)})")
        labels = tuple(v.strip().upper() for v in self.label)
        bad = [v for v in labels if v not in LABELS]
        if bad:
            raise InputError(f"unknown label {', '.join(bad)} (choose from {', '.join(LABELS)})")
        object.__setattr__(self, "kind", kinds)
        object.__setattr__(self, "label", labels)
        for name in DATELINE_FILTERS:
            self._folded[name] = frozenset(map(agency_key if name == "agency" else fold_name, getattr(self, name)))
        self._folded["any"] = any(self._folded[n] for n in DATELINE_FILTERS) or self.stories is not None

    # -- what it asks for ----------------------------------------------------------

    def __bool__(self) -> bool:
        return any(getattr(self, n) for n in (*DATELINE_FILTERS, "entity", "label")) or self.stories is not None

    @property
    def needs_entities(self) -> bool:
        """True when ``entity`` or ``label`` is set: the NLP pass must run first."""
        return bool(self.entity or self.label)

    @property
    def has_dateline_filters(self) -> bool:
        return any(getattr(self, n) for n in DATELINE_FILTERS)

    # -- deciding ----------------------------------------------------------------------

    def admits_fields(self, *, kind: str, section: str | None, agencies: Iterable[str],
                      places: Iterable[str], key: tuple[str, int] | None = None) -> bool:
        return self._admits(kind, section, agencies, places, key)

    def _admits(self, kind, section, agencies, places, key) -> bool:
        f = self._folded
        if not f["any"]:
            return True
        if f["kind"] and kind not in f["kind"]:
            return False
        if f["section"] and (section is None or _fold_value(section) not in f["section"]):
            return False
        if f["agency"] and not any(_fold_value(a) in f["agency"] for a in agencies):
            return False
        if f["place"] and not any(_fold_value(p) in f["place"] for p in places):
            return False
        if self.stories is not None and key not in self.stories:
            return False
        return True

    def admits(self, rec) -> bool:
        """For a search record (``analysis.search.StoryRec``: places, agencies, file, story)."""
        if not self._folded["any"]:
            return True
        return self._admits(rec.kind, rec.section, rec.agencies, rec.places, (rec.file, rec.story))

    def admits_story(self, story) -> bool:
        """For an ``analysis.stories.Story`` (its places both as printed and readable)."""
        raw = story.dateline.places_raw if story.dateline else ()
        return self.admits_fields(kind=story.kind, section=story.section, agencies=story.agencies,
                                  places=(*raw, *story.places), key=(story.file, story.index))

    # -- entities ------------------------------------------------------------------------

    def entity_names(self, variants: Mapping[str, Iterable[str]], labels_of: Mapping[str, str]) -> set[str] | None:
        """The entities ``entity``/``label`` choose among ``variants`` (name -> surface forms).

        None when neither is set (every entity). A name matches as every
        ``--entity`` does (:func:`analysis.entities.entities_named`).
        """
        if not self.needs_entities:
            return None
        from .entities import entities_named

        names = set(variants)
        if self.label:
            names = {n for n in names if labels_of.get(n) in self.label}
        if self.entity:
            chosen = {n: variants[n] for n in names}
            names = set().union(*(entities_named(e, chosen) for e in self.entity))
        return names

    def resolve(self, annotated, labels_of: Mapping[str, str]) -> "StoryFilter":
        """A copy whose ``stories`` are those mentioning a chosen entity (see :meth:`entity_names`)."""
        if not self.needs_entities:
            return self
        return replace(self, stories=stories_mentioning(annotated, labels_of, self))


def variants_of(mentions) -> dict[str, set[str]]:
    """Entity (canonical name) -> the surface forms its mentions have."""
    variants: dict[str, set[str]] = {}
    for m in mentions:
        variants.setdefault(m.canonical, set()).add(m.text)
    return variants


def stories_mentioning(annotated, labels_of: Mapping[str, str], filt: StoryFilter) -> frozenset[tuple[str, int]]:
    """``(file, story index)`` of the stories mentioning an entity ``filt`` chooses."""
    mentions = list(annotated.mentions())
    names = filt.entity_names(variants_of(mentions), labels_of)
    return frozenset((m.file, m.story) for m in mentions if names is None or m.canonical in names)


def select_stories(annotated, filt: StoryFilter, *, keep_duplicates: bool = True):
    """The annotated corpus with only the stories ``filt``'s dateline filters admit.

    Entity and label are not applied here (they choose entities, not stories,
    in ``entities`` and ``cooccur``). Duplicates (``duplicate_of``) go unless
    ``keep_duplicates``.
    """
    from .entities import AnnotatedCorpus

    dateline_only = replace(filt, entity=(), label=(), stories=None)
    kept = [a for a in annotated.stories
            if dateline_only.admits_story(a.story) and (keep_duplicates or not a.story.duplicate_of)]
    if len(kept) == len(annotated.stories):
        return annotated
    return AnnotatedCorpus(annotated.corpus, kept, processed=annotated.processed, cached=annotated.cached)


# -- hints ---------------------------------------------------------------------------------

def corpus_values(stories: Iterable) -> dict[str, set[str]]:
    """The dateline values present in ``stories`` (``analysis.stories.Story``), per filter."""
    out: dict[str, set[str]] = {n: set() for n in DATELINE_FILTERS}
    for s in stories:
        out["place"].update(s.places)
        out["agency"].update(s.agencies)
        if s.section:
            out["section"].add(s.section)
        out["kind"].add(s.kind)
    return out


_HAS = {"place": "no story has place", "agency": "no story is credited to", "section": "no story is in section",
        "kind": "no story is of kind", "entity": "no entity is named", "label": "no entity has label"}


def close_matches(value: str, present: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``present`` that look like ``value``, compared folded (difflib)."""
    import difflib

    by_fold: dict[str, str] = {}
    for p in sorted(present):
        by_fold.setdefault(fold_name(p), p)
    for p in sorted(present):  # the last word of a longer name: "Poetn" for "Vladimir Poetin"
        words = fold_name(p).split()
        if len(words) > 1:
            by_fold.setdefault(words[-1], p)
    found = difflib.get_close_matches(fold_name(value), list(by_fold), n=n, cutoff=0.6)
    return list(dict.fromkeys(by_fold[k] for k in found))


def hints(filt: StoryFilter, present: Mapping[str, Iterable[str]]) -> Iterator[str]:
    """One line for every filter value that matches none of ``present[filter]``.

    ``present`` maps a filter name (``place``, ``agency``, ``section``,
    ``kind``, ``entity``, ``label``) to the values the corpus has; filters
    missing from it are not checked. Names compare as the filters do; entity
    names also match on their last words (``Tokajev``), and ``present["entity"]``
    may map each entity to its surface forms, which match too.
    """
    for name in (*DATELINE_FILTERS, "entity", "label"):
        if name not in present:
            continue
        have = set(present[name])
        fold = agency_key if name == "agency" else fold_name
        folded = {fold(v) for v in have}
        for value in getattr(filt, name):
            key = fold(value)
            if key in folded:
                continue
            if name == "entity":
                from .entities import entities_named

                forms = present[name]
                if entities_named(value, forms if isinstance(forms, Mapping) else {v: () for v in have}):
                    continue
            line = f"{_HAS[name]} {value!r}"
            close = close_matches(value, have)
            if close:
                line += f"; did you mean {' or '.join(close)}?"
            yield line


def unmatched(filt: StoryFilter, present: Mapping[str, Iterable[str]]) -> bool:
    """True when some filter value matches nothing (``hints`` would say something)."""
    return next(hints(filt, present), None) is not None

