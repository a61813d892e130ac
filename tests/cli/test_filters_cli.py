"""One filter vocabulary on datelines, entities, cooccur and search (cli/filteropts.py)."""

import json

import pytest

from tests.conftest import invoke

SPECS = [
    ["--place", "kyiv"],
    ["--place", "Washington", "--place", "KYIV"],
    ["--place", "washington,kyiv"],
    ["--agency", "rtr"],
    ["--section", "buitenland", "--kind", "item"],
    ["--kind", "lead"],
    ["--place", "moskou", "--agency", "afp,dpa"],
]


def rows(result):
    assert result.exit_code in (0, 1), result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def run(runner, store, *args):
    return invoke(runner, [*args, "-f", "jsonl", "--store", store])


def datelines_ids(runner, store, spec):
    return [r["id"] for r in rows(invoke(runner, ["datelines", "seeds", *spec, "-f", "jsonl"]))]


@pytest.mark.parametrize("spec", SPECS, ids=" ".join)
def test_every_command_keeps_the_same_stories(runner, in_root, seeds_store, spec):
    ids = datelines_ids(runner, seeds_store, spec)
    assert ids
    found = rows(run(runner, seeds_store, "search", "", "seeds", *spec, "--stories", "--keep-duplicates"))
    assert [r["id"] for r in found] == ids
    mentions = rows(run(runner, seeds_store, "entities", "seeds", *spec, "--mentions", "--keep-duplicates"))
    assert mentions and {m["id"] for m in mentions} <= set(ids)
    assert {m["id"] for m in mentions} == set(ids)  # every story here has a dateline place at least
    pairs = rows(run(runner, seeds_store, "cooccur", "seeds", *spec, "--keep-duplicates"))
    assert {u for p in pairs for u in p["units"]} <= set(ids)


def test_repeated_and_comma_values_are_ored(runner, in_root, seeds_store):
    kyiv = datelines_ids(runner, seeds_store, ["--place", "Kyiv"])
    washington = datelines_ids(runner, seeds_store, ["--place", "Washington"])
    both = datelines_ids(runner, seeds_store, ["--place", "Washington", "--place", "Kyiv"])
    assert set(both) == set(kyiv) | set(washington) and len(both) == len(kyiv) + len(washington)
    assert datelines_ids(runner, seeds_store, ["--place", "washington, kyiv"]) == both


def test_entity_and_label_keep_the_stories_mentioning_them(runner, in_root, seeds_store):
    for spec in (["--entity", "Tokajev"], ["--label", "ORG"], ["--entity", "tokajev,rutte"]):
        ids = [r["id"] for r in rows(run(runner, seeds_store, "datelines", "seeds", *spec))]
        found = rows(run(runner, seeds_store, "search", "", "seeds", *spec, "--stories", "--keep-duplicates"))
        assert ids and [r["id"] for r in found] == ids, spec
    tokajev = [r["id"] for r in rows(run(runner, seeds_store, "datelines", "seeds", "--entity", "Tokajev"))]
    assert tokajev == ["000_6886c8d2ffe8f8a4:0", "001_e1118d4810dff467:0"]


def test_entity_and_label_choose_the_entities_listed(runner, in_root, seeds_store):
    ents = rows(run(runner, seeds_store, "entities", "seeds", "--entity", "tokajev", "--entity", "Rutte"))
    assert {r["entity"] for r in ents} == {"Kassym-Jomart Tokajev", "Mark Rutte"}
    ents = rows(run(runner, seeds_store, "entities", "seeds", "--label", "PER", "--label", "org"))
    assert {r["label"] for r in ents} == {"PER", "ORG"}
    pairs = rows(run(runner, seeds_store, "cooccur", "seeds", "--entity", "Tokajev,Rutte"))
    names = {"Kassym-Jomart Tokajev", "Mark Rutte"}
    assert pairs and all({p["entity_a"], p["entity_b"]} & names for p in pairs)
    assert {p["entity_a"] for p in pairs} | {p["entity_b"] for p in pairs} >= names


def test_dateline_filters_choose_what_entities_count(runner, in_root, seeds_store):
    every = {r["entity"]: r for r in rows(run(runner, seeds_store, "entities", "seeds"))}
    rtr = rows(run(runner, seeds_store, "entities", "seeds", "--agency", "RTR", "--section", "Buitenland",
                   "--label", "PER"))
    assert rtr and all(r["label"] == "PER" for r in rtr)
    assert all(r["mentions"] <= every[r["entity"]]["mentions"] for r in rtr)
    assert sum(r["mentions"] for r in rtr) < sum(r["mentions"] for r in every.values() if r["label"] == "PER")


# -- hints ----------------------------------------------------------------------------------

