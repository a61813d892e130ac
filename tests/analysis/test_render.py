"""The entities page: everything that reaches the HTML is escaped (issue 13, item 1)."""

import pytest

from analysis.corpus import load_corpus
from analysis.entities import annotate, resolve_names
from analysis.nlp import resolve_model
from analysis.render import story_entities_page
from tests.tinymodel import PAYLOADS

PAGE = (
    "Kop met Poetin\n"
    "DEN HAAG (ANP) - Vandaag sprak president {p} met Poetin. Daarna zweeg {p} even.\n"
    "Vladimir Poetin reisde naar Kazachstan.\n"
)


def assert_inert(page: str) -> None:
    """No markup from the input survived: only the page's own tags are there."""
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert page.count("</title>") == 1


def page_for(paths, model):
    annotated = annotate(load_corpus([str(p) for p in paths]), model_ref=resolve_model(str(model)), store=None)
    resolve_names(annotated)
    return annotated, story_entities_page(annotated)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_tagged_as_a_name_is_escaped(tmp_path, tiny_model, payload):
    f = tmp_path / "page.txt"
    f.write_text(PAGE.format(p=payload), encoding="utf-8")
    annotated, page = page_for([f], tiny_model)
    # The model did tag the payload, and its canonical name differs from the text.
    assert any(m.canonical == payload.lstrip('"') and m.text != m.canonical
               for m in annotated.mentions()), [(m.text, m.canonical) for m in annotated.mentions()]
    assert_inert(page)
    from html import escape

    assert f"PER · {escape(payload.lstrip(chr(34)))}" in page


@pytest.mark.parametrize("name", ['"><img src=x onerror=alert(1)>', "<script>alert(1)<", "</title><script>"])
def test_payload_in_file_name_is_escaped(tmp_path, tiny_model, name):
    f = tmp_path / f"{name}.txt"  # "/" in a payload makes directories: the whole path carries it
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(PAGE.format(p="Mark Rutte"), encoding="utf-8")
    _, page = page_for([f], tiny_model)
    assert_inert(page)
    assert "Mark Rutte" in page
