import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tests.conftest import GOLDEN, invoke

NEWSCTL = str(Path(sys.executable).parent / "newsctl")


def _default_sigint() -> None:
    """Ctrl-C's default in the child: a job started in the background by a shell ignores SIGINT, and so would it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)



@pytest.mark.parametrize(
    "name, args",
    [
        ("datelines.tsv", ["datelines", "seeds", "--format", "tsv"]),
        ("datelines.jsonl", ["datelines", "seeds", "--format", "jsonl"]),
        ("datelines_summary.csv", ["datelines", "seeds", "--summary", "--format", "csv"]),
    ],
)
def test_golden(runner, in_root, name, args):
    result = invoke(runner, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / name).read_text(encoding="utf-8")


def test_default_format_in_a_pipe_is_tsv(runner, in_root):
    result = invoke(runner, ["datelines", "seeds"])
    assert result.stdout.splitlines()[0].split("\t") == [
        "id", "file", "story", "kind", "section", "places", "agencies",
        "age_minutes", "dateline", "headline", "duplicate_of",
    ]
    assert "\x1b[" not in result.stdout


def test_json_is_an_array_of_utf8_objects(runner, in_root):
    result = invoke(runner, ["datelines", "seeds/004_a67af5a38df70ef6.txt", "-f", "json"])
    rows = json.loads(result.stdout)
    assert "Oekraïne" in result.stdout and "\\u" not in result.stdout
    assert rows[7]["duplicate_of"] == "004_a67af5a38df70ef6:5"
    assert rows[0]["age_minutes"] is None and rows[0]["places"] == ["Minsk"]


def test_table_keeps_ids_whole(runner, in_root, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke(runner, ["datelines", "seeds", "-f", "table"])
    assert "000_6886c8d2ffe8f8a4:0" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_tsv_escapes_tabs_and_newlines(runner, tmp_path):
    page = tmp_path / "p.txt"
    page.write_text("Kop met \\ streep\nA\t(ANP) - x.\n", encoding="utf-8")
    result = invoke(runner, ["datelines", page, "--no-header"])
    line = result.stdout.rstrip("\n")
    assert "\n" not in line
    fields = line.split("\t")
    assert fields[8] == "A\\t(ANP) -"
    assert fields[9] == "Kop met \\\\ streep"


def test_no_header_and_csv_lists(runner, in_root):
    result = invoke(runner, ["datelines", "seeds/002_87c820989f8bb488.txt", "-f", "csv", "--no-header"])
    assert result.stdout.splitlines()[5].startswith("002_87c820989f8bb488:5,seeds/002_87c820989f8bb488.txt,5,item,Buitenland,Washington/Abu Dhabi,ANP/AFP,180,")


def test_stdin(runner, seeds):
    data = (seeds / "000_6886c8d2ffe8f8a4.txt").read_bytes()
    result = invoke(runner, ["datelines", "-f", "jsonl"], input=data)
    first = json.loads(result.stdout.splitlines()[0])
    assert first["id"] == "stdin:0" and first["file"] == "-"


def test_no_input_is_a_one_line_usage_error(runner):
    result = invoke(runner, ["datelines"], input=b"")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "no input" in result.stderr


def test_missing_path(runner, tmp_path):
    result = invoke(runner, ["datelines", tmp_path / "nope"])
    assert result.exit_code == 2
    assert "nope" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_binary_and_latin1_and_empty(runner, tmp_path, seeds):
    (tmp_path / "a.txt").write_bytes((seeds / "000_6886c8d2ffe8f8a4.txt").read_bytes())
    (tmp_path / "b.txt").write_bytes("Kop\nBELÉM (ANP) - Café in Belém.\n".encode("latin-1"))
    (tmp_path / "c.txt").write_bytes(b"\x7fELF\x00\x00\x01")
    (tmp_path / "d.txt").write_bytes(b"")
    result = invoke(runner, ["datelines", tmp_path, "-f", "jsonl"])
    assert result.exit_code == 1  # partial: c.txt skipped
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert {r["file"].rsplit("/", 1)[-1] for r in rows} == {"a.txt", "b.txt"}
    assert [r["places"] for r in rows if r["file"].endswith("b.txt")] == [["Belém"]]
    err = result.stderr.splitlines()
    assert any("b.txt" in e and "Windows-1252" in e for e in err)
    assert any("c.txt" in e and "skipped" in e for e in err)
    assert any("d.txt" in e and "no text" in e for e in err)


def test_a_directory_without_text_files_is_said_and_partial(runner, tmp_path, seeds):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "x.bin").write_bytes(b"\x7fELF\x00")
    result = invoke(runner, ["datelines", tmp_path / "bin", seeds / "000_6886c8d2ffe8f8a4.txt", "-f", "tsv"])
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) > 1
    assert result.stderr.splitlines() == [f"warning: {tmp_path / 'bin'}: skipped: no *.txt files in it"]


def test_summary_counts(runner, in_root):
    result = invoke(runner, ["datelines", "seeds", "--summary", "-f", "jsonl"])
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert {"field": "place", "value": "Washington", "stories": 9} in rows
    assert {"field": "agency", "value": "ANP", "stories": 39} in rows  # 004_a67af5a38df70ef6:7 repeats :5
    result = invoke(runner, ["datelines", "seeds", "--summary", "--keep-duplicates", "-f", "jsonl"])
    assert {"field": "agency", "value": "ANP", "stories": 40} in [json.loads(x) for x in result.stdout.splitlines()]


def test_version_and_help():
    out = subprocess.run([NEWSCTL, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("newsctl ")
    out = subprocess.run([NEWSCTL, "-h"], capture_output=True, text=True)
    listed = [line.split()[0] for line in out.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert out.returncode == 0 and listed == ["datelines", "entities", "cooccur", "models", "search", "index", "show"]
    out = subprocess.run([NEWSCTL, "serch", "x"], capture_output=True, text=True)
    assert out.returncode == 2 and "Did you mean 'search'?" in out.stderr


def test_closed_pipe_is_quiet(tmp_path, seeds):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(150):
        (big / f"{i:03}.txt").write_bytes((seeds / "000_6886c8d2ffe8f8a4.txt").read_bytes())
    out = subprocess.run(f"'{NEWSCTL}' datelines '{big}' | head -1", shell=True, capture_output=True, text=True)
    assert out.stdout.startswith("id\t")
    assert out.stderr == ""


def _unread(pipe) -> int:
    """Bytes written into ``pipe`` that its reader has not taken yet (Linux answers FIONREAD on either end)."""
    import fcntl
    import struct
    import termios

    return struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def test_ctrl_c_prints_one_line_and_exits_130():
    proc = subprocess.Popen([NEWSCTL, "datelines", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    # Ctrl-C once the command reads its input, however long Python takes to start (a signal
    # before that is the interpreter's: a traceback, as for any Python program).
    proc.stdin.write("Kop\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while _unread(proc.stdin) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_no_color_and_no_ansi_in_pipes(in_root):
    env = {**os.environ, "FORCE_COLOR": "", "NO_COLOR": "1"}
    out = subprocess.run([NEWSCTL, "datelines", "seeds", "-f", "table"], capture_output=True, text=True, env=env)
    assert "\x1b[" not in out.stdout


def test_datelines_stays_light(in_root):
    code = (
        "import sys\nfrom cli.app import app\nsys.argv = ['newsctl', 'datelines', 'seeds']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('spacy', 'thinc', 'pydantic', 'networkx', 'matplotlib', 'sqlite3', 'rich',\n"
        "                     'cli.commands.search', 'cli.commands.cooccur') if m in sys.modules]\n"
        "print(heavy, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=in_root)
    assert out.stderr.strip() == "[]"


@pytest.mark.parametrize("extra", [["-f", "jsonl"], ["-f", "tsv"], ["--summary", "-f", "tsv"],
                                   ["--summary", "--by", "place,agency", "--wide", "-f", "csv"],
                                   ["--place", "den haag", "-f", "tsv"]])
def test_output_is_the_same_whatever_the_jobs(runner, tmp_path, extra):
    from tests.analysis.test_scan import make_corpus

    make_corpus(tmp_path, 100)
    runs = {j: invoke(runner, ["datelines", tmp_path, "-j", j, *extra]) for j in ("1", "2", "auto")}
    assert runs["1"].exit_code == 1  # a binary file was skipped
    assert "binair.txt: skipped" in runs["1"].stderr
    for j in ("2", "auto"):
        assert (runs[j].exit_code, runs[j].stdout, runs[j].stderr) == (runs["1"].exit_code, runs["1"].stdout,
                                                                      runs["1"].stderr)


def test_streamed_output_is_the_in_memory_output(runner, tmp_path):
    from analysis.corpus import dateline_records, load_corpus
    from cli import output
    from cli.commands.datelines import COLUMNS

    from tests.analysis.test_scan import make_corpus

    make_corpus(tmp_path, 80)
    result = invoke(runner, ["datelines", tmp_path, "-f", "jsonl", "-j", "2"])
    import contextlib
    import io

    want = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):
        output.render(dateline_records(load_corpus([str(tmp_path)])), COLUMNS, output.Format.jsonl, out=want)
    assert result.stdout == want.getvalue()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_tsv_made_in_pieces_is_the_in_memory_tsv(runner, tmp_path, monkeypatch, jobs):
    import contextlib
    import io

    from analysis import scan
    from analysis.corpus import dateline_records, load_corpus
    from cli import output
    from cli.commands.datelines import COLUMNS

    from tests.analysis.test_scan import make_corpus

    monkeypatch.setattr(scan, "SPILL_STORIES", 7)  # many writes to the temporary files, many pieces
    make_corpus(tmp_path, 80)
    items = "".join(f"PARIJS (AFP) - Bericht {k} uit Parijs.\n3 minuten geleden\n" for k in range(60))
    (tmp_path / "00" / "lang.txt").write_text(f"Kop\nDEN HAAG (ANP) - Tekst.\nMeer uit Sport\n{items}",
                                              encoding="utf-8")  # one file's rows in many pieces
    result = invoke(runner, ["datelines", tmp_path, "-f", "tsv", "-j", jobs])
    want = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):
        output.render(dateline_records(load_corpus([str(tmp_path)])), COLUMNS, output.Format.tsv, out=want)
    assert result.stdout == want.getvalue()


_VALUE = st.sampled_from(["", "a", "Kop\tmet tab", "back\\slash", "regel\nbreuk", "\r", "Genève", "\ud800", "€"])


def _scan_row(path, index, kind, section, places, agencies, age, dateline, headline, dup):
    """A row as the scan makes it: its id from its file's stem, its headline white space collapsed (decoded text)."""
    from analysis.reader import path_stem

    headline = " ".join(headline.replace("\ud800", "?").split())
    return (f"{path_stem(path)}:{index}", path, index, kind, section, places, agencies, age, dateline, headline, dup)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.builds(_scan_row, _VALUE, st.integers(0, 9), _VALUE, st.one_of(st.none(), _VALUE),
                          st.lists(_VALUE, max_size=2).map(tuple), st.lists(_VALUE, max_size=2).map(tuple),
                          st.one_of(st.none(), st.integers(0, 99999)), st.one_of(st.none(), _VALUE), _VALUE,
                          st.one_of(st.none(), _VALUE)), max_size=6))
