from hypothesis import given, settings, strategies as st

from analysis.corpus import load_corpus
from analysis.reader import Document
from analysis.stories import LEAD, ITEM, split_corpus, split_page


def doc(text, path="x/page.txt"):
    return Document(path=path, text=text, encoding="utf-8", sha256="0")


PAGE = (
    "Kop van de pagina\n"
    "ALMATY (ANP/RTR) - Eerste alinea. Tweede zin.\n"
    "Tussenkop\n"
    "Nog een alinea.\n"
    "Meer uit Buitenland\n"
    "BRUSSEL/JERUZALEM/GENÈVE (ANP/AFP) - Item een. Meer.\n"
    "13 minuten geledenMEXICO-STAD (ANP) - Item twee in Mexico-stad.\n"
    "1 uur geledenKYIV (ANP) - Item drie.\n"
    "2 dagen geleden"
)


def test_lead_and_items():
    stories = split_page(doc(PAGE))
    assert [s.kind for s in stories] == [LEAD, ITEM, ITEM, ITEM]
    assert [s.id for s in stories] == ["page:0", "page:1", "page:2", "page:3"]
    lead = stories[0]
    assert lead.headline == "Kop van de pagina"
    assert lead.section is None and lead.age_minutes is None
    assert "Tussenkop\nNog een alinea." in PAGE[lead.start: lead.end]
    assert PAGE[lead.start: lead.end].endswith("Nog een alinea.")
    assert [s.age_minutes for s in stories[1:]] == [13, 60, 2880]
    assert [s.section for s in stories[1:]] == ["Buitenland"] * 3
    assert stories[1].headline == "Item een."
    assert PAGE[stories[2].start: stories[2].end] == "MEXICO-STAD (ANP) - Item twee in Mexico-stad."
    assert stories[3].dateline.agencies == ("ANP",)


def test_places_use_corpus_casing_and_duplicates_are_marked():
    text = PAGE + "KYIV (ANP) - Item drie.\n3 uur geleden"
    [(d, stories)] = list(split_corpus([doc(text)]))
    assert stories[1].places == ["Brussel", "Jeruzalem", "Genève"]
    assert stories[2].places == ["Mexico-stad"]
    assert stories[4].duplicate_of == "page:3"
    assert stories[3].duplicate_of is None


def test_duplicates_across_files():
    a = doc(PAGE, "a.txt")
    b = doc("Andere kop\nNIEUW (ANP) - Anders.\nMeer uit Buitenland\nKYIV (ANP) - Item drie.\n1 minuut geleden", "b.txt")
    pages = list(split_corpus([a, b]))
    item = pages[1][1][1]
    assert item.duplicate_of == "a:3" and item.age_minutes == 1


def test_plain_text_is_one_lead_without_dateline():
    stories = split_page(doc("Gewoon een tekst\nzonder dateline (of wel?) - nee.\n"))
    assert len(stories) == 1
    s = stories[0]
    assert s.kind == LEAD and s.dateline is None and s.places == [] and s.agencies == []


def test_bare_article_without_headline_line():
    stories = split_page(doc("DEN HAAG (ANP) - Het kabinet valt. Meer tekst.\nTweede alinea."))
    assert stories[0].dateline.places_raw == ("DEN HAAG",)
    assert stories[0].headline == "Het kabinet valt."


def test_digest_without_ages_splits_on_datelines():
    text = "Kop\nLEAD (ANP) - x.\nMeer uit Economie\nA (ANP) - een.\nB (RTR) - twee.\n"
    stories = split_page(doc(text))
    assert [s.dateline.places_raw[0] for s in stories[1:]] == ["A", "B"]
    assert all(s.section == "Economie" and s.age_minutes is None for s in stories[1:])


def test_empty_file_has_no_stories():
    assert split_page(doc("  \n\n")) == []


