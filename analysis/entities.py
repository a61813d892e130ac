"""Entity mentions for a corpus: the NLP pass, the store, dateline places.

The model sees every part of a page (headline, lead paragraphs, digest items)
one paragraph at a time, with the dateline cut out: dateline places are read
by the dateline rules and become ``LOC`` mentions with source ``dateline``.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from operator import attrgetter, itemgetter
from typing import Callable, Iterable, Iterator

from .corpus import Corpus
from .errors import StoreFullError
from .parallel import BATCH_UNITS, TextUnit, annotate_batch, batches, choose_jobs, open_executor, worker_spec
from .reader import Document
from .store import Store, StoredMention, StoredSentence
from .stories import Story
from .textnorm import nfc_text

try:  # one pass for all the forms of a long text (:func:`_whole_words`); without it, a str.find a form
    from ahocorasick_rs import AhoCorasick as _AhoCorasick, Implementation as _Implementation

    _NFA = _Implementation.NoncontiguousNFA  # the quickest to build
except ImportError:  # pragma: no cover - a pinned dependency
    _AhoCorasick = _NFA = None

MODEL = "model"
DATELINE = "dateline"


@dataclass(slots=True)  # slots: quicker to make and to read, a few per sentence
class Mention:
    story_id: str
    file: str
    story: int
    sentence: int
    start: int
    end: int
    text: str
    label: str
    source: str
    canonical: str = ""
    hint: str | None = None  # readable form known in advance (dateline places)


@dataclass
class AnnotatedStory:
    story: Story
    doc: Document
    sentences: list[tuple[int, int]] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


@dataclass
class AnnotatedCorpus:
    corpus: Corpus
    stories: list[AnnotatedStory]
    processed: int = 0  # files sent through the model in this run
    cached: int = 0  # files read from the store
    store_error: StoreFullError | None = None  # why the store stopped taking results, if it did
    unstored: int = 0  # files processed but not kept in the store (after store_error)

    def mentions(self) -> Iterator[Mention]:
        for s in self.stories:
            yield from s.mentions


# The longest text the model gets at once. spaCy refuses more than
# ``nlp.max_length`` (1,000,000) characters (error E088), and its memory grows
# with the length of a text times the batch size (128 texts); a longer
# paragraph is cut at a sentence end (:func:`cut_long`). News paragraphs are
# far shorter, so ordinary text is never cut.
MAX_UNIT_CHARS = 10_000


def paragraphs(doc: Document, story: Story, *, max_chars: int = MAX_UNIT_CHARS) -> list[tuple[int, int]]:
    """File spans of the text the model reads for ``story``: its lines, dateline cut out.

    A line longer than ``max_chars`` is cut into pieces (:func:`cut_long`).
    """
    text = doc.text
    spans = []
    pos = story.start
    skip_to = story.dateline.end if story.dateline else -1
    while pos < story.end:
        nl = text.find("\n", pos, story.end)
        line_end = story.end if nl == -1 else nl
        s, e = pos, line_end
        if s <= skip_to <= e and story.dateline.start >= s:
            s = skip_to
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            if e - s > max_chars:
                spans.extend(cut_long(text, s, e, max_chars))
            else:
                spans.append((s, e))
        pos = line_end + 1
    return spans


_LAST_SENTENCE_END = re.compile(r".*[.!?\u2026][\"'\u201d\u2019)\]]*(?=\s)", re.S)
_LAST_SPACE = re.compile(r".*\S(?=\s)", re.S)


def cut_long(text: str, start: int, end: int, max_chars: int = MAX_UNIT_CHARS) -> Iterator[tuple[int, int]]:
    """Spans of at most ``max_chars`` covering ``text[start:end]``, outer whitespace left out.

    Each piece ends at the last sentence end in the second half of its
    window, else at the last space, else (a run of text without spaces) it
    is cut where the limit falls, never inside a combining character sequence.
    """
    import unicodedata

    while end - start > max_chars:
        hard = start + max_chars
        low = start + max_chars // 2
        m = _LAST_SENTENCE_END.match(text, low, hard) or _LAST_SPACE.match(text, low, hard)
        cut = m.end() if m else hard
        if not m:
            while cut > low and (unicodedata.combining(text[cut]) or "\udc00" <= text[cut] <= "\udfff"):
                cut -= 1
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        yield start, end


def text_units(page: int, doc: Document, stories: list[Story]) -> list[TextUnit]:
    """The model's input for one page: one unit per paragraph, with its file offsets."""
    from .nlp import model_input

    return [TextUnit(page, story.index, s, e, model_input(doc.text, s, e))
            for story in stories for s, e in paragraphs(doc, story)]


