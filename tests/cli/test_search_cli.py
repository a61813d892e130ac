import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS, invoke

NEWSCTL = str(Path(sys.executable).parent / "newsctl")
NAMES = {"Kassym-Jomart Tokajev": "PER", "Tokajev": "PER", "Vladimir Poetin": "PER", "Poetin": "PER",
         "Volodymyr Zelensky": "PER", "Zelensky": "PER", "NAVO": "ORG", "CSTO": "ORG"}


def tsv(result):
    lines = result.stdout.splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:]]


def search(runner, *args):
    return invoke(runner, ["search", *args])


def story_ids(result):
    return [r["id"] for r in tsv(result)]


# -- hits and their offsets --------------------------------------------------------

def test_hits_tsv_offsets_point_at_the_match(runner, in_root):
    result = search(runner, "oekraine", "seeds", "-f", "tsv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].split("\t") == ["id", "file", "start", "end", "left", "match", "right"]
    rows = tsv(result)
    assert len(rows) == 18 and result.stderr == ""
    for r in rows:
        text = (in_root / r["file"]).read_text(encoding="utf-8")
        assert text[int(r["start"]):int(r["end"])] == r["match"] == "Oekraïne"
        assert len(r["left"]) <= 40 and len(r["right"]) <= 40 and "\\n" not in r["left"] + r["right"]


def test_context_and_json(runner, in_root):
    result = search(runner, "Tokajev", "seeds", "-C", "5", "-f", "jsonl")
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert rows[0] == {"id": "000_6886c8d2ffe8f8a4:0", "file": "seeds/000_6886c8d2ffe8f8a4.txt", "start": 277,
                       "end": 284, "left": "mart ", "match": "Tokajev", "right": ", zon"}
    assert all(len(r["left"]) <= 5 and len(r["right"]) <= 5 for r in rows)


def test_newlines_in_context_are_spaces(runner, in_root):
    result = search(runner, "Kazachstan", "seeds/000_6886c8d2ffe8f8a4.txt", "-f", "json")
    first = json.loads(result.stdout)[0]
    assert first["right"].startswith(" ALMATY (ANP/RTR) - Een")  # the headline's newline


@pytest.mark.parametrize("query, expected", [
    ('"strategische locaties"', ["000_6886c8d2ffe8f8a4:0"]),
    ("Poetin AND China", ["002_87c820989f8bb488:0"]),
    ("Tokajev AND Poetin", ["001_e1118d4810dff467:0"]),
    ("Tokajev AND Belém", []),
    ("CSTO OR Zelensky", ["000_6886c8d2ffe8f8a4:0", "001_e1118d4810dff467:0", "001_e1118d4810dff467:7",
                          "004_a67af5a38df70ef6:5", "004_a67af5a38df70ef6:7"]),
    ("Zelensky NOT noodtoestand", ["004_a67af5a38df70ef6:5", "004_a67af5a38df70ef6:7"]),
    ("presidentsverk*", ["003_a388d32138e33352:0"]),
    ("BELEM", ["004_a67af5a38df70ef6:4"]),
    ("(klimaattop OR Tokajev) AND Belém", ["004_a67af5a38df70ef6:4"]),
])
def test_query_language(runner, in_root, query, expected):
    result = search(runner, query, "seeds", "--stories", "--keep-duplicates", "-f", "tsv")
    assert story_ids(result) == expected
    assert result.exit_code == (0 if expected else 1)


def test_case_sensitive(runner, in_root):
    assert search(runner, "oekraïne", "seeds", "--case-sensitive").exit_code == 1
    assert search(runner, "Oekraine", "seeds", "--case-sensitive").exit_code == 1
    result = search(runner, "Oekraïne", "seeds", "--case-sensitive", "-c", "-f", "tsv", "--no-header")
    assert sum(int(line.split("\t")[1]) for line in result.stdout.splitlines()) == 18


def test_regex(runner, in_root):
    result = search(runner, "--regex", r"P[oe]+tin\b", "seeds", "-f", "jsonl")
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert result.exit_code == 0 and {r["match"] for r in rows} == {"Poetin"}
    assert search(runner, "-e", "poetin", "seeds", "--case-sensitive").exit_code == 1
    assert search(runner, "-e", "poetin", "seeds").exit_code == 0
    bad = search(runner, "-e", "(oops", "seeds")
    assert bad.exit_code == 2 and "invalid regular expression" in bad.stderr


# -- forms of output ---------------------------------------------------------------

def test_stories_count_and_files(runner, in_root):
    stories = tsv(search(runner, "oorlog", "seeds", "--stories", "--keep-duplicates", "-f", "tsv"))
    assert list(stories[0]) == ["id", "file", "hits", "headline"]
    count = search(runner, "oorlog", "seeds", "--count", "-f", "csv")
    assert count.stdout.splitlines() == ["file,hits", "seeds/000_6886c8d2ffe8f8a4.txt,1",
                                         "seeds/002_87c820989f8bb488.txt,1", "seeds/003_a388d32138e33352.txt,2",
                                         "seeds/004_a67af5a38df70ef6.txt,4"]
    files = search(runner, "oorlog", "seeds", "-l", "-f", "json")  # -l ignores the format
    assert files.stdout.splitlines() == [line.split(",")[0] for line in count.stdout.splitlines()[1:]]
    assert sum(int(s["hits"]) for s in stories) == 8


def test_files_with_matches_piped_to_another_command(in_root, tmp_path):
    store = tmp_path / "s.sqlite"
    out = subprocess.run(f"'{NEWSCTL}' search -l Poetin seeds --store '{store}' | xargs grep -c Poetin",
                         shell=True, capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stderr == ""
    counts = dict(line.split(":") for line in out.stdout.splitlines())
    assert list(counts) == ["seeds/000_6886c8d2ffe8f8a4.txt", "seeds/001_e1118d4810dff467.txt",
                            "seeds/002_87c820989f8bb488.txt", "seeds/004_a67af5a38df70ef6.txt"]
    assert all(int(n) > 0 for n in counts.values())
    out = subprocess.run(f"'{NEWSCTL}' search '' seeds --store '{store}' | head -1",
                         shell=True, capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.startswith("id\t") and out.stderr == ""


def test_table_on_a_terminal(runner, in_root, monkeypatch):
    monkeypatch.setattr("cli.output.stdout_is_terminal", lambda: True)
    result = search(runner, "Tokajev", "seeds")
    lines = result.stdout.splitlines()
    assert re.search(r"id\s+start\s+left\s+match\s+right", lines[1])
    assert "Tokajev" in result.stdout and max(len(line) for line in lines) <= 100
    assert "\x1b[" not in result.stdout  # NO_COLOR in the tests


def test_empty_query_and_filters(runner, in_root):
    every = search(runner, "", "seeds", "--stories", "--keep-duplicates", "-f", "tsv")
    assert len(tsv(every)) == 40
    kyiv = story_ids(search(runner, "", "seeds", "--place", "kyiv", "--stories", "--keep-duplicates", "-f", "tsv"))
    assert kyiv == ["000_6886c8d2ffe8f8a4:3", "001_e1118d4810dff467:7", "004_a67af5a38df70ef6:5",
                    "004_a67af5a38df70ef6:7"]
    afp_items = tsv(search(runner, "", "seeds", "--agency", "AFP", "--kind", "item", "-c", "-f", "tsv"))
    assert sum(int(r["hits"]) for r in afp_items) == 16  # an empty query: one empty hit per story
    assert len(tsv(search(runner, "", "seeds", "--kind", "lead", "--stories", "-f", "tsv"))) == 5
    assert len(tsv(search(runner, "", "seeds", "--section", "BUITENLAND", "--stories", "--keep-duplicates", "-f", "tsv"))) == 35
    assert story_ids(search(runner, "Rusland", "seeds", "--place", "Moskou", "--agency", "rtr", "--stories",
                            "-f", "tsv")) == ["002_87c820989f8bb488:0"]


def test_stdin(runner, seeds):
    data = (seeds / "000_6886c8d2ffe8f8a4.txt").read_bytes()
    result = invoke(runner, ["search", "tokajev", "-f", "jsonl"], input=data)
    first = json.loads(result.stdout.splitlines()[0])
    assert (first["id"], first["file"], first["start"]) == ("stdin:0", "-", 277)


# -- exit statuses -------------------------------------------------------------------

@pytest.mark.parametrize("args, status, message", [
    (["Poetin", "seeds"], 0, None),
    (["Kwijtgeraakt", "seeds"], 1, None),
    (["Poetin AND", "seeds"], 2, "invalid query"),
    (['"Poetin', "seeds"], 2, "quote"),
    (["Poetin", "seeds/nope.txt"], 2, "nope.txt"),
    (["Poetin", "seeds", "-l", "--count"], 2, "choose one"),
    (["Poetin", "seeds", "--label", "PERSON"], 2, "unknown label"),
    (["Poetin", "seeds", "--kind", "digest"], 2, None),
    ([], 2, "give a QUERY"),
])
def test_exit_statuses(runner, in_root, args, status, message):
    result = search(runner, *args)
    assert result.exit_code == status
    if message:
        assert message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_no_cache_leaves_the_store_alone(runner, in_root, tmp_path):
    store = tmp_path / "s.sqlite"
    result = search(runner, "Poetin AND China", "seeds", "--no-cache", "--store", store, "--stories", "-f", "tsv")
    assert story_ids(result) == ["002_87c820989f8bb488:0"] and not store.exists()


def test_unreadable_input_is_an_error_but_hits_are_shown(runner, tmp_path, seeds):
    (tmp_path / "a.txt").write_bytes((seeds / "000_6886c8d2ffe8f8a4.txt").read_bytes())
    (tmp_path / "b.txt").symlink_to(tmp_path / "missing.txt")
    (tmp_path / "c.txt").write_bytes(b"\x00\x01binary")
    result = search(runner, "Tokajev", tmp_path, "-l")
    assert result.exit_code == 2 and result.stdout == f"{tmp_path / 'a.txt'}\n"
    assert "b.txt" in result.stderr and "c.txt" in result.stderr
    (tmp_path / "b.txt").unlink()
    assert search(runner, "Tokajev", tmp_path, "-l").exit_code == 0  # a binary file is not an error


# -- the index ------------------------------------------------------------------------

def test_search_follows_changes_to_the_files(runner, corpus_copy):
    page = corpus_copy / "001_e1118d4810dff467.txt"
    assert search(runner, "Zwartewatersklooster", corpus_copy).exit_code == 1
    page.write_text("Zwartewatersklooster " + page.read_text(encoding="utf-8"), encoding="utf-8")
    result = search(runner, "zwartewatersklooster", corpus_copy, "-f", "tsv")
    assert story_ids(result) == ["001_e1118d4810dff467:0"]
    assert tsv(result)[0]["start"] == "0"
    page.unlink()
    assert search(runner, "Zwartewatersklooster", corpus_copy).exit_code == 1


def test_index_command(runner, corpus_copy, tmp_path):
    store = tmp_path / "s.sqlite"
    first = invoke(runner, ["index", corpus_copy, "--store", store, "-f", "jsonl"])
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout) == {"files": 5, "new": 5, "changed": 0, "unchanged": 0, "removed": 0,
                                        "skipped": 0, "stories": 40}
    page = corpus_copy / "002_87c820989f8bb488.txt"
    page.write_text(page.read_text(encoding="utf-8") + "Meer.\n", encoding="utf-8")
    (corpus_copy / "003_a388d32138e33352.txt").unlink()
    status = invoke(runner, ["index", "--status", corpus_copy, "--store", store, "-f", "jsonl"])
    fields = {json.loads(x)["field"]: json.loads(x)["value"] for x in status.stdout.splitlines()}
    assert (fields["files"], fields["up_to_date"], fields["changed"], fields["removed"]) == (5, 3, 1, 1)
    assert fields["store"] == str(store) and fields["index_bytes"] > 0 and fields["corpus_bytes"] > 0
    second = invoke(runner, ["index", corpus_copy, "--store", store, "-f", "jsonl"])
    assert json.loads(second.stdout) == {"files": 4, "new": 0, "changed": 1, "unchanged": 3, "removed": 1,
                                         "skipped": 0, "stories": 33}  # "Meer." became a 9th story of 002
    rebuilt = invoke(runner, ["index", corpus_copy, "--store", store, "--rebuild", "-f", "jsonl"])
    assert json.loads(rebuilt.stdout)["new"] == 4


def test_index_needs_paths(runner, tmp_path):
    result = invoke(runner, ["index", "--store", tmp_path / "s.sqlite"])
    assert result.exit_code == 2 and "no input" in result.stderr
    result = invoke(runner, ["index", "-", "--store", tmp_path / "s.sqlite"])
    assert result.exit_code == 2 and "standard input" in result.stderr


def test_plain_search_never_loads_spacy(tmp_path):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cli.app import app\n"
        f"r = CliRunner().invoke(app, ['search', 'Poetin OR oorlog*', 'seeds', '--store', {str(tmp_path / 's')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        f"r = CliRunner().invoke(app, ['search', '', 'seeds', '--place', 'Kyiv', '--store', {str(tmp_path / 's')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['search', '-e', 'Poetin', 'seeds'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'spacy' not in sys.modules and 'thinc' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# -- entity filters ---------------------------------------------------------------------

@pytest.fixture()
def fake_model(tmp_path):
    """A pipeline that is never loaded: its annotations of seeds/ are already in the store."""
    from analysis.corpus import load_corpus
    from analysis.nlp import resolve_model
    from analysis.store import StoredMention, open_store

    model = tmp_path / "fake_model"
    model.mkdir()
    meta = {"lang": "nl", "name": "fake", "version": "0.0.1", "labels": {"ner": ["PER", "ORG", "LOC"]}}
    (model / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    ref = resolve_model(str(model))
    store = tmp_path / "s.sqlite"
    pattern = re.compile(r"\b(?:" + "|".join(sorted(NAMES, key=len, reverse=True)) + r")\b")
    with open_store(store) as st:
        for doc, stories in load_corpus([str(SEEDS)]).pages:
            mentions = [StoredMention(s.index, 0, m.start(), m.end(), NAMES[m.group()])
                        for s in stories for m in pattern.finditer(doc.text, s.start, s.end)]
            st.put_annotations(doc.sha256, ref.key, [], mentions)
    return model, store


def test_entity_filter_uses_the_store(in_root, fake_model):
    model, store = fake_model
    code = (
        "import sys, json\n"
        "from typer.testing import CliRunner\n"
        "from cli.app import app\n"
        "def run(*a):\n"
        f"    r = CliRunner().invoke(app, ['search', *a, 'seeds', '--stories', '--keep-duplicates', '-f', 'jsonl', '--model', {str(model)!r},"
        f" '--store', {str(store)!r}])\n"
        "    assert r.exit_code in (0, 1), r.output\n"
        "    return [json.loads(x)['id'] for x in r.stdout.splitlines()]\n"
        "out = {'tokajev': run('', '--entity', 'tokajev'), 'poetin': run('', '--entity', 'Vladimir Poetin'),\n"
        "       'org': run('', '--label', 'ORG'), 'kyiv': run('oorlog', '--entity', 'KYIV', '--label', 'LOC'),\n"
        "       'none': run('', '--entity', 'Poetin', '--label', 'ORG')}\n"
        "assert 'spacy' not in sys.modules\n"
        "print(json.dumps(out))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)

    def containing(*words):
        ids = []
        for path in sorted(SEEDS.glob("*.txt")):
            from analysis.corpus import load_corpus

            for doc, s in load_corpus([str(path)]).stories():
                if any(re.search(rf"\b{w}\b", doc.text[s.start:s.end]) for w in words):
                    ids.append(s.id)
        return ids

    assert got["tokajev"] == containing("Tokajev") and got["tokajev"]
    assert got["poetin"] == containing("Poetin") and len(got["poetin"]) > 1
    assert got["org"] == containing("NAVO", "CSTO", "Washington Post")  # the last found by the knowledge lists
    # dateline place KYIV, says oorlog; and story 1, where the place lists find "Kyiv" in the text
    assert got["kyiv"] == ["004_a67af5a38df70ef6:1", "004_a67af5a38df70ef6:5", "004_a67af5a38df70ef6:7"]
    assert got["none"] == []


def test_entity_filter_with_the_bundled_model(runner, in_root, tmp_path):
    result = search(runner, "", "seeds", "--entity", "Tokajev", "--stories", "-f", "tsv", "--model", "bundled",
                    "--store", tmp_path / "s.sqlite")
    assert result.exit_code == 0 and "000_6886c8d2ffe8f8a4:0" in story_ids(result)


def test_every_command_has_an_example():
    from cli.commands import index, search as search_cmd

    for fn in (search_cmd.search, index.index):
        assert "Example: newsctl " in fn.__doc__


@pytest.mark.parametrize("query", ["regering", '"de regering"', "regering OR kabinet", "Oekraïne"])
def test_hits_from_the_index_are_written_as_from_the_files(runner, tmp_path, query):
    """The lean tsv lines (escaping, NFD, newlines, tabs and backslashes in the context) match the usual rows."""
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.txt").write_text("Kop\nDEN HAAG (ANP) - De regering\tzegt \\ dat de\nregering en het kabinet. "
                                 "Oekrai\u0308ne en de Regéring.\n", encoding="utf-8")
    (pages / "b\tc.txt").write_text("Kop twee\nKYIV (ANP) - Oekraïne: de regering-Zelensky.\n", encoding="utf-8")
    store = str(tmp_path / "s.sqlite")
    lean = search(runner, query, str(pages), "--store", store, "-f", "tsv")
    usual = search(runner, query, str(pages), "--no-cache", "-f", "tsv")
    assert lean.exit_code == usual.exit_code == 0, lean.stderr
    assert lean.stdout == usual.stdout and len(lean.stdout.splitlines()) > 2


# -- index --check ---------------------------------------------------------------------

def _checked(runner, store):
    result = invoke(runner, ["index", "--check", "--store", store, "-f", "jsonl"])
    return result, {json.loads(x)["field"]: json.loads(x)["value"] for x in result.stdout.splitlines()}


def test_index_check_finds_an_index_whole(runner, corpus_copy, tmp_path):
    # Text the tokens of FTS5's ascii tokenizer are hard on: accents, digits, underscores, quotes, symbols.
    (corpus_copy / "odd.txt").write_text(
        "Kop\nDEN HAAG (ANP) - Ça va: co\u00f6peratie, \u00e9\u00e9n_twee 3,5% 'AB' \u2018c\u2019d x\u00b2 \U0001f600 "
        "\u0130stanbul STRA\u00dfE \u041a\u0438\u0435\u0432 A\u0301rbol.\n", encoding="utf-8")
    store = tmp_path / "s.sqlite"
    assert invoke(runner, ["index", corpus_copy, "--store", store]).exit_code == 0
    result, fields = _checked(runner, store)
    assert result.exit_code == 0, result.stderr
    assert fields == {"store": str(store), "pages": "ok", "full_text_index": "ok", "story_texts": "ok (41)",
                      "files": "ok"}
    none, fields = _checked(runner, tmp_path / "other.sqlite")
    assert none.exit_code == 0 and fields["index"].startswith("none")
    assert not (tmp_path / "other.sqlite").exists()  # a check makes no store
    both = invoke(runner, ["index", "--check", corpus_copy, "--store", store])
    assert both.exit_code == 2 and both.stderr.startswith("Error: --check takes no PATHS")


def test_index_check_finds_lost_postings_and_damaged_texts(runner, corpus_copy, tmp_path):
    """A search over a damaged posting list can miss hits with no error: --check reads it all."""
    import sqlite3

    from analysis.search.index import fts_body

    store = tmp_path / "s.sqlite"
    assert invoke(runner, ["index", corpus_copy, "--store", store]).exit_code == 0
    before = search(runner, "Tokajev", corpus_copy, "--store", store, "-l")
    conn = sqlite3.connect(store)
    sid, data = conn.execute("SELECT id, data FROM search_stories ORDER BY id LIMIT 1").fetchone()
    from analysis.search.index import _unpack

    text = _unpack(data, dict(conn.execute("SELECT id, data FROM search_dicts")))[0]
    with conn:  # the story's postings gone, as a damaged page of the index would lose them
        conn.execute("INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', ?, ?)", (sid, fts_body(text)))
    conn.close()
    result, fields = _checked(runner, store)
    assert result.exit_code == 2
    assert "terms held otherwise" in fields["full_text_index"] and fields["story_texts"] == "ok (40)"
    assert result.stderr.startswith(f"Error: the search index in {store} is damaged (full_text_index: ")
    assert "newsctl index --rebuild" in result.stderr and result.stderr.count("\n") == 1
    conn = sqlite3.connect(store)
    with conn:  # and a story's packed text with a byte changed: its checksum tells
        sid, data = conn.execute("SELECT id, data FROM search_stories ORDER BY id DESC LIMIT 1").fetchone()
        conn.execute("UPDATE search_stories SET data = ? WHERE id = ?",
                     (data[:-6] + bytes([data[-6] ^ 0xFF]) + data[-5:], sid))
    conn.close()
    result, fields = _checked(runner, store)
    assert result.exit_code == 2 and fields["story_texts"] == f"1 of 40 damaged (the first: story {sid})"
    rebuilt = invoke(runner, ["index", corpus_copy, "--store", store, "--rebuild"])
    assert rebuilt.exit_code == 0
    assert _checked(runner, store)[0].exit_code == 0
    assert search(runner, "Tokajev", corpus_copy, "--store", store, "-l").stdout == before.stdout
