"""A live `newsctl index --watch` answers plain searches over its socket (cli/client.py, cli/serve.py).

Its answers must be exactly the usual way's, byte for byte, see a change made
right before the search, and anything it does not take (or a dead watcher)
must go the usual way.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cli.fast import parse_plain
from tests.conftest import ROOT, SEEDS

pytest.importorskip("watchdog.observers.inotify_c", reason="index --watch needs watchdog (newsctl[watch]) and Linux")

SHORT = "import sys\nfrom cli.launch import main\nsys.exit(main())"
TYPER = "import sys\nfrom cli.app import app\napp()"  # the Typer application itself: never asks a watcher
# Which way a search goes. A watcher gets a minute, not ACCEPT_TIMEOUT's 2 s, to take it: on a loaded
# machine it may be slower than that, and the search then goes the usual way (as correct, but not asked).
ASK = ("import sys\nfrom cli import client\nclient.ACCEPT_TIMEOUT = 60.0\nstatus = client.ask(sys.argv[1:])\n"
       "print(status, file=sys.stderr)")


def _default_sigint() -> None:
    """Ctrl-C's default in the child: a job started in the background by a shell ignores SIGINT, and so would it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)



@pytest.mark.parametrize("argv, expected", [
    (["search", "x", "a"], ("x", ["a"], None, False, None)),
    (["search", "x", "a", "b", "-f", "tsv", "--store=s"], ("x", ["a", "b"], "s", False, "tsv")),
    (["search", "x", "a", "--format=tsv"], ("x", ["a"], None, False, "tsv")),
    (["search", "x", "a", "-l"], ("x", ["a"], None, True, None)),
    (["search", "x", "a", "-f", "json"], None),
    (["search", "x", "a", "-l", "-f", "tsv"], None),
    (["search", "x", "a", "-f", "tsv", "-f", "tsv"], None),
    (["search", "x", "a", "-C", "3"], None),
    (["search", "x"], None),
])
def test_the_forms_a_watcher_takes(argv, expected):
    assert parse_plain(argv) == expected


def _env(cache):
    return {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache), "NO_COLOR": "1"}


def _run(code, args, cwd, cache, **kw):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, env=_env(cache), cwd=cwd,
                          timeout=120, **kw)


def _asked(args, cwd, cache):
    """What cli.client.ask returned: the watcher's exit status, or 'None' when it went the usual way."""
    done = _run(ASK, args, cwd, cache)
    return done.stderr.decode().split()[-1]


@pytest.fixture()
def watched(tmp_path):
    """A corpus under a live watcher (default store in a cache dir): yields (corpus parent, cache, process).

    The cache is a short path: a unix socket's path has room for 107 bytes.
    """
    root = tmp_path / "work"
    shutil.copytree(SEEDS, root / "corpus")
    cache = Path(tempfile.mkdtemp(prefix="nc-"))
    proc = subprocess.Popen([sys.executable, "-c", SHORT, "index", "--watch", "corpus"], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(cache),
                            preexec_fn=_default_sigint)
    line = proc.stderr.readline()
    assert line.startswith("watching "), line
    yield root, cache, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # never leave a watcher behind
            proc.kill()
            proc.communicate()
    shutil.rmtree(cache, ignore_errors=True)


@pytest.mark.parametrize("args", [
    ["search", "Oekraïne", "corpus", "-l"],
    ["search", "Oekraïne", "corpus"],
    ["search", "poetin* OR navo", "corpus", "corpus/000_6886c8d2ffe8f8a4.txt", "-f", "tsv"],
    ["search", "zwartewatersklooster", "corpus"],  # nothing: exit 1
])
def test_the_watcher_answers_as_typer_does(watched, args):
    root, cache, _ = watched
    assert _asked(args, root, cache) != "None"
    short = _run(SHORT, args, root, cache)
    full = _run(TYPER, args, root, cache)
    assert (short.returncode, short.stdout, short.stderr) == (full.returncode, full.stdout, full.stderr)
    assert short.returncode in (0, 1) and not short.stderr


@pytest.mark.parametrize("args", [
    ["search", '"not closed', "corpus", "-l"],  # an error: the usual way says it
    ["search", "Oekraïne", "corpus", "nope", "-l"],  # a missing path
    ["search", "Oekraïne", "..", "-l"],  # not under the watched root
    ["search", "Oekraïne", "corpus", "--stories"],  # a form it does not take
])
def test_what_the_watcher_does_not_take_goes_the_usual_way(watched, args):
    root, cache, _ = watched
    assert _asked(args, root, cache) == "None"
    short = _run(SHORT, args, root, cache)
    full = _run(TYPER, args, root, cache)
    assert (short.returncode, short.stdout, short.stderr) == (full.returncode, full.stdout, full.stderr)


