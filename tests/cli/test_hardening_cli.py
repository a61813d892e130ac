"""Hostile input through the CLI (issue 13): script payloads, markup in names, formulas."""

import csv
import io
import json

import pytest

from tests.conftest import invoke
from tests.tinymodel import PAYLOADS

PAGE = (
    "Kop met Poetin\n"
    "DEN HAAG (ANP) - Vandaag sprak president {p} met Poetin. Daarna zweeg {p} even.\n"
    "Vladimir Poetin reisde naar Kazachstan.\n"
)


# -- item 1: entities --html ---------------------------------------------------

def test_html_page_escapes_payloads_in_names_and_file_names(runner, tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    for k, p in enumerate(PAYLOADS):
        f = corpus / f"{k}{p}.txt"  # "/" in a payload makes a directory: the path still carries it
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(PAGE.format(p=p), encoding="utf-8")
    page = tmp_path / "ents.html"
    result = invoke(runner, ["entities", corpus, "--html", page, "-m", tiny_model, "--no-cache", "-f", "tsv"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\tPER\t") >= 3  # the payloads were tagged as names
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and html.count("</title>") == 1
    assert "PER · &lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- item 4: rich markup -------------------------------------------------------

@pytest.mark.parametrize("name", ["foo[/bar].txt", "[bold]x.txt", "[red]y[/red].txt"])
def test_file_names_are_not_rich_markup_in_warnings(runner, tmp_path, name):
    f = tmp_path / name
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_bytes("Kop\nDEN HAAG (ANP) - Caf\xe9 open.\n".encode("cp1252"))  # warns: not UTF-8
    result = invoke(runner, ["datelines", tmp_path, "-f", "tsv"])
    assert result.exit_code == 0, result.stderr
    assert f"{f}: not valid UTF-8" in result.stderr


def test_skipped_file_with_markup_name(runner, tmp_path):
    f = tmp_path / "[bold]bin[/bold].txt"
    f.parent.mkdir()
    f.write_bytes(b"\x00\x01")
    result = invoke(runner, ["datelines", f, "-f", "tsv"])
    assert result.exit_code == 1
    assert f"{f}: skipped: binary file" in result.stderr


def test_table_cells_and_headers_are_not_markup(monkeypatch, capsys):
    from cli import output
    from cli.output import Column, Format

    rows = [{"[bold]x": "[red]cell[/red]", "n": 1}, {"[bold]x": "foo[/bar]", "n": 2}]
    output.render(rows, [Column("[bold]x"), Column("n")], Format.table, title="[/oops]")
    out = capsys.readouterr().out
    assert "[bold]x" in out and "[red]cell[/red]" in out and "foo[/bar]" in out and "[/oops]" in out


def test_search_table_shows_markup_file_names(runner, tmp_path):
    f = tmp_path / "[bold]x.txt"
    f.write_text(PAGE.format(p="Mark Rutte"), encoding="utf-8")
    result = invoke(runner, ["search", "Poetin", tmp_path, "--count", "-f", "table", "--no-cache"])
    assert result.exit_code == 0, result.stderr
    assert "[bold]x.txt" in result.stdout


def test_progress_description_is_not_markup(monkeypatch, capsys):
    from cli import output

    monkeypatch.setattr(output, "stderr_is_terminal", lambda: True)
    bar = output.progress("[/oops]", unit="[bold]files")
    with bar as advance:
        advance(1, 2)  # would raise MarkupError while drawing
    assert bar._bar is not None


# -- item 10: csv injection ----------------------------------------------------

FORMULAS = ["=1+2", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"]


def test_csv_cells_that_start_a_formula_get_a_quote(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "=cmd.txt").write_text('=HYPERLINK("http://x", "klik")\nDEN HAAG (ANP) - Tekst.\n', encoding="utf-8")
    (tmp_path / "gewoon.txt").write_text("Gewoon -1\nDEN HAAG (ANP) - Tekst.\n", encoding="utf-8")
    args = ["datelines", "=cmd.txt", "gewoon.txt"]
    rows = list(csv.DictReader(io.StringIO(invoke(runner, [*args, "-f", "csv"]).stdout)))
    assert [(r["id"], r["file"], r["headline"]) for r in rows] == [
        ("'=cmd:0", "'=cmd.txt", "'=HYPERLINK(\"http://x\", \"klik\")"),
        ("gewoon:0", "gewoon.txt", "Gewoon -1"),
    ]
    # tsv and json keep the values as they are.
    tsv = invoke(runner, [*args, "-f", "tsv", "--no-header"]).stdout
    assert tsv.startswith("=cmd:0\t=cmd.txt\t")
    data = json.loads(invoke(runner, [*args, "-f", "json"]).stdout)
    assert data[0]["headline"] == '=HYPERLINK("http://x", "klik")'


def test_csv_cell_rule():
    from cli.output import Column, Format, csv_cell, render

    for text in FORMULAS:
        assert csv_cell(text) == "'" + text
    assert csv_cell(["-x", "y"]) == "'-x/y"
    assert csv_cell(-0.5) == "-0.5000" and csv_cell(-3) == "-3"  # numbers are not text
    assert csv_cell("a=b") == "a=b" and csv_cell("") == "" and csv_cell(None) == ""
    buf = io.StringIO()
    render([{"=h": "=x", "npmi": -0.25}], [Column("=h"), Column("npmi")], Format.csv, out=buf)
    assert buf.getvalue() == "'=h,npmi\n'=x,-0.2500\n"
    for fmt, expected in [(Format.tsv, "=h\tnpmi\n=x\t-0.2500\n"), (Format.jsonl, '{"=h": "=x", "npmi": -0.25}\n')]:
        buf = io.StringIO()
        render([{"=h": "=x", "npmi": -0.25}], [Column("=h"), Column("npmi")], fmt, out=buf)
        assert buf.getvalue() == expected


# -- item 2: paragraphs longer than the model takes -----------------------------

SENTENCE = "Het weer was vandaag zeer wisselend in het hele land. "
NAMES = "Vladimir Poetin sprak met Mark Rutte over de NAVO. "


def write_single_line(path, chars: int):
    """A page whose lead is one paragraph of ``chars`` characters, written without holding it."""
    block = SENTENCE * 99 + NAMES
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("Kop\nDEN HAAG (ANP) - ")
        for _ in range(chars // len(block) + 1):
            fh.write(block)
        fh.write("\n")
    return chars // len(block) + 1  # occurrences of each name


def check_entity_commands(runner, f, model, n, extra):
    res = invoke(runner, ["entities", f, "-m", model, "--mentions", "-f", "jsonl", *extra])
    assert res.exit_code == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert sum(r["text"] == "Mark Rutte" for r in rows) == n
    from analysis.reader import read_document

    text = read_document(str(f)).text
    assert all(text[r["start"]: r["end"]] == r["text"] for r in rows)  # offsets point into the file
    res = invoke(runner, ["cooccur", f, "-m", model, "-f", "tsv", "--no-header", *extra])
    assert res.exit_code == 0, res.stderr
    assert "Mark Rutte\tPER\tVladimir Poetin\tPER\t1\t" in res.stdout
    res = invoke(runner, ["search", "Rutte", f, "--entity", "Poetin", "-m", model, "--count", "-f", "tsv",
                          "--no-header", *extra])
    assert res.exit_code == 0, res.stderr
    assert res.stdout == f"{f}\t{n}\n"


def test_million_character_paragraph(runner, tmp_path, tiny_model):
    f = tmp_path / "long.txt"
    n = write_single_line(f, 1_100_000)
    check_entity_commands(runner, f, tiny_model, n, ["--no-cache"])


@pytest.mark.slow
def test_fifty_megabyte_single_line(runner, tmp_path, tiny_model):
    f = tmp_path / "line50.txt"
    n = write_single_line(f, 50_000_000)
    check_entity_commands(runner, f, tiny_model, n, ["--store", tmp_path / "store.sqlite"])
    res = invoke(runner, ["search", "Rutte", f, "--count", "-f", "tsv", "--no-header", "--store", tmp_path / "store.sqlite"])
    assert res.stdout == f"{f}\t{n}\n"