def annotate(
    corpus: Corpus,
    *,
    model_ref,
    store: Store | None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_UNITS,
    jobs: int | None = 1,
    scheduler: str | None = None,
    executor=None,
    pages: bool = True,
) -> AnnotatedCorpus:
    """Mentions and sentences for every story, from the store or the model.

    ``store=None`` bypasses the store (nothing read, nothing written).
    ``progress(done_words, total_words)`` is called as files complete; the
    words are those of the files the model reads in this run.
    ``jobs`` worker processes run the model (None: choose, see
    :func:`analysis.parallel.choose_jobs`); ``scheduler`` sends it to a Dask
    cluster instead. The output is the same whatever runs it.

    When the store's disk fills up, the run goes on without writing and the
    result's ``store_error`` says so (``unstored`` files were not kept).
    ``executor``: an open executor to run the model on (the caller's, kept
    open across calls) instead of one opened for this call.

    With the model's output, the page-level results of the files it read
    are stored too (:mod:`analysis.pagecache`), so that ``entities`` and
    ``cooccur`` after a fill by any command read them back; ``pages=False``
    leaves that to the caller.
    """
    key = model_ref.key
    results: dict[int, tuple[list[StoredSentence], list[StoredMention]]] = {}
    todo: list[int] = []
    stored = store.get_many([d.sha256 for d, _ in corpus.pages], key) if store is not None else {}
    for i, (doc, stories) in enumerate(corpus.pages):
        hit = stored.get(doc.sha256)
        if hit is not None:
            results[i] = hit
        else:
            todo.append(i)
    words = {i: len(corpus.pages[i][0].text.split()) for i in todo}
    total, done = sum(words.values()), 0
    if progress:
        progress(done, total)
    store_error: StoreFullError | None = None
    unstored = 0
    if todo:
        from contextlib import nullcontext

        spec = worker_spec(model_ref)
        n_jobs = 1 if scheduler else choose_jobs(jobs, words=total)
        with nullcontext(executor) if executor is not None else open_executor(spec, jobs=n_jobs,
                                                                              scheduler=scheduler) as executor:
            for i, sents, ments in _run_model(executor, spec, corpus, todo, batch_size):
                results[i] = (sents, ments)
                if store is not None and store_error is None:
                    try:
                        store.put_annotations(corpus.pages[i][0].sha256, key, sents, ments)
                    except StoreFullError as exc:
                        store_error = exc
                if store_error is not None:
                    unstored += 1
                done += words[i]
                if progress:
                    progress(done, total)
    out = _assemble(corpus, results)
    if pages and store is not None and store_error is None and todo:
        _keep_pages(store, key, corpus, out, todo)
    return AnnotatedCorpus(corpus, out, processed=len(todo), cached=len(corpus.pages) - len(todo),
                           store_error=store_error, unstored=unstored)


def _keep_pages(store: Store, key: str, corpus: Corpus, stories: list[AnnotatedStory], done: list[int]) -> None:
    """Store the page-level results of the pages ``done`` (indexes into ``corpus.pages``) with their annotations."""
    from .pagecache import PageCache, page_record, page_version

    by_doc: dict[int, list[AnnotatedStory]] = defaultdict(list)
    for ann in stories:
        by_doc[id(ann.doc)].append(ann)
    records = {}
    for i in done:
        doc = corpus.pages[i][0]
        records[doc.sha256] = page_record(by_doc.get(id(doc), []))
    PageCache(store, key, page_version(key)).put_many(list(records.items()))


