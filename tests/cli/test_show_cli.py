import json
import shutil

from tests.conftest import invoke

ID = "004_a67af5a38df70ef6:5"


def test_plain_view_in_a_pipe_needs_no_model(runner, in_root, tmp_path):
    result = invoke(runner, ["show", ID, "--in", "seeds", "--store", tmp_path / "never.sqlite"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{ID}  seeds/004_a67af5a38df70ef6.txt"
    assert lines[1] == "kind: item  section: Buitenland  places: Kyiv  agencies: ANP  age (min): 720"
    assert lines[2] == "dateline: KYIV (ANP) -" and lines[3] == ""
    assert lines[4].startswith("KYIV (ANP) - De Oekraïense president Volodymyr Zelensky")
    assert not (tmp_path / "never.sqlite").exists()


def test_json_has_text_and_entities_with_file_offsets(runner, in_root, seeds_store):
    result = invoke(runner, ["show", ID, "000_6886c8d2ffe8f8a4:0", "--in", "seeds", "-f", "json", "--store", seeds_store])
    assert result.exit_code == 0, result.stderr
    recs = json.loads(result.stdout)
    assert [r["id"] for r in recs] == [ID, "000_6886c8d2ffe8f8a4:0"]
    rec = recs[0]
    text = (in_root / rec["file"]).read_text(encoding="utf-8")
    assert text[rec["start"]:rec["end"]] == rec["text"]
    ents = rec["entities"]
    assert {"text", "label", "canonical", "start", "end", "source"} == set(ents[0])
    assert all(text[e["start"]:e["end"]] == e["text"] for e in ents)
    canon = {e["canonical"] for e in ents}
    assert {"Volodymyr Zelensky", "Mark Rutte"} <= canon and canon & {"Kyiv", "Kiev"}  # Kiev/Kyiv: one entity


def test_terminal_view_highlights_entities(runner, in_root, seeds_store, monkeypatch):
    monkeypatch.setattr("cli.output.stdout_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    result = invoke(runner, ["show", ID, "--in", "seeds", "--store", seeds_store])
    assert result.exit_code == 0, result.stderr
    assert "\x1b[" in result.stdout and "Mark Rutte" in result.stdout and "PER" in result.stdout


def test_a_stem_shows_every_story_and_an_unknown_id_exits_1(runner, in_root):
    result = invoke(runner, ["show", "000_6886c8d2ffe8f8a4", "nope:3", "--in", "seeds", "-f", "jsonl", "--no-entities"])
    assert result.exit_code == 1 and "no story 'nope:3'" in result.stderr
    assert [json.loads(x)["story"] for x in result.stdout.splitlines()] == list(range(8))
    assert "entities" not in json.loads(result.stdout.splitlines()[0])
    result = invoke(runner, ["show", "seeds/000_6886c8d2ffe8f8a4.txt:1"])
    assert result.exit_code == 2 and "not a story id" in result.stderr


def test_ids_resolve_from_the_current_directory_and_the_store(runner, tmp_path, seeds, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(seeds, corpus)
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, ["show", ID, "-f", "jsonl", "--no-entities"])  # --in defaults to .
    assert json.loads(result.stdout)["file"] == "corpus/004_a67af5a38df70ef6.txt"
    store = tmp_path / "s.sqlite"
    invoke(runner, ["index", "corpus", "--store", store, "-f", "tsv"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke(runner, ["show", ID, "-f", "jsonl", "--no-entities", "--store", store])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["file"] == str(corpus / "004_a67af5a38df70ef6.txt")


def test_stories_read_from_standard_input_are_shown_by_their_stdin_ids(runner, in_root, seeds):
    page = (seeds / "000_6886c8d2ffe8f8a4.txt").read_bytes()
    result = invoke(runner, ["show", "stdin:1", "--in", "-", "-f", "jsonl", "--no-entities"], input=page)
    assert result.exit_code == 0, result.stderr
    rec = json.loads(result.stdout)
    assert (rec["id"], rec["file"], rec["places"]) == ("stdin:1", "-", ["Washington"])
    result = invoke(runner, ["show", "stdin", "--in", "-", "-f", "jsonl", "--no-entities"], input=page)
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 8