def test_seeds(seeds):
    corpus = load_corpus([str(seeds)])
    assert len(corpus.pages) == 5 and not corpus.warnings
    stories = [s for _, s in corpus.stories()]
    assert len(stories) == 40
    zelensky = [s for s in stories if s.id.startswith("004") and s.duplicate_of]
    assert [(s.id, s.duplicate_of) for s in zelensky] == [("004_a67af5a38df70ef6:7", "004_a67af5a38df70ef6:5")]
    first = stories[0]
    assert first.places == ["Almaty"] and first.agencies == ["ANP", "RTR"]
    lead1 = next(s for s in stories if s.id == "001_e1118d4810dff467:0")
    text1 = next(d for d, _ in corpus.pages if d.stem.startswith("001")).text
    assert "Snelle beslissing" in text1[lead1.start: lead1.end]
    geneve = next(s for s in stories if "GENÈVE" in (s.dateline.raw if s.dateline else ""))
    assert geneve.places == ["Brussel", "Jeruzalem", "Genève"]


_pieces = st.sampled_from([
    "Kop\n", "ALMATY (ANP/RTR) - ", "Meer uit Buitenland\n", "13 minuten geleden", "1 uur geleden",
    "KYIV (ANP) - ", "tekst. ", "\n", "Zin met (ANP) - haakjes.", "\r\n", "é", " ",
])


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(_pieces, max_size=30).map("".join)))
def test_random_pages_never_crash_and_spans_lie_in_file(text):
    stories = split_page(doc(text))
    for s in stories:
        assert 0 <= s.start <= s.body_start <= s.end <= len(text) and s.start < s.end
        assert text[s.start: s.end].strip() == text[s.start: s.end]
        if s.dateline:
            assert s.start <= s.dateline.start < s.dateline.end <= s.end


def test_glued_ages_and_datelines_and_unknown_age_words():
    text = (
        "Kop\nA (ANP) - lead.\nMeer uit Buitenland\n"
        "WASHINGTON (ANP) - Een. Dat meldt The Washington Post.13 minuten geledenKYIV (ANP) - Twee.\n"
        "zojuistMOSKOU (ANP/AFP) - Drie, 2 jaar geleden begonnen.\n"
        "2 jaar geleden begon de oorlog, zegt BERLIJN (ANP) - niet.\n5 u geleden"
    )
    stories = split_page(doc(text))
    items = stories[1:]
    assert [s.dateline.places_raw[0] for s in items] == ["WASHINGTON", "KYIV", "MOSKOU"]
    assert [s.age_minutes for s in items] == [13, None, 300]
    assert text[items[0].start: items[0].end].endswith("The Washington Post.")
    assert "2 jaar geleden begon de oorlog" in text[items[2].start: items[2].end]


def test_items_with_agency_names_and_title_case_places_are_split():
    text = (
        "Kop\nTilburg (ANP/Belga) - Lead.\nMeer uit Binnenland\n"
        "NEW YORK (ANP/Reuters) - Een.2 uur geleden's-Hertogenbosch (ANP) - Twee.\n"
        "3 uur geledenDen Haag (ANP/Bloomberg) - Drie, zei Rutte (VVD) - niet.\n4 uur geleden"
    )
    stories = split_page(doc(text))
    assert [s.dateline.places_raw for s in stories] == [("Tilburg",), ("NEW YORK",), ("'s-Hertogenbosch",),
                                                       ("Den Haag",)]
    assert [s.agencies for s in stories] == [["ANP", "BELGA"], ["ANP", "RTR"], ["ANP"], ["ANP", "BLOOMBERG"]]
    assert [s.age_minutes for s in stories[1:]] == [120, 180, 240]
    assert text[stories[3].start: stories[3].end] == "Den Haag (ANP/Bloomberg) - Drie, zei Rutte (VVD) - niet."


def test_first_sentence_skips_abbreviations_and_initials():
    from analysis.stories import first_sentence

    assert first_sentence("Premier J. Smit zegt dat het o.a. om geld gaat. Tweede zin.") == (
        "Premier J. Smit zegt dat het o.a. om geld gaat.")
    assert first_sentence("Dat zegt Vance op X. De Verenigde Staten eisen meer.") == "Dat zegt Vance op X."
    assert first_sentence("Het kost ca. 5 euro. Duur.") == "Het kost ca. 5 euro."