def _run_model(executor, spec, corpus: Corpus, todo: list[int], batch_size: int):
    """Yield ``(page_index, sentences, mentions)`` for every page in ``todo``, in order.

    The batches go to ``executor``; the pages each batch completes are kept
    here (a queue as long as the executor's window), so only text travels.
    """
    finishing: deque = deque()  # per batch sent: (page, story) of its units, the pages it completes
    tail: list[int] = []  # the pages completed by the last batch, known once every batch is sent

    def units():
        for i in todo:
            doc, stories = corpus.pages[i]
            yield from text_units(i, doc, stories)

    def sent_batches():
        pending_pages = iter(todo)
        upcoming = next(pending_pages, None)
        for batch in batches(units(), max_units=batch_size):
            last = batch[-1].page
            ends = []
            while upcoming is not None and upcoming < last:
                ends.append(upcoming)
                upcoming = next(pending_pages, None)
            finishing.append(([(u.page, u.story) for u in batch], ends))
            yield batch
        if upcoming is not None:
            tail.extend([upcoming, *pending_pages])

    acc: dict[int, list] = defaultdict(list)
    for batch_results in executor.map_ordered(annotate_batch, spec, sent_batches()):
        where, ends = finishing.popleft()
        for (page, story), res in zip(where, batch_results, strict=True):
            acc[page].append((story, res))
        for i in ends:
            yield (i, *_page_records(acc.pop(i, [])))
    for i in tail:
        yield (i, *_page_records(acc.pop(i, [])))


def _page_records(unit_results) -> tuple[list[StoredSentence], list[StoredMention]]:
    """The store's records for one page from its units' results (sentences numbered per story)."""
    sents: list[StoredSentence] = []
    ments: list[StoredMention] = []
    counters: dict[int, int] = defaultdict(int)
    for story, (sent_spans, mention_spans) in unit_results:
        first_sentence = counters[story]
        starts = []
        for s, e in sent_spans:
            starts.append(s)
            sents.append(StoredSentence(story, counters[story], s, e))
            counters[story] += 1
        for s, e, label in mention_spans:
            k = bisect.bisect_right(starts, s) - 1
            ments.append(StoredMention(story, first_sentence + max(k, 0), s, e, label))
    return sents, ments


def _assemble(corpus: Corpus, results) -> list[AnnotatedStory]:
    out: list[AnnotatedStory] = []
    for i, (doc, stories) in enumerate(corpus.pages):
        sents, ments = results.get(i, ([], []))
        out.extend(assemble_page(doc, stories, [(s.story, s.idx, s.start, s.end) for s in sents],
                                 [(m.story, m.sentence, m.start, m.end, m.label) for m in ments]))
    return out


def assemble_page(doc: Document, stories: list[Story], sents, ments) -> list[AnnotatedStory]:
    """One file's annotated stories: the model's output, the dateline places, the page-level rules.

    ``sents`` and ``ments`` are the stored rows as plain tuples: ``(story,
    idx, start, end)`` and ``(story, sentence, start, end, label)``
    (``Store.get_many(..., rows=True)``).
    """
    text, path = doc.text, doc.path
    by_story_s: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for story, _, start, end in sents:
        by_story_s[story].append((start, end))
    by_story_m: dict[int, list[tuple]] = defaultdict(list)
    for row in ments:
        by_story_m[row[0]].append(row)
    page = []
    for story in stories:
        ann = AnnotatedStory(story, doc, sentences=by_story_s.get(story.index, []))
        ann.mentions.extend(_dateline_mentions(doc, story, ann.sentences))
        sid, index = story.id, story.index
        ann.mentions.extend([Mention(sid, path, index, sentence, start, end, text[start:end], label, MODEL)
                             for _, sentence, start, end, label in by_story_m.get(index, ())])
        page.append(ann)
    propagate_within_file(doc, page)
    refine_page(doc, page)
    for ann in page:
        ann.mentions.sort(key=_SPAN)
    return page


_SPAN = attrgetter("start", "end")


