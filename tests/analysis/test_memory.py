"""Memory for one big file (issue 13, item 12): no extra copies of the text, small stories.

tracemalloc counts Python allocations exactly, so the figures are stable.
"""

import tracemalloc

from analysis.reader import read_document
from analysis.stories import split_page
from tests.conftest import SEEDS

MB = 1_000_000


def peak_of(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_holds_at_most_the_bytes_and_one_text(tmp_path):
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"Kop\r\nDEN HAAG (ANP) - Tekst.\r\n" * (4 * MB // 30))
    doc, peak = peak_of(lambda: read_document(str(crlf)))
    assert "\r" not in doc.text
    assert peak < 2.3 * crlf.stat().st_size  # bytes, then text and its normalised copy: 2.0 (was 2.9)


def test_windows_1252_is_decoded_in_one_pass(tmp_path):
    cp1252 = tmp_path / "cp1252.txt"
    cp1252.write_bytes(b"Caf\xe9 \x80 \x81 en meer tekst.\n" * (4 * MB // 30))
    doc, peak = peak_of(lambda: read_document(str(cp1252)))
    assert doc.text.startswith("Café € \x81 en") and doc.encoding == "cp1252"
    # The text takes 2 bytes a character (€); the failed UTF-8 attempt and
    # the decoder's buffer come on top: 5.0 (was 6.0, decoding and translating).
    assert peak < 5.5 * cp1252.stat().st_size


def test_stories_are_small(tmp_path):
    page = "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))) + "\n"
    f = tmp_path / "many.txt"
    f.write_text(page * 100, encoding="utf-8")
    doc = read_document(str(f))
    stories, peak = peak_of(lambda: split_page(doc))
    assert len(stories) > 2000
    assert peak / len(stories) < 1000, peak / len(stories)  # 1,200 bytes a story before slots and interning
