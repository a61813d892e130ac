"""The page-level rules made quicker give what they gave before (the old code kept here as the reference)."""

import bisect
import re
from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings, strategies as st

from analysis import entities as E
from analysis.entities import AnnotatedStory, Mention, _Covered, _find_all, _whole_words, propagate_within_file
from analysis.reader import Document
from analysis.stories import split_page

# Letters whose case changes are odd (ß, İ, the sigmas, the long s), word characters and not, both quotes.
ALPHABET = ["a", "A", "b", "B", "é", "É", "ß", "İ", "i", "Σ", "σ", "ς", "ſ", "S", "s", "-", "_", "'", "’", " ", "\n",
            ".", "1", "²", "Ⅻ", "😀"]
words = st.text(alphabet=ALPHABET, min_size=1, max_size=4)


def reference_whole_words(text, ws):
    out = {}
    for w in dict.fromkeys(ws):
        at = list(_find_all(text, w, 0, len(text))) if w else []
        if at:
            out[w] = at
    return out


@settings(max_examples=400, deadline=None)
@given(text=st.lists(st.sampled_from(ALPHABET + ["Ab", "AB", "ab", "aB a", "Ab-b"]), max_size=40).map("".join),
       extra=st.lists(words, max_size=6), picks=st.lists(st.tuples(st.integers(0, 40), st.integers(1, 6)), max_size=6))
def test_whole_words_finds_what_a_find_per_word_finds(text, extra, picks):
    """Every path of :func:`_whole_words` (a find a spelling, the automaton, no library) equals the old search."""
    ws = extra + [text[a:a + n] for a, n in picks] + [w.upper() for w in extra] + [w.lower() for w in extra]
    want = reference_whole_words(text, ws)
    assert _whole_words(text, ws) == want
    with pytest.MonkeyPatch.context() as m:
        m.setattr(E, "_FINDS_UP_TO", 0)  # the Aho-Corasick pass
        assert _whole_words(text, ws) == want
        m.setattr(E, "_AhoCorasick", None)
        assert _whole_words(text, ws) == want


def test_whole_words_keeps_overlapping_occurrences_and_word_edges():
    text = "Ab Ab Ab xAb Ab-c AB ab"
    assert _whole_words(text, ["Ab Ab", "Ab", "AB", "ab", "x"]) == {"Ab Ab": [0, 3], "Ab": [0, 3, 6], "AB": [18],
                                                                    "ab": [21]}


OLD_CAP_SEQ = re.compile(r"(?<![\w-])[A-ZÀ-Þ][\w'’-]*(?: [A-ZÀ-Þ][\w'’-]*)*")


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(["A", "b", "É", "×", "-", "'", " ", "  ", "\n", "1", "_", "Ab", "x"]),
                     max_size=30).map("".join), pos=st.integers(0, 30), end=st.integers(0, 30))
def test_capitalised_sequences_are_the_old_ones(text, pos, end):
    new = [(m.span(), m.group()) for m in E._CAP_SEQ.finditer(text, pos, end)]
    assert new == [(m.span(), m.group()) for m in OLD_CAP_SEQ.finditer(text, pos, end)]


def old_propagate_within_file(doc, page):
    """propagate_within_file as it was before the search went to :func:`_whole_words` (the reference)."""
    labels = defaultdict(Counter)
    surnames = Counter()
    for ann in page:
        for m in ann.mentions:
            if m.source == E.MODEL and m.text[:1].isupper() and len(m.text) >= 2 and "\n" not in m.text:
                labels[m.text][m.label] += 1
                surname = m.text.split(" ")[-1]
                if m.label == "PER" and surname != m.text and len(surname) >= 4 and surname[:1].isupper():
                    surnames[surname] += 1
    for surname in surnames:
        if surname not in labels and not E._is_common_word(surname):
            labels[surname]["PER"] += 1
    if not labels:
        return 0
    text = doc.text
    lower_text = text.lower()
    forms = [f for f in labels if next(_find_all(text, f.lower(), 0, len(text)), None) is None] \
        if lower_text != text else list(labels)
    page_hits = sorted(
        (s, -len(f), f, spelled) for f in forms for spelled in {f, f.upper()} if len(spelled) == len(f)
        for s in _find_all(text, spelled, 0, len(text))
    )
    added = 0
    for ann in page:
        story = ann.story
        lo, hi = bisect.bisect_left(page_hits, (story.start,)), bisect.bisect_left(page_hits, (story.end,))
        hits = [h for h in page_hits[lo:hi] if h[0] - h[1] <= story.end]
        if not hits:
            continue
        taken = _Covered.taken_in(ann)
        starts = [s for s, _ in ann.sentences]
        for s, neg_len, form, spelled in hits:
            e = s - neg_len
            if taken.overlaps(s, e):
                continue
            label = labels[form].most_common(1)[0][0]
            sentence = max(bisect.bisect_right(starts, s) - 1, 0)
            ann.mentions.append(Mention(story.id, doc.path, story.index, sentence, s, e, spelled, label, E.MODEL))
            taken.add(s, e)
            added += 1
    return added


