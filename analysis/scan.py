"""``datelines`` over a corpus of any size: files streamed in batches, flat memory.

:func:`analysis.corpus.load_corpus` holds every text and story; this module
holds none of them. Files are read, split and parsed in batches (in worker
processes with ``--jobs``, through the executor of the NLP pass) and only
compact corpus-wide tables stay in the client:

* duplicates: an 8-byte digest of each story's normalised text -> the story
  that had it first (``duplicate_of``);
* place names: the set of dateline places and, per name, how often each
  casing occurs in running text (the corpus' own casing wins, as in
  :class:`analysis.datelines.PlaceNamer`);
* for ``--summary``: stories per combination of kind, section, places and
  agencies.

The casing of a place may be decided by the last file, so rows come out in a
second pass over the files, once the names are known. The first pass counts
the casings with the place names known when its batch was sent; a batch that
missed a name found later is counted again (read and one regular
expression; in a corpus whose places all turn up early that is the first
few batches). The output is the same as the in-memory path's, byte for
byte, whatever the batches and workers.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from .datelines import _LOWER_MAX, PlaceNamer, count_forms, forms_patterns
from .errors import NewsctlError
from .reader import STDIN, DecodeError, NotRegularFileError, ReadWarning, decode, path_stem, read_regular, walk
from .stories import page_fields
from .textnorm import lower

BATCH_FILES = 32  # files in the first batches
BATCH_BYTES = 256_000  # a batch is cut earlier when its files would grow past this (the first batches)
BATCH_GROWTH = 8  # later batches grow to this many times the first: fewer, larger messages to and from the workers
SPILL_STORIES = 512  # rows written to the temporary file at a time
FORMAT_STORIES = 4096  # rows formatted in one piece by DatelineScan.formatted (about)
AUTO_BYTES_PER_JOB = 4_000_000  # --jobs auto: one worker process per this much input, up to the CPUs

SPLIT, FORMS, ROWS = "split", "forms", "rows"


class SpillError(NewsctlError):
    """The rows waiting for the last file cannot be written to a temporary file (a full disk)."""


class ScanItem(NamedTuple):
    """One batch for :func:`scan_batch`: what to do, the names known, the files."""

    mode: str  # SPLIT (places, casings, digests), ROWS (that and headlines, datelines) or FORMS (casings only)
    names: frozenset[str]  # casefolded place names known to the client
    files: tuple[tuple[str, bytes | None], ...]  # (path, standard input's bytes for "-")
    numbers: tuple[int, ...] = ()  # the files' numbers in the input (a story's key: file number << 32 | index)


class FileScan(NamedTuple):
    path: str
    warning: tuple[str, bool] | None  # (message, skipped)
    stories: int | None  # how many; None: the file was skipped


class BatchScan(NamedTuple):
    """What a worker learnt of a batch, in a few flat lists: no object per story crosses to the client."""

    stories: bytes  # array("q"): the stories of each file of the batch, in order; -1: the file was skipped
    warnings: dict[int, tuple[str, bool]]  # a file's place in the batch -> its warning (message, skipped)
    used: int  # how many names the casings were counted with (client names plus the batch's own)
    forms: dict[str, int]  # running-text form -> occurrences
    combos: list[tuple] = []  # distinct (kind, section, places_raw, agencies) of the batch, first seen first
    counts: list[int] = []  # stories per combination
    # The duplicate key of each story with text, in order, and file number << 32 | index of those
    # stories: array("Q")s, which cross to the client as two blocks of bytes, not an int object each.
    digests: Sequence[int] = ()
    keys: Sequence[int] = ()
    combo_of: bytes = b""  # array("I"): the combination of each of those stories
    blobs: list[tuple[bytes, int, int, int]] = []  # ROWS: spill pieces (marshalled rows, stories, first, last file)


def _read(path: str, data: bytes | None) -> tuple[str | None, tuple[str, bool] | None]:
    """Read one input as :func:`analysis.reader.read_corpus` does: its text and its warning."""
    try:
        if path == STDIN:
            raw = data or b""
        else:
            raw = read_regular(path)
        text, encoding = decode(raw)
    except DecodeError as exc:
        return None, (f"skipped: {exc}", True)
    except NotRegularFileError as exc:
        return None, (f"skipped: {exc.strerror}", True)
    except OSError as exc:
        return None, (f"skipped: cannot read ({exc.strerror or exc.__class__.__name__})", True)
    if encoding == "cp1252":
        return text, ("not valid UTF-8; decoded as Windows-1252", False)
    return text, None


def story_digest(text: str, folded: str | None = None) -> int:
    """8 bytes of the story text's hash, case and spacing ignored (the duplicate key).

    ``folded``: ``text.casefold()``, when the caller has it.
    """
    if folded is not None:
        text = folded
    if "\n" in text:
        text = text.replace("\n", " ")  # a lead's paragraphs: split() treats the two alike
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        # One space between words already (printable text has no other
        # white space), as ``" ".join(text.split())`` would leave it; the
        # case fold adds no white space.
        key = text if folded is not None else text.casefold()
    else:
        key = " ".join(text.casefold().split())
    return int.from_bytes(blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def _folds_as_lower(text: str) -> bool:
    """True when ``text.casefold() == text.lower()``, character for character (checked in C)."""
    if text.isascii():
        return True
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return "\u00df" not in text and "\u00b5" not in text  # the two Latin-1 letters whose case fold is another: ß, µ


def scan_batch(spec, item: ScanItem) -> BatchScan:
    """Read, split and parse one batch of files (runs in a worker or in the client).

    The rows (``ROWS``) come back marshalled, ready for the client's
    temporary file; the tallies as one count per combination of the batch;
    the duplicate keys as two arrays the client checks in one dict
    operation per batch.
    """
    import marshal
    from array import array

    texts = []
    out = array("q")  # stories per file
    warned: dict[int, tuple[str, bool]] = {}
    places_seen: set[tuple[str, ...]] = set()  # places tuples met in this batch (each looked at once)
    found_places: set[str] = set()
    combos: dict[tuple, int] = {}
    by_dateline: dict[tuple, int] = {}  # (section, dateline as printed) -> its combination's number
    counts: list[int] = []
    digests = array("Q")
    keys = array("Q")
    combo_of = array("I")
    blobs: list[tuple[bytes, int, int, int]] = []
    pending: list[tuple] = []  # (file number, path, rows) not yet marshalled
    waiting = 0
    rows = item.mode == ROWS
    numbers = item.numbers or range(len(item.files))
    for (path, data), k in zip(item.files, numbers):
        text, warning = _read(path, data)
        if warning is not None:
            warned[len(out)] = warning
        if text is None:
            out.append(-1)
            continue
        # The lower-cased text, once: the casings are counted in it, and where
        # it is the case-folded text too the duplicate keys are cut from it.
        low = lower(text) if len(text) <= _LOWER_MAX else None
        texts.append((text, low))
        if item.mode == FORMS:
            out.append(0)
            continue
        folded = low if low is not None and _folds_as_lower(text) else None
        page_rows: list[tuple] = []
        base = k << 32
        n = 0
        for n, (kind, section, _, end, body_start, headline, found, _, age) in enumerate(page_fields(text, rows), 1):
            index = n - 1
            if found is None:
                places = agencies = ()
                raw = None
            else:
                raw, places, agencies, _ = found[0]
            # The section (None for a lead) and the dateline as printed fix the combination:
            # a cheap key, the combination itself made once per key.
            c = by_dateline.get((section, raw))
            if c is None:
                if places not in places_seen:
                    places_seen.add(places)
                    found_places.update(places)
                combo = (kind, section, places, agencies)
                c = combos.get(combo)
                if c is None:
                    c = combos[combo] = len(counts)
                    counts.append(0)
                by_dateline[(section, raw)] = c
            counts[c] += 1
            # The body as the duplicate key reads it: cut from the folded page when there is one
            # (white space is white space in either).
            body = text[body_start: end] if folded is None else folded[body_start: end]
            if body and not body.isspace():
                digests.append(story_digest(body, None if folded is None else body))
                keys.append(base | index)
                combo_of.append(c)
            if rows:
                page_rows.append((index, kind, section, places, agencies, age[0] if age else None, raw, headline))
        out.append(n)
        # The rows go in pieces of SPILL_STORIES: one file may hold a million stories.
        for a in range(0, len(page_rows), SPILL_STORIES):
            piece = page_rows[a: a + SPILL_STORIES]
            pending.append((k, path, piece))
            waiting += len(piece)
            if waiting >= SPILL_STORIES:
                blobs.append((marshal.dumps(pending), waiting, pending[0][0], k))
                pending, waiting = [], 0
    if pending:
        blobs.append((marshal.dumps(pending), waiting, pending[0][0], pending[-1][0]))
    forms: Counter[str] = Counter()
    used = item.names | {p.casefold() for p in found_places if p}
    patterns = forms_patterns(frozenset(used))
    for text, low in texts:
        count_forms(patterns, text, forms, low)
    return BatchScan(out.tobytes(), warned, len(used), dict(forms), list(combos), counts, digests, keys, combo_of.tobytes(), blobs)


def choose_scan_jobs(jobs: int | None, nbytes: int, cpus: int | None = None) -> int:
    """``--jobs`` for datelines: as asked, or ``auto``: one process per :data:`AUTO_BYTES_PER_JOB` bytes."""
    from .parallel import available_cpus

    if jobs is not None:
        return jobs
    cpus = available_cpus() if cpus is None else cpus
    return max(1, min(cpus, nbytes // AUTO_BYTES_PER_JOB))


class Tally(NamedTuple):
    """Stories sharing every field ``--summary`` counts by (a story-like for the counting functions)."""

    kind: str
    section: str | None
    places_raw: tuple[str, ...]
    agencies: tuple[str, ...]
    duplicate_of: bool
    places: tuple[str, ...]  # readable


@dataclass
class DatelineScan:
    """One streamed run of ``datelines``: call :meth:`scan` first, then read what it learnt.

    ``executor``: an :class:`analysis.parallel.Executor` whose ``map_ordered``
    runs :func:`scan_batch` (None: in this process).
    """

    paths: Sequence[str]
    on_warning: Callable[[ReadWarning], None] | None = None
    stdin: bytes | None = None
    executor: object | None = None
    summary: bool = False  # only the per-combination counts are wanted: no rows kept for records()
    walked: list | None = None  # walk(paths), when the caller has walked them already

    warnings_skipped: bool = False
    namer: PlaceNamer = field(default_factory=PlaceNamer)
    names: set[str] = field(default_factory=set)
    tallies: Counter = field(default_factory=Counter)  # (kind, section, places_raw, agencies, dup) -> stories
    redone: int = 0  # files whose casings were counted again
    # The corpus-wide tables: per story 8 bytes of digest and the file and
    # story numbers of its first occurrence (about 100 bytes in a dict); per
    # file its path and size.
    _first: dict[int, int] = field(default_factory=dict)  # digest -> file number << 32 | story index
    _paths: list[str] = field(default_factory=list)
    _sizes: object = None  # array('q'): bytes per file, -1 unknown
    _problems: dict[int, str] = field(default_factory=dict)  # file number -> why it is skipped unread
    _raw_places: set[str] = field(default_factory=set)  # every place as printed in a dateline
    _dups: dict[int, dict[int, str]] = field(default_factory=dict)  # file number -> story index -> duplicate_of
    _spill: object = None  # a temporary file: the rows of the first pass, for records() (not kept in memory)

    @property
    def partial(self) -> bool:
        return self.warnings_skipped

    def _warn(self, w: ReadWarning) -> None:
        if w.skipped:
            self.warnings_skipped = True
        if self.on_warning:
            self.on_warning(w)

    def _run(self, items: Iterable[ScanItem]) -> Iterator[BatchScan]:
        if self.executor is None:
            return (scan_batch(None, it) for it in items)
        return self.executor.map_ordered(scan_batch, None, items)

    def _batches(self, mode: str, ranges: Iterable[tuple[int, int]] | None = None,
                 names: Callable[[], frozenset[str]] | None = None, spans: list | None = None) -> Iterator[ScanItem]:
        """Batches of the readable files (in ``ranges`` of file numbers, or all); ``spans`` gets each one's range."""
        paths, sizes, problems = self._paths, self._sizes, self._problems
        # The first batches are small, so that the place names are known soon (a batch counts the
        # casings of the names known when it is sent, and is counted again if more turn up); each
        # batch after them is twice the one before, up to BATCH_GROWTH times.
        scale = 1
        for a, b in ranges if ranges is not None else [(0, len(paths))]:
            batch: list[tuple[str, bytes | None]] = []
            numbers: list[int] = []
            size = 0
            start = a
            for k in range(a, b):
                if k in problems:
                    continue
                n = max(sizes[k], 0)
                if batch and (len(batch) >= BATCH_FILES * scale or size + n > BATCH_BYTES * scale):
                    if spans is not None:
                        spans.append((start, k))
                    yield ScanItem(mode, names() if names else frozenset(), tuple(batch), tuple(numbers))
                    batch, numbers, size, start = [], [], 0, k
                    scale = min(2 * scale, BATCH_GROWTH)
                path = paths[k]
                batch.append((path, self._stdin_of(k) if path == STDIN else None))
                numbers.append(k)
                size += n
            if batch:
                if spans is not None:
                    spans.append((start, b))
                yield ScanItem(mode, names() if names else frozenset(), tuple(batch), tuple(numbers))

    def _stdin_of(self, k: int) -> bytes:
        """Standard input's bytes for the first "-" of the inputs; nothing for a second one, as it is read once."""
        return (self.stdin or b"") if self._paths.index(STDIN) == k else b""

    def _files(self, results: Iterable[BatchScan],
               spans: list[tuple[int, int]]) -> Iterator[tuple[int, FileScan | None, BatchScan | None]]:
        """``(file number, its scan, the batch's scan after its last file)`` in input order.

        The scan is None for a file skipped unread; the batch's scan comes
        with the last file of each batch (None with the others).
        """
        for no, result in enumerate(results):
            a, b = spans[no]
            stories = iter(array("q", result.stories))
            i = 0
            for k in range(a, b):
                if k in self._problems:
                    f = None
                else:
                    n = next(stories)
                    f = FileScan(self._paths[k], result.warnings.get(i), None if n < 0 else n)
                    i += 1
                yield k, f, result if k == b - 1 else None

    def _stem(self, k: int) -> str:
        return path_stem(self._paths[k])

    def _first_id(self, first: int, own: int) -> str | None:
        """The id of the story ``first`` (file number << 32 | index) unless it is the id of ``own`` too."""
        if first == own:
            return None
        index = first & 0xFFFFFFFF
        stem = self._stem(first >> 32)
        if index == own & 0xFFFFFFFF and stem == self._stem(own >> 32):
            return None  # the same id: the same file twice, or two files of one name
        return f"{stem}:{index}"

    def scan(self) -> None:
        """The first pass: warnings, place names and their casings, duplicates, tallies."""
        from array import array

        entries, self.walked = self.walked if self.walked is not None else walk(self.paths), None
        self._paths = [e.path for e in entries]
        self._sizes = array("q", (e.size for e in entries))
        self._problems = {k: e.problem for k, e in enumerate(entries) if e.problem}
        del entries
        names_now: frozenset[str] = frozenset()
        spans: list[tuple[int, int]] = []
        best, best_forms, redo = -1, Counter(), []  # casings counted with the most names so far
        spans_of_best: list[tuple[int, int]] = []
        no_text: list[str] = []

        def current() -> frozenset[str]:
            return names_now

        def results() -> Iterator[BatchScan]:
            nonlocal names_now, best, best_forms, spans_of_best
            mode = SPLIT if self.summary else ROWS
            for no, result in enumerate(self._run(self._batches(mode, names=current, spans=spans))):
                yield result
                names_now = frozenset(self.names)
                span = spans[no]
                if result.used > best:
                    redo.extend(spans_of_best)
                    best, best_forms, spans_of_best = result.used, Counter(result.forms), [span]
                elif result.used == best:
                    best_forms.update(result.forms)
                    spans_of_best.append(span)
                else:
                    redo.append(span)

        import tempfile

        try:
            spill = None if self.summary else tempfile.TemporaryFile(prefix="newsctl-datelines-")
        except OSError as exc:
            raise SpillError(f"cannot make a temporary file for the rows ({exc.strerror or exc}); "
                             "set TMPDIR to a writable folder") from None
        self._spill = spill
        seen_places: set[tuple[str, ...]] = set()
        done_to = 0
        for k, f, batch in self._files(results(), spans):
            done_to = k + 1
            if f is None:
                self._warn(ReadWarning(self._paths[k], f"skipped: {self._problems[k]}", skipped=True))
            else:
                if f.warning:
                    self._warn(ReadWarning(f.path, f.warning[0], skipped=f.warning[1]))
                if f.stories == 0:
                    no_text.append(f.path)
            if batch is None:
                continue
            for combo in batch.combos:
                places = combo[2]
                if places not in seen_places:
                    seen_places.add(places)
                    self._raw_places.update(places)
                    self.names.update(p.casefold() for p in places if p)
            self._count(batch)
            if spill is not None:
                for blob in batch.blobs:
                    _spill_write(spill, *blob)
        del seen_places
        for k in range(done_to, len(self._paths)):  # no readable file after these
            self._warn(ReadWarning(self._paths[k], f"skipped: {self._problems[k]}", skipped=True))
        for path in no_text:
            self._warn(ReadWarning(path, "no text", skipped=False))
        self.namer.expect(self.names)
        if best == len(self.names):
            self.namer.add_forms(best_forms)
        else:
            redo.extend(spans_of_best)
        if redo and self.names:
            final = frozenset(self.names)
            for result in self._run(self._batches(FORMS, sorted(redo), names=lambda: final)):
                self.namer.add_forms(result.forms)
        self.redone = sum(1 for a, b in redo for k in range(a, b) if k not in self._problems)

    def _count(self, batch: BatchScan) -> None:
        """Add a batch's stories to the tallies and the duplicate table, with one dict operation in the common case."""
        first_of, tallies = self._first, self.tallies
        digests, keys = batch.digests, batch.keys
        new = dict(zip(reversed(digests), reversed(keys)))  # each digest with its batch's first story
        clash = first_of.keys() & new.keys()
        for d in clash:
            new[d] = first_of[d]  # an earlier batch had it first
        first_of.update(new)
        for combo, n in zip(batch.combos, batch.counts):
            tallies[(*combo, False)] += n
        if not clash and len(new) == len(digests):
            return  # no story of this batch is a duplicate
        from array import array
        from itertools import compress, count
        from operator import ne

        combo_of = array("I", batch.combo_of)
        firsts = list(map(new.__getitem__, digests))  # each story's first occurrence, this batch's or earlier
        for i in compress(count(), map(ne, firsts, keys)):  # only the duplicates, picked out in C
            own = keys[i]
            dup = self._first_id(firsts[i], own)
            if dup is None:
                continue
            self._dups.setdefault(own >> 32, {})[own & 0xFFFFFFFF] = dup
            combo = batch.combos[combo_of[i]]
            tallies[(*combo, True)] += 1
            plain = (*combo, False)
            tallies[plain] -= 1
            if not tallies[plain]:
                del tallies[plain]

    def close(self) -> None:
        """Drop the rows kept on disk for :meth:`records`."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def __enter__(self) -> "DatelineScan":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what the first pass learnt --------------------------------------------------

    def _named(self, places: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.namer.name(p) for p in places)

    def tally_rows(self) -> Iterator[tuple[Tally, int]]:
        """Every combination the corpus has, with its stories, in the order the batches first had them."""
        for (kind, section, places, agencies, dup), n in self.tallies.items():
            yield Tally(kind, section, places, agencies, dup, self._named(places)), n

    def present(self) -> dict[str, set[str]]:
        """The dateline values the corpus has, per filter (for the hints of unmatched filters)."""
        from .filters import corpus_values

        return corpus_values(t for t, _ in self.tally_rows())  # a tally has a story's dateline fields

    # -- the second pass ---------------------------------------------------------------

    def records(self, filt=None) -> Iterator[dict]:
        """The rows of :func:`analysis.corpus.dateline_records`, from the first pass' rows on disk."""
        from .corpus import DATELINE_FIELDS

        for row in self.rows(filt):
            rec = dict(zip(DATELINE_FIELDS, row))
            rec["places"] = list(rec["places"])
            rec["agencies"] = list(rec["agencies"])
            yield rec

    def rows(self, filt=None) -> Iterator[tuple]:
        """:meth:`records` as tuples in the order of ``DATELINE_FIELDS``, places and agencies as tuples.

        The cheap form for a million rows: no dict per story, and the readable
        places of each combination of places worked out once.
        """
        spill = self._spilled()
        spill.seek(0)
        return _rows(_spill_read(spill), self.namer.name, filt, self._dups)

    def formatted(self, fn: Callable[[Iterator[tuple]], tuple[str, int]]) -> Iterator[tuple[str, int]]:
        """``fn(rows)`` over stretches of :meth:`rows` (all of them, in order), in the executor's workers.

        ``fn`` (a function of a module, so that it can be sent to a worker)
        turns rows into text and counts them; the second pass then costs the
        client little more than writing the text, and uses the cores. Without
        an executor the stretches are formatted here.
        """
        spill = self._spilled()
        spill.seek(0)
        readable = {p: self.namer.name(p) for p in self._raw_places}
        dups = self._dups

        def items() -> Iterator[FormatItem]:
            for blob, first, last in _spill_blobs(spill, FORMAT_STORIES):
                mine = {k: dups[k] for k in range(first, last + 1) if k in dups} if dups else {}
                yield FormatItem(blob, readable, fn, mine)

        if self.executor is None:
            return (format_rows(None, it) for it in items())
        return self.executor.map_ordered(format_rows, None, items())

    def _spilled(self):
        if self._spill is None:
            raise ValueError("records() needs a scan() with summary=False")
        return self._spill


