"""The NLP pass in parallel: one batch function, one executor interface.

The client (the ``newsctl`` process) reads the files, cuts the model's input
into batches of :class:`TextUnit` (plain text with its place in the corpus)
and hands them to an executor. Whatever the executor, the same function,
:func:`annotate_batch`, runs on the same batches and returns plain tuples:
no spaCy ``Doc`` crosses a process boundary, and workers need no file system
shared with the client. Results come back in input order, so the one client
process writes the store in order and the output does not depend on where
the batches ran.

Executors:

* :class:`InProcessExecutor` (``--jobs 1``): the batches in this process.
* :class:`LocalExecutor` (``--jobs N``): a stdlib ``ProcessPoolExecutor``
  whose initializer loads the model once per worker.
* ``analysis.cluster.DaskExecutor`` (``--scheduler``): a Dask distributed
  cluster; imported only then, so nothing else pays for importing Dask.

Every executor keeps at most a fixed number of batches in flight (submitted
or finished but not yet handed back in order), so the client's memory does
not grow with the corpus.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from .errors import NewsctlError

BATCH_UNITS = 32  # paragraphs per batch (one nlp.pipe batch in a worker)
BATCH_CHARS = 10_000  # a batch is cut earlier when its text would grow past this

# --jobs auto: one worker process per AUTO_MIN_WORDS words of model input, up
# to the CPUs this process may use. A pool costs about EXTRA_START_S more than
# loading the model in this process: spawn and imports (the workers load their
# copies of the model at the same time, each on its own core). That is an
# estimate; `make bench` measures both (local_pool_N_ready_s against
# model_load_fresh_process_s). With W words at r words/s per worker (about
# 3,000, `make bench`), a second worker saves W / 2r seconds: twice that extra
# start-up from W = 4 x 1.5 s x 3,000 = 18,000 words. One worker per 10,000
# words gives the second one from 20,000 words.
EXTRA_START_S = 1.5
AUTO_MIN_WORDS = 10_000

# Test seam: a worker process reports this as its newsctl version instead of
# the installed one, to simulate a worker running another release. Read only
# in worker processes (pool workers and Dask workers), never in the client.
FAKE_VERSION_ENV = "NEWSCTL_TEST_WORKER_VERSION"


class ClusterError(NewsctlError):
    """The workers cannot be reached, started or trusted to give the same output."""


class WorkerMismatchError(ClusterError):
    """A worker runs another newsctl version or model than the client."""


class TextUnit(NamedTuple):
    """One paragraph of model input: where it sits in the corpus, and its text."""

    page: int  # index of the page in the corpus
    story: int  # index of the story in its page
    start: int  # character offsets of ``text`` in the page's file text
    end: int
    text: str


# One unit's result: sentence spans and (start, end, label) mentions, in file offsets.
UnitResult = tuple[list[tuple[int, int]], list[tuple[int, int, str]]]


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to load the model and check that it matches the client."""

    model: str  # a name resolve_model() understands on the worker: 'bundled', a package or a path
    model_key: str  # the client's ModelRef.key
    version: str  # the client's newsctl version


