import io
import os
import pathlib
import stat

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from analysis import reader
from analysis.errors import InputError
from analysis.reader import (
    DecodeError, NotRegularFileError, decode, expand_paths, open_regular, read_corpus, read_document, walk,
)


def test_utf8_with_and_without_bom():
    assert decode("Genève".encode()) == ("Genève", "utf-8")
    assert decode("\ufeffGenève".encode()) == ("Genève", "utf-8")


def test_windows_1252_fallback_including_undefined_bytes():
    text, enc = decode("Belém – €".encode("cp1252") + b"\x81")
    assert enc == "cp1252"
    assert text == "Belém – €\x81"


@pytest.mark.parametrize("raw", [b"a\r\nb\r\n", b"a\rb\r", b"a\nb\n"])
def test_newlines_normalised(raw):
    assert decode(raw)[0] == "a\nb\n"


def test_binary_rejected():
    with pytest.raises(DecodeError):
        decode(b"PK\x03\x04\x00\x00")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_text(codec):
    bom = b"" if codec == "utf-16" else "\ufeff".encode(codec)  # "utf-16" writes its own
    raw = bom + "Genève\r\nKYIV (ANP) - €".encode(codec)
    assert decode(raw) == ("Genève\nKYIV (ANP) - €", "utf-16")


@pytest.mark.parametrize("raw", [
    "Genève".encode("utf-16-le"),  # no BOM: nothing says it is text
    "Genève".encode("utf-32"),  # a UTF-32 BOM opens like UTF-16's
    b"\xff\xfe" + b"\x00\xd8",  # a lone surrogate
], ids=["utf16-no-bom", "utf32", "bad-utf16"])
def test_other_data_with_nul_bytes_stays_binary(raw):
    with pytest.raises(DecodeError):
        decode(raw)


