"""Every renderer newsctl has: rich tables for people, tsv/csv/json/jsonl for scripts.

stdout carries data only; warnings, errors and progress go to stderr.
"""

from __future__ import annotations

import csv
import errno
import functools
import io
import json
import os
import re
import sys
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

from analysis.reader import display_name

if TYPE_CHECKING:  # rich is imported only when something is drawn (start-up time)
    from rich.console import Console


class Format(str, Enum):
    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    excel_csv = "excel-csv"  # csv for Dutch Excel: UTF-8 BOM, ';' between fields, decimal comma


@dataclass(frozen=True)
class Column:
    name: str
    no_wrap: bool = False  # ids and numbers never wrap
    max_width: int | None = None  # long text is cut with an ellipsis in tables
    justify: str = "left"
    style: str | None = None
    flex: bool = False  # takes the width that is left in tables, cut to one line
    wrap: bool = False  # long values wrap instead of being cut with an ellipsis
    label: str | None = None  # a shorter table header; machine formats keep `name`
    optional: bool = False  # dropped from a narrow terminal table to leave room for the flex column


def stdout_is_terminal() -> bool:
    """Decides every default that differs between a person and a pipe."""
    return sys.stdout.isatty()


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def default_format() -> Format:
    return Format.table if stdout_is_terminal() else Format.tsv


def console() -> "Console":
    from rich.console import Console

    return Console(highlight=False)


def err_console() -> "Console":
    return _err_console_class()(stderr=True, highlight=False)


@functools.lru_cache(maxsize=1)
def _err_console_class():
    from rich.console import Console

    class ErrConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich's own points stdout (fd 1) at /dev/null and exits 1: a warning on a
            # closed stderr lost the whole output. Raise it instead: _to_stderr drops
            # the line and the command goes on; the exit status still tells.
            raise BrokenPipeError(errno.EPIPE, "standard error is a closed pipe")

    return ErrConsole


def warn(message: str) -> None:
    _to_stderr(f"[yellow]warning:[/yellow] {_escape(visible(display_name(message)))}")


def error(message: str) -> None:
    _to_stderr(f"[bold red]Error:[/bold red] {_escape(visible(display_name(message)))}")


def _to_stderr(markup: str) -> None:
    """One line on stderr; where stderr cannot take it (2>/dev/full), the exit status still tells."""
    try:
        err_console().print(markup, markup=True, soft_wrap=True, emoji=False)  # ':b:' in an id stays ':b:'
    except OSError:
        pass


# What would act on a terminal instead of showing: the C0 and C1 control characters
# (ESC starts colour, cursor, title and hyperlink sequences; a newline would split a
# row or an error line), DEL, and the bidi embeddings, overrides and isolates, which
# reorder what follows them on screen ("Trojan Source"). Right-to-left marks stay.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _shown(match: "re.Match") -> str:
    c = match.group()
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def visible(text: str, *, keep: str = "") -> str:
    """``text`` safe to print on a terminal: each control character as an escape (``\\x1b``, ``\\n``).

    Text from the input (headlines, contexts, entity and file names) reaches
    tables, warnings and errors; a file must not be able to colour, move or
    retitle the user's terminal, or break an error into several lines.
    ``keep``: characters left as they are (``"\\n"`` for a story's text).
    """
    if text.isprintable():
        return text
    if keep:
        return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _shown(m), text)
    return _UNSAFE.sub(_shown, text)


def _escape(text: str) -> str:
    """``text`` shown as is by rich: file names such as ``[bold]x.txt`` are not markup."""
    from rich.markup import escape

    return escape(text)


def _literal(text: str | None):
    """A header or title for rich that is never read as markup (entity names head matrix columns)."""
    from rich.text import Text

    return None if text is None else Text(visible(text))


# -- plain values -------------------------------------------------------------