def newsctl_version() -> str:
    """The installed newsctl distribution's version ('unknown' when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsctl")
    except PackageNotFoundError:
        return "unknown"


def worker_spec(model_ref) -> WorkerSpec:
    return WorkerSpec(model_ref.name, model_ref.key, newsctl_version())


def batches(units: Iterable[TextUnit], *, max_units: int = BATCH_UNITS, max_chars: int = BATCH_CHARS) -> Iterator[list[TextUnit]]:
    """Cut ``units`` into batches; the cut depends on the units alone, never on the executor."""
    batch: list[TextUnit] = []
    size = 0
    for u in units:
        if batch and (len(batch) >= max_units or size + len(u.text) > max_chars):
            yield batch
            batch, size = [], 0
        batch.append(u)
        size += len(u.text)
    if batch:
        yield batch


# -- the worker side ------------------------------------------------------------

_in_worker = False  # set in pool and Dask worker processes
_ready: dict[WorkerSpec, object] = {}  # spec -> loaded pipeline, or the error loading it raised


def worker_identity(model: str) -> tuple[str, str]:
    """``(newsctl version, model key)`` of this process (with the test seam applied in workers)."""
    from .nlp import resolve_model

    version = newsctl_version()
    if _in_worker:
        version = os.environ.get(FAKE_VERSION_ENV) or version
    return version, resolve_model(model).key


def prepare(spec: WorkerSpec, *, where: str = "a worker"):
    """Check this process against ``spec`` and load the model, once; return the pipeline.

    Raises :class:`WorkerMismatchError` when this process runs another
    newsctl version or resolves the model to another pipeline.
    """
    if spec in _ready:
        got = _ready[spec]
        if isinstance(got, BaseException):
            raise got
        return got
    try:
        from .nlp import load_pipeline, resolve_model

        version, key = worker_identity(spec.model)
        if version != spec.version:
            raise WorkerMismatchError(f"{where} runs newsctl {version}, this client runs {spec.version}")
        if key != spec.model_key:
            raise WorkerMismatchError(f"{where} has model {key}, this client uses {spec.model_key}")
        nlp = load_pipeline(resolve_model(spec.model))
    except NewsctlError as exc:
        _ready[spec] = exc
        raise
    _ready[spec] = nlp
    return nlp


def annotate_batch(spec: WorkerSpec, units: list[TextUnit]) -> list[UnitResult]:
    """Run the model over one batch: per unit, sentence spans and labelled mentions."""
    if not units:
        return []
    from .nlp import map_label

    from .textnorm import nfc

    nlp = prepare(spec)
    normal = [nfc(u.text) for u in units]  # the model reads NFC; each map leads its offsets back to the file
    out: list[UnitResult] = []
    for u, (_, back), doc in zip(units, normal, nlp.pipe([t for t, _ in normal], batch_size=len(units))):
        def span(a: int, b: int) -> tuple[int, int]:
            if back is not None:
                a, b = back.start(a), back.end(b)
            return u.start + a, u.start + b

        sents = [span(s.start_char, s.end_char) for s in doc.sents]
        ments = []
        for ent in doc.ents:
            label = map_label(ent.label_)
            if label is not None:
                ments.append((*span(ent.start_char, ent.end_char), label))
        out.append((sents, ments))
    return out


_when_orphaned: list[Callable[[], None]] = []  # run by a pool worker whose client is gone, before it exits


def when_orphaned(fn: Callable[[], None]) -> None:
    """Have ``fn()`` run in this pool worker if its client dies (its temporary files to remove); once a fn."""
    if fn not in _when_orphaned:
        _when_orphaned.append(fn)


def _leave_with_parent(every: float = 0.5) -> None:
    """Exit when the client is gone (killed with SIGKILL, so it could not close the pool).

    A worker waiting to hand back a result would wait for ever: every
    worker holds the result pipe's reading end too, so writing to it never
    fails. A daemon thread looks at the parent's id twice a second, and
    runs what :func:`when_orphaned` asked before the worker exits.
    """
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                for fn in list(_when_orphaned):
                    try:
                        fn()
                    except Exception:  # noqa: BLE001 - leaving regardless
                        pass
                os._exit(1)

    threading.Thread(target=watch, name="newsctl-parent-watch", daemon=True).start()


def _init_pool_worker(spec: WorkerSpec | None, modules: tuple[str, ...] = ()) -> None:
    """Pool worker start: Ctrl-C is the client's to handle; one BLAS thread; ``modules`` imported;
    the model loaded (if any)."""
    import importlib

    global _in_worker
    _in_worker = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _leave_with_parent()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    for name in modules:  # a forked worker has the client's already
        importlib.import_module(name)
    if spec is None:  # a pool without the model: datelines' scan (analysis.scan.scan_batch)
        return
    try:
        prepare(spec, where=f"worker process {os.getpid()}")
    except NewsctlError:
        pass  # kept in _ready; the first batch raises it in the client


def _started(spec, item) -> None:
    """A pool worker's first task from :meth:`Executor.start`: nothing, once the worker is up."""