def propagate_within_file(doc: Document, page: list[AnnotatedStory]) -> int:
    """One sense per page: where the model found a name once, find it everywhere on the page.

    Another occurrence of the exact surface form (capitalised, whole words,
    outside the datelines and other mentions) becomes a mention with the
    label the model gave the form most often. A form whose lower-case
    spelling also occurs on the page is a common word and is not spread.
    The surname of a person name found on the page spreads as a person
    (``Zelensky`` after ``Volodymyr Zelensky``) unless it is a common word,
    and every form is also found in capitals (``ISTANBUL`` in a headline).
    Returns the number of mentions added.
    """
    labels: dict[str, dict[str, int]] = {}  # form -> label -> count (plain dicts: a Counter a form cost more)
    surnames: dict[str, None] = {}
    for ann in page:
        for m in ann.mentions:
            form = m.text
            if m.source == MODEL and form[:1].isupper() and len(form) >= 2 and "\n" not in form:
                got = labels.get(form)
                if got is None:
                    labels[form] = {m.label: 1}
                else:
                    got[m.label] = got.get(m.label, 0) + 1
                if m.label == "PER" and " " in form:
                    surname = form[form.rindex(" ") + 1:]
                    if len(surname) >= 4 and surname[:1].isupper():
                        surnames[surname] = None  # "Zelensky" after "Volodymyr Zelensky"
    for surname in surnames:
        if surname not in labels and not _is_common_word(surname):
            labels[surname] = {"PER": 1}
    if not labels:
        return 0
    text = doc.text
    # Every whole-word occurrence on the page of every spelling at once: the form, the form in
    # capitals (a headline: ISTANBUL for Istanbul), and its lower-case spelling (a common word).
    spellings = {}
    for f in labels:
        up = f.upper()
        spellings[f] = [f] if up == f or len(up) != len(f) else [f, up]
    wanted = [s for group in spellings.values() for s in group]
    low = text.lower()
    common = low != text
    if common:
        wanted.extend(f.lower() for f in labels)
    found = _whole_words(text, wanted, low)
    forms_of: dict[str, list[str]] = defaultdict(list)  # spelling -> the forms it spells (NAVO: NAVO, Navo)
    for f, group in spellings.items():
        if not (common and f.lower() in found):
            for spelled in group:
                forms_of[spelled].append(f)
    page_hits = []
    for spelled, at in found.items():
        for f in forms_of.get(spelled, ()):
            neg_len = -len(f)
            page_hits.extend([(s, neg_len, f, spelled) for s in at])
    page_hits.sort()
    if not page_hits:
        return 0
    label_of = {}
    added = 0
    for ann in page:
        story = ann.story
        # The occurrences that lie inside the story, in the same order.
        lo, hi = bisect.bisect_left(page_hits, (story.start,)), bisect.bisect_left(page_hits, (story.end,))
        # Those where a mention already is (the model's own, most of them) need no overlap test.
        own = {(m.start, m.end) for m in ann.mentions}
        hits = [h for h in page_hits[lo:hi] if h[0] - h[1] <= story.end and (h[0], h[0] - h[1]) not in own]
        if not hits:
            continue
        taken = _Covered.taken_in(ann)
        starts = [s for s, _ in ann.sentences]
        for s, neg_len, form, spelled in hits:  # earliest first, longest first at one position
            e = s - neg_len
            if taken.overlaps(s, e):
                continue
            label = label_of.get(form)
            if label is None:
                label = label_of[form] = max(labels[form].items(), key=_COUNT)[0]  # the first of the most
            sentence = max(bisect.bisect_right(starts, s) - 1, 0)
            ann.mentions.append(Mention(story.id, doc.path, story.index, sentence, s, e, spelled, label, MODEL))
            taken.add(s, e)
            added += 1
    return added


_COUNT = itemgetter(1)


class _Covered:
    """Character spans as a sorted union of disjoint intervals: overlap tests in O(log n).

    A page with tens of thousands of mentions (a million-character paragraph)
    made the linear scan it replaces quadratic.
    """

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for s, e in sorted(spans):
            if s >= e:
                continue
            if self.ends and s < self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], e)
            else:
                self.starts.append(s)
                self.ends.append(e)

    @classmethod
    def taken_in(cls, ann: "AnnotatedStory") -> "_Covered":
        """What a new mention of ``ann`` may not overlap: its mentions and its dateline."""
        spans = [(m.start, m.end) for m in ann.mentions]
        if ann.story.dateline:
            spans.append((ann.story.dateline.start, ann.story.dateline.end))
        return cls(spans)

    def overlaps(self, s: int, e: int) -> bool:
        i = bisect.bisect_right(self.starts, s) - 1
        if i >= 0 and self.ends[i] > s:
            return True
        return i + 1 < len(self.starts) and self.starts[i + 1] < e

    def add(self, s: int, e: int) -> None:
        """Add a span that overlaps nothing yet."""
        i = bisect.bisect_right(self.starts, s)
        self.starts.insert(i, s)
        self.ends.insert(i, e)


