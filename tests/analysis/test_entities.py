import sqlite3

import pytest

from analysis.corpus import load_corpus
from analysis.entities import annotate, entity_records, paragraphs, resolve_names
from analysis.nlp import map_label, resolve_model
from analysis.reader import Document
from analysis.store import StoredMention, StoredSentence, open_store
from analysis.stories import split_page


@pytest.fixture(scope="session")
def model_ref():
    return resolve_model("bundled")


@pytest.fixture(scope="session")
def seeds_annotated(seeds, model_ref):
    corpus = load_corpus([str(seeds)])
    annotated = annotate(corpus, model_ref=model_ref, store=None)
    labels = resolve_names(annotated)
    return annotated, labels


@pytest.mark.parametrize(
    "label, expected",
    [("PERSON", "PER"), ("PER", "PER"), ("ORG", "ORG"), ("GPE", "LOC"), ("LOC", "LOC"), ("FAC", "LOC"),
     ("NORP", "MISC"), ("EVENT", "MISC"), ("PRODUCT", "MISC"), ("WORK_OF_ART", "MISC"), ("LAW", "MISC"),
     ("LANGUAGE", "MISC"), ("MISC", "MISC"), ("DATE", None), ("CARDINAL", None), ("MONEY", None)],
)
def test_label_mapping(label, expected):
    assert map_label(label) == expected


def test_model_never_reads_the_dateline():
    text = "Kop\nALMATY (ANP/RTR) - Eerste zin.\nTweede alinea."
    doc = Document("p.txt", text, "utf-8", "0")
    [lead] = split_page(doc)
    assert [text[s:e] for s, e in paragraphs(doc, lead)] == ["Kop", "Eerste zin.", "Tweede alinea."]


def test_end_to_end_on_seeds(seeds_annotated):
    annotated, labels = seeds_annotated
    rows = {(r["entity"], r["label"]): r for r in entity_records(annotated, labels)}
    for name, label in [
        ("Kassym-Jomart Tokajev", "PER"), ("CSTO", "ORG"), ("Almaty", "LOC"), ("Karim Masimov", "PER"),
        ("Vladimir Poetin", "PER"), ("Volodymyr Zelensky", "PER"), ("NAVO", "ORG"), ("Oekraïne", "LOC"),
    ]:
        assert (name, label) in rows, name
    assert "Poetin" in rows[("Vladimir Poetin", "PER")]["variants"]
    assert "Tokajev" in rows[("Kassym-Jomart Tokajev", "PER")]["variants"]


def test_offsets_point_at_the_mention(seeds_annotated):
    annotated, _ = seeds_annotated
    n = 0
    for ann in annotated.stories:
        for m in ann.mentions:
            assert ann.doc.text[m.start: m.end] == m.text
            assert ann.story.start <= m.start < m.end <= ann.story.end
            n += 1
    assert n > 100


def test_dateline_places_are_loc_mentions(seeds_annotated):
    annotated, _ = seeds_annotated
    first = annotated.stories[0]
    dl = [m for m in first.mentions if m.source == "dateline"]
    assert [(m.text, m.label, m.canonical) for m in dl] == [("ALMATY", "LOC", "Almaty")]
    agencies = {"ANP", "RTR", "AFP", "DPA"}
    assert not any(m.text in agencies for ann in annotated.stories for m in ann.mentions if m.source == "model"
                   and ann.story.dateline and m.start < ann.story.dateline.end)


def test_store_reuses_unchanged_files_and_redoes_changed_ones(corpus_copy, model_ref, tmp_path):
    db = tmp_path / "s.sqlite"
    with open_store(db) as st:
        first = annotate(load_corpus([str(corpus_copy)]), model_ref=model_ref, store=st)
    assert (first.processed, first.cached) == (5, 0)
    with open_store(db) as st:
        second = annotate(load_corpus([str(corpus_copy)]), model_ref=model_ref, store=st)
    assert (second.processed, second.cached) == (0, 5)
    key = lambda a: [(m.story_id, m.start, m.end, m.label) for m in a.mentions()]
    assert key(first) == key(second)
    target = corpus_copy / "002_87c820989f8bb488.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nExtra zin over Angela Merkel in Berlijn.\n", encoding="utf-8")
    with open_store(db) as st:
        third = annotate(load_corpus([str(corpus_copy)]), model_ref=model_ref, store=st)
    assert (third.processed, third.cached) == (1, 4)


