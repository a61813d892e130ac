"""A corpus read into stories: the common first step of every command."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterable, Iterator, Sequence

from .reader import Document, ReadWarning, read_corpus
from .stories import Story, StorySplitter


@dataclass
class Corpus:
    pages: list[tuple[Document, list[Story]]] = field(default_factory=list)
    warnings: list[ReadWarning] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """True when an input was skipped."""
        return any(w.skipped for w in self.warnings)

    def stories(self) -> Iterator[tuple[Document, Story]]:
        for doc, stories in self.pages:
            for story in stories:
                yield doc, story


def load_corpus(
    paths: Iterable[str],
    *,
    on_warning: Callable[[ReadWarning], None] | None = None,
    stdin: BinaryIO | None = None,
) -> Corpus:
    """Read, decode and split every input; warnings are kept and passed on."""
    corpus = Corpus()

    def warn(w: ReadWarning) -> None:
        corpus.warnings.append(w)
        if on_warning:
            on_warning(w)

    docs = list(read_corpus(paths, on_warning=warn, stdin=stdin))
    for doc, stories in StorySplitter().split(docs):
        if not stories:
            warn(ReadWarning(doc.path, "no text", skipped=False))
        corpus.pages.append((doc, stories))
    return corpus


DATELINE_FIELDS = (
    "id", "file", "story", "kind", "section", "places", "agencies",
    "age_minutes", "dateline", "headline", "duplicate_of",
)


def dateline_records(corpus: Corpus, filt=None) -> Iterator[dict]:
    """One record per story ``filt`` admits (an :class:`analysis.filters.StoryFilter`; None: all)."""
    for doc, s in corpus.stories():
        if filt is not None and not filt.admits_story(s):
            continue
        yield {
            "id": s.id,
            "file": doc.path,
            "story": s.index,
            "kind": s.kind,
            "section": s.section,
            "places": list(s.places),
            "agencies": s.agencies,
            "age_minutes": s.age_minutes,
            "dateline": s.dateline.raw if s.dateline else None,
            "headline": s.headline,
            "duplicate_of": s.duplicate_of,
        }


SUMMARY_FIELDS = ("field", "value", "stories")
BY_FIELDS = ("place", "agency", "section", "kind")


def _values(s: Story, name: str) -> list:
    if name == "place":
        return list(dict.fromkeys(s.places)) or [None]
    if name == "agency":
        return list(dict.fromkeys(s.agencies)) or [None]
    return [s.section if name == "section" else s.kind]


def _admitted(filt, s) -> bool:
    if filt is None:
        return True
    if isinstance(s, Story):
        return filt.admits_story(s)
    return filt.admits_fields(kind=s.kind, section=s.section, agencies=s.agencies,
                              places=(*s.places_raw, *s.places))


def _weighted(corpus) -> Iterable[tuple]:
    """``(story, stories)`` pairs: a corpus' stories once each, or the tallies of a streamed scan."""
    if isinstance(corpus, Corpus):
        return ((s, 1) for _, s in corpus.stories())
    return corpus.tally_rows()


def dateline_summary(corpus, filt=None, *, keep_duplicates: bool = False) -> list[dict]:
    """Stories per place and per agency, most frequent first; duplicates left out unless kept.

    ``corpus``: a :class:`Corpus` or a scanned :class:`analysis.scan.DatelineScan`.
    """
    places: Counter[str] = Counter()
    agencies: Counter[str] = Counter()
    for s, n in _weighted(corpus):
        if not _admitted(filt, s) or (s.duplicate_of and not keep_duplicates):
            continue
        for v in set(s.places):
            places[v] += n
        for v in set(s.agencies):
            agencies[v] += n
    rows = []
    for name, counter in (("place", places), ("agency", agencies)):
        for value, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append({"field": name, "value": value, "stories": n})
    return rows


def parse_by(value: str | Iterable[str]) -> tuple[str, ...]:
    """``place,agency`` -> ``("place", "agency")``, checked against :data:`BY_FIELDS`."""
    from .errors import InputError

    parts = [value] if isinstance(value, str) else list(value)
    names = tuple(dict.fromkeys(p.strip().lower() for v in parts for p in v.split(",") if p.strip()))
    bad = [n for n in names if n not in BY_FIELDS]
    if bad or not names:
        raise InputError(f"unknown --by field {', '.join(bad) or repr('')} (choose from {', '.join(BY_FIELDS)})")
    return names


def crosstab(corpus, by: Sequence[str], filt=None, *, keep_duplicates: bool = False) -> list[dict]:
    """Stories per combination of the ``by`` fields, in long form: one row per combination.

    Columns: the ``by`` fields, then ``stories``; most stories first, ties by
    the values. A story with two places (or agencies) counts once under each;
    a story without one counts under null. Long form is what a spreadsheet's
    pivot table and a script's group-by both take; ``crosstab_wide`` gives the
    two-way table. Duplicates (``duplicate_of``) are left out unless kept.
    """
    counts: Counter[tuple] = Counter()
    for s, n in _weighted(corpus):
        if not _admitted(filt, s) or (s.duplicate_of and not keep_duplicates):
            continue
        combos: list[tuple] = [()]
        for name in by:
            combos = [c + (v,) for c in combos for v in _values(s, name)]
        for c in set(combos):
            counts[c] += n
    order = sorted(counts.items(), key=lambda kv: (-kv[1], [("" if v is None else v) for v in kv[0]]))
    return [{**dict(zip(by, key)), "stories": n} for key, n in order]


def crosstab_wide(rows: list[dict], row_field: str, col_field: str) -> tuple[list[str], list[dict]]:
    """Long rows of :func:`crosstab` over two fields as a two-way table: ``(columns, rows)``.

    One row per ``row_field`` value, one column per ``col_field`` value (most
    stories first), and a ``total`` column of the row's stories over the
    combinations (a story with two agencies adds to both).
    """
    col_totals: Counter = Counter()
    row_totals: Counter = Counter()
    cells: dict = {}
    for r in rows:
        a, b = r[row_field], r[col_field]
        cells[(a, b)] = r["stories"]
        col_totals[b] += r["stories"]
        row_totals[a] += r["stories"]
    label = lambda v: "-" if v is None else str(v)  # noqa: E731
    cols = [label(b) for b, _ in sorted(col_totals.items(), key=lambda kv: (-kv[1], label(kv[0])))]
    out = []
    for a, _ in sorted(row_totals.items(), key=lambda kv: (-kv[1], label(kv[0]))):
        row = {row_field: a}
        for b in col_totals:
            row[label(b)] = cells.get((a, b), 0)
        out.append(row)
    return cols, out
