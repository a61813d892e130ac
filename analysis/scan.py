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

The casing of a place may be decided by the last file, so the rows wait on
disk and come out once the names are known: as marshalled rows in a
temporary file of the client, or, with ``DatelineScan.parts`` (tsv), already
formatted by the workers into files of their own, the places and
``duplicate_of`` cells left for the client to fill in. The first pass counts
the casings with the place names known when its batch was sent; a batch that
missed a name found later is counted again (read and one regular
expression; in a corpus whose places all turn up early that is the first
few batches). The output is the same as the in-memory path's, byte for
byte, whatever the batches and workers.
"""

from __future__ import annotations

import re
import sys
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from .datelines import _LOWER_MAX, PlaceNamer, count_forms, forms_patterns
from .errors import NewsctlError
from .reader import STDIN, DecodeError, NotRegularFileError, ReadWarning, decode, iter_walk, path_stem, read_regular
from .stories import page_fields
from .textnorm import key_digest, lower_keyed, story_digest

BATCH_FILES = 32  # files in the first batches
BATCH_BYTES = 256_000  # a batch is cut earlier when its files would grow past this (the first batches)
BATCH_GROWTH = 8  # later batches grow to this many times the first: fewer, larger messages to and from the workers
SPILL_STORIES = 512  # rows written to the temporary file at a time
HOLD_CHARS = 16_000_000  # a worker counts the casings of the texts it holds once they pass this
HELPED_PIECES = 64  # text(): pieces of rows from which a helper process fills in part of them
HELPER_SHARE = 0.55  # ... the share of the rows this process keeps
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
    parts: Callable | None = None  # ROWS: the rows formatted by this (DatelineScan.parts), into the folder `spill`
    spill: str | None = None


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
    blobs: list[tuple] = []  # ROWS: spill pieces (marshalled rows, stories, first, last file), or with
    # parts the formatted pieces' (file, offset, length, stories) in the worker's spill file


def _read(path: str, data: bytes | None) -> tuple[str | None, tuple[str, bool] | None]:
    """Read one input as :func:`analysis.reader.read_corpus` does: its text and its warning."""
    try:
        if path == STDIN:
            raw = data or b""
        else:
            raw = read_regular(path, walked=True)  # the scan reads only files the walk found regular
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
    by_dateline: dict[str | None, dict] = {}  # section -> dateline as printed -> its combination's number
    last_section, in_section = (), {}  # (): no section yet
    counts: list[int] = []
    digests = array("Q")
    keys = array("Q")
    combo_of = array("I")
    blobs: list[tuple[bytes, int, int, int]] = []
    pending: list[tuple] = []  # (file number, path, rows) not yet marshalled
    waiting = 0
    rows = item.mode == ROWS
    formatted = _Formatted(item.parts, item.spill) if rows and item.parts is not None else None
    numbers = item.numbers or range(len(item.files))
    forms: Counter[str] = Counter()
    held = 0  # characters of the texts waiting to have their casings counted
    counted_with = None  # how many names the first of several countings had
    for (path, data), k in zip(item.files, numbers):
        if held > HOLD_CHARS:
            # Memory: the walk may not have given the sizes that cut batches short, so the texts held
            # are counted now, with the names known so far. The names only grow within a batch, so a
            # batch counted with fewer than its last names reports the first count: then it is counted
            # again unless those were all the corpus' names (and so the names of every counting).
            used = item.names | {p.casefold() for p in found_places if p}
            if counted_with is None:
                counted_with = len(used)
            patterns = forms_patterns(frozenset(used))
            for held_text, low in texts:
                count_forms(patterns, held_text, forms, None, low)
            texts, held = [], 0
        text, warning = _read(path, data)
        if warning is not None:
            warned[len(out)] = warning
        if text is None:
            out.append(-1)
            continue
        # A Latin-1 page lower-cased, its white space as spaces, in bytes, once: the casings are
        # counted in it and (where that is its case fold too) the duplicate keys cut from it.
        low, keyed = lower_keyed(text) if len(text) <= _LOWER_MAX else (None, False)
        texts.append((text, low))
        held += len(text)
        if item.mode == FORMS:
            out.append(0)
            continue
        page_rows: list[tuple] = []
        base = k << 32
        if formatted is not None:
            prefix, row_places = path_stem(path) + ":", []
        index = -1
        for index, (kind, section, _, end, body_start, headline, found, _, age) in enumerate(page_fields(text, rows)):
            if found is None:
                places = agencies = ()
                raw = None
            else:
                raw, places, agencies, _ = found[0]
            # The section (None for a lead) and the dateline as printed fix the combination:
            # a cheap key, the combination itself made once per key.
            if section is not last_section:  # the same object for every item of a digest
                last_section = section
                in_section = by_dateline.get(section)
                if in_section is None:
                    in_section = by_dateline[section] = {}
            c = in_section.get(raw)
            if c is None:
                if places not in places_seen:
                    places_seen.add(places)
                    found_places.update(places)
                combo = (kind, section, places, agencies)
                c = combos.get(combo)
                if c is None:
                    c = combos[combo] = len(counts)
                    counts.append(0)
                in_section[raw] = c
            counts[c] += 1
            # The body as the duplicate key reads it: cut from the folded page when there is one
            # (white space is white space in either).
            if body_start < end:
                if keyed:
                    piece = low[body_start: end]  # the key itself, unless its spaces need collapsing
                    if piece[0] == 32 or piece[-1] == 32 or _SPACES(piece):
                        piece = b" ".join(piece.split())
                    if piece:
                        digests.append(key_digest(piece))
                        keys.append(base | index)
                        combo_of.append(c)
                else:
                    body = text[body_start: end]
                    if not body.isspace():
                        digests.append(story_digest(body))
                        keys.append(base | index)
                        combo_of.append(c)
            if formatted is not None:
                page_rows.append((prefix + (_NUMBERS[index] if index < 64 else str(index)), path, index, kind,
                                  section, None, agencies, age[0] if age else None, raw, headline, None))
                row_places.append(places)
            elif rows:
                page_rows.append((index, kind, section, places, agencies, age[0] if age else None, raw, headline))
        out.append(index + 1)
        if formatted is not None:
            formatted.add(k, page_rows, row_places)
            continue
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
    if formatted is not None:
        blobs = formatted.close()
    used = item.names | {p.casefold() for p in found_places if p}
    patterns = forms_patterns(frozenset(used))
    for text, low in texts:
        count_forms(patterns, text, forms, None, low)
    return BatchScan(out.tobytes(), warned, len(used) if counted_with is None else counted_with, dict(forms),
                     list(combos), counts, digests, keys, combo_of.tobytes(), blobs)


def _spaces_finder() -> Callable[[bytes], object]:
    """A function telling whether bytes hold two spaces in a row (a truth value).

    ``b"  " in piece`` and ``re.search`` step through a story's 450 bytes
    at about 1.7 ns a byte; ahocorasick_rs' search (SIMD) takes a third of that.
    """
    try:
        from ahocorasick_rs import BytesAhoCorasick
    except ImportError:  # pragma: no cover - a declared dependency
        return re.compile(b"  ").search
    return BytesAhoCorasick([b"  "]).find_matches_as_indexes


_SPACES = _spaces_finder()

_NUMBERS = [str(i) for i in range(64)]  # a story's number in its id, for the first stories of a page


class _Formatted:
    """The rows of a batch formatted by ``DatelineScan.parts``' function, written to this process' spill file.

    ``fn(rows)`` gets the rows of :meth:`DatelineScan.rows` without their
    two corpus-wide cells (readable places and ``duplicate_of``, None here)
    and gives three pieces of text a row: before the places, between the
    places and ``duplicate_of``, after it. A piece of the file holds, for
    :meth:`DatelineScan.text`, the file stretches it covers, each row's
    places as printed (a number into a list) and those pieces.
    """

    def __init__(self, fn: Callable, folder: str) -> None:
        self.fn, self.folder = fn, folder
        if folder not in _SPILL_FOLDERS:
            from .parallel import when_orphaned

            _SPILL_FOLDERS.add(folder)
            when_orphaned(_remove_spills)  # in a pool worker: a client killed never reads this file
        self.rows: list[tuple] = []
        self.places: list[tuple[str, ...]] = []  # each row's places as printed
        self.runs: list[tuple[int, int, int]] = []  # (file number, first story, stories) of each stretch
        self.pieces: list[tuple[str, int, int, int]] = []

    def add(self, k: int, rows: list[tuple], places: list[tuple[str, ...]]) -> None:
        """The rows of file ``k`` (in pieces of SPILL_STORIES rows: one file may hold a million stories)."""
        if rows and len(self.rows) + len(rows) < SPILL_STORIES:  # the common case: they fit, no copy
            self.runs.append((k, rows[0][2], len(rows)))
            self.rows += rows
            self.places += places
            return
        i = 0
        while i < len(rows):
            take = rows[i: i + SPILL_STORIES - len(self.rows)]
            self.runs.append((k, take[0][2], len(take)))
            self.rows.extend(take)
            self.places.extend(places[i: i + len(take)])
            i += len(take)
            if len(self.rows) >= SPILL_STORIES:
                self._write()

    def _write(self) -> None:
        import marshal
        from array import array

        if self.rows:
            shown = {p: n for n, p in enumerate(dict.fromkeys(self.places))}
            keys = array("I", map(shown.__getitem__, self.places))
            blob = marshal.dumps((self.runs, keys.tobytes(), list(shown), self.fn(self.rows)))
            path, at = _spill_piece(self.folder, blob)
            self.pieces.append((path, at, len(blob), len(self.rows)))
        self.rows, self.places, self.runs = [], [], []

    def close(self) -> list[tuple[str, int, int, int]]:
        self._write()
        return self.pieces


_SPILL_FILES: dict[str, list] = {}  # spill folder -> [fd, path, bytes written]: this process' file there
_SPILL_FOLDERS: set[str] = set()  # the spill folders this process was given rows for


def _remove_spills() -> None:
    """A pool worker whose client is gone (SIGKILL): its files of rows go, and each folder once it is empty."""
    import os

    for got in list(_SPILL_FILES.values()):
        try:
            os.unlink(got[1])
        except OSError:  # unlinked by the client already
            pass
    for folder in list(_SPILL_FOLDERS):
        try:
            os.rmdir(folder)  # the last worker to leave finds it empty
        except OSError:
            pass


def _spill_file(folder: str) -> list:
    """This process' file in ``folder`` (made on first use): ``[fd, path, bytes written]``."""
    import os

    got = _SPILL_FILES.get(folder)
    if got is None:
        for old in [f for f in _SPILL_FILES if not os.path.isdir(f)]:  # scans that are over
            os.close(_SPILL_FILES.pop(old)[0])
        path = os.path.join(folder, f"rows-{os.getpid()}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
        got = _SPILL_FILES[folder] = [fd, path, 0]
    return got


def _spill_piece(folder: str, blob: bytes) -> tuple[str, int]:
    """Append ``blob`` to this process' file in ``folder``: the file's path and where the blob starts."""
    import os

    try:
        got = _spill_file(folder)
        fd, path, at = got
        view = memoryview(blob)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise SpillError(f"cannot write the rows to a temporary file ({exc.strerror or exc}); "
                         "set TMPDIR to a folder with room, or use --summary") from None
    got[2] = at + len(blob)
    return path, at


def close_spill(folder: str) -> None:
    """Close this process' file in a spill folder (the scan is over)."""
    import os

    got = _SPILL_FILES.pop(folder, None)
    if got is not None:
        os.close(got[0])


def scan_inputs(paths: Iterable[str], jobs: int | None, cpus: int | None = None) -> tuple[Iterable, int]:
    """What a scan reads and with how many processes: the walk, a directory at a time, and ``--jobs``.

    The walk leaves out the ``stat`` of each file (the workers look at what
    they open). With ``jobs`` given it is not begun here. ``auto`` (None)
    needs the input's size: the walk is taken only as far as it takes to
    see enough input for every CPU (checked at 256, 1,024, 4,096 ... files,
    :func:`input_bytes` sampling the sizes), and the rest comes after the
    files already taken, as they are listed.
    """
    from itertools import chain

    from .parallel import available_cpus

    walk = iter_walk(paths, sizes=False)
    if jobs is not None:
        return walk, jobs
    cpus = available_cpus() if cpus is None else cpus
    enough = cpus * AUTO_BYTES_PER_JOB
    head: list = []
    check = 256
    for entry in walk:
        head.append(entry)
        if len(head) == check:
            if input_bytes(head) >= enough:
                return chain(head, walk), cpus
            check *= 4
    return head, choose_scan_jobs(None, input_bytes(head), cpus)


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
    walked: Iterable | None = None  # walk(paths) or iter_walk(paths), when the caller has (begun to) walk them
    # (fn, cell): rows formatted in the workers, read back in order by text() (not by rows() or records();
    # no tallies are kept, so tally_rows() and present() have nothing either).
    # fn: a module's function (it goes to the workers), as _Formatted describes; cell(value): one cell
    # as fn would have made it (the readable places, a tuple; duplicate_of, text or None).
    parts: tuple[Callable, Callable] | None = None

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
    _problem_list: list[int] = field(default_factory=list)  # those file numbers, in order
    _feed: object = None  # the walk's entries not yet taken
    _raw_places: set[str] = field(default_factory=set)  # every place as printed in a dateline
    _dups: dict[int, dict[int, str]] = field(default_factory=dict)  # file number -> story index -> duplicate_of
    _spill: object = None  # a temporary file: the rows of the first pass, for records() (not kept in memory)
    _folder: str | None = None  # with parts: a temporary folder of the workers' files of formatted rows
    _pieces: list = field(default_factory=list)  # with parts: (file, offset, length, stories) of each piece, in order
    _readers: dict[str, int] = field(default_factory=dict)  # with parts: a worker's file -> a descriptor open on it

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
        for a, b in ranges if ranges is not None else [(0, None)]:
            batch: list[tuple[str, bytes | None]] = []
            numbers: list[int] = []
            size = 0
            start = a
            for k in range(a, b) if b is not None else self._numbers():
                if k in problems:
                    continue
                n = max(sizes[k], 0)
                if batch and (len(batch) >= BATCH_FILES * scale or size + n > BATCH_BYTES * scale):
                    if spans is not None:
                        spans.append((start, k))
                    yield self._item(mode, names() if names else frozenset(), batch, numbers)
                    batch, numbers, size, start = [], [], 0, k
                    scale = min(2 * scale, BATCH_GROWTH)
                path = paths[k]
                batch.append((path, self._stdin_of(k) if path == STDIN else None))
                numbers.append(k)
                size += n
            if batch:
                if spans is not None:
                    spans.append((start, b if b is not None else len(paths)))
                yield self._item(mode, names() if names else frozenset(), batch, numbers)

    def _numbers(self) -> Iterator[int]:
        """Every file's number, the walk's entries taken as they come (its later directories not yet listed)."""
        paths, sizes, problems, in_order = self._paths, self._sizes, self._problems, self._problem_list
        k = 0
        while True:
            if k == len(paths):
                entry = next(self._feed, None) if self._feed is not None else None
                if entry is None:
                    self._feed = None
                    return
                paths.append(entry.path)
                sizes.append(entry.size)
                if entry.problem:
                    problems[k] = entry.problem
                    in_order.append(k)
            yield k
            k += 1

    def _item(self, mode: str, names: frozenset[str], batch: list, numbers: list) -> ScanItem:
        if mode == ROWS and self._folder is not None:
            return ScanItem(mode, names, tuple(batch), tuple(numbers), self.parts[0], self._folder)
        return ScanItem(mode, names, tuple(batch), tuple(numbers))

    def _stdin_of(self, k: int) -> bytes:
        """Standard input's bytes for the first "-" of the inputs; nothing for a second one, as it is read once."""
        return (self.stdin or b"") if self._paths.index(STDIN) == k else b""

    def _files(self, results: Iterable[BatchScan],
               spans: list[tuple[int, int]]) -> Iterator[tuple[int, FileScan | None, BatchScan | None]]:
        """``(file number, its scan, the batch's scan after its last file)`` in input order.

        The scan is None for a file skipped unread; the batch's scan comes
        with the last file of each batch (None with the others).
        """
        from bisect import bisect_left

        problems = self._problem_list  # growing with the walk, in order: those before b are all there
        for no, result in enumerate(results):
            a, b = spans[no]
            counts = array("q", result.stories)
            p = bisect_left(problems, a)
            if not result.warnings and 0 not in counts and (p == len(problems) or problems[p] >= b):
                # The common batch: every file read, with stories and no warning; nothing to say but
                # the batch's scan (no loop over its files here).
                yield b - 1, FileScan(self._paths[b - 1], None, counts[-1]), result
                continue
            stories = iter(counts)
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

        # The walk's entries as the batches take them: the first files are read while later
        # directories are still to be listed (a list, as walk() gives it, is taken the same way).
        self._feed, self.walked = iter(self.walked if self.walked is not None else iter_walk(self.paths)), None
        self._paths, self._sizes, self._problems, self._problem_list = [], array("q"), {}, []
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

        import os
        import tempfile

        # TMPDIR as the user set it: tempfile alone would put the rows in /tmp, unasked, when it is
        # not a folder it can write to (a mistyped path; the big disk not mounted).
        where = os.environ.get("TMPDIR") or None
        if where is not None:
            where = os.path.abspath(where)  # as tempfile makes it (the workers' folder, whatever their cwd)
        try:
            spill = None
            if self.summary:
                pass
            elif self.parts is not None:
                self._folder = tempfile.mkdtemp(prefix="newsctl-datelines-", dir=where)
                if self.executor is None:
                    self._own_spill()
            else:
                spill = tempfile.TemporaryFile(prefix="newsctl-datelines-", dir=where)
        except OSError as exc:
            raise SpillError(f"cannot make a temporary file for the rows{f' in TMPDIR={where}' if where else ''} "
                             f"({exc.strerror or exc}); set TMPDIR to a writable folder") from None
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
            elif self._folder is not None:
                self._pieces.extend(batch.blobs)
                for piece in batch.blobs:
                    if piece[0] not in self._readers:
                        self._keep(piece[0])
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
        counting = self.parts is None  # rows formatted in the workers: nothing reads the tallies
        if counting:
            for combo, n in zip(batch.combos, batch.counts):
                tallies[(*combo, False)] += n
        digests, keys = digests.tolist(), keys.tolist()  # each number made once, for the passes below
        clash = first_of.keys() & digests  # what earlier batches had (a look-up a story; few, as a rule)
        earlier = {d: first_of[d] for d in clash}
        had = len(first_of)
        first_of.update(zip(reversed(digests), reversed(keys)))  # each digest with its batch's first story
        if earlier:
            first_of.update(earlier)  # ... unless an earlier batch had it first
        elif len(first_of) - had == len(digests):
            return  # no story of this batch is a duplicate
        new = first_of
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
            if not counting:
                continue
            combo = batch.combos[combo_of[i]]
            tallies[(*combo, True)] += 1
            plain = (*combo, False)
            tallies[plain] -= 1
            if not tallies[plain]:
                del tallies[plain]

    def _own_spill(self) -> None:
        """Without workers, this process writes the rows: its file is made, held and unlinked, and the
        folder removed, at once (a client killed mid-run leaves nothing; the folder's name stays the
        file's key in :func:`_spill_piece`)."""
        import os

        try:
            path = _spill_file(self._folder)[1]
        except OSError as exc:
            raise SpillError(f"cannot write the rows to a temporary file ({exc.strerror or exc}); "
                             "set TMPDIR to a folder with room, or use --summary") from None
        self._keep(path)
        try:
            os.rmdir(self._folder)
        except OSError:
            pass

    def _keep(self, path: str) -> None:
        """Open a worker's file of formatted rows and unlink it at once: the rows live as long as the
        descriptors. A run that is killed leaves none behind: the workers remove what the client had not
        seen yet, and the folder (:func:`_remove_spills`)."""
        import os

        try:
            self._readers[path] = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            os.unlink(path)
        except OSError as exc:
            raise SpillError(f"cannot read the rows back from a temporary file ({exc.strerror or exc})") from None

    def close(self) -> None:
        """Drop the rows kept on disk for :meth:`records` and :meth:`text`."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        if self._folder is not None:
            import os
            import shutil

            close_spill(self._folder)  # this process' own file (no executor)
            for fd in self._readers.values():
                os.close(fd)
            self._readers.clear()
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

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

    def text(self, encoding: tuple[str, str] | None = None) -> Iterator[tuple[str | bytes, int]]:
        """The rows formatted by ``parts`` (all of them, in order), in stretches: ``(text, rows)``.

        The workers made the text in the first pass; here each row gets its
        two corpus-wide cells, the readable places and ``duplicate_of``, and
        the pieces are joined in C: the second pass costs the client little
        more than reading and writing the text.

        ``encoding``: ``(codec, errors)`` of the output, which allows a
        forked helper process to fill in the later rows while this one fills
        in the first (on Linux, with at least :data:`HELPED_PIECES` pieces):
        those come as bytes in that encoding, their rows counted with the
        last chunk. The client runs no other thread by then (the caller
        closes the pool first), so a fork copies no lock another thread holds.
        """
        if self.parts is None or self._folder is None:
            raise ValueError("text() needs a scan() with parts and summary=False")
        import os

        try:  # every worker's file was unlinked when its first piece came: a run killed from here leaves nothing
            os.rmdir(self._folder)
        except OSError:
            pass
        pieces = self._pieces
        if encoding is None or len(pieces) < HELPED_PIECES or not sys.platform.startswith("linux"):
            yield from self._filled(pieces)
            return
        # This process fills in the first stretch, one helper the rest (more helpers measured no
        # quicker on two CPUs: the forks and their copied pages cost what they saved). The helper
        # encodes its text too, so it takes the smaller share.
        total, seen, half = sum(p[3] for p in pieces), 0, 0
        while half < len(pieces) - 1 and seen < total * HELPER_SHARE:
            seen += pieces[half][3]
            half += 1
        yield from self._helped(pieces[:half], pieces[half:], encoding)

    def _helped(self, mine: list, theirs: list, encoding: tuple[str, str]):
        """:meth:`text` of ``mine`` here, of ``theirs`` in a forked process at the same time, then copied out."""
        import os
        import signal
        import tempfile

        try:
            out = tempfile.TemporaryFile(prefix="newsctl-datelines-", dir=os.path.dirname(self._folder))
        except OSError as exc:
            raise SpillError(f"cannot make a temporary file for the rows ({exc.strerror or exc})") from None
        with out:
            pid = os.fork()
            if pid == 0:  # the helper: it writes its rows and leaves, whatever happens
                status = 1
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the client's: it ends this one
                    from .parallel import _leave_with_parent

                    _leave_with_parent()
                    for text, _ in self._filled(theirs):
                        data = memoryview(text.encode(*encoding))
                        while data:
                            data = data[os.write(out.fileno(), data):]
                    status = 0
                finally:
                    os._exit(status)
            try:
                yield from self._filled(mine)
                # The table of first occurrences (a million entries) is done with: freed while the helper
                # works, not when the scan goes.
                self._first = {}
                _, status = os.waitpid(pid, 0)
                pid = None
                if status != 0:
                    raise SpillError("cannot write the rows to a temporary file (a helper process failed: "
                                     "is the temporary folder full?)")
                at = 0
                while chunk := os.pread(out.fileno(), 1 << 20, at):
                    at += len(chunk)
                    yield chunk, 0
                yield b"", sum(p[3] for p in theirs)
            finally:
                if pid is not None:  # Ctrl-C, the reader gone or an error here: the helper goes too
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)

    def _filled(self, pieces: list) -> Iterator[tuple[str, int]]:
        """The text of ``pieces`` with their corpus-wide cells, a piece at a time."""
        import marshal
        import os
        from array import array

        cell, name, dups = self.parts[1], self.namer.name, self._dups
        empty = cell(None)
        cells: dict[tuple[str, ...], str] = {}  # places as printed -> their cell
        for path, at, length, n in pieces:
            fd = self._readers[path]
            try:
                blob = os.pread(fd, length, at)
                while len(blob) < length:
                    more = os.pread(fd, length - len(blob), at + len(blob))
                    if not more:
                        raise OSError(0, "the file is shorter than was written")
                    blob += more
            except OSError as exc:
                raise SpillError(f"cannot read the rows back from a temporary file "
                                 f"({exc.strerror or exc})") from None
            runs, keys, places, parts = marshal.loads(blob)
            shown = []
            for raw in places:
                c = cells.get(raw)
                if c is None:
                    if len(cells) >= 65536:  # memory: a corpus of ever new combinations
                        cells.clear()
                    c = cells[raw] = cell(tuple(name(p) for p in raw))
                shown.append(c)
            out = [empty] * (5 * n)  # each row: its three parts, its places after the first, its duplicate_of
            out[0::5] = parts[0::3]
            out[1::5] = map(shown.__getitem__, array("I", keys))
            out[2::5] = parts[1::3]
            out[4::5] = parts[2::3]
            if dups:
                row = 0
                for k, first, count in runs:
                    of = dups.get(k)
                    if of:
                        # The fewer of the stretch's rows and the file's duplicates: a page of a million
                        # repeated items comes in thousands of stretches (one look at each duplicate for
                        # each stretch was quadratic).
                        if len(of) <= count:
                            for index, dup in of.items():
                                if first <= index < first + count:
                                    out[5 * (row + index - first) + 3] = cell(dup)
                        else:
                            get = of.get
                            for index in range(first, first + count):
                                dup = get(index)
                                if dup is not None:
                                    out[5 * (row + index - first) + 3] = cell(dup)
                    row += count
            yield "".join(out), n

    def _spilled(self):
        if self._spill is None:
            raise ValueError("records() needs a scan() with summary=False")
        return self._spill


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


def _spill_read(spill) -> Iterator[tuple]:
    """The ``(file number, path, rows)`` that :func:`_spill_write` wrote, in order."""
    import marshal

    while True:
        head = spill.read(_HEAD)
        if not head:
            return
        yield from marshal.loads(spill.read(int.from_bytes(head[:8], "little")))


def input_bytes(entries: Sequence) -> int:
    """The size of the files :func:`analysis.reader.walk` found (for ``--jobs auto``).

    Files walked without their sizes (``sizes=False``) count as the mean of
    up to :data:`SIZE_SAMPLE` of them, spread over the list, looked up now.
    """
    import os

    known = sum(e.size for e in entries if e.size >= 0)
    unknown = [e for e in entries if e.size < 0 and not e.problem and e.path != STDIN]
    if not unknown:
        return known
    step = max(1, len(unknown) // SIZE_SAMPLE)
    seen = []
    for e in unknown[::step][:SIZE_SAMPLE]:
        try:
            seen.append(os.stat(e.path).st_size)
        except OSError:
            pass
    return known + (sum(seen) * len(unknown) // len(seen) if seen else 0)


SIZE_SAMPLE = 64  # files looked up for input_bytes where the walk did not
