from dataclasses import dataclass

import pytest

from analysis.canonical import canonicalise, clean, genitive_base, usual_forms


@dataclass
class M:
    story_id: str
    text: str
    label: str
    source: str = "model"
    canonical: str = ""
    hint: str | None = None


@pytest.mark.parametrize(
    "text, label, expected",
    [
        ("president Vladimir Poetin", "PER", "Vladimir Poetin"),
        ("NAVO-chef Mark Rutte", "PER", "Mark Rutte"),
        ("EU-buitenlandchef Kaja Kallas", "PER", "Kaja Kallas"),
        ("minister Lars Løkke Rasmussen", "PER", "Lars Løkke Rasmussen"),
        ("“Tokajev”", "PER", "Tokajev"),
        ("Peter de Jong", "PER", "Peter de Jong"),
        ("ministerie van Defensie", "ORG", "ministerie van Defensie"),
        ("premier", "PER", "premier"),  # nothing left: keep the text
    ],
)
def test_clean(text, label, expected):
    assert clean(text, label) == expected


def test_usual_form_prefers_majority_then_mixed_case():
    forms = usual_forms(["POETIN", "Poetin", "NAVO", "NAVO", "Navo"])
    assert forms["poetin"] == "Poetin"
    assert forms["navo"] == "NAVO"


@pytest.mark.parametrize("name, base", [("Trumps", "Trump"), ("Poetin's", "Poetin"), ("Tokajev", None), ("Jezus'", "Jezus")])
def test_genitive_base(name, base):
    assert genitive_base(name) == base


def test_short_forms_link_within_story_and_corpus():
    ms = [
        M("a:0", "Kassym-Jomart Tokajev", "PER"),
        M("a:0", "Tokajev", "PER"),
        M("b:1", "Tokajev", "PER"),  # no full name in this story: corpus has exactly one
        M("b:1", "TOKAJEV", "PER"),
        M("c:0", "Poetin", "PER"),
        M("c:0", "president Vladimir Poetin", "PER"),
        M("d:0", "Poetins", "PER"),
        M("e:0", "Greene", "PER"),
        M("e:0", "Marjorie Taylor Greene", "PER"),
        M("e:0", "Taylor Greene", "PER"),
    ]
    labels = canonicalise(ms)
    assert [m.canonical for m in ms] == [
        "Kassym-Jomart Tokajev", "Kassym-Jomart Tokajev", "Kassym-Jomart Tokajev", "Kassym-Jomart Tokajev",
        "Vladimir Poetin", "Vladimir Poetin", "Vladimir Poetin",
        "Marjorie Taylor Greene", "Marjorie Taylor Greene", "Marjorie Taylor Greene",
    ]
    assert labels["Vladimir Poetin"] == "PER"


def test_ambiguous_short_form_is_left_alone():
    ms = [M("a:0", "Liam Conejo", "PER"), M("b:0", "Adrian Conejo", "PER"), M("c:0", "Conejo", "PER")]
    canonicalise(ms)
    assert ms[2].canonical == "Conejo"


def test_dateline_hint_merges_with_model_mentions_and_label_vote():
    ms = [
        M("a:0", "ALMATY", "LOC", source="dateline", hint="Almaty"),
        M("a:0", "Almaty", "LOC"),
        M("b:0", "Almaty", "ORG"),
        M("b:0", "Nederlands", "MISC"),
        M("b:0", "Nederland", "MISC"),
    ]
    labels = canonicalise(ms)
    assert {m.canonical for m in ms[:3]} == {"Almaty"}
    assert labels["Almaty"] == "LOC"
    assert ms[3].canonical == "Nederlands"  # MISC is never reduced to a base name


def test_gazetteer_places_are_loc_and_mentions_follow_their_entity():
    ms = [M("a:0", "Groenland", "PER"), M("a:0", "Groenland", "PER"), M("b:0", "Mark Rutte", "PER"), M("b:0", "Rutte", "LOC")]
    labels = canonicalise(ms)
    assert labels["Groenland"] == "LOC" and [m.label for m in ms] == ["LOC", "LOC", "PER", "PER"]


def test_label_ties_prefer_person_but_not_for_acronyms():
    ms = [M("a:0", "CSTO", "PER"), M("b:0", "CSTO", "ORG"), M("c:0", "Walz", "PER"), M("d:0", "Walz", "ORG")]
    labels = canonicalise(ms)
    assert labels["CSTO"] == "ORG" and labels["Walz"] == "PER"


def test_nfd_and_nfc_spellings_are_one_entity():
    ms = [M("s1", "Oekraïne", "LOC"), M("s2", "Oekrai\u0308ne", "LOC"), M("s3", "OEKRAI\u0308NE", "LOC")]
    labels = canonicalise(ms)
    assert {m.canonical for m in ms} == {"Oekraïne"} and labels == {"Oekraïne": "LOC"}


def test_entities_named_ignores_the_normal_form():
    from analysis.entities import entities_named

    variants = {"Oekraïne": {"Oekrai\u0308ne"}, "Genève": {"Gene\u0300ve"}}
    assert entities_named("Oekrai\u0308ne", variants) == {"Oekraïne"}
    assert entities_named("oekraine", variants) == {"Oekraïne"}
    assert entities_named("Genève", variants) == {"Genève"}
