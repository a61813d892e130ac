"""Reading a corpus: walking paths, decoding bytes, normalising newlines.

Every character offset in newsctl refers to the text returned here: the file
decoded (UTF-8, or Windows-1252 as a fallback), the BOM dropped and CRLF / CR
line endings turned into ``\\n``; offsets count Unicode code points.
"""

from __future__ import annotations

import codecs
import operator
import os
import stat as _stat
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, NamedTuple

from .errors import InputError

STDIN = "-"


def path_stem(path: str) -> str:
    """The file name less its last suffix, as ``Path(path).stem`` (``stdin`` for standard input), quickly.

    A story's id starts with it, and ``datelines`` names a million stories:
    ``Path`` costs some microseconds a call. A path whose last part
    ``Path`` would rewrite (``.``, ``..``, a trailing separator) goes to ``Path``.
    """
    if path == STDIN:
        return "stdin"
    name = path[path.rfind(os.sep) + 1:]
    if not name or name == "." or name == ".." or (os.altsep and os.altsep in path):
        return Path(path).stem
    i = name.rfind(".")
    return name[:i] if 0 < i < len(name) - 1 else name


@dataclass(frozen=True)
class Document:
    """One decoded input file."""

    path: str  # as given on the command line or found by walking a directory
    text: str  # decoded, normalised text
    encoding: str  # "utf-8", "utf-16" (with a BOM) or "cp1252"
    sha256: str  # hash of the raw bytes

    @cached_property
    def stem(self) -> str:
        return path_stem(self.path)


@dataclass(frozen=True)
class ReadWarning:
    """A problem with one input that did not stop the run."""

    path: str
    message: str
    skipped: bool  # True when the file was left out of the corpus


class DecodeError(Exception):
    """Raised by :func:`decode` for data that is not text."""


def display_name(text: str) -> str:
    """A file name, or anything made from one (a story id), as newsctl prints it.

    Names are kept as the operating system gives them: bytes that are not
    UTF-8 (``\\xff``) live in the ``str`` as surrogate escapes
    (``os.fsdecode``), which cannot be written as UTF-8. Printed, each such
    byte shows as ``\\xff``, as Python's ``backslashreplace`` (and ``ls -b``)
    show it, so every output format stays valid UTF-8. Text without such
    bytes comes back unchanged, at the cost of one check.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no undecodable byte made
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def normalise_newlines(text: str) -> str:
    if "\r" not in text:
        return text  # the same object: no copy of a big file
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode(data: bytes) -> tuple[str, str]:
    """Decode raw bytes to normalised text; return ``(text, encoding)``.

    UTF-8 (BOM dropped) is tried first, then Windows-1252. Bytes that
    Windows-1252 leaves undefined are read as Latin-1. Data that opens with
    a UTF-16 BOM is UTF-16 (``encoding`` "utf-16"). Other data containing NUL
    bytes is binary and raises :class:`DecodeError`.
    """
    text, encoding = _decode_raw(data)
    return normalise_newlines(text), encoding


def _decode_raw(data: bytes) -> tuple[str, str]:
    """:func:`decode` without the newline step; one copy of the text is made."""
    if b"\x00" in data:
        if data[:2] in _UTF16_BOMS:  # UTF-16 text (Windows Notepad's "Unicode"): its BOM says so
            try:
                text = data.decode("utf-16")
            except UnicodeDecodeError:
                text = "\x00"
            if "\x00" not in text:  # not UTF-32, whose BOM starts the same
                return text, "utf-16"
        raise DecodeError("binary file (contains NUL bytes)")
    try:  # as the "utf-8-sig" codec reads it (one BOM dropped), about a fifth quicker
        return (data[3:] if data.startswith(codecs.BOM_UTF8) else data).decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors=_LATIN1_FALLBACK), "cp1252"


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _latin1_fallback(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) keep their Latin-1 meaning."""
    return exc.object[exc.start: exc.end].decode("latin-1"), exc.end