class FormatItem(NamedTuple):
    """One stretch of the spilled rows for :func:`format_rows`."""

    blob: bytes  # what _spill_write wrote (one or more headers and marshalled rows)
    readable: dict[str, str]  # place as printed -> its readable form, for every place of the corpus
    fn: Callable[[Iterator[tuple]], tuple[str, int]]
    dups: dict[int, dict[int, str]]  # duplicate_of of the stretch's duplicates: file number -> story index -> id


def format_rows(spec, item: FormatItem) -> tuple[str, int]:
    """The rows of a stretch of the spill, formatted by ``item.fn`` (runs in a worker or in the client)."""
    import io

    return item.fn(_rows(_spill_read(io.BytesIO(item.blob)), item.readable.__getitem__, None, item.dups))


def _rows(records: Iterable[tuple], name: Callable[[str], str], filt, dups: dict) -> Iterator[tuple]:
    """The rows of :meth:`DatelineScan.rows` from the spilled ``(file number, path, stories)``."""
    named: dict[tuple[str, ...], tuple[str, ...]] = {}  # places as printed -> readable
    for k, path, stories in records:
        prefix = path_stem(path) + ":"
        of = dups.get(k)
        for index, kind, section, places_raw, agencies, age, dateline, headline in stories:
            places = named.get(places_raw)
            if places is None:
                if len(named) >= 65536:  # memory: a corpus of ever new combinations
                    named.clear()
                places = named[places_raw] = tuple(name(p) for p in places_raw)
            if filt is not None and not filt.admits_fields(
                    kind=kind, section=section, agencies=agencies, places=(*places_raw, *places),
                    key=(path, index)):
                continue
            yield (prefix + str(index), path, index, kind, section, places, agencies, age, dateline, headline,
                   of.get(index) if of else None)


