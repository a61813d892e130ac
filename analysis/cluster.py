"""The NLP pass on a Dask distributed cluster (``--scheduler``).

Imported only when a run names a scheduler: it imports ``distributed``. Dask
does the work of a cluster: its scheduler places the batches, retries a batch
whose worker died, and checks its own packages between client, scheduler and
workers (``Client.get_versions(check=True)``). newsctl adds a
:class:`ModelPlugin` that checks each worker's newsctl version and model and
loads the model once per worker, and :class:`DaskExecutor`, which keeps a
bounded window of batches submitted and hands results back in input order
(the loop shared with the local executors, ``parallel.Executor``).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from concurrent.futures import CancelledError

import distributed

from . import parallel
from .errors import one_line
from .parallel import ClusterError, Executor, WorkerSpec

PLUGIN_NAME = "newsctl-model"

# Connection failures as Dask reports them (comm errors subclass OSError).
_LOST = (OSError, TimeoutError, CancelledError)


class ModelPlugin(distributed.WorkerPlugin):
    """On every worker, also those that join later: check versions, load the model.

    Runs in the worker process, so :func:`parallel.prepare` keeps the model
    there for the batches (``annotate_batch``) that follow.
    """

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec

    def setup(self, worker) -> None:
        parallel._in_worker = True
        parallel.prepare(self.spec, where=f"Dask worker {worker.address}")


class DaskExecutor(Executor):
    """Batches as Dask futures: a window of ``2 x threads`` in flight, results in order."""

    def __init__(self, address: str, spec: WorkerSpec) -> None:
        self.address = address
        _check_address(address)
        self._quiet = _quiet_dask_logs()
        self._quiet.__enter__()
        try:
            self.client = distributed.Client(address, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            self._quiet.__exit__(None, None, None)
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {one_line(exc)}") from None
        try:
            self._check_and_prepare(spec)
        except BaseException:
            self.close(cancel=True)
            raise
        self._run = uuid.uuid4().hex[:12]
        self._n = 0
        self._done = distributed.as_completed(loop=self.client.loop)
        self._pending: set = set()

    def _check_and_prepare(self, spec: WorkerSpec) -> None:
        info = self.client.scheduler_info()
        if not info.get("workers"):
            try:
                self.client.wait_for_workers(1, timeout=30)
            except (TimeoutError, OSError):
                raise ClusterError(f"no Dask workers are connected to the scheduler at {self.address}") from None
            info = self.client.scheduler_info()
        self.workers = sum(w.get("nthreads", 1) for w in info["workers"].values())
        self.window = 2 * self.workers + 1
        try:
            self.client.get_versions(check=True)
        except ValueError as exc:
            raise ClusterError(
                f"Dask packages differ between this client and the cluster at {self.address}: "
                f"{one_line(exc)}"
            ) from None
        except _LOST:
            raise self._lost() from None
        try:
            # Raises the first worker's error (WorkerMismatchError, ModelError) here.
            self.client.register_plugin(ModelPlugin(spec), name=PLUGIN_NAME)
        except _LOST:
            raise self._lost() from None

    def submit(self, fn, spec, batch):
        key = f"newsctl-batch-{self._run}-{self._n}"
        self._n += 1
        try:
            fut = self.client.submit(fn, spec, batch, key=key, pure=False)
        except _LOST:
            raise self._lost() from None
        self._done.add(fut)
        self._pending.add(fut)
        return fut

    def wait_any(self, futures):
        try:
            return self._done.next_batch(block=True)
        except _LOST:
            raise self._lost() from None

    def result(self, future):
        self._pending.discard(future)
        try:
            return future.result()
        except (CancelledError, OSError):
            raise self._lost() from None
        except distributed.scheduler.KilledWorker as exc:
            raise ClusterError(f"a batch killed every Dask worker that tried it: {one_line(exc)}") from None

    def _lost(self) -> ClusterError:
        """The one error for a scheduler gone mid-run, whichever call noticed it first
        (the closed stream's details differ from call to call and say nothing more)."""
        return ClusterError(f"lost the Dask scheduler at {self.address}")

    def close(self, *, cancel: bool = False) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            with contextlib.suppress(Exception):
                if cancel and getattr(self, "_pending", None):
                    client.cancel(list(self._pending), force=True)
            with contextlib.suppress(Exception):
                client.close(timeout=5)
            self.client = None
        quiet, self._quiet = getattr(self, "_quiet", None), None
        if quiet is not None:
            quiet.__exit__(None, None, None)


def _check_address(address: str) -> None:
    """Refuse an address Dask cannot parse (``bogus``, ``tcp://host`` without a port) before a Client is made.

    A Client whose start fails on such an address is left half made, and
    closing it at exit waited 60 s and printed a traceback after the error line.
    """
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address

    try:
        scheme, loc = parse_address(address)
        if scheme == "inproc":  # a scheduler in another process's memory: its Client failed, then hung at exit
            raise ValueError("an inproc:// scheduler lives inside the process that made it; give tcp://HOST:PORT")
        backend = registry.get_backend(scheme)
        host, port = backend.get_address_host_port(loc)
    except NotImplementedError:  # a scheme without host and port: the Client will tell
        return
    except (ValueError, TypeError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {one_line(exc)}") from None
    if scheme in ("tcp", "tls"):
        _probe(address, host, port)


def _probe(address: str, host: str, port: int) -> None:
    """Fail at once where nothing listens at ``host:port`` or the host has no address.

    Dask's Client tries a refused connection again until its connect timeout
    (30 s by default) has passed; a plain TCP connection (closed at once)
    tells in milliseconds. A host that does not answer at all still takes
    that timeout, here as there.
    """
    import socket

    import dask
    from dask.utils import parse_timedelta

    try:
        timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds")
    except (TypeError, ValueError, KeyError):
        timeout = 30.0
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.timeout:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: no answer within {timeout:g} s") from None
    except OSError as exc:
        why = exc.strerror or one_line(exc)
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {why}") from None


@contextlib.contextmanager
def _quiet_dask_logs():
    """Dask logs connection trouble on stderr; newsctl reports it as one error line instead."""
    loggers = [logging.getLogger(n) for n in ("distributed", "distributed.client", "distributed.core")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