_LATIN1_FALLBACK = "newsctl-latin1"
codecs.register_error(_LATIN1_FALLBACK, _latin1_fallback)


def file_digest(data: bytes) -> str:
    import hashlib  # here: OpenSSL takes a few ms to load, and a search that reads nothing needs none

    return hashlib.sha256(data).hexdigest()


# -- walking the inputs ---------------------------------------------------------


class FileEntry(NamedTuple):
    """One input found by :func:`walk`, with what one ``stat`` tells."""

    path: str  # as given or walked (what output shows)
    key: str  # absolute path (the file's key in the search index); "-" for standard input
    size: int  # -1 when the file cannot be stat'ed (reading it reports why)
    mtime_ns: int
    problem: str = ""  # why it is skipped unread ("not a regular file (a FIFO)"); "" to read it


NO_TEXT_FILES = "no *.txt files in it"


class NotRegularFileError(OSError):
    """Raised by :func:`open_regular` for a FIFO, socket, device or directory."""


def _not_regular(mode: int) -> str:
    """"" for a regular file, else why it is not read (a FIFO would block every read)."""
    if _stat.S_ISREG(mode):
        return ""
    kind = ("a directory" if _stat.S_ISDIR(mode) else "a FIFO" if _stat.S_ISFIFO(mode)
            else "a socket" if _stat.S_ISSOCK(mode) else "a character device" if _stat.S_ISCHR(mode)
            else "a block device" if _stat.S_ISBLK(mode) else "not a file")
    return f"not a regular file ({kind})"


def open_regular(path: str) -> BinaryIO:
    """Open a regular file for reading without ever blocking.

    The path is stat'ed first, so a FIFO, socket or device is never opened
    (opening a FIFO waits for a writer; opening some devices has effects);
    then it is opened with ``O_NONBLOCK`` and checked again with ``fstat``,
    in case it was swapped in between. Raises :class:`NotRegularFileError`
    for anything but a regular file, :class:`OSError` when it cannot be read.
    """
    why = _not_regular(os.stat(path).st_mode)
    if not why:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            why = _not_regular(os.fstat(fd).st_mode)
            if not why:
                return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    raise NotRegularFileError(0, why, path)


def read_regular(path: str, walked: bool = False) -> bytes:
    """All the bytes of a regular file: :func:`open_regular`'s checks, with no file object.

    For the many small files of a corpus: plain ``os.read`` calls cost a few
    microseconds less per file than a buffered file object's ``read()``.
    ``walked``: :func:`walk` found a regular file at ``path`` just now, so
    the ``stat`` before opening is left out (``fstat`` still checks what was
    opened); a file that has exactly the size ``fstat`` gave needs no
    second read to see its end.
    """
    why = None if walked else _not_regular(os.stat(path).st_mode)
    if not why:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            why = _not_regular(st.st_mode)
            if not why:
                parts = [os.read(fd, st.st_size + 1)]  # one read for the whole file, one to see its end
                if len(parts[0]) == st.st_size:
                    return parts[0]  # short of what was asked: the end of a regular file
                while parts[-1]:
                    parts.append(os.read(fd, max(st.st_size, 1 << 16)))
                return parts[0] if len(parts) == 2 else b"".join(parts)
        finally:
            os.close(fd)
    raise NotRegularFileError(0, why, path)


_DIR_FD = os.stat in os.supports_dir_fd and os.scandir in os.supports_fd


def walk(paths: Iterable[str], sizes: bool = True) -> list[FileEntry]:
    """Every input of ``paths``, with its size and mtime: the one walker of newsctl.

    ``-`` stands for standard input and is kept as is. A directory is walked
    for ``*.txt`` names, iteratively (any depth), without following
    symlinked directories, and its files are sorted by path; a symlink named
    ``*.txt`` is followed to what it names. Anything that is not a regular
    file (a FIFO, socket or device) or a directory that cannot be read comes
    back with ``problem`` set, so the reader skips it with a warning instead
    of blocking on it. A dangling symlink comes back with size -1: reading
    it reports why. A missing path raises :class:`InputError` naming it.

    ``sizes=False``: a file that its directory lists as a regular file (not
    a link) is not looked up (no ``stat``), and comes back with size and
    mtime -1, for a reader that checks what it opens anyway (``datelines``:
    the ``stat`` calls were most of the walk's time).
    """
    return list(iter_walk(paths, sizes))