def test_dateline_rows_in_parts_are_the_tsv_text(rows):
    """The workers' three parts a row, with the two cells the scan fills in, are the lines tsv_text makes."""
    from cli import output
    from cli.commands.datelines import tsv_cell, tsv_row_parts

    parts = tsv_row_parts([(*row[:5], None, *row[6:10], None) for row in rows])
    assert len(parts) == 3 * len(rows)
    lines = "".join(parts[3 * r] + tsv_cell(row[5]) + parts[3 * r + 1] + tsv_cell(row[10]) + parts[3 * r + 2]
                    for r, row in enumerate(rows))
    assert (lines, len(rows)) == output.tsv_text(rows)


@pytest.mark.parametrize("fmt", ["tsv", "jsonl"])
def test_a_temporary_folder_that_cannot_be_one_is_one_error(runner, tmp_path, monkeypatch, fmt):
    """TMPDIR names a path under a file: one error line naming it (the rows went to /tmp instead, unasked)."""
    from tests.conftest import SEEDS

    (tmp_path / "file").write_text("", encoding="utf-8")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "file" / "x"))
    result = invoke(runner, ["datelines", str(SEEDS), "-f", fmt, "-j", "1"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert str(tmp_path / "file" / "x") in result.stderr
    assert invoke(runner, ["datelines", str(SEEDS), "--summary", "-j", "1"]).exit_code == 0  # it keeps no rows