def plain(value: Any, *, list_sep: str = "/") -> str:
    """A value as one field of a delimited line: lists joined, null empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (list, tuple)):
        return list_sep.join(plain(v) for v in value)
    return display_name(value) if isinstance(value, str) else str(value)


# A csv cell starting with one of these is run as a formula by Excel and
# LibreOffice (OWASP, "CSV Injection"): such text cells get a "'" in front.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One csv field: like :func:`plain`, with text that would start a formula prefixed by ``'``.

    Only text (and lists of text) is changed; numbers are never text here, so
    a negative npmi stays ``-0.1234`` and sorts as a number in a spreadsheet.
    """
    text = plain(value)
    if isinstance(value, (str, list, tuple)) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def tsv_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        return display_name(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


# -- rendering ----------------------------------------------------------------

def render(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[Column],
    fmt: Format | None,
    *,
    header: bool = True,
    title: str | None = None,
    caption: str | None = None,
    out: io.TextIOBase | None = None,
) -> int:
    """Write ``rows`` in ``fmt`` (None: the terminal/pipe default); return the row count.

    ``caption`` is a note printed under a table (machine formats leave it out).
    """
    fmt = fmt or default_format()
    names = [c.name for c in columns]
    if fmt is Format.table:
        return _render_table(rows, columns, header=header, title=title, caption=caption)
    stream = out or sys.stdout
    count = 0
    if fmt is Format.tsv:
        return write_tsv(([row.get(n) for n in names] for row in rows), names, stream, header=header)
    elif fmt is Format.csv:
        writer = csv.writer(stream, lineterminator="\n")
        if header:
            writer.writerow([csv_cell(n) for n in names])  # matrix headers are entity names
        for row in rows:
            writer.writerow([csv_cell(row.get(n)) for n in names])
            count += 1
    elif fmt is Format.excel_csv:
        count = _excel_csv(rows, names, stream, header=header)
    elif fmt is Format.jsonl:
        for row in rows:
            stream.write(json.dumps({n: _json_value(row.get(n)) for n in names}, ensure_ascii=False) + "\n")
            count += 1
    elif fmt is Format.json:
        stream.write("[")
        for row in rows:
            stream.write(",\n " if count else "\n ")
            stream.write(json.dumps({n: _json_value(row.get(n)) for n in names}, ensure_ascii=False))
            count += 1
        stream.write("\n]\n" if count else "]\n")
    stream.flush()
    return count


def write_paths(paths: Iterable[str]) -> int:
    """``search -l``/``-L``: one path per line; returns the count.

    In a pipe each path is tsv-escaped (a newline in a name is ``\\n``); on a
    terminal, as a person reads it, control characters in a name are shown
    as escapes (:func:`visible`), so a file name cannot drive the terminal.
    """
    if not stdout_is_terminal():
        return render(({"file": f} for f in paths), [Column("file")], Format.tsv, header=False)
    n = 0
    for p in paths:
        sys.stdout.write(visible(display_name(p)) + "\n")
        n += 1
    sys.stdout.flush()
    return n


def render_rows(rows: Iterable[Sequence[Any]], columns: Sequence[Column], fmt: Format | None, *,
                header: bool = True, out: io.TextIOBase | None = None) -> int:
    """:func:`render` for rows given as sequences of values in the order of ``columns``.

    tsv (the format of pipes, where a million rows go) is written straight
    from the sequences; other formats get a dict per row.
    """
    fmt = fmt or default_format()
    names = [c.name for c in columns]
    if fmt is Format.tsv:
        return write_tsv(rows, names, out or sys.stdout, header=header)
    return render((dict(zip(names, row)) for row in rows), columns, fmt, header=header, out=out)


def write_tsv(rows: Iterable[Sequence[Any]], names: Sequence[str], stream, *, header: bool = True) -> int:
    """tsv lines: each value as :func:`plain` makes it, then :func:`tsv_escape` d; returns the row count."""
    if header:
        stream.write("\t".join(names) + "\n")
    write = stream.write
    count = 0
    for line in tsv_lines(rows):
        write(line)
        count += 1
    stream.flush()
    return count


def tsv_text(rows: Iterable[Sequence[Any]]) -> tuple[str, int]:
    """The lines of :func:`write_tsv` (no header) as one text, and their count: a stretch of rows at once."""
    lines = list(tsv_lines(rows))
    return "".join(lines), len(lines)


def tsv_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """One tsv line per row (with its newline).

    The common row (text that is valid UTF-8 and holds no tab, newline or
    backslash, numbers, None, lists of such text) is joined as it is; any
    other row goes field by field through :func:`plain` and
    :func:`tsv_escape`, which give the same result for the common row.
    """
    for row in rows:
        parts = []
        for v in row:
            cls = v.__class__
            if cls is str:
                parts.append(v)
            elif v is None:
                parts.append("")
            elif cls is int:
                parts.append(str(v))
            elif (cls is tuple or cls is list) and all(x.__class__ is str for x in v):
                parts.append("/".join(v))
            else:
                parts.append(plain(v))
        line = "\t".join(parts)
        if line.count("\t") != len(parts) - 1 or not _clean_tsv(line):
            line = "\t".join(tsv_escape(plain(v)) for v in row)
        yield line + "\n"


def _clean_tsv(line: str) -> bool:
    """True when ``line`` needs no escape and shows as it is (:func:`display_name`)."""
    if "\\" in line or "\n" in line or "\r" in line:
        return False
    if line.isascii():
        return True
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _excel_csv(rows, names, stream, *, header: bool) -> int:
    """csv that Excel with Dutch settings opens in columns: a UTF-8 BOM, ';', decimal commas."""
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
    if header:
        writer.writerow([csv_cell(n) for n in names])
    count = 0
    for row in rows:
        writer.writerow([_excel_value(row.get(n)) for n in names])
        count += 1
    return count


def _excel_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}".replace(".", ",")
    return csv_cell(value)  # a spreadsheet is exactly where a formula would run