def iter_walk(paths: Iterable[str], sizes: bool = True) -> Iterator[FileEntry]:
    """:func:`walk`'s entries, in its order, a directory at a time: a reader can start on the first files.

    The paths given are looked at now (a missing one raises
    :class:`InputError` here, before any entry); the directories are listed
    as the entries are taken. Each directory's names are sorted with a
    subdirectory as its name and a ``/``, which puts every path where the
    sort of all of them would: the entries of a subdirectory share its name
    and the ``/``, and no other name holds a ``/``.
    """
    tops: list[tuple[str, FileEntry | str]] = []
    for raw in paths:
        if raw == STDIN:
            tops.append(("", FileEntry(STDIN, STDIN, -1, -1)))
            continue
        p = str(Path(raw))
        try:
            st = os.stat(p)
        except OSError as exc:
            if os.path.islink(p):
                tops.append(("", FileEntry(p, os.path.abspath(p), -1, -1)))
                continue
            if isinstance(exc, FileNotFoundError):
                raise InputError(f"no such file or directory: {raw}") from None
            raise InputError(f"cannot read {raw}: {exc.strerror or exc.__class__.__name__}") from None
        if _stat.S_ISDIR(st.st_mode):
            tops.append(("dir", p))
        else:
            tops.append(("", FileEntry(p, os.path.abspath(p), st.st_size, st.st_mtime_ns, _not_regular(st.st_mode))))
    return _iter_tops(tops, sizes)


def _iter_tops(tops: list[tuple[str, FileEntry | str]], sizes: bool) -> Iterator[FileEntry]:
    for kind, what in tops:
        if kind:
            yield from _iter_dir(what, sizes)
        else:
            yield what


def _iter_dir(top: str, sizes: bool) -> Iterator[FileEntry]:
    """The ``*.txt`` entries below ``top``, sorted by path; a stack of listings, not recursion, so any depth works."""
    root = (top, "" if top == "." else top.rstrip(os.sep) + os.sep, os.path.join(os.path.abspath(top), ""))
    stack = [iter([("", None, root)])]
    found = False
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        _, entry, sub = item
        if entry is not None:
            found = True
            yield entry
            continue
        listed = _list_dir(*sub, sizes)
        if isinstance(listed, FileEntry):
            found = True
            yield listed  # the directory could not be read
        else:
            stack.append(iter(listed))
    if not found:  # a directory named on the command line that holds no input at all is said, not silent
        yield FileEntry(top, os.path.abspath(top), -1, -1, NO_TEXT_FILES)


