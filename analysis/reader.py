"""Reading a corpus: walking paths, decoding bytes, normalising newlines.

Every character offset in newsctl refers to the text returned here: the file
decoded (UTF-8, or Windows-1252 as a fallback), the BOM dropped and CRLF / CR
line endings turned into ``\\n``; offsets count Unicode code points.
"""

from __future__ import annotations

import codecs
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from .errors import InputError

STDIN = "-"


@dataclass(frozen=True)
class Document:
    """One decoded input file."""

    path: str  # as given on the command line or found by walking a directory
    text: str  # decoded, normalised text
    encoding: str  # "utf-8" or "cp1252"
    sha256: str  # hash of the raw bytes

    @cached_property
    def stem(self) -> str:
        if self.path == STDIN:
            return "stdin"
        return Path(self.path).stem


@dataclass(frozen=True)
class ReadWarning:
    """A problem with one input that did not stop the run."""

    path: str
    message: str
    skipped: bool  # True when the file was left out of the corpus


class DecodeError(Exception):
    """Raised by :func:`decode` for data that is not text."""


def normalise_newlines(text: str) -> str:
    if "\r" not in text:
        return text  # the same object: no copy of a big file
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode(data: bytes) -> tuple[str, str]:
    """Decode raw bytes to normalised text; return ``(text, encoding)``.

    UTF-8 (BOM dropped) is tried first, then Windows-1252. Bytes that
    Windows-1252 leaves undefined are read as Latin-1. Data containing NUL
    bytes is binary and raises :class:`DecodeError`.
    """
    text, encoding = _decode_raw(data)
    return normalise_newlines(text), encoding


def _decode_raw(data: bytes) -> tuple[str, str]:
    """:func:`decode` without the newline step; one copy of the text is made."""
    if b"\x00" in data:
        raise DecodeError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors=_LATIN1_FALLBACK), "cp1252"


def _latin1_fallback(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) keep their Latin-1 meaning."""
    return exc.object[exc.start: exc.end].decode("latin-1"), exc.end


_LATIN1_FALLBACK = "newsctl-latin1"
codecs.register_error(_LATIN1_FALLBACK, _latin1_fallback)


def file_digest(data: bytes) -> str:
    import hashlib  # here: OpenSSL takes a few ms to load, and a search that reads nothing needs none

    return hashlib.sha256(data).hexdigest()


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Expand directories (recursively, ``*.txt``, sorted) and check every path.

    ``-`` stands for standard input and is kept as is. A missing path raises
    :class:`InputError` naming it.
    """
    out: list[str] = []
    for raw in paths:
        if raw == STDIN:
            out.append(STDIN)
            continue
        p = Path(raw)
        if p.is_dir():
            found = sorted(
                str(f) for f in p.rglob("*.txt") if f.is_file() or f.is_symlink()
            )
            out.extend(found)
        elif p.exists() or p.is_symlink():
            out.append(str(p))
        else:
            raise InputError(f"no such file or directory: {raw}")
    return out


def read_document(path: str, *, stdin: BinaryIO | None = None) -> Document:
    """Read and decode one path (``-`` reads ``stdin``).

    Raises :class:`DecodeError` for binary data and :class:`OSError` when the
    file cannot be read.
    """
    if path == STDIN:
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read()
    else:
        with open(path, "rb") as fh:
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
    for path in expand_paths(paths):
        try:
            doc = read_document(path, stdin=stdin)
        except DecodeError as exc:
            warn(ReadWarning(path, f"skipped: {exc}", skipped=True))
            continue
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            warn(ReadWarning(path, f"skipped: cannot read ({reason})", skipped=True))
            continue
        if doc.encoding != "utf-8":
            warn(ReadWarning(path, "not valid UTF-8; decoded as Windows-1252", skipped=False))
        yield doc