def test_a_value_the_corpus_lacks_gets_a_hint_and_exit_1(runner, in_root, seeds_store):
    result = invoke(runner, ["datelines", "seeds", "--place", "Kiev", "-f", "tsv"])
    assert result.exit_code == 1
    assert "no story has place 'Kiev'; did you mean Kyiv?" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run(runner, seeds_store, "search", "oorlog", "seeds", "--place", "moscow")
    assert result.exit_code == 1 and "did you mean Moskou?" in result.stderr
    result = run(runner, seeds_store, "entities", "seeds", "--section", "Buitenlnd")
    assert result.exit_code == 1 and "did you mean Buitenland?" in result.stderr


def test_a_hint_for_one_value_still_shows_the_others(runner, in_root, seeds_store):
    result = invoke(runner, ["datelines", "seeds", "--place", "Kiev,Washington", "-f", "tsv"])
    assert result.exit_code == 0 and "did you mean Kyiv?" in result.stderr
    assert len(result.stdout.splitlines()) == 1 + 9


def test_cooccur_with_an_unknown_entity_exits_1(runner, in_root, seeds_store):
    result = run(runner, seeds_store, "cooccur", "seeds", "--entity", "Nobodyxyz")
    assert result.exit_code == 1 and result.stdout == ""
    assert "no entity is named 'Nobodyxyz'" in result.stderr
    result = run(runner, seeds_store, "cooccur", "seeds", "--entity", "Poetn")
    assert result.exit_code == 1 and "did you mean Vladimir Poetin" in result.stderr


def test_unknown_kind_is_an_error(runner, in_root):
    result = invoke(runner, ["datelines", "seeds", "--kind", "story"])
    assert result.exit_code == 2 and "unknown kind story" in result.stderr


# -- duplicates --------------------------------------------------------------------------

def test_duplicates_are_left_out_of_counts_unless_kept(runner, in_root, seeds_store):
    rutte = rows(run(runner, seeds_store, "entities", "seeds", "--entity", "Rutte"))
    kept = rows(run(runner, seeds_store, "entities", "seeds", "--entity", "Rutte", "--keep-duplicates"))
    assert (rutte[0]["mentions"], rutte[0]["stories"]) == (2, 1)  # 004:7 repeats 004:5
    assert (kept[0]["mentions"], kept[0]["stories"]) == (4, 2)
    mentions = rows(run(runner, seeds_store, "entities", "seeds", "--mentions", "--entity", "Rutte"))
    assert {m["id"] for m in mentions} == {"004_a67af5a38df70ef6:5"}
    stories = rows(run(runner, seeds_store, "search", "Rutte", "seeds", "--stories"))
    kept = rows(run(runner, seeds_store, "search", "Rutte", "seeds", "--stories", "--keep-duplicates"))
    assert [r["id"] for r in stories] == ["004_a67af5a38df70ef6:5"]
    assert [r["id"] for r in kept] == ["004_a67af5a38df70ef6:5", "004_a67af5a38df70ef6:7"]
    hits = rows(run(runner, seeds_store, "search", "Rutte", "seeds"))  # hits are not counts: all of them
    assert {r["id"] for r in hits} == {"004_a67af5a38df70ef6:5", "004_a67af5a38df70ef6:7"}


# -- datelines --summary --by -----------------------------------------------------------------

def test_summary_by_two_fields_is_a_long_crosstab(runner, in_root):
    result = invoke(runner, ["datelines", "seeds", "--summary", "--by", "place,agency", "-f", "csv"])
    lines = result.stdout.splitlines()
    assert lines[:3] == ["place,agency,stories", "Washington,ANP,9", "Minneapolis,ANP,5"]
    wide = invoke(runner, ["datelines", "seeds", "--summary", "--by", "place", "--by", "agency", "--wide",
                           "-f", "tsv"]).stdout.splitlines()
    assert wide[0].split("\t")[:3] == ["place", "ANP", "AFP"] and wide[1].split("\t")[:2] == ["Washington", "9"]
    kyiv = invoke(runner, ["datelines", "seeds", "--summary", "--by", "section,kind", "--place", "kyiv",
                           "-f", "csv"]).stdout.splitlines()
    assert kyiv == ["section,kind,stories", "Buitenland,item,3"]  # and a duplicate


@pytest.mark.parametrize("args, message", [
    (["--by", "place"], "--by goes with --summary"),
    (["--summary", "--by", "plaats"], "unknown --by field plaats"),
    (["--summary", "--by", "place", "--wide"], "--wide needs two --by fields"),
])
def test_summary_by_mistakes(runner, in_root, args, message):
    result = invoke(runner, ["datelines", "seeds", *args])
    assert result.exit_code == 2 and message in result.stderr


@pytest.mark.parametrize("command", [["datelines", "seeds"], ["search", "Poetin", "seeds"], ["search", "Poetin", "seeds", "-l"]])
@pytest.mark.parametrize("spec", [["--place", ""], ["--entity", " , "], ["--agency", ","], ["--section", " "]])
def test_a_filter_given_only_empty_values_is_an_error_not_no_filter(runner, in_root, tmp_path, command, spec):
    result = invoke(runner, [*command, *spec, "--no-cache", "-f", "tsv"])  # --entity "$NAME" with NAME unset
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"Error: {spec[0]} was given an empty value\n"
