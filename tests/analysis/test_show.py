import pytest

from analysis.corpus import load_corpus
from analysis.errors import InputError
from analysis.show import find_files, parse_ids, pick_stories, story_record


def test_parse_ids():
    refs = parse_ids(["000_x:3", "001_y", " 002:z:0 "])
    assert [(r.stem, r.index) for r in refs] == [("000_x", 3), ("001_y", None), ("002:z", 0)]
    for bad in ("", "a/b:1", ":1"):
        with pytest.raises(InputError, match="not a story id"):
            parse_ids([bad])


def test_find_and_pick(seeds, tmp_path):
    refs = parse_ids(["004_a67af5a38df70ef6:5", "000_6886c8d2ffe8f8a4", "004_a67af5a38df70ef6:99"])
    files = find_files(refs, [str(seeds)], store_path=tmp_path / "none.sqlite")
    assert [f.rsplit("/", 1)[-1] for f in files] == ["000_6886c8d2ffe8f8a4.txt", "004_a67af5a38df70ef6.txt"]
    picked, missing = pick_stories(load_corpus(files), refs)
    assert [s.id for _, s in picked][:2] == ["004_a67af5a38df70ef6:5", "000_6886c8d2ffe8f8a4:0"]
    assert len(picked) == 1 + 8 and [m.raw for m in missing] == ["004_a67af5a38df70ef6:99"]
    doc, story = picked[0]
    rec = story_record(doc, story)
    assert rec["text"] == doc.text[rec["start"]:rec["end"]] and "entities" not in rec
    assert rec["places"] == ["Kyiv"] and rec["dateline"] == "KYIV (ANP) -"
