"""Every command walks inputs the same way: FIFOs never hang, odd files are skipped with the same warning."""

import os
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SEEDS

COMMANDS = [
    ["datelines", "-f", "tsv"],
    ["search", "", "--stories", "-f", "tsv"],
    ["search", "", "--stories", "--no-cache", "-f", "tsv"],
    ["search", "-e", "Oekra.ne", "-f", "tsv"],
    ["index", "-f", "tsv"],
]


@pytest.fixture()
def odd_tree(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    first = sorted(SEEDS.glob("*.txt"))[0]
    (root / "sub" / "a.txt").write_bytes(first.read_bytes())
    os.mkfifo(tmp_path / "pipe")
    (root / "link.txt").symlink_to(tmp_path / "pipe")  # a symlink to a FIFO: hung every command
    os.mkfifo(root / "fifo.txt")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.txt"))
    yield root
    sock.close()


def _run(args, cwd, cache):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-c", "from cli.app import main; main()", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


def test_no_command_hangs_on_a_fifo_and_all_warn_alike(odd_tree, tmp_path):
    expected = sorted(f"warning: {name}: skipped: not a regular file ({kind})" for name, kind in
                      [("corpus/fifo.txt", "a FIFO"), ("corpus/link.txt", "a FIFO"), ("corpus/sock.txt", "a socket")])
    for args in COMMANDS:
        done = _run([*args, "corpus"], tmp_path, tmp_path / "cache")  # raises TimeoutExpired if it hangs
        assert sorted(done.stderr.splitlines()) == expected, (args, done.stderr)
        # search: 0, it found something (like grep -r, which skips FIFOs); the others: 1, partial
        assert done.returncode == (0 if args[0] == "search" else 1), (args, done.stderr)
        assert "Traceback" not in done.stderr
    done = _run(["datelines", "corpus/link.txt", "-f", "tsv"], tmp_path, tmp_path / "cache")
    assert done.stderr == "warning: corpus/link.txt: skipped: not a regular file (a FIFO)\n"
