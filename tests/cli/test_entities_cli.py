import json

from tests.conftest import invoke


def test_entities_tsv_has_stable_columns_and_known_names(runner, in_root, tmp_path):
    result = invoke(runner, ["entities", "seeds", "--store", tmp_path / "s.sqlite"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["entity", "label", "mentions", "stories", "files", "variants"]
    names = {tuple(line.split("\t")[:2]) for line in lines[1:]}
    assert ("Kassym-Jomart Tokajev", "PER") in names and ("Almaty", "LOC") in names
    assert result.stderr == ""  # no progress bar in a pipe
    counts = [int(line.split("\t")[2]) for line in lines[1:]]
    assert counts == sorted(counts, reverse=True)


def test_mentions_jsonl_offsets(runner, in_root, tmp_path, seeds):
    result = invoke(runner, ["entities", "seeds", "--mentions", "-f", "jsonl", "--store", tmp_path / "s.sqlite"])
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert list(rows[0]) == ["id", "file", "story", "sentence", "start", "end", "text", "label", "canonical", "source"]
    texts = {}
    for r in rows:
        path = r["file"]
        texts.setdefault(path, (in_root / path).read_text(encoding="utf-8"))
        assert texts[path][r["start"]: r["end"]] == r["text"]
    assert {r["source"] for r in rows} == {"model", "dateline"}


def test_label_top_min_count(runner, in_root, tmp_path):
    store = tmp_path / "s.sqlite"
    result = invoke(runner, ["entities", "seeds", "--label", "per,LOC", "--top", "3", "-f", "jsonl", "--store", store])
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(rows) == 3 and {r["label"] for r in rows} <= {"PER", "LOC"}
    result = invoke(runner, ["entities", "seeds", "--min-count", "5", "-f", "jsonl", "--store", store])
    assert all(json.loads(x)["mentions"] >= 5 for x in result.stdout.splitlines())


def test_no_canonical_shows_surface_forms(runner, in_root, tmp_path):
    result = invoke(runner, ["entities", "seeds", "--no-canonical", "--label", "PER", "-f", "jsonl", "--no-cache"])
    names = {json.loads(x)["entity"] for x in result.stdout.splitlines()}
    assert "Poetin" in names and "Vladimir Poetin" in names


def test_bad_label_is_one_line_error(runner, in_root):
    result = invoke(runner, ["entities", "seeds", "--label", "PERSON"])
    assert result.exit_code == 2 and "unknown label" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_model(runner, in_root):
    result = invoke(runner, ["entities", "seeds", "--model", "nl_nonexistent_model"])
    assert result.exit_code == 2 and "model not found" in result.stderr


def test_models_lists_bundled(runner):
    result = invoke(runner, ["models", "-f", "jsonl"])
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    bundled = [r for r in rows if r["source"] == "bundled"]
    assert bundled and sorted(bundled[0]["labels"]) == ["LOC", "MISC", "ORG", "PER"]
    assert sum(r["auto"] == "yes" for r in rows) == 1


def test_env_var_selects_model(runner, in_root, monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSCTL_MODEL", str(tmp_path / "missing"))
    result = invoke(runner, ["entities", "seeds"])
    assert result.exit_code == 2 and "missing" in result.stderr


def test_cached_run_does_not_import_spacy(in_root, tmp_path):
    import subprocess
    import sys

    store = str(tmp_path / "s.sqlite")
    code = (
        "import sys\nfrom cli.app import app\n"
        f"sys.argv = ['newsctl', 'entities', 'seeds', '-f', 'tsv', '--store', {store!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "print('spacy' in sys.modules, file=sys.stderr)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=in_root)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=in_root)
    assert first.stderr.strip().endswith("True")
    assert second.stderr.strip() == "False" and second.stdout == first.stdout


def _stored_run(tmp_path, names):
    """A model that is never loaded (only a meta.json): its annotations of seeds/ are in the store."""
    import re

    from analysis.corpus import load_corpus
    from analysis.nlp import resolve_model
    from analysis.store import StoredMention, open_store

    model = tmp_path / "fake_model"
    model.mkdir()
    meta = {"lang": "nl", "name": "fake", "version": "0.0.1", "labels": {"ner": ["PER", "ORG", "LOC", "MISC"]}}
    (model / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    store = tmp_path / "s.sqlite"
    pattern = re.compile(r"\b(?:" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")
    with open_store(store) as st:
        for doc, stories in load_corpus(["seeds"]).pages:
            ments = [StoredMention(s.index, 0, m.start(), m.end(), names[m.group()])
                     for s in stories for m in pattern.finditer(doc.text, s.start, s.end)]
            st.put_annotations(doc.sha256, resolve_model(str(model)).key, [], ments)
    return model, store


def test_aliases_apply_without_running_the_model(in_root, tmp_path):
    import subprocess
    import sys

    model, store = _stored_run(tmp_path, {"Poetin": "PER", "Rusland": "LOC", "NAVO": "ORG"})
    aliases = tmp_path / "aliases.tsv"
    code = (
        "import sys\nfrom cli.app import app\n"
        f"sys.argv = ['newsctl', 'entities', 'seeds', '-f', 'tsv', '--store', {str(store)!r}, '--model', {str(model)!r},"
        f" '--aliases', {str(aliases)!r}]\n"
        "try:\n    app()\nexcept SystemExit as e:\n    print('exit', e.code, file=sys.stderr)\n"
        "print('spacy' in sys.modules, file=sys.stderr)\n"
    )

    def run():
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=in_root)
        rows = {line.split("\t")[0]: line.split("\t")[1] for line in out.stdout.splitlines()[1:]}
        return rows, out.stderr

    aliases.write_text("# none yet\n", encoding="utf-8")
    rows, err = run()
    assert rows["Vladimir Poetin"] == "PER" and rows["NAVO"] == "ORG" and err.strip().endswith("False")
    aliases.write_text("Vladimir Poetin\tPutin\nNAVO\tNAVO\tLOC\nRusland\tRussische Federatie\tLOC\n", encoding="utf-8")
    rows, err = run()
    assert "Vladimir Poetin" not in rows and rows["Putin"] == "PER"
    assert rows["NAVO"] == "LOC" and rows["Russische Federatie"] == "LOC"
    assert err.strip().endswith("False")  # the model was never loaded: only the store was read


def test_bad_aliases_file_is_one_line_error(runner, in_root, tmp_path):
    bad = tmp_path / "aliases.tsv"
    bad.write_text("Kiev\tKyiv\nHamas\tHamas\tGROUP\n", encoding="utf-8")
    for command in (["entities", "seeds"], ["cooccur", "seeds"], ["search", "", "seeds", "--label", "ORG"]):
        result = invoke(runner, [*command, "--aliases", bad, "--store", tmp_path / "s.sqlite"])
        assert result.exit_code == 2
        assert result.stderr.strip().splitlines() == [f"Error: {bad}, line 2: unknown label 'GROUP' (choose from PER, ORG, LOC, MISC)"]


def test_nationality_adjectives_only_with_all_or_label_misc(runner, in_root, tmp_path):
    model, store = _stored_run(tmp_path, {"Russische": "MISC", "Amerikaanse": "MISC", "Rusland": "LOC", "Oscar": "MISC"})
    base = ["--store", store, "--model", model, "-f", "tsv"]

    def names(*args):
        result = invoke(runner, ["entities", "seeds", *base, *args])
        assert result.exit_code == 0, result.stderr
        return {line.split("\t")[0] for line in result.stdout.splitlines()[1:]}

    default = names()
    assert "Rusland" in default and not default & {"Russische", "Amerikaanse"}
    assert {"Russische", "Amerikaanse"} <= names("--all")
    assert {"Russische", "Amerikaanse"} <= names("--label", "MISC")
    result = invoke(runner, ["cooccur", "seeds", *base])
    assert "Russische" not in result.stdout
    result = invoke(runner, ["cooccur", "seeds", *base, "--all"])
    assert "Russische" in result.stdout
