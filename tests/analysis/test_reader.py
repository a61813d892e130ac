import io

import pytest

from analysis.errors import InputError
from analysis.reader import DecodeError, decode, expand_paths, read_corpus, read_document


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


def test_expand_paths_walks_sorted_txt_only(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("x")
    (tmp_path / "1.txt").write_text("x")
    (tmp_path / "skip.bin").write_bytes(b"x")
    got = expand_paths([str(tmp_path)])
    assert got == [str(tmp_path / "1.txt"), str(tmp_path / "b" / "2.txt")]


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


def test_stdin_document():
    doc = read_document("-", stdin=io.BytesIO(b"kop\r\ntekst"))
    assert doc.stem == "stdin" and doc.text == "kop\ntekst"