# -- executors --------------------------------------------------------------------

class Executor:
    """Runs ``fn(spec, batch)`` over batches; results come back in input order.

    Subclasses give ``submit`` (start one batch, return a future) and
    ``wait_any`` (block until at least one submitted future is done, return
    the done ones); :meth:`map_ordered` is the one loop all of them share.
    """

    workers = 1
    window = 1  # batches submitted or waiting to be handed back, at most

    def submit(self, fn: Callable, spec: WorkerSpec, batch: list):
        raise NotImplementedError

    def wait_any(self, futures: list) -> list:
        raise NotImplementedError

    def result(self, future):
        return future.result()

    def start(self) -> None:
        """Start the workers now, while the client does something else (a walk)."""

    def map_ordered(self, fn: Callable, spec: WorkerSpec, items: Iterable[list]) -> Iterator:
        """``fn(spec, item)`` for every item, yielded in the order of ``items``."""
        it = iter(items)
        pending: dict = {}  # future -> position
        done: dict[int, object] = {}  # position -> result, waiting for the ones before it
        submitted = handed = 0
        exhausted = False
        while True:
            while not exhausted and submitted - handed < self.window:
                item = next(it, None)
                if item is None:
                    exhausted = True
                    break
                pending[self.submit(fn, spec, item)] = submitted
                submitted += 1
            if handed in done:
                yield done.pop(handed)
                handed += 1
                continue
            if not pending:
                return
            for fut in self.wait_any(list(pending)):
                done[pending.pop(fut)] = self.result(fut)

    def close(self, *, cancel: bool = False) -> None:
        """Release the workers; ``cancel`` drops work not yet done (Ctrl-C, an error)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(cancel=exc_type is not None)


class InProcessExecutor(Executor):
    """``--jobs 1``: every batch in this process, one after another."""

    def map_ordered(self, fn, spec, items):
        for item in items:
            yield fn(spec, item)


class LocalExecutor(Executor):
    """``--jobs N``: N worker processes on this machine, each loading the model once.

    Workers are spawned (a fresh interpreter), so a script that uses this must
    keep its own work under ``if __name__ == "__main__":`` as with any spawn
    pool; the ``newsctl`` command does. A worker that dies breaks the pool:
    the run ends with :class:`ClusterError`.
    """

    def __init__(self, spec: WorkerSpec | None, workers: int, *, fork: bool = False,
                 modules: tuple[str, ...] = ()) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        self.window = 2 * workers
        # spawn: workers start from a clean interpreter, whatever threads the
        # client runs (the progress bar); the same on every platform. fork (asked
        # for by a client that runs no thread of its own and holds no model, on
        # Linux): a worker is ready at once, with the modules the client imported,
        # instead of a new interpreter importing them (about 0.2 s of CPU each).
        method = "fork" if fork and spec is None and sys.platform.startswith("linux") else "spawn"
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context(method),
            initializer=_init_pool_worker, initargs=(spec, modules),
        )
        self._forking = method == "fork"  # until the first task has started the workers

    def submit(self, fn, spec, batch):
        if not self._forking:
            return self._pool.submit(fn, spec, batch)
        import gc

        # A fork pool starts every worker with its first task. Frozen, the client's objects are
        # left out of the workers' garbage collections, which would otherwise touch (and so copy)
        # every page of them.
        gc.freeze()
        try:
            return self._pool.submit(fn, spec, batch)
        finally:
            gc.unfreeze()
            self._forking = False

    def start(self) -> None:
        # The pool starts a process a task while none is idle: one task each starts them all. (Which
        # worker runs which of these is the pool's choice; the modules are the initializer's.)
        for _ in range(self.workers):
            self.submit(_started, None, None)

    def wait_any(self, futures):
        from concurrent.futures import FIRST_COMPLETED, wait

        return list(wait(futures, return_when=FIRST_COMPLETED).done)

    def result(self, future):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise ClusterError(f"a worker process died: {exc}") from None

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            # Python 3.14 has terminate_workers(); before, the pool's own table of processes.
            terminate = getattr(self._pool, "terminate_workers", None)
            if terminate is not None:
                terminate()
            else:
                for p in list((getattr(self._pool, "_processes", None) or {}).values()):
                    p.terminate()
        self._pool.shutdown(wait=True, cancel_futures=cancel)


# -- choosing one ----------------------------------------------------------------

def available_cpus() -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup CPU quota."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        n = os.process_cpu_count() or 1
    elif hasattr(os, "sched_getaffinity"):
        n = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS, Windows
        n = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        n = min(n, max(1, math.floor(quota)))
    return max(1, n)


def cgroup_cpu_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """CPUs allowed by the cgroup (v2 ``cpu.max``, v1 CFS quota), or None without a limit."""
    candidates = []
    try:
        with open("/proc/self/cgroup", encoding="ascii") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if controllers == "":
                    candidates.append(os.path.join(root, path.lstrip("/"), "cpu.max"))
                elif "cpu" in controllers.split(","):
                    for sub in ("cpu", "cpu,cpuacct"):
                        candidates.append(os.path.join(root, sub, path.lstrip("/"), "cpu.cfs_quota_us"))
    except (OSError, ValueError):
        pass
    candidates += [os.path.join(root, "cpu.max"), os.path.join(root, "cpu", "cpu.cfs_quota_us"),
                   os.path.join(root, "cpu,cpuacct", "cpu.cfs_quota_us")]
    for path in candidates:
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().split()
            if path.endswith("cpu.max"):
                quota, period = text[0], text[1]
            else:
                quota = text[0]
                with open(path.replace("cfs_quota_us", "cfs_period_us"), encoding="ascii") as f:
                    period = f.read().split()[0]
        except (OSError, IndexError):
            continue
        if quota in ("max", "-1"):
            return None
        try:
            return int(quota) / int(period)
        except (ValueError, ZeroDivisionError):
            return None
    return None


def parse_jobs(value: str | int | None) -> int | None:
    """``--jobs``: a positive number, or None for ``auto``."""
    if value is None or str(value).strip().lower() == "auto":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        from .errors import InputError

        raise InputError(f"--jobs must be a positive number or 'auto', not {value!r}")
    return n


def choose_jobs(jobs: int | None, *, words: int, cpus: int | None = None) -> int:
    """Worker processes for ``words`` of model input: ``jobs`` as asked, or the ``auto`` choice.

    ``auto``: every CPU this process may use, one per :data:`AUTO_MIN_WORDS`
    words at most (so each worker has enough to win back its start-up), and
    one process for less.
    """
    if jobs is not None:
        return jobs
    cpus = available_cpus() if cpus is None else cpus
    return max(1, min(cpus, words // AUTO_MIN_WORDS))


def open_executor(spec: WorkerSpec, *, jobs: int = 1, scheduler: str | None = None, fork: bool = False,
                  modules: tuple[str, ...] = ()) -> Executor:
    """The executor for a run: the Dask cluster at ``scheduler``, else ``jobs`` local processes.

    ``fork``: see :class:`LocalExecutor`. ``modules``: imported by every local worker as it starts
    (a Dask worker imports a task's module when it unpickles the task).
    """
    if scheduler:
        try:
            from .cluster import DaskExecutor
        except ImportError as exc:
            raise ClusterError(
                f"--scheduler needs Dask distributed: pip install 'newsctl[cluster]' ({exc})"
            ) from None
        return DaskExecutor(scheduler, spec)
    if jobs <= 1:
        return InProcessExecutor()
    return LocalExecutor(spec, jobs, fork=fork, modules=modules)


def measure_local_start(spec: WorkerSpec, workers: int) -> float:
    """Seconds from creating a pool of ``workers`` to every one of them holding the model."""
    t0 = time.perf_counter()
    ex = LocalExecutor(spec, workers)
    try:
        probe = [TextUnit(0, 0, 0, 2, "Ja")]
        futures = [ex.submit(annotate_batch, spec, probe) for _ in range(workers)]
        for f in futures:
            f.result()
    finally:
        ex.close()
    return time.perf_counter() - t0

