"""Output to a full disk (`> out.tsv` on a full file system; here /dev/full): one Error line, exit 2."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEEDS

NEWSCTL = str(Path(sys.executable).parent / "newsctl")

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


@pytest.mark.parametrize("args", [
    ["datelines", str(SEEDS)],  # the streamed tsv path
    ["datelines", str(SEEDS), "-f", "json"],
    ["search", "-l", "Poetin", str(SEEDS)],  # cli/fast.py: no typer
    ["search", "Poetin", str(SEEDS), "-f", "csv"],
    ["index", "--status"],
    ["models"],
    ["--version"],
    ["datelines", "--help"],
], ids=lambda a: " ".join(a).replace(str(SEEDS), "seeds"))
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
def test_a_full_disk_under_stdout_is_one_error_line(tmp_path, args, buffered):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("PYTHONUNBUFFERED", None)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "w") as full:
        out = subprocess.run([NEWSCTL, *args], stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    assert out.returncode == 2, out.stderr
    assert out.stderr == "Error: cannot write the output (No space left on device)\n"


@pytest.mark.parametrize("args", [["datelines", str(SEEDS)], ["search", "-l", "Poetin", str(SEEDS)], ["index", str(SEEDS)]],
                         ids=["datelines", "search-l", "index"])
def test_a_closed_stdout_is_one_error_line_and_no_file_takes_its_place(tmp_path, args):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    out = subprocess.run([NEWSCTL, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                         timeout=60, preexec_fn=lambda: os.close(1))
    assert out.returncode == 2, out.stderr
    assert out.stderr == "Error: cannot write the output (Bad file descriptor)\n"
    for store in tmp_path.rglob("*.sqlite"):  # the store did not take fd 1 (and the output with it)
        assert store.read_bytes()[:16] == b"SQLite format 3\x00"


@pytest.mark.parametrize("args, status", [
    (["datelines", "/nonexistent/x.txt"], 2),
    (["search", "Poetin AND", str(SEEDS)], 2),
    (["search", "Zzzzqq", str(SEEDS), "--no-cache"], 1),
], ids=["missing", "bad-query", "no-match"])
def test_the_exit_status_holds_when_stderr_is_full(tmp_path, args, status):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    with open("/dev/full", "w") as full:
        out = subprocess.run([NEWSCTL, *args], stdout=subprocess.DEVNULL, stderr=full, env=env, timeout=60)
    assert out.returncode == status
