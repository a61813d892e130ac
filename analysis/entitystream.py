"""``entities`` and ``cooccur`` over a corpus of any size: files streamed, compact tables.

:func:`analysis.entities.annotate` holds every text, story and mention of a
corpus as Python objects. This module holds none of them:

1. What needs the whole corpus before a story is finished is kept in
   compact tables and decided at the end: the readable form of each
   dateline place (its casings counted per file) and the first occurrence
   of each story text (8-byte digests: duplicates).
2. The files are read in batches; each batch is annotated as a small
   corpus of its own (:func:`analysis.entities.annotate`: the store, the
   model for what the store lacks, the page-level rules) and reduced to
   integer rows: per story its file, index, duplicate flag and sentences;
   per mention its story, sentence and the id of its ``(text, label,
   source, hint)`` key. Texts and objects are dropped batch by batch. A
   file's rows are kept in the store (:mod:`analysis.pagecache`), so the
   next run over it reads them instead of applying the rules again.
3. The corpus-wide steps run on those tables: canonical names
   (:func:`canonical_names`, the rules of :func:`analysis.canonical.canonicalise`
   on distinct keys with their counts), labels, and then the entity list
   (:func:`entity_records`) or the co-occurrence counts
   (:func:`cooccurrence`, pairs counted as integer codes with numpy; the
   unit ids are gathered only for the pairs that are printed).

The output is the same as the in-memory path's, byte for byte
(``tests/analysis/test_entitystream.py`` compares both). What it does not
cover (mentions, HTML, dateline filters, raw names, standard input, inputs
whose file names share a stem) is left to the in-memory path: see
:func:`streamable`.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .reader import STDIN, ReadWarning, path_stem

BATCH_FILES = 256  # files annotated and reduced at a time


@dataclass
class StreamedCorpus:
    """The compact tables of one streamed pass (see the module docstring); numpy arrays."""

    paths: list[str] = field(default_factory=list)  # file number -> path
    stems: list[str] = field(default_factory=list)
    story_file: object = None  # story row -> file number
    story_index: object = None  # story row -> index in its file
    story_dup: object = None  # story row -> True for a duplicate story
    story_sents: object = None  # story row -> sentences the model found
    m_story: object = None  # mention row -> story row (mentions in corpus order)
    m_sentence: object = None
    m_key: object = None  # mention row -> key id
    keys: list[tuple] = field(default_factory=list)  # key id -> (text, label, source, hint)
    acronym_pairs: object = None  # (mention a, mention b): consecutive model mentions 2-3 characters apart
    partial: bool = False
    processed: int = 0  # files sent through the model
    cached: int = 0  # files whose annotations came from the store
    pages_cached: int = 0  # files whose page-level results came from the store
    forms_recounted: int = 0  # files read again to count the forms of the dateline places
    store_error: object = None
    unstored: int = 0

    def story_id(self, row: int) -> str:
        return f"{self.stems[self.story_file[row]]}:{self.story_index[row]}"


def streamable(paths: Iterable[str]) -> bool:
    """True when the inputs suit the streamed path: no standard input, no two files with one stem.

    Story ids are ``<stem>:<index>``; the corpus-wide rules key stories by
    their id, so two files of one stem would share stories there.
    """
    from .reader import walk

    stems = set()
    for e in walk(paths):
        if e.path == STDIN:
            return False
        stem = path_stem(e.path)
        if stem in stems:
            return False
        stems.add(stem)
    return True


def stream_annotations(
    paths: Iterable[str],
    *,
    model_ref,
    store,
    jobs: int | None = 1,
    scheduler: str | None = None,
    on_warning: Callable[[ReadWarning], None] | None = None,
    batch_files: int = BATCH_FILES,
    progress: Callable[[int, int], None] | None = None,
) -> StreamedCorpus:
    """Annotate ``paths`` batch by batch into a :class:`StreamedCorpus`.

    Warnings come as :func:`analysis.corpus.load_corpus` gives them: the
    read warnings in file order, then the files without text.
    ``progress(done_files, total_files)`` is called after every batch.
    """
    import numpy as np

    from .corpus import Corpus
    from .datelines import PlaceNamer, count_forms, forms_patterns
    from .entities import annotate
    from .pagecache import PageCache, page_record, page_version
    from .reader import DecodeError, read_corpus, read_document, walk
    from .stories import split_page

    entries = walk(paths)
    sc = StreamedCorpus(paths=[e.path for e in entries])
    sc.stems = [path_stem(p) for p in sc.paths]
    number = {p: k for k, p in enumerate(sc.paths)}
    cache = PageCache(store, model_ref.key, page_version(model_ref.key))
    key_ids: dict[tuple, int] = {}
    places: set[str] = set()
    # Growing flat arrays (4 or 8 bytes an item, no object per file): per story (file, index,
    # sentences, has text), its digest; per mention (story, sentence, key); acronym pairs.
    story_rows, digests, mention_rows, pair_rows = array("q"), array("q"), array("i"), array("q")
    forms_by_set: dict[bytes, Counter] = defaultdict(Counter)
    fingerprints: dict[bytes | None, int] = {}
    file_set = array("i", [-1]) * len(entries)  # file number -> fingerprints' number of its casing counts
    no_text: list[str] = []
    n_stories = n_mentions = 0

    def warn(w: ReadWarning) -> None:
        if w.skipped:
            sc.partial = True
        if on_warning:
            on_warning(w)

    pool = _Pools(model_ref, jobs, scheduler)
    rows_at = _readable_path(store)
    pool._stack.callback(_close_reader)  # the read-only connection of this process, if the rules ran here
    queue: deque = deque()  # per batch handed to the executor: (start, docs, found, files it rules)

    def prepared():
        """Per batch, the files whose page rules are still to apply (the executor's work); the rest done here."""
        for a in range(0, len(entries), batch_files):
            docs = list(read_corpus(sc.paths[a:a + batch_files], on_warning=warn))
            found = cache.get_many([d.sha256 for d in docs])
            misses = list({d.sha256: d for d in docs if d.sha256 not in found}.values())
            # The files whose model output is stored: the rules' workers read it themselves (rows_at);
            # a store that is no SQLite file hands its records over.
            if not misses:
                stored = {}
            elif rows_at is not None:
                stored = store.stored_ids([d.sha256 for d in misses], model_ref.key)
            else:
                stored = store.get_many([d.sha256 for d in misses], model_ref.key, rows=True)
            ruled = [d for d in misses if d.sha256 in stored]
            fresh = [d for d in misses if d.sha256 not in stored]
            if fresh:  # the model's turn: the rules run here, with the records of the fill
                pages = []
                for doc in fresh:
                    stories = split_page(doc)
                    for st in stories:  # dateline mentions carry the place as printed; named at the end
                        st.places = list(st.dateline.places_raw) if st.dateline else []
                    pages.append((doc, stories))
                words = sum(len(d.text.split()) for d in fresh) * max(1, (len(entries) - a) // batch_files)
                annotated = annotate(Corpus(pages=pages), model_ref=model_ref, store=store,
                                     executor=pool.model(words), pages=False)
                sc.processed += annotated.processed
                sc.cached += annotated.cached
                sc.unstored += annotated.unstored
                if annotated.store_error is not None and sc.store_error is None:
                    sc.store_error = annotated.store_error
                by_doc: dict[int, list] = defaultdict(list)
                for ann in annotated.stories:
                    by_doc[id(ann.doc)].append(ann)
                new = [(doc.sha256, page_record(by_doc.get(id(doc), []))) for doc in fresh]
                cache.put_many(new)
                found.update((sha, (rec, None)) for sha, rec in new)
                del pages, annotated, by_doc
            sc.cached += len(ruled)
            sc.pages_cached += len(docs) - len(misses)
            queue.append((a, docs, found, [d.sha256 for d in ruled]))
            yield [(d.path, d.text, d.encoding, d.sha256, stored[d.sha256]) for d in ruled]
            del stored, ruled, misses, docs, found

    batches = prepared()
    with pool:
        first = next(batches, None)
        # The executor for the page rules, chosen on the first batch: how many files of it need them.
        n_first = len(queue[0][1]) if queue else 0
        rules = pool.rules(len(first or ()) * len(entries) // max(n_first, 1))
        for records in rules.map_ordered(page_rows, rows_at, chain([first] if first is not None else [], batches)):
            a, docs, found, shas = queue.popleft()
            if shas:
                new = list(zip(shas, records))
                cache.put_many(new)
                found.update((sha, (rec, None)) for sha, rec in new)
            for doc in docs:
                k = number[doc.path]
                (stories, keys, rows, pairs), forms = found[doc.sha256]
                if not stories:
                    no_text.append(doc.path)
                m = np.frombuffer(rows, dtype=np.int32).reshape(-1, 3)
                if len(m):
                    local = np.array([key_ids.setdefault(key, len(key_ids)) for key in keys], dtype=np.int32)
                    g = m.copy()
                    g[:, 0] += n_stories
                    g[:, 2] = local[m[:, 2]]
                    mention_rows.frombytes(g.tobytes())
                if pairs:
                    pair_rows.frombytes((np.frombuffer(pairs, dtype=np.int32).astype(np.int64) + n_mentions).tobytes())
                for s in stories:
                    story_rows.extend((k, s[0], s[1], s[2] is not None))
                    digests.append(s[2] or 0)
                    if s[3]:
                        places.update(p.casefold() for p in s[3] if p)
                fp = None if forms is None else forms[0]
                if forms is not None:
                    forms_by_set[fp].update(forms[1])
                file_set[k] = fingerprints.setdefault(fp, len(fingerprints))
                n_stories += len(stories)
                n_mentions += len(m)
            del docs, found
            if progress:
                progress(min(a + batch_files, len(entries)), len(entries))
    for path in no_text:
        warn(ReadWarning(path, "no text", skipped=False))

    # The readable places: their casings counted over the corpus for exactly this set of names.
    import hashlib

    names = frozenset(places)
    fingerprint = hashlib.blake2b("\n".join(sorted(names)).encode("utf-8"), digest_size=16).digest()
    namer = PlaceNamer()
    namer.expect(names)
    if names:
        namer.add_forms(forms_by_set.get(fingerprint, Counter()))
        patterns = forms_patterns(names)
        same = fingerprints.get(fingerprint, -2)
        counted = []
        for k in (k for k in range(len(entries)) if file_set[k] not in (-1, same)):
            try:
                doc = read_document(sc.paths[k])
            except (DecodeError, OSError):
                continue
            forms: Counter = Counter()
            count_forms(patterns, doc.text, forms)
            namer.add_forms(forms)
            counted.append((doc.sha256, (fingerprint, dict(forms))))
            if len(counted) >= 1000:
                cache.put_forms(counted)
                counted = []
            sc.forms_recounted += 1
        cache.put_forms(counted)
    named = {}
    sc.keys = [None] * len(key_ids)
    for (text, label, source, hint), i in key_ids.items():
        if hint is not None and source == "dateline":
            if hint not in named:
                named[hint] = namer.name(hint)
            hint = named[hint]
        sc.keys[i] = (text, label, source, hint)

    stories = np.frombuffer(story_rows, dtype=np.int64).reshape(-1, 4) if story_rows else np.zeros((0, 4), np.int64)
    digests = np.frombuffer(digests, dtype=np.int64) if digests else np.zeros(0, np.int64)
    mentions = np.frombuffer(mention_rows, dtype=np.int32).reshape(-1, 3) if mention_rows else np.zeros((0, 3), np.int32)
    sc.story_file = stories[:, 0].astype(np.int32)
    sc.story_index = stories[:, 1].astype(np.int32)
    sc.story_sents = stories[:, 2].astype(np.int32)
    # Duplicates: a story whose text an earlier story has (the first occurrence is not one).
    has = stories[:, 3].astype(bool)
    dup = np.zeros(len(stories), dtype=bool)
    rows_with = np.flatnonzero(has)
    if len(rows_with):
        _, first, inverse = np.unique(digests[rows_with], return_index=True, return_inverse=True)
        dup[rows_with] = rows_with[first[inverse]] != rows_with
    sc.story_dup = dup
    sc.m_story = mentions[:, 0].copy()
    sc.m_sentence = mentions[:, 1].copy()
    sc.m_key = mentions[:, 2].copy()
    del mentions, mention_rows
    sc.acronym_pairs = np.frombuffer(pair_rows, dtype=np.int64) if pair_rows else np.zeros(0, np.int64)
    return sc


def page_rows(store_path: str | None, items: list[tuple]) -> list[tuple]:
    """The page rules for files whose model output is stored: :func:`analysis.pagecache.page_record` per file.

    ``items`` are ``(path, text, encoding, sha256, stored)``, ``stored`` the
    stored rows as plain tuples, ``(sentences, mentions)``
    (``Store.get_many(..., rows=True)``), or the record's id in the store at
    ``store_path``, read here; runs in the executor's workers like
    ``annotate_batch``, so that they share the reading of the store.
    """
    from .entities import assemble_page
    from .pagecache import page_record
    from .reader import Document
    from .stories import split_page

    ids = {stored: stored for *_, stored in items if isinstance(stored, int)}
    read = _reader(store_path).records_of(ids, rows=True) if ids else {}
    out = []
    for path, text, encoding, sha256, stored in items:
        sents, ments = read[stored] if isinstance(stored, int) else stored
        doc = Document(path, text, encoding, sha256)
        stories = split_page(doc)
        for st in stories:  # dateline mentions carry the place as printed; named at the end
            st.places = list(st.dateline.places_raw) if st.dateline else []
        out.append(page_record(assemble_page(doc, stories, sents, ments)))
    return out


def _readable_path(store) -> str | None:
    """The path of ``store`` when it is an SQLite file that another connection may read, else None."""
    from .store import Store

    path = getattr(store, "path", None)
    if not isinstance(store, Store) or path is None:
        return None
    try:
        main = store.conn.execute("PRAGMA database_list").fetchone()
    except Exception:  # noqa: BLE001 - a closed or odd connection: hand the records over
        return None
    return main[2] if main and main[2] and Path(main[2]).is_file() else None


_READER: list = []  # (path, Store): the read-only connection of this process, kept across batches


def _close_reader() -> None:
    while _READER:
        _READER.pop()[1].conn.close()


def _reader(path: str):
    """A read-only :class:`analysis.store.Store` on ``path``, opened once per process (one at a time)."""
    from .errors import StoreError
    from .store import Store, connect_readonly

    if _READER and _READER[0][0] == path:
        return _READER[0][1]
    _close_reader()
    conn = connect_readonly(path)
    if conn is None:
        raise StoreError(f"the annotation store {path} is gone")
    store = Store(conn, Path(path))
    _READER.append((path, store))
    return store


AUTO_MIN_PAGES = 1000  # --jobs auto: one worker for the page rules per this many files that need them


class _Pools:
    """The executors of one streamed pass, opened when first needed and kept to its end.

    The page rules go to ``--jobs`` local processes (``auto``: the CPUs, one
    per :data:`AUTO_MIN_PAGES` files that need them); the model runs on the
    same processes when there are several (they load it when it is first
    asked for), else on the executor the NLP pass would choose
    (:func:`analysis.parallel.open_executor`, a Dask cluster with ``--scheduler``,
    where the rules stay in this process).
    """

    def __init__(self, model_ref, jobs: int | None, scheduler: str | None) -> None:
        from contextlib import ExitStack

        self.model_ref, self.jobs, self.scheduler = model_ref, jobs, scheduler
        self._rules = self._model = None
        self._stack = ExitStack()

    def rules(self, pages: int):
        from .parallel import InProcessExecutor, LocalExecutor, available_cpus

        if self._rules is None:
            n = self.jobs if self.jobs is not None else max(1, min(available_cpus(), pages // AUTO_MIN_PAGES))
            if self.scheduler or n <= 1 or not pages:  # nothing to spread: no pool to start
                self._rules = InProcessExecutor()
            else:
                self._rules = self._stack.enter_context(LocalExecutor(None, n))
        return self._rules

    def model(self, words: int):
        from .parallel import LocalExecutor, choose_jobs, open_executor, worker_spec

        if self._model is None:
            if isinstance(self._rules, LocalExecutor) and not self.scheduler:
                self._model = self._rules
            else:
                n = 1 if self.scheduler else choose_jobs(self.jobs, words=words)
                self._model = self._stack.enter_context(
                    open_executor(worker_spec(self.model_ref), jobs=n, scheduler=self.scheduler))
        return self._model

    def __enter__(self) -> "_Pools":
        return self

    def __exit__(self, *exc) -> None:
        self._stack.__exit__(*exc)


# -- canonical names on the tables ----------------------------------------------------

@dataclass
class Names:
    """Canonical names: ``m_name[mention]`` indexes ``names``; ids follow the names' sort order."""

    names: list[str]
    labels: list[str]  # name id -> label
    m_name: object  # numpy int32 array

    def labels_of(self) -> dict[str, str]:
        return dict(zip(self.names, self.labels))


def _np(a):
    import numpy as np

    return np.asarray(a)


def canonical_names(sc: StreamedCorpus, aliases=None) -> Names:
    """The rules of :func:`analysis.canonical.canonicalise`, on distinct keys and their counts.

    Every mention of one key has the same name up to the short-form step,
    which alone looks at stories; counts are weighted by mentions per key.
    """
    import numpy as np

    from .canonical import _is_all_caps, _words, clean, genitive_base, variant_renames
    from .knowledge import acronyms, enabled, fold, initials_match, is_acronym, label_prior
    from .textnorm import nfc_text

    keys = sc.keys
    mk = _np(sc.m_key)
    weight = np.bincount(mk, minlength=len(keys)).tolist()
    bases = [nfc_text(h if h else clean(t, lab)) for t, lab, _, h in keys]
    forms: dict[str, Counter] = defaultdict(Counter)
    for b, w in zip(bases, weight):
        forms[b.casefold()][b] += w
    usual = {k: min(f.items(), key=lambda kv: (-kv[1], _is_all_caps(kv[0]), kv[0]))[0] for k, f in forms.items()}
    names = [usual[b.casefold()] for b in bases]

    if enabled("acronyms"):
        table = acronyms()
        names = [table[fold(n)][0] if fold(n) in table else n for n in names]
        defined: dict[str, str] = {}
        pairs = sc.acronym_pairs
        for j in range(0, len(pairs), 2):
            full, short = names[mk[pairs[j]]], names[mk[pairs[j + 1]]]
            if is_acronym(short) and fold(short) not in table and " " in full and initials_match(short, full):
                defined[fold(short)] = full
        if defined:
            names = [defined.get(fold(n), n) for n in names]

    if enabled("translit"):
        counts: Counter = Counter()
        for n, (_, lab, _, _), w in zip(names, keys, weight):
            if lab in ("PER", "LOC"):
                counts[n] += w
        rename = variant_renames(counts)
        if rename:
            names = [rename.get(n, n) for n in names]

    labelled = {(n.casefold(), lab) for n, (_, lab, _, _) in zip(names, keys)}
    for k, (n, (_, lab, src, _)) in enumerate(zip(names, keys)):
        if lab == "MISC" or src != "model":
            continue
        base = genitive_base(n)
        if base and (base.casefold(), lab) in labelled:
            names[k] = usual[base.casefold()] if base.casefold() in usual else base

    # Short forms: per mention, as it depends on the story.
    vocab = sorted(set(names))
    nid = {n: i for i, n in enumerate(vocab)}
    key_name = np.array([nid[n] for n in names], dtype=np.int32)
    m_name = key_name[mk] if len(mk) else np.zeros(0, dtype=np.int32)
    m_story = _np(sc.m_story)
    key_per = np.array([lab == "PER" for _, lab, _, _ in keys], dtype=bool)
    key_model = np.array([src == "model" for _, _, src, _ in keys], dtype=bool)
    words_of: dict[str, tuple] = {}
    by_suffix: dict[tuple, set[str]] = defaultdict(set)
    for n in sorted({names[k] for k in range(len(keys)) if key_per[k]}):
        words_of[n] = _words(n)
        for j in range(1, len(words_of[n])):
            by_suffix[words_of[n][j:]].add(n)
    word_key = {}
    short = np.zeros(len(vocab), dtype=bool)
    for n in set(names):
        w = word_key[n] = _words(n)
        short[nid[n]] = w in by_suffix

    def longest_expansion(cands) -> str | None:
        if not cands:
            return None
        maximal = {c for c in cands
                   if not any(c != d and words_of[d][-len(words_of[c]):] == words_of[c] for d in cands)}
        return next(iter(maximal)) if len(maximal) == 1 else None

    if len(mk):
        cand = np.flatnonzero(short[m_name] & key_model[mk])
        if len(cand):
            stories = np.unique(m_story[cand])
            per_rows = np.flatnonzero(key_per[mk] & np.isin(m_story, stories))
            in_story: dict[int, set[str]] = defaultdict(set)
            for s, n in zip(m_story[per_rows].tolist(), m_name[per_rows].tolist()):
                in_story[s].add(vocab[n])
            corpus_cache: dict[str, str | None] = {}
            story_cache: dict[tuple[int, int], str | None] = {}
            lab_of_key = [lab for _, lab, _, _ in keys]
            new = m_name.copy()
            for i, s, n, k in zip(cand.tolist(), m_story[cand].tolist(), m_name[cand].tolist(), mk[cand].tolist()):
                name = vocab[n]
                hit = story_cache.get((s, n), False)
                if hit is False:
                    w = word_key[name]
                    cands = {c for c in in_story.get(s, ()) if len(words_of[c]) > len(w) and words_of[c][-len(w):] == w}
                    hit = story_cache[(s, n)] = longest_expansion(cands)
                full = hit
                if full is None and lab_of_key[k] == "PER":
                    if name not in corpus_cache:
                        corpus_cache[name] = longest_expansion(by_suffix.get(word_key[name], set()))
                    full = corpus_cache[name]
                if full:
                    new[i] = nid[full]
            m_name = new

    if aliases:
        pair = mk.astype(np.int64) * len(vocab) + m_name
        uniq, inverse = np.unique(pair, return_inverse=True)
        renamed = [aliases.canonical(vocab[p % len(vocab)], bases[p // len(vocab)]) or vocab[p % len(vocab)]
                   for p in uniq.tolist()]
        vocab2 = sorted(set(vocab) | set(renamed))
        nid2 = {n: i for i, n in enumerate(vocab2)}
        m_name = np.array([nid2[n] for n in renamed], dtype=np.int32)[inverse] if len(uniq) else m_name
        vocab = vocab2

    # Labels: every mention votes; a dateline place outweighs the model.
    label_names = sorted({lab for _, lab, _, _ in keys})
    lid = {lab: i for i, lab in enumerate(label_names)}
    nl = max(len(label_names), 1)
    key_code = np.array([lid[lab] for _, lab, _, _ in keys], dtype=np.int32)
    key_date = np.array([src == "dateline" for _, _, src, _ in keys], dtype=bool)
    votes = np.zeros(len(vocab) * nl, dtype=np.int64)
    if len(mk):
        code = m_name * nl + key_code[mk]  # int32: names x labels stay far below 2**31
        date = key_date[mk]
        votes += np.bincount(code[~date], minlength=len(vocab) * nl)
        votes += 1_000_000 * np.bincount(code[date], minlength=len(vocab) * nl)
        del code, date
    votes = votes.reshape(len(vocab), nl)
    present = np.bincount(m_name, minlength=len(vocab)) > 0
    order = {"PER": 0, "ORG": 1, "LOC": 2, "MISC": 3}
    acronym_order = {"ORG": 0, "LOC": 1, "MISC": 2, "PER": 3}
    labels: list[str] = []
    for i, n in enumerate(vocab):
        if not present[i]:
            labels.append("")
            continue
        c = {label_names[j]: int(v) for j, v in enumerate(votes[i].tolist()) if v}
        prior = None if any(v >= 1_000_000 for v in c.values()) else label_prior(n)
        if prior is not None:
            labels.append(prior)
        else:
            rank = acronym_order if _is_all_caps(n) and len(n) <= 6 else order
            labels.append(min(c.items(), key=lambda kv: (-kv[1], rank.get(kv[0], 9)))[0])
    if aliases:
        labels = [aliases.labels.get(n, lab) if lab else lab for n, lab in zip(vocab, labels)]
    # Only the names some mention has (an alias may leave one unused).
    keep = np.flatnonzero(present)
    if len(keep) < len(vocab):
        remap = np.full(len(vocab), -1, dtype=np.int32)
        remap[keep] = np.arange(len(keep))
        m_name = remap[m_name]
        vocab = [vocab[i] for i in keep.tolist()]
        labels = [labels[i] for i in keep.tolist()]
    return Names(vocab, labels, m_name.astype(np.int32))


# -- selections and records ------------------------------------------------------------

def adjective_mask(sc: StreamedCorpus, nm: Names, keep_adjectives: bool):
    """Per mention: False for a mention of a nationality adjective (unless ``keep_adjectives``)."""
    import numpy as np

    from .knowledge import is_nationality_adjective

    if keep_adjectives:
        return np.ones(len(nm.m_name), dtype=bool)
    gone = np.array([is_nationality_adjective(n, lab) for n, lab in zip(nm.names, nm.labels)], dtype=bool)
    return ~gone[nm.m_name] if len(nm.m_name) else np.ones(0, dtype=bool)


def story_mask(sc: StreamedCorpus, keep_duplicates: bool):
    """Per mention: True when its story counts (duplicates go unless ``keep_duplicates``)."""
    import numpy as np

    if keep_duplicates:
        return np.ones(len(sc.m_story), dtype=bool)
    return ~sc.story_dup[sc.m_story]


def _distinct(x):
    """The distinct values of ``x``, sorted (``np.unique`` by sorting in place: faster on big arrays)."""
    import numpy as np

    x = np.sort(x)
    return x[np.concatenate(([True], x[1:] != x[:-1]))] if len(x) else x


def _distinct_counts(x):
    """:func:`_distinct` and how often each value occurs."""
    import numpy as np

    x = np.sort(x)
    if not len(x):
        return x, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))
    return x[starts], np.diff(np.append(starts, len(x)))


def variants(sc: StreamedCorpus, nm: Names, mask) -> dict[str, set[str]]:
    """Entity -> the surface forms of its mentions under ``mask`` (:func:`analysis.filters.variants_of`)."""
    import numpy as np

    mk = _np(sc.m_key)[mask].astype(np.int64)
    codes = _distinct(nm.m_name[mask].astype(np.int64) * max(len(sc.keys), 1) + mk)
    out: dict[str, set[str]] = {}
    for c in codes.tolist():
        n, k = divmod(c, max(len(sc.keys), 1))
        out.setdefault(nm.names[n], set()).add(sc.keys[k][0])
    return out


def entity_records(sc: StreamedCorpus, nm: Names, mask, *, min_count: int = 1, top: int | None = None,
                   names: set[str] | None = None) -> list[dict]:
    """The rows of :func:`analysis.entities.entity_records` for the mentions under ``mask``."""
    import numpy as np

    from .textnorm import nfc_text

    n_names = max(len(nm.names), 1)
    m_name = nm.m_name[mask].astype(np.int64)
    rows_story = _np(sc.m_story)[mask].astype(np.int64)
    mentions = np.bincount(m_name, minlength=n_names)
    stories = np.bincount(_distinct(m_name * len(sc.story_file) + rows_story) // max(len(sc.story_file), 1),
                          minlength=n_names)
    story_file = _np(sc.story_file).astype(np.int64)
    files = np.bincount(_distinct(m_name * max(len(sc.paths), 1) + story_file[rows_story]) // max(len(sc.paths), 1),
                        minlength=n_names)
    forms = {}
    form_of_key = []
    for t, _, _, _ in sc.keys:
        v = nfc_text(" ".join(t.split()))
        form_of_key.append(forms.setdefault(v, len(forms)))
    form_list = list(forms)
    fk = np.array(form_of_key, dtype=np.int64)[_np(sc.m_key)[mask]] if len(form_of_key) else np.zeros(0, np.int64)
    codes, counts = _distinct_counts(m_name * max(len(forms), 1) + fk)
    var: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for c, k in zip(codes.tolist(), counts.tolist()):
        n, f = divmod(c, max(len(forms), 1))
        var[n].append((form_list[f], k))
    rows = []
    for i in np.flatnonzero(mentions).tolist():
        name, n = nm.names[i], int(mentions[i])
        if n < min_count or (names is not None and name not in names):
            continue
        rows.append({
            "entity": name, "label": nm.labels[i], "mentions": n, "stories": int(stories[i]),
            "files": int(files[i]),
            "variants": [v for v, _ in sorted(var[i], key=lambda kv: (-kv[1], kv[0]))],
        })
    rows.sort(key=lambda r: (-r["mentions"], r["entity"]))
    return rows[:top] if top else rows


# -- co-occurrence -----------------------------------------------------------------------

@dataclass
class UnitTable:
    """Units as integer codes in corpus order, and the distinct ``(unit, entity)`` rows sorted."""

    unit: str
    n_units: int
    unit_ids: Callable[[list[int]], list[str]]
    rows_unit: object  # numpy int64, sorted by unit then entity
    rows_name: object


def unit_table(sc: StreamedCorpus, nm: Names, mask, unit: str, keep_duplicates: bool) -> UnitTable:
    """What :func:`analysis.cooccurrence.units_of` yields, as integer tables."""
    import numpy as np

    from .errors import NewsctlError
    from .cooccurrence import UNITS

    if unit not in UNITS:
        raise NewsctlError(f"unknown unit {unit!r} (choose from {', '.join(UNITS)})")
    n_stories = len(sc.story_file)
    kept_story = np.ones(n_stories, dtype=bool) if keep_duplicates else ~sc.story_dup
    m_story = _np(sc.m_story).astype(np.int64)[mask]
    m_name = nm.m_name[mask].astype(np.int64)
    stems = sc.stems

    def story_ids(rows, suffixes=None) -> list[str]:
        files, index = _np(sc.story_file)[rows].tolist(), _np(sc.story_index)[rows].tolist()
        if suffixes is None:
            return [f"{stems[f]}:{i}" for f, i in zip(files, index)]
        return [f"{stems[f]}:{i}.{k}" for f, i, k in zip(files, index, suffixes)]

    if unit == "story":
        codes = m_story
        n_units = int(kept_story.sum())

        def ids(us) -> list[str]:
            return story_ids(np.asarray(us, dtype=np.int64))
    elif unit == "sentence":
        m_sent = _np(sc.m_sentence).astype(np.int64)[mask]
        last = np.full(n_stories, -1, dtype=np.int64)
        np.maximum.at(last, m_story, m_sent)
        count = np.maximum(_np(sc.story_sents).astype(np.int64), last + 1)
        count[~kept_story] = 0
        first = np.concatenate(([0], np.cumsum(count)))
        codes = first[m_story] + m_sent
        n_units = int(count.sum())

        def ids(us) -> list[str]:
            us = np.asarray(us, dtype=np.int64)
            rows = np.searchsorted(first, us, side="right") - 1
            return story_ids(rows, (us - first[rows]).tolist())
    else:
        story_file = _np(sc.story_file).astype(np.int64)
        codes = story_file[m_story]
        n_units = len(np.unique(story_file[kept_story]))

        def ids(us) -> list[str]:
            return [sc.paths[u] for u in np.asarray(us, dtype=np.int64).tolist()]
    n = max(len(nm.names), 1)
    distinct = _distinct(codes * n + m_name)
    return UnitTable(unit, n_units, ids, distinct // n, distinct % n)


def pair_counts(ut: UnitTable, n_names: int, *, chunk_rows: int = 1_000_000):
    """``(pair codes a * n_names + b with a < b, units sharing the pair)``, counted in chunks of rows."""
    import numpy as np

    parts_c, parts_n = [], []
    for lo, hi in _chunks(ut.rows_unit, chunk_rows):
        codes = _pairs(ut.rows_unit[lo:hi], ut.rows_name[lo:hi], n_names)
        if len(codes):
            c, k = _distinct_counts(codes)
            parts_c.append(c)
            parts_n.append(k)
    if not parts_c:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    allc = np.concatenate(parts_c)
    uniq, inverse = np.unique(allc, return_inverse=True)
    return uniq, np.bincount(inverse, weights=np.concatenate(parts_n), minlength=len(uniq)).astype(np.int64)


def _chunks(rows_unit, size: int):
    """Row ranges of about ``size`` rows that never cut a unit."""
    import numpy as np

    lo, n = 0, len(rows_unit)
    while lo < n:
        hi = min(lo + size, n)
        if hi < n:
            hi = int(np.searchsorted(rows_unit, rows_unit[hi - 1], side="right"))
        yield lo, hi
        lo = hi


def _pairs(units, names, n_names: int, with_units: bool = False):
    """Every pair inside each unit of sorted ``(unit, name)`` rows: codes (and their units)."""
    import numpy as np

    out, out_u = [], []
    d = 1
    while d < len(units):
        same = units[d:] == units[:-d]
        if not same.any():
            break
        out.append(names[:-d][same] * n_names + names[d:][same])
        if with_units:
            out_u.append(units[:-d][same])
        d += 1
    codes = np.concatenate(out) if out else np.zeros(0, np.int64)
    if with_units:
        return codes, (np.concatenate(out_u) if out_u else np.zeros(0, np.int64))
    return codes


def pair_units(ut: UnitTable, n_names: int, wanted, counts, *, chunk_rows: int = 1_000_000) -> dict:
    """The units of each pair code in ``wanted`` (sorted numpy array), in corpus order: ``{code: units}``.

    ``counts[j]`` is how many units the pair ``wanted[j]`` has (:func:`pair_counts`).
    Every pair's units are a slice of one array (int32 where the units fit),
    filled chunk by chunk: what is held is the units printed plus one
    chunk's pairs, never an object per unit.
    """
    import numpy as np

    if not len(wanted) or not len(ut.rows_unit):
        return {}
    span = int(ut.rows_unit[-1]) + 1
    starts = np.concatenate(([0], np.cumsum(np.asarray(counts, dtype=np.int64))))
    out = np.empty(int(starts[-1]), dtype=np.int32 if span <= 1 << 31 else np.int64)
    fill = starts[:-1].copy()  # where each pair's next unit goes
    for lo, hi in _chunks(ut.rows_unit, chunk_rows):
        codes, units = _pairs(ut.rows_unit[lo:hi], ut.rows_name[lo:hi], n_names, with_units=True)
        pos = np.searchsorted(wanted, codes)
        hit = pos < len(wanted)
        hit[hit] = wanted[pos[hit]] == codes[hit]
        key = pos[hit].astype(np.int64) * span + units[hit]  # by pair, then unit
        del codes, units, pos, hit
        if not len(key):
            continue
        key.sort()
        pos = key // span
        first = np.flatnonzero(np.concatenate(([True], pos[1:] != pos[:-1])))
        size = np.diff(np.append(first, len(key)))
        group = pos[first]
        # A chunk holds whole units, later in the corpus than the chunks before: append.
        at = np.repeat(fill[group] - first, size) + np.arange(len(key))
        out[at] = key - pos * span
        fill[group] += size
        del key, pos, at
    return {c: out[starts[j]:starts[j + 1]] for j, c in enumerate(wanted.tolist())}


class Cooccurrences:
    """Co-occurrence counts of the mentions under ``mask``, from which the output's pairs are drawn.

    :attr:`co` is an :class:`analysis.cooccurrence.Cooccurrence` with every
    entity's units and variants but no pairs; :meth:`for_pairs` and
    :meth:`for_matrix` return a copy holding just the pairs that output can
    show, so :func:`analysis.cooccurrence.select_pairs`, ``matrix`` and
    ``to_graph`` give what they give on the whole corpus.
    """

    def __init__(self, sc: StreamedCorpus, nm: Names, mask, *, unit: str = "story", keep_duplicates: bool = False):
        import numpy as np

        from . import cooccurrence as cx

        self.nm = nm
        self.ut = ut = unit_table(sc, nm, mask, unit, keep_duplicates)
        self.n_names = max(len(nm.names), 1)
        self.ent_units = np.bincount(ut.rows_name, minlength=self.n_names)
        entity_units = Counter({nm.names[i]: int(self.ent_units[i]) for i in np.flatnonzero(self.ent_units).tolist()})
        self.co = cx.Cooccurrence(ut.unit, ut.n_units, entity_units, {}, nm.labels_of(), variants(sc, nm, mask))
        self.codes, self.counts = pair_counts(ut, self.n_names)
        self.a, self.b = self.codes // self.n_names, self.codes % self.n_names

    def _with(self, pairs: dict):
        import dataclasses

        return dataclasses.replace(self.co, pair_units=pairs)

    def for_matrix(self, n: int, labels=None):
        """The pairs among the ``n`` entities of the matrix (their counts; the units are not kept)."""
        import numpy as np

        from .cooccurrence import top_entities

        ids = [self.nm.names.index(e) for e in top_entities(self.co, n, labels)]
        chosen = np.isin(self.a, ids) & np.isin(self.b, ids)
        names = self.nm.names
        return self._with({(names[x], names[y]): range(k) for x, y, k in  # range(k): k units, not listed
                           zip(self.a[chosen].tolist(), self.b[chosen].tolist(), self.counts[chosen].tolist())})

    def for_pairs(self, *, sort: str = "count", min_count: int = 1, top: int | None = None, labels=None,
                  names: set[str] | None = None):
        """The pairs :func:`analysis.cooccurrence.select_pairs` may return for these options, with their units."""
        import numpy as np

        from . import cooccurrence as cx
        from .errors import NewsctlError

        if sort not in cx.SORTS:
            raise NewsctlError(f"unknown sort {sort!r} (choose from {', '.join(cx.SORTS)})")
        nm, a, b, counts = self.nm, self.a, self.b, self.counts
        keep = counts >= min_count
        if labels:
            ok = np.array([lab in set(labels) for lab in nm.labels], dtype=bool)
            keep &= ok[a] & ok[b]
        if names is not None:
            ok = np.array([n in names for n in nm.names], dtype=bool)
            keep &= ok[a] | ok[b]
        idx = np.flatnonzero(keep)
        if top and len(idx) > top:
            if sort == "count":
                score = counts[idx].astype(float)
            else:
                f = cx.npmi if sort == "npmi" else cx.llr
                ea, eb = self.ent_units[a[idx]].tolist(), self.ent_units[b[idx]].tolist()
                score = np.array([f(k, x, y, self.ut.n_units) for k, x, y in zip(counts[idx].tolist(), ea, eb)])
            cut = np.partition(score, len(score) - top)[len(score) - top]
            idx = idx[score >= cut]  # every pair that may make the top, ties included
        units = pair_units(self.ut, self.n_names, self.codes[idx], counts[idx])
        return self._with({(nm.names[int(a[i])], nm.names[int(b[i])]): UnitIds(units[int(self.codes[i])],
                                                                               self.ut.unit_ids)
                           for i in idx.tolist()})


class UnitIds(Sequence):
    """The ids of a pair's units, made from their integer codes when they are read (a million
    strings for the pairs of a big corpus would not fit where their codes do)."""

    CHUNK = 65_536  # ids made at a time

    def __init__(self, units, ids: Callable[[object], list[str]]) -> None:
        self.units, self.ids = units, ids  # a numpy array of unit codes; codes -> ids

    def __len__(self) -> int:
        return len(self.units)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.ids(self.units[i])
        return self.ids(self.units[i:i + 1] if i >= 0 else self.units[i:][:1])[0]

    def __iter__(self):
        for k in range(0, len(self.units), self.CHUNK):
            yield from self.ids(self.units[k:k + self.CHUNK])

    def joined(self, sep: str) -> str:
        """``sep.join(self)``, made a chunk of ids at a time."""
        return sep.join([sep.join(self.ids(self.units[k:k + self.CHUNK]))
                         for k in range(0, len(self.units), self.CHUNK)])

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"UnitIds({len(self)} units)"
