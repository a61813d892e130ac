"""A corpus read into stories: the common first step of every command."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterable, Iterator

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


def dateline_records(corpus: Corpus) -> Iterator[dict]:
    """One record per story, fields as in :data:`DATELINE_FIELDS`."""
    for doc, s in corpus.stories():
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


def dateline_summary(corpus: Corpus) -> list[dict]:
    """Stories per place and per agency, most frequent first."""
    places: Counter[str] = Counter()
    agencies: Counter[str] = Counter()
    for _, s in corpus.stories():
        places.update(set(s.places))
        agencies.update(set(s.agencies))
    rows = []
    for name, counter in (("place", places), ("agency", agencies)):
        for value, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append({"field": name, "value": value, "stories": n})
    return rows
