"""A file name that is not valid UTF-8 (a byte \\xff): every command and format prints it as `\\xff`."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SEEDS, invoke

NAME = os.fsdecode(b"r\xffa.txt")  # what os.listdir gives for the name
SHOWN = "r\\xffa"  # how newsctl prints it
FORMATS = ["table", "tsv", "csv", "json", "jsonl"]
COMMANDS = {
    "datelines": ["datelines"],
    "datelines-summary": ["datelines", "--summary"],
    "entities": ["entities"],
    "mentions": ["entities", "--mentions"],
    "cooccur": ["cooccur", "--unit", "sentence", "--top", "5"],
    "search": ["search", "Oekraïne"],
    "search-stories": ["search", "Oekraïne", "--stories"],
    "search-count": ["search", "Oekraïne", "--count"],
    "search-no-cache": ["search", "Oekraïne", "--no-cache"],
    "search-regex": ["search", "-e", "Oekra.ne"],
    "search-entity": ["search", "", "--entity", "Poetin", "--stories"],
    "index": ["index"],
}


@pytest.fixture(scope="module")
def odd_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    first = sorted(SEEDS.glob("*.txt"))[0]
    (root / NAME).write_bytes(first.read_bytes())
    (root / os.fsdecode(b"bin\xff.txt")).write_bytes(b"\x00\x01binary")
    return root


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store") / "s.sqlite"  # the model runs once for the module


def _decoded(data: bytes) -> str:
    return data.decode("utf-8")  # raises for output that is not valid UTF-8


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_and_format_prints_the_name_escaped(runner, odd_dir, store, command, fmt):
    args = COMMANDS[command] + [str(odd_dir), "-f", fmt]
    if not command.startswith("datelines"):
        args += ["--store", str(store)]
    result = invoke(runner, args)
    assert result.exit_code in (0, 1), result.stderr  # 1: the binary file was skipped
    out, err = _decoded(result.stdout_bytes), _decoded(result.stderr_bytes)
    assert "Traceback" not in out + err
    assert "\udcff" not in out + err and "\xff" not in out + err
    assert f"{odd_dir}/bin\\xff.txt: skipped: binary file" in err.replace("\n", "")
    if command in ("datelines-summary", "index", "entities") or (command, fmt) == ("cooccur", "table"):
        return  # these print no file names or story ids
    if fmt in ("json", "jsonl"):
        rows = json.loads(out) if fmt == "json" else [json.loads(line) for line in out.splitlines()]
        assert rows and any(SHOWN in json.dumps(r, ensure_ascii=False).replace("\\\\", "\\") for r in rows)
    elif fmt == "tsv":
        assert SHOWN.replace("\\", "\\\\") in out  # tsv escapes the backslash itself
    else:
        assert SHOWN in out


def test_files_only_and_errors(runner, odd_dir, store):
    result = invoke(runner, ["search", "Oekraïne", str(odd_dir), "-l", "--store", str(store)])
    assert _decoded(result.stdout_bytes) == f"{odd_dir}/{SHOWN}.txt".replace("\\", "\\\\") + "\n"
    missing = str(odd_dir / os.fsdecode(b"nope\xff.txt"))
    result = invoke(runner, ["datelines", missing])
    assert result.exit_code == 2
    assert _decoded(result.stderr_bytes).strip() == f"Error: no such file or directory: {odd_dir}/nope\\xff.txt"


def test_the_index_keeps_names_as_bytes(odd_dir, store):
    import sqlite3

    invoke_paths = [row[0] for row in sqlite3.connect(store).execute("SELECT path FROM search_files")]
    assert os.fsencode(str(odd_dir / NAME)) in invoke_paths


@pytest.mark.parametrize("fmt", ["jsonl", "tsv"])
def test_a_real_pipe_gets_valid_utf8(odd_dir, tmp_path, fmt):
    """Through a real stdout, in the C locale, where Python would write the raw byte."""
    env = {**os.environ, "LC_ALL": "C", "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("PYTHONIOENCODING", None)
    for args in (["datelines", str(odd_dir), "-f", fmt], ["search", "Oekraïne", str(odd_dir), "-f", fmt]):
        done = subprocess.run([sys.executable, "-c", "from cli.app import main; main()", *args], capture_output=True, env=env, timeout=60)
        assert done.returncode in (0, 1), done.stderr  # datelines: 1, the binary file was skipped
        assert b"\xff" not in done.stdout + done.stderr
        assert SHOWN.encode() in done.stdout.replace(b"\\\\", b"\\")
        _decoded(done.stdout), _decoded(done.stderr)


def test_the_html_page_shows_the_name_escaped(runner, odd_dir, store, tmp_path):
    page = tmp_path / "page.html"
    result = invoke(runner, ["entities", str(odd_dir), "--html", str(page), "--store", str(store), "-f", "tsv"])
    assert result.exit_code == 1, result.stderr
    assert f"{SHOWN}:0" in _decoded(page.read_bytes())