# A capital not right after a word character, and the capitalised words after it. The capital comes
# first and the look-behind after it (at the capital, it tests the character before): the regular
# expression engine then skips to the next capital instead of trying the look-behind everywhere.
_GROUP = re.Match.group
_CAP_SEQ = re.compile(r"[A-ZÀ-Þ](?<![\w-].)[\w'’-]*(?: [A-ZÀ-Þ][\w'’-]*)*")


def refine_page(doc: Document, page: list[AnnotatedStory]) -> None:
    """Spans the knowledge lists fix or add (``analysis/knowledge.py``).

    * A mention right after a known first name grows to take it in and
      becomes a person (``Ramaphosa`` -> ``Cyril Ramaphosa``).
    * A mention that runs across a line break is cut at it.
    * A lower-case type noun right before a mention gives its label
      (``het energiebedrijf Naftogaz``: ORG), as does a capitalised one that
      opens a sentence (``Premier Schoof``: PER).
    * Capitalised words the model left out become mentions when the lists
      know them: a city or country name that is not a Dutch word (``LOC``),
      a known first name followed by surnames (``PER``).
    """
    from . import knowledge as kn

    text = doc.text
    for ann in page:
        for m in ann.mentions:
            if m.source != MODEL:
                continue
            nl = text.find("\n", m.start, m.end)
            if nl > m.start and text[m.start:nl].strip():
                m.end = nl
                m.text = text[m.start:m.end].rstrip()
                m.end = m.start + len(m.text)
        if kn.enabled("extend"):
            taken = None  # the spans before any grows, made when first needed
            floor = ann.story.start
            for m in ann.mentions:
                # A word before it needs a space right before the mention: most have none.
                if m.start <= floor + 1 or text[m.start - 1] != " ":
                    continue
                if m.source != MODEL or kn.label_prior(m.text) in ("LOC", "ORG"):
                    continue
                if taken is None:
                    taken = sorted((m.start, m.end) for m in ann.mentions)
                while (word := _word_before(text, m.start, floor, "-'’")) is not None:
                    k, j, prev = word
                    if not (prev[:1].isupper() and kn.is_first_name(prev)) or any(s < j and k < e for s, e in taken):
                        break
                    m.start, m.text, m.label = k, text[k:m.end], "PER"
        if kn.enabled("context"):
            _context_labels(text, ann, kn)
        if kn.enabled("extend"):
            _extend_organisations(text, ann, kn)
        if kn.enabled("find"):
            _find_known_names(doc, ann, kn)


def _word_before(text: str, pos: int, floor: int, extra: str = "") -> tuple[int, int, str] | None:
    """The word right before ``pos`` across one space, not before ``floor``: ``(start, end, word)``.

    A word is letters (and the characters in ``extra``); None when no space
    precedes ``pos``.
    """
    j = pos - 1
    if j < floor + 1 or text[j] != " ":
        return None
    k = max(text.rfind(" ", floor, j) + 1, floor)
    word = text[k:j]
    if word.isalpha():  # the common case, in C: the word runs from the space before it (or the floor)
        return k, j, word
    k = j
    while k > floor and (text[k - 1].isalpha() or text[k - 1] in extra):
        k -= 1
    return k, j, text[k:j]


def _context_labels(text: str, ann: AnnotatedStory, kn) -> None:
    """A lower-case type noun right before a mention gives its label: ``het energiebedrijf Naftogaz``;
    so does a capitalised one opening a sentence: ``Premier Schoof``."""
    floor = ann.story.start
    for m in ann.mentions:
        # What follows needs a space right before the mention, inside the story: most have none.
        if m.start <= floor or text[m.start - 1] != " " or m.source != MODEL:
            continue
        if " " in m.text and kn.label_prior(m.text):
            continue
        before = text[max(floor, m.start - 40):m.start]
        if not before.strip():
            continue
        raw = before.split()[-1]
        prev = raw.strip(",;:()\"'“”‘’")
        if prev and prev[0].isupper() and prev[1:].islower() and raw == prev:
            # A capitalised cue that opens a sentence or follows the dateline's dash: "Premier Schoof".
            head = before[:before.rstrip().rfind(raw)]
            if prev not in _VERB_CUES and (
                    head.strip() and head.rstrip()[-1] in ".!?:-\u2013\u2014" or "\n" in head[len(head.rstrip()):]
                    or not head.strip() and m.start - len(before) == floor):
                prev = prev.lower()
        if prev:
            cue = _CUES.get(prev, _CUES)
            if cue is _CUES:
                if len(_CUES) >= 1 << 16:
                    _CUES.clear()
                cue = _CUES[prev] = kn.context_label(prev)
            if cue is not None:
                m.label = cue


