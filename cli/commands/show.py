"""`newsctl show`: a story's text with its dateline fields and its entities highlighted."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer
from typing import Annotated

from .. import common, nlpopts, output
from ..errors import EXIT_NO_MATCH, boundary
from ..output import Column, Format

IdsArg = Annotated[List[str], typer.Argument(
    metavar="ID...", show_default=False,
    help="Story ids as every command prints them (000_6886c8d2ffe8f8a4:3); a file stem alone shows all its stories.")]
InOpt = Annotated[Optional[List[str]], typer.Option(
    "--in", metavar="PATHS", show_default=False,
    help="Files or directories to look in (default: the current directory); repeat it for several. "
    "Ids not found there are looked up among the files the search index has seen.")]
FIELDS = ["id", "file", "story", "kind", "section", "places", "agencies", "age_minutes", "dateline", "headline",
          "duplicate_of", "start", "end", "text"]
HEADER = [("kind", "kind"), ("section", "section"), ("places", "places"), ("agencies", "agencies"),
          ("age_minutes", "age (min)"), ("duplicate_of", "duplicate of")]


@boundary
def show(
    ids: IdsArg,
    in_: InOpt = None,
    no_entities: Annotated[bool, typer.Option("--no-entities", help="Do not look for entities (no NLP pass): no highlighting, no entities in json.")] = False,
    model: nlpopts.ModelOpt = None,
    store: nlpopts.StoreOpt = None,
    no_cache: nlpopts.NoCacheOpt = False,
    fmt: common.FormatOpt = None,
    no_header: common.NoHeaderOpt = False,
) -> None:
    """Print stories by id: dateline fields, then the text with its entities highlighted.

    On a terminal the entities are coloured by label (PER, ORG, LOC, MISC);
    in a pipe the same view comes as plain text. --format json/jsonl gives
    one record per story with its fields, text and entities (text, label,
    canonical, start, end: offsets into the file); tsv/csv give the fields
    and text.

    Example: newsctl show 000_6886c8d2ffe8f8a4:3 --in seeds/
    """
    from analysis.show import find_files, parse_ids, pick_stories

    refs = parse_ids(ids)
    where = list(dict.fromkeys(in_ or ["."]))  # a path may hold a comma: no comma lists here
    files = find_files(refs, where, store_path=store)
    corpus = common.load(files) if files else None
    picked, missing = pick_stories(corpus, refs) if corpus else ([], refs)
    for r in missing:
        output.warn(f"no story {r.raw!r} in {', '.join(where)} or the search index")
    if picked:
        view = fmt is None or fmt is Format.table
        wants = not no_entities and (fmt in (Format.json, Format.jsonl) or (view and output.stdout_is_terminal()))
        mentions = _mentions(corpus, model=model, store=store, no_cache=no_cache) if wants else None
        _render(picked, mentions, fmt, header=not no_header)
        nlpopts.check_stored()
    if missing:
        raise typer.Exit(EXIT_NO_MATCH)


def _mentions(corpus, *, model, store, no_cache) -> dict:
    annotated, _ = nlpopts.annotate(corpus, model=model, store=store, no_cache=no_cache)
    return {a.story.id: a.mentions for a in annotated.stories}


def _render(picked, mentions, fmt, *, header: bool) -> None:
    from analysis.show import story_record

    records = (story_record(doc, s, mentions.get(s.id, []) if mentions is not None else None) for doc, s in picked)
    if fmt in (Format.json, Format.jsonl):
        columns = [Column(f) for f in FIELDS] + ([Column("entities")] if mentions is not None else [])
        output.render(records, columns, fmt, header=header)
    elif fmt in (Format.tsv, Format.csv, Format.excel_csv):
        output.render(records, [Column(f) for f in FIELDS], fmt, header=header)
    elif output.stdout_is_terminal():
        console = output.console()
        for k, rec in enumerate(records):
            if k:
                console.print()
            console.print(_rich_view(rec), soft_wrap=False)
    else:
        for k, rec in enumerate(records):
            sys.stdout.write(("\n" if k else "") + _plain_view(rec))
        sys.stdout.flush()


def _fields(rec: dict) -> list[tuple[str, str]]:
    out = []
    for key, name in HEADER:
        v = rec[key]
        if v in (None, [], ""):
            continue
        out.append((name, output.plain(v)))
    return out


def _plain_view(rec: dict) -> str:
    lines = [f"{rec['id']}  {rec['file']}"]
    lines.append("  ".join(f"{name}: {v}" for name, v in _fields(rec)))
    if rec["dateline"]:
        lines.append(f"dateline: {rec['dateline']}")
    return "\n".join(lines) + "\n\n" + rec["text"] + "\n"


def _rich_view(rec: dict):
    from rich.console import Group
    from rich.text import Text

    from analysis.render import LABEL_COLOURS

    shown = output.visible
    title = Text.assemble((shown(output.plain(rec["id"])), "bold"), "  ", (shown(output.plain(rec["file"])), "dim"))
    fields = Text("  ").join(Text.assemble((f"{name}: ", "dim"), shown(v)) for name, v in _fields(rec))
    parts = [title, fields]
    if rec["dateline"]:
        parts.append(Text.assemble(("dateline: ", "dim"), shown(rec["dateline"])))
    text, at = _visible_text(rec["text"])
    body = Text(text)
    for e in rec.get("entities", []):
        s, t = e["start"] - rec["start"], e["end"] - rec["start"]
        body.stylize(f"black on {LABEL_COLOURS.get(e['label'], '#dddddd')}", at(s), at(t))
    labels = sorted({e["label"] for e in rec.get("entities", [])})
    parts += [Text(""), body]
    if labels:
        parts += [Text(""), Text("  ").join(Text(f" {lab} ", style=f"black on {LABEL_COLOURS.get(lab, '#dddddd')}")
                                            for lab in labels)]
    return Group(*parts)


def _visible_text(text: str):
    """A story's text as the terminal view shows it (control characters escaped, newlines kept).

    Returns the text and a function from an offset into ``text`` to the same
    place in the shown text, so that the entities stay highlighted where they are.
    """
    from bisect import bisect_left

    shown = output.visible(text, keep="\n")
    if len(shown) == len(text):
        return shown, lambda k: k
    moved, grown, extra = [], [], 0  # where a character grew, and how much the text had grown after it
    for k, c in enumerate(text):
        n = len(output.visible(c, keep="\n"))
        if n != 1:
            extra += n - 1
            moved.append(k)
            grown.append(extra)
    return shown, lambda k: k + (grown[i - 1] if (i := bisect_left(moved, k)) else 0)