def test_section_name_is_trimmed():
    stories = split_page(doc("Kop\nA (ANP) - x.\nMeer uit Economie »\nB (ANP) - y.\n"))
    assert stories[1].section == "Economie"


# -- the fast scans give what the plain patterns give -------------------------------------

_AGE_TEXT = st.lists(st.sampled_from(
    [" ", "\t", "\n", "1", "13", "12345", "x", "Post.", "minuten", "min", "u", "uur", ".", "geleden", "geledenMeer",
     " geleden", "MOSKOU (ANP) - ", "ab", "é", "’", "Zo", "»"]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_AGE_TEXT, a=st.integers(0, 200), b=st.integers(0, 200))
def test_age_matches_are_the_patterns_matches(text, a, b):
    from analysis.stories import _AGE_RE, age_matches

    a, b = min(a, len(text)), min(max(a, b), len(text))
    want = [(m.span(), m.groupdict()) for m in _AGE_RE.finditer(text, a, b)]
    assert [(m.span(), m.groupdict()) for m in age_matches(text, a, b)] == want


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="aZ \n.!?\"\u201d)]'\u2019ÀÞßÿ×÷-b", max_size=40), a=st.integers(0, 50))
def test_item_starts_are_the_patterns_positions(text, a):
    from analysis.stories import _ITEM_START, _ITEM_START_FAST

    a = min(a, len(text))
    want = [m.start() for m in _ITEM_START.finditer(text, a + 1, len(text))]
    assert [m.start() for m in _ITEM_START_FAST.finditer(text, a + 1, len(text))] == want


_MARKER_TEXT = st.lists(st.sampled_from(
    ["Meer uit", "Meer uit ", " Sport", "\n", " ", "\t", "x", "Meer uit Sport", "»", "Meer", " uit"]),
    max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_MARKER_TEXT, a=st.integers(0, 100))
def test_digest_markers_are_the_patterns_matches(text, a):
    from analysis.stories import _DIGEST_RE, digest_markers

    a = min(a, len(text))
    want = [(m.span(), m.group("section")) for m in _DIGEST_RE.finditer(text, a)]
    assert [(m.span(), m.group("section")) for m in digest_markers(text, a)] == want



@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="a .!?\"'\u201d\u2019)\n\t", max_size=40))
def test_sentence_ends_are_the_plain_patterns_matches(text):
    import re

    from analysis.stories import _SENTENCE_END

    plain = re.compile(r"[.!?]+[\"'\u201d\u2019)]*(?=\s|$)")
    assert [m.span() for m in _SENTENCE_END.finditer(text)] == [m.span() for m in plain.finditer(text)]


def _first_sentence_plain(text):
    """first_sentence as it was written before its short cuts (the reference)."""
    from analysis.stories import _SENTENCE_END, _ABBREVIATIONS, _SENTENCE_STARTERS

    def abbreviation(line, dot):
        k = dot
        while k > 0 and (line[k - 1].isalpha() or line[k - 1] == "."):
            k -= 1
        word = line[k:dot]
        if len(word) == 1 and word.isupper():
            following = line[dot + 1:].split(None, 1)
            return bool(following) and following[0] not in _SENTENCE_STARTERS
        return word.lower() in _ABBREVIATIONS

    line = text.strip().split("\n", 1)[0]
    for m in _SENTENCE_END.finditer(line):
        if m.group(0) == "." and abbreviation(line, m.start()):
            continue
        return " ".join(line[: m.end()].split())
    return " ".join(line.split())


