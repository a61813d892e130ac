"""Options and the shared step of every command that needs entities."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from typing import Annotated

from . import output

ModelOpt = Annotated[
    Optional[str],
    typer.Option(
        "--model", "-m", envvar="NEWSCTL_MODEL", show_envvar=True, metavar="NAME|PATH",
        help="NLP pipeline: 'auto' (nl_core_news_sm if installed, else the bundled model), 'bundled', "
        "an installed spaCy package or a pipeline directory.",
    ),
]
StoreOpt = Annotated[
    Optional[Path],
    typer.Option("--store", metavar="PATH", help="Annotation store file (default: $XDG_CACHE_HOME/newsctl/store.sqlite)."),
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Run the model on everything; neither read nor write the store.")]
NoCanonicalOpt = Annotated[bool, typer.Option("--no-canonical", help="Show raw surface forms instead of canonical names.")]
LabelOpt = Annotated[
    Optional[str], typer.Option("--label", metavar="LABELS", help="Only these labels, comma-separated: PER,ORG,LOC,MISC.")
]

AliasesOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--aliases", metavar="FILE",
        help="Name corrections, TSV: variant<TAB>canonical[<TAB>label] (also read: "
        "$XDG_CONFIG_HOME/newsctl/aliases.tsv).",
    ),
]

AllOpt = Annotated[
    bool,
    typer.Option("--all", help="Keep nationality adjectives (MISC: Russische, Amerikaanse), left out by default."),
]


def keep_adjectives(all_: bool, labels: list[str] | None) -> bool:
    """``--all`` or an explicit ``--label`` with MISC keeps nationality adjectives."""
    return all_ or bool(labels and "MISC" in labels)


def parse_labels(value: str | None) -> list[str] | None:
    from analysis.errors import InputError
    from analysis.nlp import LABELS

    if not value:
        return None
    labels = [v.strip().upper() for v in value.split(",") if v.strip()]
    bad = [v for v in labels if v not in LABELS]
    if bad:
        raise InputError(f"unknown label {', '.join(bad)} (choose from {', '.join(LABELS)})")
    return labels


def annotate(corpus, *, model: str | None, store: Path | None, no_cache: bool, canonical: bool = True,
             aliases: Path | None = None):
    """Run (or read back) the NLP pass with a progress bar; return ``(annotated, labels_of)``.

    The aliases files are read first, so a bad one fails before the model runs.
    """
    from analysis.aliases import load_aliases
    from analysis.entities import annotate as run, resolve_names
    from analysis.nlp import resolve_model
    from analysis.store import open_store

    user_aliases = load_aliases(aliases)
    ref = resolve_model(model)
    st = None if no_cache else open_store(store)
    try:
        with output.progress("Finding entities", unit="files") as advance:
            annotated = run(corpus, model_ref=ref, store=st, progress=advance)
    finally:
        if st is not None:
            st.close()
    return annotated, resolve_names(annotated, canonical=canonical, aliases=user_aliases)
