"""Text from the input never drives the terminal: control characters in tables, views and errors are escaped."""

import re

import pytest

from cli.output import visible
from tests.conftest import invoke

ESC_PAGE = (
    "Kop \x1b[31mROOD\x1b[0m \x1b]0;pwned\x07 titel \u202eevil\u202c\n"
    "\n"
    "DEN HAAG (ANP) - Mark Rutte zegt \x1b[2J\x1b[H iets \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ over Poetin.\n"
)
# What may reach a terminal in a table: rich's own styles (ESC [ digits ; m), nothing else.
RICH_STYLE = re.compile(r"\x1b\[[0-9;]*m")


def _controls(text: str) -> list[str]:
    rest = RICH_STYLE.sub("", text)
    return [c for c in rest if (ord(c) < 32 and c != "\n") or 0x7f <= ord(c) < 0xa0 or c in "\u202a\u202b\u202c\u202d\u202e"]


def test_visible_escapes_controls_and_bidi_overrides_only():
    assert visible("Oekraïne – ‘x’ \u200f") == "Oekraïne – ‘x’ \u200f"  # letters, quotes, a RTL mark: as they are
    assert visible("a\x1b[31mb\x07\u202e\x9b") == "a\\x1b[31mb\\x07\\u202e\\x9b"
    assert visible("one\ntwo\tthree\r") == "one\\ntwo\\tthree\\r"
    assert visible("one\ntwo\x1b", keep="\n") == "one\ntwo\\x1b"


@pytest.fixture()
def esc_file(tmp_path):
    f = tmp_path / "esc.txt"
    f.write_text(ESC_PAGE, encoding="utf-8")
    return f


@pytest.mark.parametrize("args", [
    ["datelines", "{f}", "-f", "table"],
    ["search", "Rutte", "{f}", "-f", "table", "--no-cache"],
    ["search", "Rutte", "{f}", "--stories", "-f", "table", "--no-cache"],
], ids=["datelines", "search", "search-stories"])
def test_a_table_shows_escape_sequences_instead_of_sending_them(runner, esc_file, monkeypatch, args):
    monkeypatch.setenv("COLUMNS", "300")
    result = invoke(runner, [a.format(f=esc_file) for a in args])
    assert result.exit_code == 0, result.stderr
    assert "\\x1b" in result.stdout
    assert _controls(result.stdout) == [], result.stdout


def test_show_escapes_controls_and_keeps_the_highlights_in_place(runner, esc_file, monkeypatch, tiny_model):
    monkeypatch.setattr("cli.output.stdout_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    result = invoke(runner, ["show", "esc:0", "--in", esc_file, "-m", tiny_model, "--no-cache"])
    assert result.exit_code == 0, result.stderr
    assert _controls(result.stdout) == [], result.stdout
    assert "Kop \\x1b[31mROOD\\x1b[0m \\x1b]0;pwned\\x07 titel \\u202eevil\\u202c" in result.stdout
    # The entities are highlighted exactly, though escapes made the text longer before them.
    assert re.search(r"\x1b\[[0-9;]*mMark Rutte\x1b\[0m", result.stdout), result.stdout
    assert re.search(r"\x1b\[[0-9;]*mPoetin\x1b\[0m", result.stdout), result.stdout


@pytest.mark.parametrize("command", [["datelines"], ["entities", "--no-cache"], ["search", "x"], ["index"]])
def test_an_error_naming_a_hostile_path_is_one_line_without_controls(runner, tmp_path, command):
    bad = str(tmp_path / "miss\ning\x1b[31m.txt")
    result = invoke(runner, [*command, bad])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "miss\\ning\\x1b[31m.txt" in lines[0]


def test_a_warning_naming_a_hostile_file_is_one_line(runner, tmp_path):
    (tmp_path / "bin\n\x1b[2Jary.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "ok.txt").write_text("Kop\n\nDEN HAAG (ANP) - Tekst.\n", encoding="utf-8")
    result = invoke(runner, ["datelines", tmp_path, "-f", "tsv"])
    assert result.exit_code == 1
    warning = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warning) == 1 and "bin\\n\\x1b[2Jary.txt" in warning[0], result.stderr


def test_emoji_codes_in_names_stay_as_written(runner, tmp_path):
    """rich would turn ':fire:' into an emoji; a file name or story id is shown as it is."""
    result = invoke(runner, ["datelines", tmp_path / "x:fire:y.txt"])
    assert result.exit_code == 2 and "x:fire:y.txt" in result.stderr, result.stderr
    result = invoke(runner, ["show", "a:b:c", "--in", tmp_path])
    assert result.exit_code == 1 and "'a:b:c'" in result.stderr, result.stderr


@pytest.fixture()
def esc_names(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "x\x1b[31mred.txt").write_text("Kop\n\nDEN HAAG (ANP) - Poetin sprak.\n", encoding="utf-8")
    (corpus / "y\x1b]0;title\x07.txt").write_text("Kop\n\nDEN HAAG (ANP) - Niemand sprak.\n", encoding="utf-8")
    return corpus


@pytest.mark.parametrize("flag, name", [("-l", "x\\x1b[31mred.txt"), ("-L", "y\\x1b]0;title\\x07.txt")])
def test_file_lists_on_a_terminal_escape_control_characters(runner, esc_names, monkeypatch, flag, name):
    monkeypatch.setattr("cli.output.stdout_is_terminal", lambda: True)
    result = invoke(runner, ["search", flag, "Poetin", esc_names, "--store", esc_names.parent / "s.sqlite"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().endswith(name) and "\x1b" not in result.stdout, result.stdout


def test_the_short_way_of_search_l_escapes_on_a_terminal_too(esc_names, monkeypatch, capsys):
    from cli.fast import run

    monkeypatch.setattr("cli.output.stdout_is_terminal", lambda: True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(esc_names.parent / "cache"))
    assert run(["search", "Poetin", str(esc_names), "-l"]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("x\\x1b[31mred.txt") and "\x1b" not in out, out


def test_file_lists_in_a_pipe_keep_the_names(runner, esc_names):
    result = invoke(runner, ["search", "-l", "Poetin", esc_names, "--store", esc_names.parent / "s.sqlite"])
    assert result.exit_code == 0 and result.stdout.strip().endswith("x\x1b[31mred.txt")