def test_store_write_is_atomic(tmp_path):
    with open_store(tmp_path / "s.sqlite") as st:
        with pytest.raises(sqlite3.IntegrityError):
            st.put_annotations("abc", "p", [StoredSentence(0, 0, 0, 5)], [StoredMention(0, 0, 0, 5, None)])
        assert st.get_annotations("abc", "p") is None
        assert st.conn.execute("SELECT count(*) FROM sentences").fetchone()[0] == 0


def test_vote_spans_majority_and_no_overlap():
    from analysis.nlp import vote_spans

    a = [(0, 5, "PER"), (10, 14, "ORG"), (20, 25, "LOC")]
    b = [(0, 5, "PER"), (10, 14, "PER"), (20, 30, "LOC")]
    c = [(0, 5, "PER"), (10, 14, "ORG"), (20, 30, "LOC")]
    assert vote_spans([a, b, c], 2) == [(0, 5, "PER"), (10, 14, "ORG"), (20, 30, "LOC")]
    assert vote_spans([a, b, c], 3) == [(0, 5, "PER")]


def test_propagation_within_a_page():
    from analysis.entities import AnnotatedStory, Mention, propagate_within_file

    text = "Kop\nA (ANP) - Kazachstan en Almaty. In Kazachstan blijft het onrustig; Almaty ook.\nde almaty"
    doc = Document("p.txt", text, "utf-8", "0")
    [story] = split_page(doc)
    second = text.index("In ")
    ann = AnnotatedStory(story, doc, sentences=[(0, 3), (14, second - 1), (second, len(text))])
    k = text.index("Kazachstan")
    a = text.index("Almaty")
    ann.mentions = [Mention(story.id, "p.txt", 0, 0, k, k + 10, "Kazachstan", "LOC", "model"),
                    Mention(story.id, "p.txt", 0, 0, a, a + 6, "Almaty", "LOC", "model")]
    assert propagate_within_file(doc, [ann]) == 1  # "Almaty" also occurs as "almaty": a common word
    added = [m for m in ann.mentions if m.start > a]
    assert [(text[m.start:m.end], m.label, m.sentence) for m in added] == [("Kazachstan", "LOC", 2)]


def test_propagation_keeps_each_story_to_its_own_span():
    """Occurrences are found once per page and handed to the story they lie in, none across a boundary."""
    from analysis.entities import AnnotatedStory, Mention, propagate_within_file

    text = ("Kop\nA (ANP) - Almaty ligt in Kazachstan. Almaty.\nMeer uit Buitenland\n"
            "1 uur geledenASTANA (ANP) - In Kazachstan en Almaty, KAZACHSTAN.\n")
    doc = Document("p.txt", text, "utf-8", "0")
    page = [AnnotatedStory(s, doc, sentences=[(s.start, s.end)]) for s in split_page(doc)]
    assert len(page) == 2
    k = text.index("Kazachstan")
    page[0].mentions = [Mention(page[0].story.id, "p.txt", 0, 0, k, k + 10, "Kazachstan", "LOC", "model")]
    a = text.index("Almaty", page[1].story.start)
    page[1].mentions = [Mention(page[1].story.id, "p.txt", 1, 0, a, a + 6, "Almaty", "LOC", "model")]
    assert propagate_within_file(doc, page) == 4
    spans = [[(text[m.start:m.end], m.start) for m in sorted(ann.mentions, key=lambda m: m.start)
              if m.source == "model"] for ann in page]
    first = text.index("Almaty")
    assert spans[0] == [("Almaty", first), ("Kazachstan", k), ("Almaty", text.index("Almaty", k))]
    k2 = text.index("Kazachstan", page[1].story.start)
    assert spans[1] == [("Kazachstan", k2), ("Almaty", a), ("KAZACHSTAN", text.index("KAZACHSTAN"))]
    assert all(ann.story.start <= m.start and m.end <= ann.story.end for ann in page for m in ann.mentions)


def test_known_names_follow_the_switches():
    """The per-sequence answers of the list look-up are cached, and dropped when a feature is switched."""
    from analysis import knowledge as kn
    from analysis.entities import AnnotatedStory, refine_page

    text = "Kop\nA (ANP) - Er was onrust in Almaty en Kyiv.\n"
    doc = Document("p.txt", text, "utf-8", "0")

    def found():
        page = [AnnotatedStory(s, doc, sentences=[(s.start, s.end)]) for s in split_page(doc)]
        refine_page(doc, page)
        return [(m.text, m.label) for ann in page for m in ann.mentions]

    assert found() == [("Almaty", "LOC"), ("Kyiv", "LOC")]
    kn.disable("prior")
    try:
        assert found() == []
    finally:
        kn.enable("prior")
    assert found() == [("Almaty", "LOC"), ("Kyiv", "LOC")]