_CUES: dict[str, str | None] = {}  # word -> its kn.context_label, which depends on the word alone
_VERB_CUES = {"Staat"}  # opening a question it is the verb: "Staat Poetin open voor ...?" (Poetin was LOC)


def _extend_organisations(text: str, ann: AnnotatedStory, kn) -> None:
    """``Aardolie Maatschappij`` -> ``Nederlandse Aardolie Maatschappij``: an organisation-shaped
    mention takes in the capitalised adjectives before it inside a sentence."""
    taken = [(m.start, m.end) for m in ann.mentions]
    floor = ann.story.start
    for m in ann.mentions:
        if m.start <= floor + 1 or text[m.start - 1] != " ":
            continue  # no word before it (:func:`_word_before`)
        if m.source != MODEL or not kn.looks_org(m.text):
            continue
        while (word := _word_before(text, m.start, ann.story.start)) is not None:
            k, j, prev = word
            before = text[ann.story.start:k].rstrip()
            if (not prev[:1].isupper() or prev.isupper() or not prev.endswith(("se", "sche")) or not before
                    or before[-1] in ".!?:\n\"“" or any(s < j and k < e for s, e in taken if (s, e) != (m.start, m.end))):
                break
            m.start, m.text = k, text[k:m.end]


def _find_known_names(doc: Document, ann: AnnotatedStory, kn) -> None:
    text = doc.text
    story = ann.story
    if _known_in not in kn._CACHED:
        kn._CACHED.append(_known_in)  # its answers depend on the features: kn.disable() clears them
    # The answers are looked up in compiled code (map over the matches); Python sees the known ones only.
    matches = list(_CAP_SEQ.finditer(text, story.start, story.end))
    answers = list(map(_known_in, map(_GROUP, matches)))
    found = [(at + a, at + b, label) for at, known in
             ((match.start(), known) for match, known in compress(zip(matches, answers), answers))
             for a, b, label in known]
    # Names the model found already (most of them) need no overlap test.
    own = {(m.start, m.end) for m in ann.mentions}
    found = [f for f in found if f[:2] not in own]
    if not found:
        return
    taken = _Covered.taken_in(ann)
    starts = [s for s, _ in ann.sentences]
    for s, e, label in found:
        if taken.overlaps(s, e):
            continue
        sentence = max(bisect.bisect_right(starts, s) - 1, 0)
        ann.mentions.append(Mention(story.id, doc.path, story.index, sentence, s, e, text[s:e], label, MODEL))
        taken.add(s, e)


@lru_cache(maxsize=1 << 16)
def _known_in(seq: str) -> tuple[tuple[int, int, str], ...]:
    """The names the lists know in a sequence of capitalised words: ``(start, end, label)`` in ``seq``.

    Known places inside the sequence, longest first; else a first name and
    the surnames after it. The answer depends on the words alone, so it is
    worked out once per distinct sequence.
    """
    from . import knowledge as kn

    words = seq.split(" ")
    offs = [0]
    for w in words[:-1]:
        offs.append(offs[-1] + len(w) + 1)
    found = []
    for n in range(min(len(words), 4), 0, -1):
        for i in range(len(words) - n + 1):
            name = " ".join(words[i:i + n]).rstrip("'’-")
            if n == 1 and (kn.seen_lower(name) or kn.is_common_word(name, 3.0) or len(name) < 4):
                continue
            if n == 1 and len(words) > 1 and kn.is_first_name(name):
                continue  # "Paris Hilton"
            if kn.is_place(name) and kn.label_prior(name) == "LOC":
                found.append((offs[i], offs[i] + len(name), "LOC"))
    if not found:
        # A first name and the surnames after it: "Democraat Taylor Rehmet".
        for i in range(len(words) - 1):
            tail = words[i:i + 4]
            if kn.is_first_name(words[i]) and kn.person_by_form(" ".join(tail)):
                name = " ".join(tail).rstrip("'’-")
                found.append((offs[i], offs[i] + len(name), "PER"))
                break
    return tuple(found)


