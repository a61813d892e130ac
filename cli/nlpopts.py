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
def annotate(corpus, *, model: str | None, store: Path | None, no_cache: bool, canonical: bool = True):
    """Run (or read back) the NLP pass with a progress bar; return ``(annotated, labels_of)``."""
    from analysis.entities import annotate as run, resolve_names
    from analysis.nlp import resolve_model
    from analysis.store import open_store

    ref = resolve_model(model)
    st = None if no_cache else open_store(store)
    try:
        with output.progress("Finding entities", unit="files") as advance:
            annotated = run(corpus, model_ref=ref, store=st, progress=advance)
    finally:
        if st is not None:
            st.close()
    return annotated, resolve_names(annotated, canonical=canonical)
