"""entities --html: to stdout, to a directory of pages, lang and legend."""

from html.parser import HTMLParser

from tests.conftest import invoke


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.lang = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links.append(attrs["href"])
        if tag == "html":
            self.lang = attrs.get("lang")


def parse(page: str) -> _Links:
    p = _Links()
    p.feed(page)
    return p


def test_html_to_stdout_is_the_only_output(runner, in_root, seeds_store):
    result = invoke(runner, ["entities", "seeds", "--html", "-", "-f", "tsv", "--store", seeds_store])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>") and result.stdout.rstrip().endswith("</html>")
    assert "entity\tlabel" not in result.stdout
    assert parse(result.stdout).lang == "nl"
    assert 'class="legend"' in result.stdout and all(f"{lab} <small>" in result.stdout for lab in ("PER", "ORG", "LOC", "MISC"))


def test_html_directory_has_one_page_per_file_and_an_index(runner, in_root, seeds_store, tmp_path):
    out = tmp_path / "pages"
    result = invoke(runner, ["entities", "seeds", "--html", f"{out}/", "-f", "tsv", "--store", seeds_store])
    assert result.exit_code == 0 and result.stdout.startswith("entity\t")
    pages = sorted(p.name for p in out.iterdir())
    stems = sorted(p.stem for p in (in_root / "seeds").glob("*.txt"))
    assert pages == sorted([f"{s}.html" for s in stems] + ["index.html"])
    index = (out / "index.html").read_text(encoding="utf-8")
    assert sorted(parse(index).links) == [f"{s}.html" for s in stems] and parse(index).lang == "nl"
    one = (out / f"{stems[0]}.html").read_text(encoding="utf-8")
    assert f"{stems[0]}:0" in one and f"{stems[1]}:0" not in one and 'href="index.html"' in one


def test_html_directory_names_are_escaped_and_unique(runner, tmp_path, seeds, seeds_store):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "x<b>.txt").write_bytes((seeds / "000_6886c8d2ffe8f8a4.txt").read_bytes())
    out = tmp_path / "pages"
    result = invoke(runner, ["entities", tmp_path / "a", tmp_path / "b", "--html", f"{out}/", "-f", "tsv",
                             "--store", seeds_store])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "x<b>-2.html", "x<b>.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<b>" not in index and "x&lt;b&gt;" in index and "x%3Cb%3E-2.html" in index
