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
JobsOpt = Annotated[
    str,
    typer.Option(
        "--jobs", "-j", metavar="N|auto",
        help="Worker processes for the NLP pass; 'auto': the CPUs this process may use, one for small inputs.",
    ),
]
SchedulerOpt = Annotated[
    Optional[str],
    typer.Option(
        "--scheduler", envvar="NEWSCTL_SCHEDULER", show_envvar=True, metavar="ADDRESS",
        help="Run the NLP pass on a Dask cluster (tcp://host:8786) instead of local processes; needs newsctl[cluster].",
    ),
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


_unstored: list = []  # the store error of this process's last NLP pass, until check_stored() reports it


def annotate(corpus, *, model: str | None, store: Path | None, no_cache: bool, canonical: bool = True,
             jobs: str = "auto", scheduler: str | None = None, aliases: Path | None = None):
    """Run (or read back) the NLP pass with a progress bar; return ``(annotated, labels_of)``.

    The aliases files are read first, so a bad one fails before the model runs.
    When the store's disk is full the run still finishes; the command prints
    its output and then calls :func:`check_stored`, which ends it with one
    error line and exit 2.
    """
    from analysis.aliases import load_aliases
    from analysis.entities import annotate as run, resolve_names
    from analysis.nlp import resolve_model
    from analysis.parallel import parse_jobs
    from analysis.store import open_store

    _unstored.clear()
    n_jobs = parse_jobs(jobs)
    user_aliases = load_aliases(aliases)
    ref = resolve_model(model)
    st = None if no_cache else open_store(store)
    try:
        with output.progress("Finding entities", unit="words") as advance:
            annotated = run(corpus, model_ref=ref, store=st, progress=advance, jobs=n_jobs, scheduler=scheduler)
    finally:
        if st is not None:
            st.close()
    if annotated.store_error is not None:
        _unstored.append(type(annotated.store_error)(
            f"{annotated.store_error}: {annotated.unstored} of {annotated.processed} files "
            "were annotated but not stored (the next run does them again)"))
    return annotated, resolve_names(annotated, canonical=canonical, aliases=user_aliases)


def check_stored() -> None:
    """After the output: raise the store error of the NLP pass, if the store stopped taking results."""
    if _unstored:
        exc = _unstored.pop()
        _unstored.clear()
        raise exc


def streamed(paths, *, model: str | None, store: Path | None, jobs: str = "auto", scheduler: str | None = None,
             aliases: Path | None = None):
    """The NLP pass over files streamed in batches (:mod:`analysis.entitystream`): ``(tables, names)``.

    For ``entities`` and ``cooccur`` at any corpus size; see
    :func:`analysis.entitystream.streamable` for the inputs it takes.
    """
    from analysis.aliases import load_aliases
    from analysis.entitystream import canonical_names, stream_annotations
    from analysis.nlp import resolve_model
    from analysis.parallel import parse_jobs
    from analysis.store import open_store

    _unstored.clear()
    n_jobs = parse_jobs(jobs)
    user_aliases = load_aliases(aliases)
    ref = resolve_model(model)
    st = open_store(store)
    try:
        with output.progress("Finding entities", unit="files") as advance:
            tables = stream_annotations(paths, model_ref=ref, store=st, jobs=n_jobs, scheduler=scheduler,
                                        on_warning=lambda w: output.warn(f"{w.path}: {w.message}"),
                                        progress=advance)
    finally:
        st.close()
    if tables.store_error is not None:
        _unstored.append(type(tables.store_error)(
            f"{tables.store_error}: {tables.unstored} of {tables.processed} files "
            "were annotated but not stored (the next run does them again)"))
    return tables, canonical_names(tables, user_aliases)


def can_stream(paths, filt, *, no_cache: bool, no_canonical: bool) -> bool:
    """Whether a command may take the streamed path: the store in use, canonical names, no dateline filter."""
    if no_cache or no_canonical or filt.has_dateline_filters or not paths:
        return False
    from analysis.entitystream import streamable

    return streamable(paths)