def _render_table(rows, columns, *, header: bool, title: str | None, caption: str | None = None) -> int:
    from rich import box
    from rich.table import Table

    rows = list(rows)
    columns = _fit_columns(rows, list(columns))
    cells = [[_cell(row.get(c.name)) for c in columns] for row in rows]
    table = Table(
        title=_literal(title),
        caption=_literal(caption),
        caption_justify="left",
        show_header=header,
        box=box.SIMPLE_HEAD,
        header_style="bold",
        pad_edge=False,
        expand=any(c.flex for c in columns),
    )
    for k, col in enumerate(columns):
        label = col.label or col.name
        widest = max([len(label)] + [_width(r[k]) for r in cells])
        if col.flex:
            min_width = 16
        elif col.max_width:
            min_width = min(widest, col.max_width)
        else:
            min_width = widest
        table.add_column(
            _literal(label),
            no_wrap=not col.wrap,
            min_width=min_width,
            max_width=col.max_width,
            ratio=1 if col.flex else None,
            overflow="fold" if col.wrap else "ellipsis",
            justify=col.justify,
            style=col.style,
        )
    for r in cells:
        table.add_row(*r)
    console().print(table)
    return len(cells)


def _fit_columns(rows, columns: list[Column], min_flex: int = 30) -> list[Column]:
    """Drop optional columns (last first) until the flex column has ``min_flex`` cells."""
    if not any(c.flex for c in columns):
        return columns
    width = console().width

    def used(cols):
        total = 0
        for c in cols:
            if c.flex:
                continue
            widest = max([len(c.label or c.name)] + [_width(_cell(r.get(c.name))) for r in rows])
            total += min(widest, c.max_width or widest)
        return total + 3 * len(cols)

    while width - used(columns) < min_flex and any(c.optional for c in columns):
        drop = [c for c in columns if c.optional][-1]
        columns = [c for c in columns if c is not drop]
    return columns


def _width(cell) -> int:
    from rich.cells import cell_len

    text = cell.plain if hasattr(cell, "plain") else str(cell)
    return max((cell_len(line) for line in text.split("\n")), default=0)


def _cell(value: Any):
    from rich.text import Text

    if isinstance(value, Text):
        return value
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, float):
        return f"{value:.3f}"
    return Text(visible(plain(value)))


def silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation, AttributeError):
        pass


class progress:
    """A progress bar on stderr when it is a terminal; silent otherwise.

    Used as ``with progress("Indexing") as advance: advance(done, total)``.
    The bar (and rich) starts at the first call with work to show, so a run
    with nothing to do draws nothing and imports nothing.
    """

    def __init__(self, description: str, *, unit: str = "files") -> None:
        self.description = description
        self.unit = unit
        self._bar = None
        self._task = None

    def __enter__(self):
        if not stderr_is_terminal():
            return lambda done, total: None

        def advance(done: int, total: int) -> None:
            if self._bar is None:
                if not total:
                    return
                self._start()
            self._bar.update(self._task, completed=done, total=total)

        return advance

    def _start(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
            TextColumn(self.unit, markup=False), TimeRemainingColumn(), console=err_console(), transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=None)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