_HEAD = 32  # a spilled piece's header: its length, its stories, its first and last file number (8 bytes each)


def _spill_write(spill, blob: bytes, stories: int, first: int, last: int) -> None:
    """Write a piece of rows (:func:`scan_batch`'s marshalled ``(file number, path, rows)`` list) to the temporary file."""
    try:
        spill.write(len(blob).to_bytes(8, "little") + stories.to_bytes(8, "little") + first.to_bytes(8, "little")
                    + last.to_bytes(8, "little"))
        spill.write(blob)
    except OSError as exc:
        raise SpillError(f"cannot write the rows to a temporary file ({exc.strerror or exc}); "
                         "set TMPDIR to a folder with room, or use --summary") from None


def _spill_blobs(spill, stories: int) -> Iterator[tuple[bytes, int, int]]:
    """What :func:`_spill_write` wrote, cut after each piece that brings the rows to ``stories`` or more,
    with the first and last file number of the stretch."""
    parts: list[bytes] = []
    size = 0
    first = last = -1
    while True:
        head = spill.read(_HEAD)
        if not head:
            break
        n, count, a, b = (int.from_bytes(head[i: i + 8], "little") for i in range(0, _HEAD, 8))
        if not parts:
            first = a
        last = b
        parts.append(head)
        parts.append(spill.read(n))
        size += count
        if size >= stories:
            yield b"".join(parts), first, last
            parts, size = [], 0
    if parts:
        yield b"".join(parts), first, last


def _spill_read(spill) -> Iterator[tuple]:
    """The ``(file number, path, rows)`` that :func:`_spill_write` wrote, in order."""
    import marshal

    while True:
        head = spill.read(_HEAD)
        if not head:
            return
        yield from marshal.loads(spill.read(int.from_bytes(head[:8], "little")))


def input_bytes(entries: Iterable) -> int:
    """The size of the files :func:`analysis.reader.walk` found (for ``--jobs auto``)."""
    return sum(max(e.size, 0) for e in entries)
