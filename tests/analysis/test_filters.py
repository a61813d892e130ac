from types import SimpleNamespace

import pytest

from analysis.errors import InputError
from analysis.filters import StoryFilter, close_matches, fold_name, hints, split_values


def rec(kind="item", section="Buitenland", agencies=("ANP",), places=("KYIV", "Kyiv"), file="a.txt", story=1):
    return SimpleNamespace(kind=kind, section=section, agencies=agencies, places=places, file=file, story=story)


def test_split_values_takes_repeats_and_comma_lists():
    assert split_values(["Washington", "kyiv, Moskou", "Kyiv", ""]) == ("Washington", "kyiv", "Moskou", "Kyiv")
    assert split_values("a,b") == ("a", "b") and split_values(None) == ()


def test_fold_name():
    assert fold_name("  BELÉM ") == "belem" and fold_name("'s-Hertogenbosch") == "'s-hertogenbosch"
    assert fold_name("Kassym-Jomart   Tokajev") == "kassym-jomart tokajev"


def test_values_of_one_filter_are_ored_and_filters_anded():
    assert StoryFilter(place=("Washington", "kyiv")).admits(rec())
    assert not StoryFilter(place=("Washington",)).admits(rec())
    assert StoryFilter(place="kyiv", agency=("rtr", "anp")).admits(rec())
    assert not StoryFilter(place="kyiv", agency="rtr").admits(rec())
    assert StoryFilter(section="BUITENLAND", kind=("LEAD", "item")).admits(rec())
    assert not StoryFilter(section="Binnenland").admits(rec())
    assert not StoryFilter(section="Buitenland").admits(rec(section=None))
    assert StoryFilter(place="belem").admits(rec(places=("BELÉM",)))


def test_stories_from_entities():
    f = StoryFilter(stories=frozenset({("a.txt", 1)}))
    assert f.admits(rec()) and not f.admits(rec(story=2))
    assert f and not StoryFilter() and StoryFilter(entity="x").needs_entities


def test_entity_names_by_name_and_label():
    variants = {"Vladimir Poetin": {"Poetin"}, "NAVO": {"NAVO"}, "Kyiv": {"KYIV"}}
    labels = {"Vladimir Poetin": "PER", "NAVO": "ORG", "Kyiv": "LOC"}
    assert StoryFilter().entity_names(variants, labels) is None
    assert StoryFilter(entity=("poetin", "navo")).entity_names(variants, labels) == {"Vladimir Poetin", "NAVO"}
    assert StoryFilter(label=("org", "LOC")).entity_names(variants, labels) == {"NAVO", "Kyiv"}
    assert StoryFilter(entity="Poetin", label="ORG").entity_names(variants, labels) == set()


def test_unknown_kind_and_label_are_errors():
    with pytest.raises(InputError, match="unknown kind"):
        StoryFilter(kind="story")
    with pytest.raises(InputError, match="unknown label PERSON"):
        StoryFilter(label="PERSON")


def test_hints_name_close_values():
    present = {"place": {"Kyiv", "Moskou", "Washington"}, "agency": {"ANP", "RTR"}, "section": {"Buitenland"}}
    f = StoryFilter(place=("Kiev", "moscow", "washington"), agency="AFP", section="buitenland")
    assert list(hints(f, present)) == [
        "no story has place 'Kiev'; did you mean Kyiv?",
        "no story has place 'moscow'; did you mean Moskou?",
        "no story is credited to 'AFP'; did you mean ANP?",
    ]


def test_entity_hints_know_last_names():
    present = {"entity": {"Kassym-Jomart Tokajev", "Vladimir Poetin"}}
    assert list(hints(StoryFilter(entity=("tokajev", "Poetn")), present)) == [
        "no entity is named 'Poetn'; did you mean Vladimir Poetin?"]
    assert list(hints(StoryFilter(entity="Nobodyxyz"), present)) == ["no entity is named 'Nobodyxyz'"]


def test_close_matches_fold_before_comparing():
    assert close_matches("BELEM", {"Belém", "Berlijn"}) == ["Belém"]


def test_an_agency_filter_takes_the_agency_s_name_for_its_code():
    assert StoryFilter(agency="reuters").admits(rec(agencies=("ANP", "RTR")))
    assert StoryFilter(agency="Bloomberg News").admits(rec(agencies=("BLOOMBERG",)))
    assert StoryFilter(agency="rtr").admits(rec(agencies=("RTR",)))
    assert not StoryFilter(agency="reuters").admits(rec(agencies=("ANP", "AFP")))
    assert list(hints(StoryFilter(agency="Reuters"), {"agency": {"ANP", "RTR"}})) == []
    assert list(hints(StoryFilter(agency="Reuter"), {"agency": {"ANP", "RTR"}}))