def _is_common_word(word: str) -> bool:
    from .knowledge import is_common_word, is_first_name

    got = _COMMON.get(word)
    if got is None:
        if len(_COMMON) >= 1 << 16:
            _COMMON.clear()
        got = _COMMON[word] = is_common_word(word) or is_first_name(word)
    return got


_COMMON: dict[str, bool] = {}  # word -> _is_common_word: the word lists' answer, the same for every page


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_-"


def _find_all(text: str, form: str, start: int, end: int) -> Iterator[int]:
    """Offsets of ``form`` as whole words in ``text[start:end]``."""
    pos = text.find(form, start, end)
    while pos != -1:
        after = pos + len(form)
        if (pos == 0 or not _is_word_char(text[pos - 1])) and (after >= len(text) or not _is_word_char(text[after])):
            yield pos
        pos = text.find(form, pos + 1, end)


# Above this many characters searched (text length times spellings) one Aho-Corasick pass beats a
# ``str.find`` per spelling: building the automaton costs about as much as 30 finds in a page of
# 4,000 characters, and its pass over the text as many more.
_FINDS_UP_TO = 1_000_000


def _whole_words(text: str, words: Iterable[str], low: str | None = None) -> dict[str, list[int]]:
    """Where each of ``words`` occurs in ``text`` as a whole word: word -> its offsets, in order.

    Words that do not occur are left out; overlapping occurrences count,
    as with :func:`_find_all` (the reference). The search is made in lower
    case, where lower-casing keeps every offset: ``Japan``, ``JAPAN`` and
    ``japan`` are one spelling to look for, and each place found is then
    compared with the words themselves. A page's spellings are looked for
    with a ``str.find`` each, a long text's with one pass of an
    Aho-Corasick automaton (ahocorasick-rs). ``low``: ``text.lower()``, when the caller has it.
    """
    distinct = [w for w in dict.fromkeys(words) if w]
    out: dict[str, list[int]] = {}
    if not distinct:
        return out
    if low is None:
        low = text.lower()
    if len(low) != len(text) or "\u03a3" in text:
        # A capital that lower-cases to two characters (İ) moves the offsets, and a capital sigma
        # lower-cases by its context: look for the words as they are.
        groups: dict[str, list[str]] = {w: [w] for w in distinct}
        low = text
    else:
        groups = {}
        for w in distinct:
            groups.setdefault(w.lower(), []).append(w)
    n = len(text)

    if _AhoCorasick is None or n * len(groups) <= _FINDS_UP_TO:
        hits = []  # (start, end, the words of that spelling), each spelling's in order
        add, find = hits.append, low.find
        for pattern, group in groups.items():
            m = len(pattern)
            pos = find(pattern)
            while pos != -1:
                add((pos, pos + m, group))
                pos = find(pattern, pos + 1)
    else:
        patterns = list(groups)
        hits = [(s, e, groups[patterns[i]])  # by end: the offsets of one pattern come in order
                for i, s, e in _AhoCorasick(patterns, implementation=_NFA).find_matches_as_indexes(low, overlapping=True)]
    for s, e, group in hits:  # whole words only, and each word where it is spelled exactly so
        if (s and ((c := text[s - 1]).isalnum() or c in "_-")) or (e < n and ((c := text[e]).isalnum() or c in "_-")):
            continue
        piece = text[s:e]
        for w in group:
            if w == piece:
                if w in out:
                    out[w].append(s)
                else:
                    out[w] = [s]
    return out


def _dateline_mentions(doc: Document, story: Story, sentences) -> list[Mention]:
    if not story.dateline:
        return []
    # The dateline belongs to the sentence that follows it.
    starts = [s for s, _ in sentences]
    k = bisect.bisect_left(starts, story.dateline.end)
    sentence = k if k < len(starts) else max(len(starts) - 1, 0)
    return [
        Mention(story.id, doc.path, story.index, sentence, s, e, doc.text[s:e], "LOC", DATELINE, hint=readable)
        for (s, e), readable in zip(story.dateline.place_spans, story.places)
    ]


# -- canonical names and aggregates ---------------------------------------------

