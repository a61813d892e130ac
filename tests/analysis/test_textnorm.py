import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.textnorm import nfc, nfc_text

# letters, Dutch diacritics, combining marks, Hangul jamo, unassigned and private-use code points
ALPHABET = st.sampled_from(
    list("aeiouAEIOUnrst ,.-\n") + list("éëïöüçßİﬁ") + ["\u0300", "\u0301", "\u0308", "\u0323", "\u0327", "\u0338"]
    + ["\u1100", "\u1161", "\u11a8", "\uac00"] + ["\u0378", "\u0530", "\U000e0080", "\ue000", "\u0870", "\u2126"]
    + ["\u0b47", "\u0b3e", "\u0bc6", "\u0bbe"]
)
TEXTS = st.lists(ALPHABET, max_size=60).map("".join)


def test_nfc_text_is_returned_as_is_with_no_map():
    for text in ("", "Kyiv", "Oekraïne en Genève", "北京"):
        got, omap = nfc(text)
        assert got is text and omap is None


def test_nfd_maps_back_to_the_file_offsets():
    text = "In Oekrai\u0308ne, zei Poetin. Cafe\u0301 Oekrai\u0308ne"
    norm, omap = nfc(text)
    assert norm == "In Oekraïne, zei Poetin. Café Oekraïne"
    for word in ("Oekraïne", "Poetin", "Café"):
        k = norm.index(word)
        s, e = omap.start(k), omap.end(k + len(word))
        assert unicodedata.normalize("NFC", text[s:e]) == word
    k = norm.rindex("Oekraïne")
    assert (omap.start(k), omap.end(k + 8)) == (len(text) - 9, len(text))


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_nfc_is_normalize_and_every_span_maps_to_its_text(text):
    norm, omap = nfc(text)
    assert norm == unicodedata.normalize("NFC", text) == nfc_text(text)
    if omap is None:
        return
    assert omap.start(0) == 0 and omap.end(len(norm)) == len(text)
    ends = [omap.end(i) for i in range(len(norm) + 1)]
    starts = [omap.start(i) for i in range(len(norm) + 1)]
    assert ends == sorted(ends) and starts == sorted(starts)
    for i in range(len(norm) + 1):  # cut at a position that both texts have, the two sides agree
        if starts[i] == ends[i]:
            o = starts[i]
            assert unicodedata.normalize("NFC", text[:o]) == norm[:i]
            assert unicodedata.normalize("NFC", text[o:]) == norm[i:]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=30))
def test_lower_is_str_lower(text):
    from analysis.textnorm import lower

    assert lower(text) == text.lower()


PAGE_TEXTS = st.lists(st.sampled_from(["a", "B", "É", "é", " ", "  ", "\n", "\n\n", "\t", "\r", "\xa0", "\xad", "ß",
                                       "µ", "ÿ", "\u0130", "\u2009", "Ω", ".", "\x85", "\x1c"]),
                      max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=PAGE_TEXTS, data=st.data())
def test_a_stretch_of_the_keyed_page_hashes_as_its_story_digest(text, data):
    # The datelines scan digests a story as key_digest of its stretch of the keyed page,
    # spaces collapsed: it must be story_digest of the story's text.
    from analysis.textnorm import LATIN1_KEY, key_digest, lower_keyed, story_digest

    low, keyed = lower_keyed(text)
    if any(ord(c) > 255 for c in text):
        assert low is None and not keyed
        return
    assert low == text.encode("latin-1").translate(LATIN1_KEY) and len(low) == len(text)
    assert low.decode("latin-1") == "".join(" " if c.isspace() else c.lower() for c in text)
    assert keyed == (text.lower() == text.casefold())
    if keyed:
        s = data.draw(st.integers(0, len(text)))
        e = data.draw(st.integers(s, len(text)))
        key = b" ".join(low[s:e].split())
        if key:
            assert key_digest(key) == story_digest(text[s:e])
        else:
            assert text[s:e].isspace() or not text[s:e]


def test_the_keyed_page_is_left_out_where_a_stretch_could_need_more_than_its_bytes():
    from analysis.textnorm import lower_keyed

    assert lower_keyed("ALMATY (ANP) - De\tregering\r\nviel\xa0om.") == (b"almaty (anp) - de regering  viel om.", True)
    for text in ("Straße", "5 µm"):
        assert lower_keyed(text)[1] is False
    assert lower_keyed("Kyiv Київ") == (None, False)