def test_entities_named_ignores_case_diacritics_and_uses_last_words():
    from analysis.entities import entities_named

    variants = {"Kassym-Jomart Tokajev": {"Tokajev"}, "Volodymyr Zelensky": {"Volodymyr Zelensky"},
                "Oekraïne": {"Oekraïne"}, "Kyiv": {"KYIV", "Kyiv"}}
    assert entities_named("tokajev", variants) == {"Kassym-Jomart Tokajev"}
    assert entities_named("Zelensky", variants) == {"Volodymyr Zelensky"}
    assert entities_named("oekraine", variants) == {"Oekraïne"}
    assert entities_named("kyiv", variants) == {"Kyiv"}
    assert entities_named("", variants) == set()


def test_an_nfd_copy_gives_the_same_entities_with_offsets_into_its_own_text(tmp_path, seeds, model_ref):
    import unicodedata

    first = sorted(seeds.glob("*.txt"))[0].read_text(encoding="utf-8")
    nfd = unicodedata.normalize("NFD", first)
    assert nfd != first
    (tmp_path / "nfc.txt").write_text(first, encoding="utf-8")
    (tmp_path / "nfd.txt").write_text(nfd, encoding="utf-8")
    annotated = annotate(load_corpus([str(tmp_path)]), model_ref=model_ref, store=None)
    labels = resolve_names(annotated)
    by_file = {"nfc.txt": [], "nfd.txt": []}
    for m in annotated.mentions():
        by_file[m.file.rsplit("/", 1)[-1]].append(m)
    texts = {"nfc.txt": first, "nfd.txt": nfd}
    for name, ms in by_file.items():
        for m in ms:
            assert texts[name][m.start:m.end] == m.text  # offsets point into the file as read
    key = lambda m: (unicodedata.normalize("NFC", m.text), m.label, m.canonical)  # noqa: E731
    assert [key(m) for m in by_file["nfd.txt"]] == [key(m) for m in by_file["nfc.txt"]]
    rows = entity_records(annotated, labels)
    assert all(r["mentions"] % 2 == 0 and r["files"] == 2 for r in rows)
    assert any(not r["entity"].isascii() for r in rows)  # names with diacritics were among them


def test_all_caps_headline_names_are_found(tmp_path, model_ref):
    page = tmp_path / "caps.txt"
    page.write_text(
        "POETIN EN ZELENSKY PRATEN IN ISTANBUL OVER DE OORLOG\n\n"
        "De Russische president Vladimir Poetin en zijn Oekraïense collega Volodymyr Zelensky "
        "spraken dinsdag in Istanbul. Ook de Zuid-Afrikaanse president Cyril Ramaphosa was erbij.\n",
        encoding="utf-8",
    )
    annotated = annotate(load_corpus([str(page)]), model_ref=model_ref, store=None)
    labels = resolve_names(annotated)
    headline = [m for m in annotated.mentions() if m.start < 60]
    found = {(m.text, m.label) for m in headline}
    assert {("POETIN", "PER"), ("ZELENSKY", "PER"), ("ISTANBUL", "LOC")} <= found
    assert labels["Cyril Ramaphosa"] == "PER"


def test_a_capitalised_type_noun_opening_a_sentence_labels_the_name(tmp_path, model_ref):
    page = tmp_path / "cue.txt"
    page.write_text(
        "Kabinet overlegt\n"
        "DEN HAAG (ANP) - Premier Schoof sprak met koning Willem-Alexander. Minister Schoof zei daarna niets.\n"
        "De bijeenkomst duurde kort.\n",
        encoding="utf-8",
    )
    annotated = annotate(load_corpus([str(page)]), model_ref=model_ref, store=None)
    schoof = [m for m in annotated.mentions() if m.text == "Schoof"]
    assert len(schoof) == 2 and {m.label for m in schoof} == {"PER"}


def test_a_verb_opening_a_question_is_no_cue(tmp_path, model_ref):
    page = tmp_path / "vraag.txt"
    page.write_text("Kabinet\nDEN HAAG (ANP) - Er is overleg. Staat Poetin open voor een gesprek?\n", encoding="utf-8")
    annotated = annotate(load_corpus([str(page)]), model_ref=model_ref, store=None)
    assert [m.label for m in annotated.mentions() if m.text == "Poetin"] == ["PER"]
