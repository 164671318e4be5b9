"""Where heavy work runs: in this process, or as tasks on a Dask cluster when a run has opened one.

Libraries (engine/ml) call `map_tasks(fn, items, shared=...)`; with no cluster it is a plain loop here, with one it
submits one task per item to the cluster and gathers the results in order. Large inputs every task needs (the
model matrix) are sent to the workers once per run (`shared`), not once per task. The service runner opens and
closes the cluster (engine/service/cluster.py) and makes it active for the run with `using(session)`; nothing
below the service layer ever connects to anything. Dask is imported only when a cluster is active.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from engine.core.errors import StudioError
from engine.core.i18n import Msg


@dataclass
class ClusterSession:
    """An open cluster for one run: the Dask client, the address it was opened with, and what was sent already."""

    client: Any
    address: str
    shared_dir: str = ""                  # a folder every worker reads at the same path (Parquet partitions)
    sent: dict = field(default_factory=dict)  # id(object) -> (object, future): inputs already on the workers

    def workers(self) -> int:
        return max(len(self.client.scheduler_info(n_workers=-1).get("workers", {})), 1)

    def share(self, obj: Any):
        """A future for `obj` held on every worker (sent once per run; the object is kept alive meanwhile)."""
        key = id(obj)
        if key not in self.sent:
            self.sent[key] = (obj, self.client.scatter(obj, broadcast=True, hash=False))
        return self.sent[key][1]


class ClusterLost(StudioError):
    """A worker died or the scheduler went away while tasks of this run were on the cluster: the run fails."""

    exit_code = 1


CHECK_SECONDS = 1.0  # how often a run waiting for cluster tasks looks at its cancel button
_ACTIVE: ContextVar[ClusterSession | None] = ContextVar("ai_studio_cluster", default=None)


def active() -> ClusterSession | None:
    """The cluster of the current run, or None (work runs here)."""
    return _ACTIVE.get()


@contextmanager
def using(session: ClusterSession | None):
    """Make `session` the cluster of the work inside the block (None: run here)."""
    token = _ACTIVE.set(session)
    try:
        yield session
    finally:
        _ACTIVE.reset(token)


def worker_threads(default: int) -> int:
    """Threads of the Dask worker running this task (its own share of a machine), else `default`."""
    try:
        from distributed import get_worker

        return max(int(get_worker().state.nthreads), 1)
    except (ImportError, ValueError, AttributeError):
        return default


def in_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


def map_tasks(fn: Callable, items: Iterable, *, shared: dict | None = None, check: Callable[[], None] | None = None,
              on_done: Callable[[int, int], None] | None = None,
              local_extra: Callable[[int], dict] | None = None, keep_shared: bool = False) -> list:
    """[fn(item, **shared) for item in items], here or as cluster tasks; results keep the items' order.

    `check()` runs between items (a cancel raises); `on_done(done, total)` reports; `local_extra(i)` adds keyword
    arguments only when running here (e.g. a progress callback, which cannot cross to another machine).
    `keep_shared`: leave the shared inputs on the workers for later calls with the same objects (a model search
    maps over the same matrix many times); by default the workers drop them when this call ends."""
    items = list(items)
    shared = shared or {}
    session = active()
    if session is None:
        results = []
        for i, item in enumerate(items):
            if check:
                check()
            results.append(fn(item, **shared, **(local_extra(i) if local_extra else {})))
            if on_done:
                on_done(i + 1, len(items))
        return results
    fresh = [name for name, value in shared.items() if id(value) not in session.sent]
    try:
        return _on_cluster(session, fn, items, shared, check, on_done)
    finally:
        if not keep_shared:
            for name in fresh:
                session.sent.pop(id(shared[name]), None)


def _on_cluster(session: ClusterSession, fn, items, shared, check, on_done) -> list:
    from distributed import wait

    try:
        remote = {name: session.share(value) for name, value in shared.items()}
        futures = [session.client.submit(fn, item, **remote, pure=False) for item in items]
    except Exception as exc:  # noqa: BLE001 — the connection broke before the tasks were placed
        raise lost(session.address, exc) from None
    position = {f.key: i for i, f in enumerate(futures)}
    results: list = [None] * len(futures)
    done = 0
    pending = set(futures)
    try:
        while pending:
            try:  # wake at least once a second: a cancel takes effect while long tasks run elsewhere
                finished, pending = wait(pending, timeout=CHECK_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:
                finished = set()
            if check:
                check()
            for future in sorted(finished, key=lambda f: position[f.key]):
                results[position[future.key]] = _result(session, future)
                done += 1
                if on_done:
                    on_done(done, len(futures))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return results


def _result(session: ClusterSession, future):
    """The task's value; its own error as raised on the worker; a lost worker or connection as ClusterLost."""
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    try:
        return future.result()
    except (KilledWorker, CommClosedError, OSError, TimeoutError) as exc:
        raise lost(session.address, exc) from None
    except Exception as exc:  # noqa: BLE001
        if type(exc).__name__ in ("FutureCancelledError", "CancelledError"):
            raise lost(session.address, exc) from None
        raise


def lost(address: str, exc: BaseException) -> ClusterLost:
    why = f"{type(exc).__name__}: {exc}"[:300]
    return ClusterLost(Msg(f"the Dask cluster at {address} lost a worker or its connection while running this run's "
                           f"tasks ({why}); the run stopped and nothing was written to the data factory — check the "
                           f"workers (`dask worker` logs, memory) and run again, or run without --cluster",
                           f"Dask 集群 {address} 在运行本次任务时失去了一个 worker 或连接（{why}）；运行已停止，"
                           f"数据工厂未写入任何内容 —— 请检查各 worker（`dask worker` 日志、内存）后重新运行，"
                           f"或不带 --cluster 运行"))


def env_cluster() -> str:
    """The cluster setting (AI_STUDIO_CLUSTER): '' for none, 'local[:N]' or 'tcp://host:8786'."""
    return os.environ.get("AI_STUDIO_CLUSTER", "").strip()