def test_expand_paths_walks_sorted_txt_only(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("x")
    (tmp_path / "1.txt").write_text("x")
    (tmp_path / "skip.bin").write_bytes(b"x")
    got = expand_paths([str(tmp_path)])
    assert got == [str(tmp_path / "1.txt"), str(tmp_path / "b" / "2.txt")]


def test_a_directory_named_without_any_text_file_is_a_problem_entry(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bin" / "deeper").mkdir(parents=True)
    (tmp_path / "bin" / "x.bin").write_bytes(b"\x00")
    (tmp_path / "some" / "sub").mkdir(parents=True)
    (tmp_path / "some" / "sub" / "a.txt").write_text("x")
    (tmp_path / "some" / "nothing").mkdir()  # an empty subdirectory is no problem
    got = walk([str(tmp_path / d) for d in ("empty", "bin", "some")])
    assert [(e.path[len(str(tmp_path)) + 1:], e.problem) for e in got] == [
        ("empty", "no *.txt files in it"), ("bin", "no *.txt files in it"), ("some/sub/a.txt", "")]
    assert got == _reference_walk([str(tmp_path / d) for d in ("empty", "bin", "some")])


def test_missing_path_names_it(tmp_path):
    with pytest.raises(InputError, match="nope.txt"):
        expand_paths([str(tmp_path / "nope.txt")])


def test_corpus_skips_binary_and_unreadable_and_warns_on_latin1(tmp_path):
    (tmp_path / "a.txt").write_text("ALMATY (ANP) - tekst", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes("Belém".encode("latin-1"))
    (tmp_path / "c.txt").write_bytes(b"\x00\x01binary")
    (tmp_path / "d.txt").symlink_to(tmp_path / "gone")
    warnings = []
    docs = list(read_corpus([str(tmp_path)], on_warning=warnings.append))
    assert [d.stem for d in docs] == ["a", "b"]
    assert docs[1].text == "Belém" and docs[1].encoding == "cp1252"
    by_file = {w.path.rsplit("/", 1)[-1]: w for w in warnings}
    assert not by_file["b.txt"].skipped and "Windows-1252" in by_file["b.txt"].message
    assert by_file["c.txt"].skipped and "binary" in by_file["c.txt"].message
    assert by_file["d.txt"].skipped and "cannot read" in by_file["d.txt"].message


def test_a_utf16_file_is_read_without_a_warning(tmp_path):
    (tmp_path / "u.txt").write_bytes("Kop\n\nALMATY (ANP) - Belém".encode("utf-16"))
    warnings = []
    docs = list(read_corpus([str(tmp_path)], on_warning=warnings.append))
    assert [(d.text, d.encoding) for d in docs] == [("Kop\n\nALMATY (ANP) - Belém", "utf-16")]
    assert warnings == []


def test_stdin_document():
    doc = read_document("-", stdin=io.BytesIO(b"kop\r\ntekst"))
    assert doc.stem == "stdin" and doc.text == "kop\ntekst"


# -- the one walker ------------------------------------------------------------------

@pytest.fixture()
def deep_tree(tmp_path):
    """1,500 nested directories, made and removed without recursion (pathlib and shutil recurse)."""
    levels = [str(tmp_path / "d")]
    for _ in range(1499):
        levels.append(levels[-1] + os.sep + "d")
    for d in levels:
        os.mkdir(d)
    yield tmp_path, levels[-1]
    top, up = levels[0], str(tmp_path / "up")
    while os.path.isdir(top):  # remove the top level, moving the rest up: short paths only
        for name in os.listdir(top):
            if name != "d":
                os.unlink(os.path.join(top, name))
        if os.path.isdir(os.path.join(top, "d")):
            os.rename(os.path.join(top, "d"), up)
            os.rmdir(top)
            os.rename(up, top)
        else:
            os.rmdir(top)


def test_walk_is_iterative_a_1500_deep_tree(deep_tree):
    root, deep = deep_tree
    with open(os.path.join(deep, "bottom.txt"), "w", encoding="utf-8") as fh:
        fh.write("Kop\nTekst.\n")
    (root / "top.txt").write_text("Kop\n", encoding="utf-8")
    found = walk([str(root)])
    assert [e.path for e in found] == [os.path.join(deep, "bottom.txt"), str(root / "top.txt")]
    assert [d.stem for d in read_corpus([str(root)])] == ["bottom", "top"]


@pytest.fixture()
def odd_files(tmp_path):
    """A directory with a regular file, a FIFO, a symlink to a FIFO and a socket, all named *.txt."""
    import socket

    root = tmp_path / "odd"
    root.mkdir()
    (root / "a.txt").write_text("ALMATY (ANP) - tekst\n", encoding="utf-8")
    os.mkfifo(root / "fifo.txt")
    os.mkfifo(tmp_path / "elsewhere")
    (root / "link.txt").symlink_to(tmp_path / "elsewhere")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.txt"))
    yield root
    sock.close()


class Hung(Exception):
    """Not an OSError: the reader must not take it for an unreadable file."""


def _no_hang(seconds=10):
    """Fail the test instead of hanging forever when something blocks on a FIFO."""
    import signal

    def alarm(*_):
        raise Hung("blocked on a FIFO")

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)


def test_only_regular_files_are_read_others_skipped_with_a_warning(odd_files):
    _no_hang()
    try:
        warnings = []
        docs = list(read_corpus([str(odd_files)], on_warning=warnings.append))
        named = list(read_corpus([str(odd_files / "link.txt")], on_warning=warnings.append))
    finally:
        import signal

        signal.alarm(0)
    assert [d.stem for d in docs] == ["a"] and named == []
    got = {(os.path.basename(w.path), w.message, w.skipped) for w in warnings}
    assert got == {
        ("fifo.txt", "skipped: not a regular file (a FIFO)", True),
        ("link.txt", "skipped: not a regular file (a FIFO)", True),
        ("sock.txt", "skipped: not a regular file (a socket)", True),
    }


def test_open_regular_never_opens_a_fifo(odd_files):
    _no_hang()
    try:
        for name in ("fifo.txt", "link.txt", "sock.txt"):
            with pytest.raises(NotRegularFileError):
                open_regular(str(odd_files / name))
        with pytest.raises(NotRegularFileError, match="directory"):
            open_regular(str(odd_files))
        with pytest.raises(NotRegularFileError, match="character device"):
            read_document(os.devnull)
    finally:
        import signal

        signal.alarm(0)
    with open_regular(str(odd_files / "a.txt")) as fh:
        assert fh.read().startswith(b"ALMATY")


def test_read_regular_reads_what_open_regular_reads_and_never_a_fifo(odd_files, tmp_path):
    from analysis.reader import read_regular

    _no_hang()
    try:
        for name in ("fifo.txt", "link.txt", "sock.txt"):
            with pytest.raises(NotRegularFileError):
                read_regular(str(odd_files / name))
        with pytest.raises(NotRegularFileError, match="directory"):
            read_regular(str(odd_files))
        with pytest.raises(NotRegularFileError, match="character device"):
            read_regular(os.devnull)
    finally:
        import signal

        signal.alarm(0)
    with pytest.raises(FileNotFoundError):
        read_regular(str(tmp_path / "missing.txt"))
    for size in (0, 1, 4096, 200_000):  # empty, small, and bigger than one extra read
        path = tmp_path / f"f{size}.txt"
        path.write_bytes(bytes(range(1, 256)) * (size // 255) + b"x" * (size % 255))
        with open_regular(str(path)) as fh:
            assert read_regular(str(path)) == fh.read()


def test_walk_entries_carry_stat_info_and_problems(odd_files, tmp_path, monkeypatch):
    (odd_files / "gone.txt").symlink_to(tmp_path / "missing")
    (odd_files / "sub.txt").mkdir()  # a directory named *.txt is walked, not read
    (odd_files / "sub.txt" / "b.txt").write_text("x", encoding="utf-8")
    (odd_files / "dirlink").symlink_to(odd_files / "sub.txt")  # symlinked directories are not followed
    monkeypatch.chdir(odd_files)
    got = [(e.path, e.size, e.problem) for e in walk(["."])]
    assert got == [
        ("a.txt", 21, ""), ("fifo.txt", 0, "not a regular file (a FIFO)"), ("gone.txt", -1, ""),
        ("link.txt", 0, "not a regular file (a FIFO)"), ("sock.txt", 0, "not a regular file (a socket)"),
        ("sub.txt/b.txt", 1, ""),
    ]
    assert walk(["-"]) == [("-", "-", -1, -1, "")]
    # Without the sizes: the same entries and problems; the plain files are not looked up.
    lean = walk(["."], sizes=False)
    assert [(e.path, e.key, e.problem) for e in lean] == [(e.path, e.key, e.problem) for e in walk(["."])]
    assert [(e.path, e.size) for e in lean if e.path in ("a.txt", "sub.txt/b.txt")] == [("a.txt", -1),
                                                                                       ("sub.txt/b.txt", -1)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_an_unreadable_directory_is_a_warning(tmp_path):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x.txt").write_text("x")
    (tmp_path / "locked").chmod(0)
    try:
        warnings = []
        assert list(read_corpus([str(tmp_path)], on_warning=warnings.append)) == []
        assert warnings[0].skipped and warnings[0].message.startswith("skipped: cannot read directory")
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_display_name_shows_undecodable_bytes_as_backslash_x():
    from analysis.reader import display_name

    name = os.fsdecode(b"/tmp/r\xffa-\xc3\xa9.txt")
    assert display_name(name) == "/tmp/r\\xffa-é.txt"
    assert display_name("Genève.txt") == "Genève.txt" and display_name("a.txt") == "a.txt"
    assert display_name("x\ud800") == "x\\ud800"  # not from a byte: still valid UTF-8
    for text in (name, "x\ud800"):
        display_name(text).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab./-_ \u00e9\n", max_size=14))
def test_path_stem_is_the_stem_pathlib_gives(path):
    from pathlib import Path

    from analysis.reader import STDIN, path_stem

    assert path_stem(path) == ("stdin" if path == STDIN else Path(path).stem)


# -- the walk, a directory at a time ---------------------------------------------------------------------
# The walker before iter_walk: every directory's entries gathered, then one sort of all paths. Kept as the
# reference the per-directory order must equal.

def _reference_walk(paths, sizes=True):
    """reader.walk as it was: every directory gathered, then one sort."""
    out = []
    for raw in paths:
        if raw == reader.STDIN:
            out.append(reader.FileEntry(reader.STDIN, reader.STDIN, -1, -1))
            continue
        p = str(pathlib.Path(raw))
        try:
            st = os.stat(p)
        except OSError as exc:
            if os.path.islink(p):
                out.append(reader.FileEntry(p, os.path.abspath(p), -1, -1))
                continue
            if isinstance(exc, FileNotFoundError):
                raise reader.InputError(f"no such file or directory: {raw}") from None
            raise reader.InputError(f"cannot read {raw}: {exc.strerror or exc.__class__.__name__}") from None
        if stat.S_ISDIR(st.st_mode):
            found = _reference_walk_dir(p, sizes)
            found.sort()  # by path: the first field, unique within one walk
            out.extend(found or [reader.FileEntry(p, os.path.abspath(p), -1, -1, reader.NO_TEXT_FILES)])
        else:
            out.append(reader.FileEntry(p, os.path.abspath(p), st.st_size, st.st_mtime_ns, reader._not_regular(st.st_mode)))
    return out


def _reference_walk_dir(top, sizes=True):
    out = []
    stack = [(top, "" if top == "." else top.rstrip(os.sep) + os.sep, os.path.join(os.path.abspath(top), ""))]
    while stack:
        directory, prefix, absdir = stack.pop()
        fd = None
        try:
            if reader._DIR_FD:
                fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
            with os.scandir(directory if fd is None else fd) as it:
                entries = list(it)
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            out.append(reader.FileEntry(prefix.rstrip(os.sep) or directory, absdir.rstrip(os.sep) or os.sep, -1, -1,
                                 f"cannot read directory ({reason})"))
            entries = []
        try:
            for e in entries:
                name = e.name
                if name.endswith(".txt"):
                    if not sizes:
                        try:
                            plain = e.is_file(follow_symlinks=False)  # the directory's own word: no system call
                        except OSError:
                            plain = False
                        if plain:
                            out.append(reader.FileEntry(prefix + name, absdir + name, -1, -1))
                            continue
                    try:
                        st = e.stat() if fd is None else os.stat(name, dir_fd=fd)
                    except OSError:  # a dangling link is kept: reading it reports the problem
                        if e.is_symlink():
                            out.append(reader.FileEntry(prefix + name, absdir + name, -1, -1))
                        continue
                    mode = st.st_mode
                    if not stat.S_ISDIR(mode):
                        out.append(reader.FileEntry(prefix + name, absdir + name, st.st_size, st.st_mtime_ns,
                                             "" if stat.S_ISREG(mode) else reader._not_regular(mode)))
                        continue
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append((os.path.join(directory, name), prefix + name + os.sep, absdir + name + os.sep))
                except OSError:
                    pass
        finally:
            if fd is not None:
                os.close(fd)
    return out


_NAME_PART = st.sampled_from(["a", "b", "a-", "a.", "a0", "a ", "-", ".", "0", "é", "Z", "a.txt", "b.txt"])


@st.composite
def _trees(draw):
    """A tree of *.txt files and directories whose names sort around the "/" (space, "-", ".", "0")."""
    def level(depth):
        names = draw(st.lists(st.lists(_NAME_PART, min_size=1, max_size=3).map("".join)
                              .filter(lambda n: n.strip(".")), max_size=5, unique=True))
        out = {}
        for name in names:
            if depth < 3 and draw(st.booleans()):
                out[name] = level(depth + 1)  # a directory (named *.txt or not)
            elif name.endswith(".txt"):
                out[name] = None  # a file
        return out
    return level(0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_trees())
def test_the_walk_a_directory_at_a_time_is_the_walk_of_every_path_sorted(tmp_path_factory, tree):
    from analysis.reader import iter_walk

    root = tmp_path_factory.mktemp("tree")

    def make(where, node):
        for name, sub in node.items():
            if sub is None:
                (where / name).write_text("x", encoding="utf-8")
            else:
                (where / name).mkdir()
                make(where / name, sub)
    make(root, tree)
    (root / "only.txt").symlink_to(root / "nowhere")  # a dangling link is listed
    for sizes in (True, False):
        want = _reference_walk([str(root), "-"], sizes)
        assert walk([str(root), "-"], sizes) == want
        assert list(iter_walk([str(root), "-"], sizes)) == want
        assert [e.path for e in want[:-1]] == sorted(e.path for e in want[:-1])


def test_an_unreadable_directory_sorts_as_its_own_path(tmp_path, monkeypatch):
    for name in ("sub", "sub-a.txt", "sub.txt", "sub0.txt"):
        (tmp_path / name).write_text("x") if name.endswith(".txt") else (tmp_path / name).mkdir()
    (tmp_path / "sub" / "x.txt").write_text("x")
    real_open = os.open

    def refuse(path, *args, **kw):  # as for a directory without read permission (root reads them all)
        if str(path).rstrip("/").endswith("sub"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kw)

    monkeypatch.setattr(os, "open", refuse)
    got = walk([str(tmp_path)])
    assert got == _reference_walk([str(tmp_path)])
    assert [(e.path[len(str(tmp_path)) + 1:], e.problem) for e in got] == [
        ("sub", "cannot read directory (Permission denied)"), ("sub-a.txt", ""), ("sub.txt", ""), ("sub0.txt", "")]


def test_a_missing_path_is_an_error_before_any_entry(tmp_path):
    from analysis.reader import iter_walk

    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(reader.InputError, match="no such file or directory"):
        iter_walk([str(tmp_path), str(tmp_path / "missing")])  # not a single entry taken yet


@settings(max_examples=300, deadline=None)
@given(st.tuples(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xef\xbb", b"\xef\xbb\xbf\xef\xbb\xbf"]),
                 st.binary(max_size=40).filter(lambda b: b"\x00" not in b)).map(b"".join))
def test_utf8_is_read_as_the_utf_8_sig_codec_reads_it(data):
    # decode drops one BOM itself and decodes UTF-8: quicker than the "utf-8-sig" codec, the same text.
    from analysis.reader import _LATIN1_FALLBACK, _decode_raw

    try:
        want = (data.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        want = (data.decode("cp1252", errors=_LATIN1_FALLBACK), "cp1252")
    assert _decode_raw(data) == want