_SENTENCE_TEXT = st.lists(st.sampled_from([
    "De ", "J. ", "Smit", "o.a. ", "d.w.z. ", "ca. ", "Bijv. ", "langwoordenreeks. ", "X. ", "Het", " ", "  ",
    "\t", "\n", "\u00a0", ".", "?!", "\u201d", "é", "ß", "1", "Dr.", "a.s.", "\r",
]), max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_SENTENCE_TEXT, data=st.data())
def test_first_sentence_short_cuts_give_the_plain_result(text, data):
    from analysis.stories import _collapse, first_sentence

    assert first_sentence(text) == _first_sentence_plain(text)
    assert _collapse(text) == " ".join(text.split())
    # A span of a longer text: what the span alone gives, whatever is around it.
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert first_sentence(text, start, end) == _first_sentence_plain(text[start:end])


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(_pieces, max_size=30).map("".join)))
def test_page_fields_are_page_parts_without_objects(text):
    from analysis.stories import page_fields, page_parts

    parts = list(page_parts(text))
    for headlines in (True, False):
        fields = list(page_fields(text, headlines))
        assert len(fields) == len(parts)
        for (kind, section, s, e, bs, headline, found, at, age), p in zip(fields, parts):
            assert (kind, section, s, e, bs, age) == (p[0], p[1], p[2], p[3], p[4], p[7])
            assert headline == (p[5] if headlines else None)
            dl = p[6]
            assert (found is None) == (dl is None)
            if found:
                (raw, places, agencies, _), end = found
                assert (raw, places, agencies, at, end) == (dl.raw, dl.places_raw, dl.agencies, dl.start, dl.end)


@settings(max_examples=300, deadline=None)
@given(line=st.text(alphabet="abAB.d wzDRsr", max_size=16), data=st.data())
def test_is_abbreviation_short_cut_agrees_with_the_walk(line, data):
    """The quick answer for a long word before the dot is the one the walk back over the word gives."""
    from analysis import stories

    dots = [i for i, c in enumerate(line) if c == "."]
    if not dots:
        return
    dot = data.draw(st.sampled_from(dots))
    k = dot
    while k > max(0, dot - stories._ABBREVIATION_MAX - 1) and (line[k - 1].isalpha() or line[k - 1] == "."):
        k -= 1
    word = line[k:dot]
    if len(word) == 1 and word.isupper():
        following = line[dot + 1:].split(None, 1)
        want = bool(following) and following[0] not in stories._SENTENCE_STARTERS
    else:
        want = len(word) <= stories._ABBREVIATION_MAX and word.lower() in stories._ABBREVIATIONS
    assert stories._is_abbreviation(line, dot) == want


def _split_on_datelines_plain(text, start, end, age):
    """_split_on_datelines as it was before its "(" short cut: every item start tried (the reference)."""
    from analysis.datelines import dateline_at
    from analysis.stories import _ITEM_START, _strip_span

    start, end = _strip_span(text, start, end)
    if start >= end:
        return
    cuts = [(start, dateline_at(text, start))]
    for m in _ITEM_START.finditer(text, start + 1, end):
        found = dateline_at(text, m.start())
        if found:
            cuts.append((m.start(), found))
    cuts.append((end, None))
    last = len(cuts) - 2
    for i in range(last + 1):
        (a, found), b = cuts[i], cuts[i + 1][0]
        s, e = _strip_span(text, a, b)
        if s < e:
            yield s, e, age if i == last else None, found


_GLUED_PIECES = st.sampled_from([
    "Kop\n", "ALMATY (ANP/RTR) - ", "Meer uit Buitenland\n", "13 minuten geleden", "1 uur geleden", "3 u. geleden",
    "KYIV (ANP) - ", "ST.PETERSBURG (AFP) - ", "DEN HAAG / ", "zojuist", "tekst. ", "Tekst.", "\n", " ", "\t", "(", ")",
    "Zin met (ANP) - haakjes.", "MOSKOU", " (ANP)", " - ", "x", "é", "\u2019S-GRAVENHAGE (BELGA) \u2013 ", "\"",
])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(alphabet="AB()-/ \nabMeruitgld13", max_size=200),
                 st.lists(_GLUED_PIECES, max_size=40).map("".join)))
def test_digest_items_with_the_paren_short_cut_are_the_plain_ones(text):
    """Skipping the item-start search where no "(" can open a later dateline cuts the items as before."""
    import analysis.stories as stories

    want_text = text if "Meer uit" in text else "Kop\nMeer uit Buitenland\n" + text
    got = list(stories.page_fields(want_text))
    real = stories._split_on_datelines
    stories._split_on_datelines = _split_on_datelines_plain
    try:
        want = list(stories.page_fields(want_text))
    finally:
        stories._split_on_datelines = real
    assert got == want