NAMES = ["Almaty", "ALMATY", "almaty", "Kyiv", "Tokajev", "Donald Trump", "Trump", "TRUMP", "Σίσυφος", "ΣΊΣΥΦΟΣ",
         "İzmir", "Straße", "STRASSE", "De", "de", "Van Dijk", "Dijk", "Ab-c", "Ab"]
FILLER = ["en", "in", "de", "zei", ".", ",", "-", "x", "\n", "Het", "het"]


@settings(max_examples=200, deadline=None)
@given(body=st.lists(st.one_of(st.sampled_from(NAMES).map(lambda n: (n,)), st.sampled_from(FILLER)), min_size=1,
                     max_size=40),
       labels=st.lists(st.sampled_from(["PER", "LOC", "ORG", "MISC"]), min_size=40, max_size=40),
       digest=st.booleans())
def test_propagation_is_the_old_one(body, labels, digest):
    """The same mentions added, with the same labels and sentences, as the old search gave (pages with 1-2 stories)."""
    parts, spans = [], []
    pos = len("Kop\nA (ANP) - ")
    for k, piece in enumerate(body):
        word = piece[0] if isinstance(piece, tuple) else piece
        if isinstance(piece, tuple):
            spans.append((pos, pos + len(word), labels[k]))
        parts.append(word)
        pos += len(word) + 1
    text = "Kop\nA (ANP) - " + " ".join(parts) + "\n"
    if digest:
        text += "Meer uit Buitenland\n1 uur geledenASTANA (ANP) - " + " ".join(reversed(parts)) + "\n"
    doc = Document("p.txt", text, "utf-8", "0")

    def page():
        out = [AnnotatedStory(s, doc, sentences=[(s.start, s.end)]) for s in split_page(doc)]
        for ann in out:
            ann.mentions = [Mention(ann.story.id, "p.txt", ann.story.index, 0, s, e, text[s:e], lab, E.MODEL)
                            for s, e, lab in spans if ann.story.start <= s and e <= ann.story.end and "\n" not in text[s:e]]
        return out

    old, new = page(), page()
    assert propagate_within_file(doc, new) == old_propagate_within_file(doc, old)
    assert [[(m.start, m.end, m.text, m.label, m.sentence) for m in a.mentions] for a in new] == \
        [[(m.start, m.end, m.text, m.label, m.sentence) for m in a.mentions] for a in old]


def test_the_store_rows_are_the_records_as_tuples(tmp_path):
    from analysis.store import StoredMention, StoredSentence, open_store

    store = open_store(tmp_path / "s.sqlite")
    sents = [StoredSentence(0, 0, 4, 20), StoredSentence(1, 0, 30, 50)]
    ments = [StoredMention(0, 0, 5, 9, "PER"), StoredMention(1, 0, 31, 35, "LOC")]
    store.put_annotations("abc", "p", sents, ments)
    got = store.get_many(["abc", "nope"], "p")
    rows = store.get_many(["abc", "nope"], "p", rows=True)
    assert got == {"abc": (sents, ments)}
    assert rows == {"abc": ([(0, 0, 4, 20), (1, 0, 30, 50)], [(0, 0, 5, 9, "PER"), (1, 0, 31, 35, "LOC")])}
    assert all(type(r) is tuple for part in rows["abc"] for r in part)


def test_a_page_assembled_from_rows_is_the_one_assembled_from_records():
    """The streamed path (plain rows, :func:`assemble_page`) and the in-memory one (records) agree."""
    from analysis.corpus import Corpus
    from analysis.entities import _assemble, _page_records, assemble_page

    text = "Kop\nKYIV (ANP) - Poetin sprak met Zelensky in Kyiv. Poetin zei niets.\nZelensky ook niet.\n"
    doc = Document("p.txt", text, "utf-8", "0")
    spans = [(m.start(), m.end(), "PER") for m in re.finditer(r"Poetin|Zelensky", text)][:2]
    sents, ments = _page_records([(0, ([(14, 50), (51, 70), (71, 90)], spans))])
    a = _assemble(Corpus(pages=[(doc, split_page(doc))]), {0: (sents, ments)})
    b = assemble_page(doc, split_page(doc), [(s.story, s.idx, s.start, s.end) for s in sents],
                      [(m.story, m.sentence, m.start, m.end, m.label) for m in ments])
    assert [[(m.start, m.end, m.text, m.label, m.sentence, m.source) for m in x.mentions] for x in a] == \
        [[(m.start, m.end, m.text, m.label, m.sentence, m.source) for m in x.mentions] for x in b]
    assert len([m for x in a for m in x.mentions]) > 2  # the rules ran: Poetin and Zelensky spread


def reference_word_before(text, pos, floor, extra=""):
    j = pos - 1
    if j < floor + 1 or text[j] != " ":
        return None
    k = j
    while k > floor and (text[k - 1].isalpha() or text[k - 1] in extra):
        k -= 1
    return k, j, text[k:j]


@given(st.text(alphabet=ALPHABET + ["(", '"'], max_size=30), st.integers(0, 31), st.integers(0, 31),
       st.sampled_from(["", "-'’"]))
def test_the_word_before_a_place_is_the_one_a_walk_back_finds(text, pos, floor, extra):
    pos = min(pos, len(text))
    assert E._word_before(text, pos, floor, extra) == reference_word_before(text, pos, floor, extra)