def test_a_file_written_right_before_the_search_is_in_the_answer(watched):
    root, cache, _ = watched
    args = ["search", "blauwvingerkrab", "corpus", "-l"]
    assert _asked(args, root, cache) == "1"
    (root / "corpus" / "new.txt").write_text("Kop\nMOSKOU (ANP) - Een blauwvingerkrab.\n", encoding="utf-8")
    done = _run(SHORT, args, root, cache)
    assert (done.returncode, done.stdout) == (0, b"corpus/new.txt\n")
    (root / "corpus" / "new.txt").unlink()
    assert _asked(args, root, cache) == "1"


def test_a_closed_pipe_ends_the_answer_quietly(watched):
    root, cache, _ = watched
    r, w = os.pipe()
    os.close(r)  # the reader is gone before anything is written
    try:
        done = subprocess.run([sys.executable, "-c", SHORT, "search", "", "corpus"], stdout=w,
                              stderr=subprocess.PIPE, env=_env(cache), cwd=root, timeout=120)
    finally:
        os.close(w)
    assert (done.returncode, done.stderr) == (0, b"")


def test_a_dead_watcher_is_passed_by(watched):
    root, cache, proc = watched
    proc.kill()  # no clean-up: its socket file stays behind
    proc.wait(timeout=30)
    assert (cache / "newsctl" / "store.sqlite.search.sock").exists()
    args = ["search", "Oekraïne", "corpus", "-l"]
    assert _asked(args, root, cache) == "None"
    short = _run(SHORT, args, root, cache)
    full = _run(TYPER, args, root, cache)
    assert (short.returncode, short.stdout) == (full.returncode, full.stdout) == (0, full.stdout)
    assert full.stdout


def test_garbage_on_the_socket_leaves_the_watcher_answering(watched):
    import socket

    root, cache, proc = watched
    path = str(cache / "newsctl" / "store.sqlite.search.sock")
    for junk in (b"", b"\xff\xff\xff\x7f", b"\x05\x00\x00\x00hello", b"\x02\x00\x00\x00\x00\x00"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(path)
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            assert s.recv(1) in (b"", b"D")  # dropped or declined, nothing written
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, open(os.devnull, "wb") as sink:
        payload = b"\x00not marshal"  # with descriptors, but no request in it
        s.settimeout(10)
        s.connect(path)
        fds = [sink.fileno(), sink.fileno()]
        s.sendmsg([len(payload).to_bytes(4, "little") + payload],
                  [(socket.SOL_SOCKET, socket.SCM_RIGHTS, b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds))])
        assert s.recv(1) == b"D"
    assert proc.poll() is None
    assert _asked(["search", "Oekraïne", "corpus", "-l"], root, cache) == "0"


def test_only_this_user_may_use_the_socket(watched):
    _, cache, _ = watched
    assert (cache / "newsctl" / "store.sqlite.search.sock").stat().st_mode & 0o777 == 0o600


def test_many_hits_made_with_the_watchers_worker_are_the_usual_ways(watched):
    """Enough matching stories for the watcher's kept worker (several chunks); its answer is the usual
    way's, search after search, and the worker keeps no descriptor of a client (the output ends)."""
    root, cache, proc = watched
    for k in range(14):  # 14 x 40 stories that hold 'de': more than four chunks of 128
        shutil.copytree(SEEDS, root / "corpus" / f"copy{k:02d}")
    args = ["search", "de", "corpus"]
    full = _run(TYPER, args, root, cache)
    assert full.returncode == 0 and full.stdout.count(b"\n") > 600
    for _ in range(3):
        assert _asked(args, root, cache) == "0"
        short = _run(SHORT, args, root, cache)
        assert (short.returncode, short.stdout, short.stderr) == (full.returncode, full.stdout, full.stderr)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    if children.exists():
        assert len(children.read_text().split()) == 1  # the worker, kept for the next search


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["search", "Oekraïne", "corpus"], ["search", "Oekraïne", "corpus", "-l"]])
def test_a_full_disk_under_stdout_is_the_usual_ways_error_line(watched, args):
    root, cache, proc = watched
    with open("/dev/full", "w") as full:
        short = subprocess.run([sys.executable, "-c", SHORT, *args], stdout=full, stderr=subprocess.PIPE,
                               env=_env(cache), cwd=root, timeout=120)
        usual = subprocess.run([sys.executable, "-c", TYPER, *args], stdout=full, stderr=subprocess.PIPE,
                               env=_env(cache), cwd=root, timeout=120)
    assert (short.returncode, short.stderr) == (usual.returncode, usual.stderr) == (
        2, b"Error: cannot write the output (No space left on device)\n")
    assert proc.poll() is None  # the watcher goes on
