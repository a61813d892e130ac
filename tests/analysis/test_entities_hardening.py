"""Text the model cannot take at once (issue 13, item 2): long paragraphs are cut."""


from analysis.entities import MAX_UNIT_CHARS, _Covered, annotate, cut_long, paragraphs
from analysis.corpus import load_corpus
from analysis.nlp import resolve_model
from analysis.reader import Document
from analysis.stories import split_page

SENTENCE = "Het weer was vandaag zeer wisselend in het hele land. "
NAMES = "Vladimir Poetin sprak met Mark Rutte over de NAVO. "


def long_page(chars: int) -> str:
    block = SENTENCE * 99 + NAMES
    return "Kop\nDEN HAAG (ANP) - " + block * (chars // len(block) + 1) + "\nSlot.\n"


def check_pieces(text, start, end, limit):
    pieces = list(cut_long(text, start, end, limit))
    assert all(s < e and e - s <= limit for s, e in pieces)
    assert all(a[1] <= b[0] for a, b in zip(pieces, pieces[1:]))
    # Only whitespace is left out between the pieces.
    rest = text[start:end]
    for s, e in reversed(pieces):
        rest = rest[: s - start] + rest[e - start:]
    assert not rest.strip()
    return pieces


def test_cut_at_sentence_ends():
    text = SENTENCE * 100
    pieces = check_pieces(text, 0, len(text) - 1, 1000)
    assert all(text[e - 1] == "." for s, e in pieces)


def test_cut_at_spaces_then_anywhere():
    words = "woord " * 500
    assert all(words[e - 1] == "d" for _, e in check_pieces(words, 0, len(words) - 1, 100))
    blob = "x" * 1050
    assert check_pieces(blob, 0, len(blob), 100)[-1] == (1000, 1050)


def test_hard_cut_keeps_combining_marks_with_their_letter():
    blob = "e\u0301" * 600  # é as e + combining acute, no spaces
    for s, e in check_pieces(blob, 0, len(blob), 101):
        assert blob[s] == "e"


def test_paragraphs_cut_a_million_characters_with_file_offsets():
    text = long_page(1_100_000)
    doc = Document("p.txt", text, "utf-8", "0")
    [story] = split_page(doc)
    spans = paragraphs(doc, story)
    assert len(spans) > 100 and max(e - s for s, e in spans) <= MAX_UNIT_CHARS
    assert text[spans[0][0]: spans[0][1]] == "Kop" and text[spans[1][0]:].startswith("Het weer") and text[spans[-1][0]: spans[-1][1]] == "Slot."
    short = "Kop\nDEN HAAG (ANP) - " + SENTENCE * 100 + "\n"
    d = Document("q.txt", short, "utf-8", "0")
    assert len(paragraphs(d, split_page(d)[0])) == 2  # ordinary paragraphs are never cut


def test_annotate_a_million_character_paragraph(tmp_path, tiny_model):
    f = tmp_path / "long.txt"
    f.write_text(long_page(1_100_000), encoding="utf-8")
    annotated = annotate(load_corpus([str(f)]), model_ref=resolve_model(str(tiny_model)), store=None)
    mentions = list(annotated.mentions())
    text = annotated.stories[0].doc.text
    assert sum(m.text == "Mark Rutte" for m in mentions) == text.count("Mark Rutte") > 100
    assert all(text[m.start: m.end] == m.text for m in mentions)


def test_covered_spans():
    c = _Covered([(10, 20), (15, 25), (40, 50), (30, 30)])
    assert c.overlaps(24, 26) and c.overlaps(5, 11) and c.overlaps(45, 46) and c.overlaps(0, 100)
    assert not c.overlaps(25, 40) and not c.overlaps(0, 10) and not c.overlaps(50, 60)
    c.add(30, 35)
    assert c.overlaps(34, 36) and not c.overlaps(35, 40)