def resolve_names(annotated: AnnotatedCorpus, *, canonical: bool = True, aliases=None) -> dict[str, str]:
    """Set ``canonical`` on every mention; return entity name -> label.

    With ``canonical=False`` the raw surface form is the name. ``aliases``
    (:class:`analysis.aliases.Aliases`) are the user's corrections, applied
    to canonical names.
    """
    from .canonical import canonicalise

    mentions = list(annotated.mentions())
    if canonical:
        return canonicalise(mentions, aliases)
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for m in mentions:
        m.canonical = nfc_text(m.text)  # raw, but one form for the NFD and NFC spellings
        votes[m.canonical][m.label] += 1
    return {n: c.most_common(1)[0][0] for n, c in votes.items()}


def drop_adjectives(annotated: AnnotatedCorpus, labels_of: dict[str, str]) -> int:
    """Leave out mentions of MISC nationality adjectives (``Russische``); return how many went.

    The default lists, matrix and plot of ``entities`` and ``cooccur`` use
    this; ``--all`` or an explicit ``--label MISC`` keeps them.
    """
    from .knowledge import is_nationality_adjective

    gone = {n for n, lab in labels_of.items() if is_nationality_adjective(n, lab)}
    dropped = 0
    if gone:
        for s in annotated.stories:
            kept = [m for m in s.mentions if m.canonical not in gone]
            dropped += len(s.mentions) - len(kept)
            s.mentions = kept
    return dropped


def _name_key(name: str) -> str:
    """A name compared ignoring case, diacritics and spacing."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", " ".join(name.split()).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def entities_named(name: str, variants: dict[str, Iterable[str]]) -> set[str]:
    """The entities ``name`` refers to, ignoring case and diacritics.

    ``variants`` maps each entity (canonical name) to its surface forms. A
    match is the canonical name, any surface form, or the last words of the
    canonical name (``Tokajev`` finds ``Kassym-Jomart Tokajev``). Used by
    every ``--entity`` option.
    """
    key = _name_key(name)
    words = key.split()
    if not words:
        return set()
    hits = set()
    for entity, forms in variants.items():
        canonical = _name_key(entity)
        if (canonical == key or canonical.split()[-len(words):] == words
                or any(_name_key(f) == key for f in forms)):
            hits.add(entity)
    return hits


ENTITY_FIELDS = ("entity", "label", "mentions", "stories", "files", "variants")
MENTION_FIELDS = ("id", "file", "story", "sentence", "start", "end", "text", "label", "canonical", "source")


def entity_records(
    annotated: AnnotatedCorpus,
    labels_of: dict[str, str],
    *,
    labels: Iterable[str] | None = None,
    min_count: int = 1,
    top: int | None = None,
    names: set[str] | None = None,
) -> list[dict]:
    """One record per entity, most mentioned first (ties by name).

    ``names``: only these entities (``StoryFilter.entity_names``); None: all.
    """
    wanted = set(labels) if labels else None
    mentions: Counter[str] = Counter()
    stories: dict[str, set[str]] = defaultdict(set)
    files: dict[str, set[str]] = defaultdict(set)
    variants: dict[str, Counter[str]] = defaultdict(Counter)
    for m in annotated.mentions():
        name = m.canonical
        mentions[name] += 1
        stories[name].add(m.story_id)
        files[name].add(m.file)
        variants[name][nfc_text(" ".join(m.text.split()))] += 1
    rows = []
    for name, n in mentions.items():
        label = labels_of[name]
        if n < min_count or (wanted and label not in wanted) or (names is not None and name not in names):
            continue
        rows.append({
            "entity": name,
            "label": label,
            "mentions": n,
            "stories": len(stories[name]),
            "files": len(files[name]),
            "variants": [v for v, _ in sorted(variants[name].items(), key=lambda kv: (-kv[1], kv[0]))],
        })
    rows.sort(key=lambda r: (-r["mentions"], r["entity"]))
    return rows[:top] if top else rows


def mention_records(annotated: AnnotatedCorpus, *, labels: Iterable[str] | None = None,
                    names: set[str] | None = None) -> Iterator[dict]:
    wanted = set(labels) if labels else None
    for m in annotated.mentions():
        if (wanted and m.label not in wanted) or (names is not None and m.canonical not in names):
            continue
        yield {
            "id": m.story_id, "file": m.file, "story": m.story, "sentence": m.sentence,
            "start": m.start, "end": m.end, "text": m.text, "label": m.label,
            "canonical": m.canonical, "source": m.source,
        }