def _list_dir(directory: str, prefix: str, absdir: str, sizes: bool) -> list[tuple] | FileEntry:
    """One directory's ``*.txt`` entries and subdirectories, sorted as their paths sort; or why it cannot be read.

    The directory is opened once and its files are stat'ed relative to it
    (``fstatat``), which saves resolving the whole path again for each of
    thousands of files. A subdirectory that cannot be opened is its problem
    entry, sorted as its own path.
    """
    fd = None
    try:
        if _DIR_FD:
            fd = os.open(directory, _DIR_FLAGS)
        with os.scandir(directory if fd is None else fd) as it:
            entries = list(it)
    except OSError as exc:
        if fd is not None:
            os.close(fd)
        reason = exc.strerror or exc.__class__.__name__
        return FileEntry(prefix.rstrip(os.sep) or directory, absdir.rstrip(os.sep) or os.sep, -1, -1,
                         f"cannot read directory ({reason})")
    out: list[tuple] = []
    try:
        for e in entries:
            name = e.name
            if name.endswith(".txt"):
                if not sizes:
                    try:
                        plain = e.is_file(follow_symlinks=False)  # the directory's own word: no system call
                    except OSError:
                        plain = False
                    if plain:
                        out.append((name, FileEntry(prefix + name, absdir + name, -1, -1), None))
                        continue
                try:
                    st = e.stat() if fd is None else os.stat(name, dir_fd=fd)
                except OSError:  # a dangling link is kept: reading it reports the problem
                    if e.is_symlink():
                        out.append((name, FileEntry(prefix + name, absdir + name, -1, -1), None))
                    continue
                mode = st.st_mode
                if not _stat.S_ISDIR(mode):
                    out.append((name, FileEntry(prefix + name, absdir + name, st.st_size, st.st_mtime_ns,
                                                "" if _stat.S_ISREG(mode) else _not_regular(mode)), None))
                    continue
            try:
                if not e.is_dir(follow_symlinks=False):
                    continue
            except OSError:
                continue
            sub = (os.path.join(directory, name), prefix + name + os.sep, absdir + name + os.sep)
            try:  # open it now: one that cannot be read sorts as its own path, without the "/"
                os.close(os.open(name, _DIR_FLAGS, dir_fd=fd) if fd is not None else os.open(sub[0], _DIR_FLAGS))
            except OSError as exc:
                reason = exc.strerror or exc.__class__.__name__
                out.append((name, FileEntry(prefix + name, absdir + name, -1, -1,
                                            f"cannot read directory ({reason})"), None))
                continue
            out.append((name + os.sep, None, sub))
    finally:
        if fd is not None:
            os.close(fd)
    out.sort(key=_FIRST)
    return out


_FIRST = operator.itemgetter(0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def expand_paths(paths: Iterable[str]) -> list[str]:
    """The paths :func:`walk` finds (directories walked for ``*.txt``, sorted).

    ``-`` stands for standard input and is kept as is. A missing path raises
    :class:`InputError` naming it.
    """
    return [e.path for e in walk(paths)]


def read_document(path: str, *, stdin: BinaryIO | None = None) -> Document:
    """Read and decode one path (``-`` reads ``stdin``).

    Raises :class:`DecodeError` for binary data and :class:`OSError` when the
    file cannot be read.
    """
    if path == STDIN:
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read()
    else:
        with open_regular(path) as fh:
            data = fh.read()
    # Memory: at most the bytes and one decoded copy at a time; the bytes go
    # before newlines are normalised (which copies the text if it has any CR).
    sha256 = file_digest(data)
    text, encoding = _decode_raw(data)
    del data
    return Document(path=path, text=normalise_newlines(text), encoding=encoding, sha256=sha256)


def read_corpus(
    paths: Iterable[str],
    *,
    on_warning: Callable[[ReadWarning], None] | None = None,
    stdin: BinaryIO | None = None,
) -> Iterator[Document]:
    """Yield the decoded documents of ``paths`` in order.

    Files that cannot be used are skipped and reported through
    ``on_warning``; so are non-UTF-8 files, which are still yielded.
    """
    warn = on_warning or (lambda w: None)
    for entry in walk(paths):
        path = entry.path
        if entry.problem:
            warn(ReadWarning(path, f"skipped: {entry.problem}", skipped=True))
            continue
        try:
            doc = read_document(path, stdin=stdin)
        except DecodeError as exc:
            warn(ReadWarning(path, f"skipped: {exc}", skipped=True))
            continue
        except NotRegularFileError as exc:
            warn(ReadWarning(path, f"skipped: {exc.strerror}", skipped=True))
            continue
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            warn(ReadWarning(path, f"skipped: cannot read ({reason})", skipped=True))
            continue
        if doc.encoding == "cp1252":
            warn(ReadWarning(path, "not valid UTF-8; decoded as Windows-1252", skipped=False))
        yield doc
