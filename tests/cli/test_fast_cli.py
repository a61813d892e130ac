"""`newsctl search QUERY PATHS -l` without Typer (cli/fast.py) answers exactly as the Typer command does."""

import os
import shutil
import subprocess
import sys

import pytest

from cli.fast import parse
from tests.conftest import ROOT, SEEDS

SHORT = "import sys\nfrom cli.launch import main\nsys.exit(main())"
TYPER = "import sys\nfrom cli.app import app\napp()"  # the Typer application itself, never the short way
PROBE = ("import sys\nfrom cli.fast import run\nstatus = run(sys.argv[1:])\n"
         "print('typer' in sys.modules, 'click' in sys.modules, status, file=sys.stderr)")


def _run(code, args, cwd, cache):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize("argv, expected", [
    (["search", "Poetin", "seeds", "-l"], ("Poetin", ["seeds"], None)),
    (["search", "-l", "", "a", "b", "--store", "s.db"], ("", ["a", "b"], "s.db")),
    (["search", "x", "a", "--files-with-matches", "--store=s.db"], ("x", ["a"], "s.db")),
    (["search", "x", "a"], None),  # hits, not files: the Typer way
    (["search", "x", "-l"], None),  # no PATHS: standard input
    (["search", "x", "-", "-l"], None),
    (["search", "x", "a", "-l", "-l"], None),
    (["search", "x", "a", "-lc"], None),
    (["search", "x", "a", "-l", "-c"], None),
    (["search", "x", "a", "-l", "--", "b"], None),
    (["search", "x", "a", "-l", "--store"], None),
    (["search", "x", "a", "-l", "--store", "s", "--store", "t"], None),
    (["search", "x", "a", "-l", "--store", "--help"], None),
    (["search", "x", "a", "-l", "--regex", "y"], None),
    (["search", "x", "a", "-l", "-h"], None),
    (["index", "x", "a", "-l"], None),
])
def test_only_the_plain_form_takes_the_short_way(argv, expected):
    assert parse(argv) == expected


def test_completion_takes_the_typer_way(monkeypatch):
    monkeypatch.setenv("_NEWSCTL_COMPLETE", "complete_bash")
    assert parse(["search", "x", "a", "-l"]) is None


@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(SEEDS, root / "seeds")
    (root / "seeds" / "binary.txt").write_bytes(b"\x00\x01binary")
    odd = os.fsencode(str(root / "seeds")) + b"/caf\xe9.txt"  # a name that is not UTF-8
    with open(odd, "wb") as fh:
        fh.write((SEEDS / "000_6886c8d2ffe8f8a4.txt").read_bytes())
    return root


@pytest.mark.parametrize("args", [
    ["search", "Oekraïne", "seeds", "-l"],
    ["search", "poetin* OR navo", "seeds", "seeds/000_6886c8d2ffe8f8a4.txt", "--files-with-matches"],
    ["search", "", "seeds", "-l"],
    ["search", "zwartewatersklooster", "seeds", "-l"],  # nothing: exit 1
    ["search", "Oekraïne", "seeds", "nope", "-l"],  # a missing path: one Error line, exit 2
    ["search", '"not closed', "seeds", "-l"],  # an invalid query
    ["search", "Oekraïne", "seeds", "-l", "--store=other.sqlite"],
])
def test_the_short_way_answers_as_typer_does(tree, tmp_path, args):
    for _ in range(2):  # building the index, then from the saved scope
        short = _run(SHORT, args, tree, tmp_path / "cache")
        full = _run(TYPER, args, tree, tmp_path / "cache")
        assert (short.returncode, short.stdout, short.stderr) == (full.returncode, full.stdout, full.stderr)
    probe = _run(PROBE, args, tree, tmp_path / "cache")
    assert probe.stderr.decode().split()[-3:] == ["False", "False", str(short.returncode)]


def test_a_changed_file_is_seen_the_short_way(tree, tmp_path):
    args = ["search", "zwartewatersklooster", "seeds", "-l"]
    assert _run(SHORT, args, tree, tmp_path / "cache").returncode == 1
    page = tree / "seeds" / "003_a388d32138e33352.txt"
    page.write_text("Zwartewatersklooster\n" + page.read_text(encoding="utf-8"), encoding="utf-8")
    done = _run(SHORT, args, tree, tmp_path / "cache")
    assert (done.returncode, done.stdout) == (0, b"seeds/003_a388d32138e33352.txt\n")
