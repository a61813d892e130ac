from hypothesis import given, strategies as st

from analysis.sentences import MAX_REACH, sentence_bounds

TEXT = 'Eerste zin hier. Dr. Jansen zei dat J. Smit kwam. "Weg!" Laatste zin?\nNieuwe regel zonder punt'


def sentence_of(word: str) -> str:
    i = TEXT.index(word)
    s, e = sentence_bounds(TEXT, i, i + len(word))
    return TEXT[s:e]


def test_sentences_end_at_stops_but_not_abbreviations_or_initials():
    assert sentence_of("Eerste") == "Eerste zin hier."
    assert sentence_of("Jansen") == "Dr. Jansen zei dat J. Smit kwam."
    assert sentence_of("Smit") == "Dr. Jansen zei dat J. Smit kwam."
    assert sentence_of("Weg") == '"Weg!"'
    assert sentence_of("Laatste") == "Laatste zin?"


def test_a_line_break_ends_a_sentence():
    assert sentence_of("regel") == "Nieuwe regel zonder punt"


def test_a_long_run_is_cut():
    text = "a " * 5000 + "hit" + " b" * 5000
    i = text.index("hit")
    s, e = sentence_bounds(text, i, i + 3)
    assert i - s <= MAX_REACH and e - i - 3 <= MAX_REACH


@given(st.text(alphabet="ab .!?\n", max_size=60), st.data())
def test_bounds_always_hold_the_hit(text, data):
    if not text:
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start, len(text)))
    s, e = sentence_bounds(text, start, end)
    assert 0 <= s <= start <= end <= e <= len(text)
