"""search's grep-style flags: -i -w -c -l -L -0 -o -H -v, --sentence, and those refused."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import invoke

NEWSCTL = str(Path(sys.executable).parent / "newsctl")


def search(runner, *args):
    return invoke(runner, ["search", *args])


def jsonl(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_sentence_shows_the_whole_sentence(runner, in_root):
    rows = jsonl(search(runner, "Rutte", "seeds", "--sentence", "-f", "jsonl"))
    first = rows[0]
    assert first["left"].startswith("KYIV (ANP) - De Oekraïense president")
    assert first["right"].endswith("Rusland te stoppen.")
    assert rows[1]["left"] == "Hij zegt in een bericht op X dat hij met "
    text = (in_root / first["file"]).read_text(encoding="utf-8")
    assert text[first["start"]:first["end"]] == "Rutte"
    narrow = jsonl(search(runner, "Rutte", "seeds", "-C", "5", "-f", "jsonl"))
    assert len(narrow[0]["left"]) == 5 and len(first["left"]) > 40


def test_only_matching(runner, in_root):
    result = search(runner, "Poetin", "seeds", "-o", "-f", "tsv")
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["id", "file", "start", "end", "match"]
    assert {line.split("\t")[4] for line in lines[1:]} == {"Poetin"}


def test_files_without_match(runner, in_root):
    result = search(runner, "Poetin", "seeds", "-L")
    assert result.exit_code == 0 and result.stdout == "seeds/003_a388d32138e33352.txt\n"
    assert search(runner, "", "seeds", "-L").exit_code == 1  # every file matches: nothing listed
    result = search(runner, "Poetin", "seeds", "-L", "--no-cache")
    assert result.stdout == "seeds/003_a388d32138e33352.txt\n"


def test_null_separated_paths(runner, in_root):
    result = search(runner, "Poetin", "seeds", "-l", "-0")
    assert result.stdout_bytes.endswith(b"\0") and b"\n" not in result.stdout_bytes
    assert result.stdout_bytes.split(b"\0")[:-1] == search(runner, "Poetin", "seeds", "-l").stdout_bytes.split(b"\n")[:-1]
    result = search(runner, "Poetin", "seeds", "-0")
    assert result.exit_code == 2 and "-l or -L" in result.stderr


def test_null_is_safe_with_a_newline_in_a_file_name(tmp_path, seeds):
    odd = tmp_path / "corpus" / "twee\nregels.txt"
    odd.parent.mkdir()
    odd.write_bytes((seeds / "000_6886c8d2ffe8f8a4.txt").read_bytes())
    store = tmp_path / "s.sqlite"
    out = subprocess.run(f"'{NEWSCTL}' search -l -0 Tokajev corpus --store '{store}' | xargs -0 grep -c Tokajev /dev/null",
                         shell=True, capture_output=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == "/dev/null:0\ncorpus/twee\nregels.txt:3\n"


def test_grep_flags_that_change_nothing_are_accepted(runner, in_root):
    plain = search(runner, "oekraine", "seeds", "-f", "tsv").stdout
    assert search(runner, "oekraine", "seeds", "-i", "-w", "-f", "tsv").stdout == plain
    assert search(runner, "Poetin", "seeds", "-ic").stdout == search(runner, "Poetin", "seeds", "-c").stdout
    result = search(runner, "oekraine", "seeds", "-i", "--case-sensitive")
    assert result.exit_code == 2 and "choose one of" in result.stderr


def test_word_regexp_with_a_regex(runner, in_root):
    loose = jsonl(search(runner, "-e", "Poetin", "seeds", "-f", "jsonl"))
    words = jsonl(search(runner, "-e", "Poeti", "-w", "seeds", "-f", "jsonl"))
    assert loose and words == []


def test_with_filename_shows_the_file_in_the_table(runner, in_root, monkeypatch):
    monkeypatch.setattr("cli.output.stdout_is_terminal", lambda: True)
    assert "seeds/" not in search(runner, "Tokajev", "seeds").stdout
    assert "seeds/" in search(runner, "Tokajev", "seeds", "-H").stdout


def test_invert_match_lists_the_other_stories(runner, in_root):
    every = {r["id"] for r in jsonl(search(runner, "", "seeds", "--stories", "-f", "jsonl"))}
    hit = {r["id"] for r in jsonl(search(runner, "oorlog", "seeds", "--stories", "-f", "jsonl"))}
    rest = jsonl(search(runner, "oorlog", "seeds", "-v", "-f", "jsonl"))
    assert {r["id"] for r in rest} == every - hit and all(r["hits"] == 0 for r in rest)
    assert jsonl(search(runner, "oorlog", "seeds", "-v", "--no-cache", "-f", "jsonl")) == rest
    result = search(runner, "oorlog", "seeds", "-v", "-l")
    assert result.exit_code == 2 and "does not go with" in result.stderr


@pytest.mark.parametrize("flag, hint", [
    ("-r", "always searched recursively"), ("-n", "character offsets"), ("-E", "--regex"),
    ("-A", "--sentence"), ("-Z", "-0/--null"), ("-F", "double quotes"),
])
def test_grep_flags_that_do_not_apply_say_why(runner, in_root, flag, hint):
    result = search(runner, flag, "Poetin", "seeds")
    assert result.exit_code == 2 and f"{flag} is a grep option" in result.stderr and hint in result.stderr
    result = search(runner, "Poetin", "seeds", "-c" + flag[1])  # bundled with another flag
    assert result.exit_code == 2 and f"{flag} is a grep option" in result.stderr
