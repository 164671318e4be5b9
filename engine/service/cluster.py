"""Opening and closing the Dask cluster a run's heavy steps use (`--cluster local[:N] | tcp://HOST:8786`).

`parse` checks the value (a bad one names the option, exit 2); `open_session` starts a LocalCluster of N worker
processes × 1 thread, or connects to a running scheduler, within CONNECT_SECONDS — an address that does not answer,
or a scheduler without workers, is refused (exit 2) naming the address and what to do. The run then makes the
session active (engine.core.compute.using) and closes it at its end, whatever happened.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.core import config
from engine.core.compute import ClusterSession, env_cluster
from engine.core.errors import InvalidInput, Issue, StudioError
from engine.core.i18n import Msg

CONNECT_SECONDS = 5.0      # the scheduler must answer within this (the whole refusal stays under 10 s)
WORKER_WAIT_SECONDS = 2.0  # ... and have at least one worker
MAX_LOCAL_WORKERS = 64
_TCP = re.compile(r"^tcp://(?P<host>[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class ClusterSpec:
    kind: str          # "local" or "tcp"
    workers: int = 0   # local: worker processes
    address: str = ""  # tcp: the scheduler

    @property
    def label(self) -> str:
        return f"local:{self.workers}" if self.kind == "local" else self.address


class ClusterUnreachable(StudioError):
    """The cluster named by --cluster cannot be used (no answer, no workers): exit 2 before any run starts."""

    exit_code = 2


def _bad(value: str, option: str) -> InvalidInput:
    return InvalidInput(Issue(
        Msg(f"'{value}' is not a cluster", f"'{value}' 不是有效的集群地址"), path=option,
        hint=Msg("use local (one worker per core on this machine), local:N (N worker processes here) or "
                 "tcp://HOST:PORT (a running `dask scheduler`, port 8786 by default); leave it empty to run here",
                 "请使用 local（本机每个核一个 worker）、local:N（本机 N 个 worker 进程）或 tcp://主机:端口"
                 "（已启动的 `dask scheduler`，默认端口 8786）；留空则在本机运行")))


def parse(value: str | None, option: str = "--cluster") -> ClusterSpec | None:
    """None for no cluster (empty, 'none', 'off'); else the spec. A value of another shape raises InvalidInput."""
    text = (value or "").strip()
    if text.lower() in ("", "none", "off"):
        return None
    if text == "local":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return ClusterSpec("local", workers=max(cores, 1))
    if text.startswith("local:"):
        count = text.split(":", 1)[1]
        if not count.isdigit() or not 1 <= int(count) <= MAX_LOCAL_WORKERS:
            raise _bad(text, option)
        return ClusterSpec("local", workers=int(count))
    match = _TCP.match(text)
    if not match or not 1 <= int(match["port"]) <= 65535:
        raise _bad(text, option)
    return ClusterSpec("tcp", address=text)


def setting() -> str:
    """The cluster a run uses when none is given: AI_STUDIO_CLUSTER (empty: this machine)."""
    return env_cluster()


def shared_dir() -> Path:
    """Where Parquet partitions for the workers go: AI_STUDIO_CLUSTER_SHARED (a folder mounted at the same path on
    every worker machine), else <studio home>/cluster-share (enough for local:N)."""
    raw = os.environ.get("AI_STUDIO_CLUSTER_SHARED", "").strip()
    return Path(raw).expanduser() if raw else config.studio_home() / "cluster-share"


def open_session(spec: ClusterSpec) -> ClusterSession:
    """A client on the cluster of `spec`, ready for tasks; raises ClusterUnreachable within ~10 s."""
    from distributed import Client, LocalCluster

    started = time.monotonic()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if spec.kind == "local":
        with plain_main():
            cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        return ClusterSession(client, spec.label, str(shared_dir()))
    try:
        _probe(spec.address)  # a refused or silent port fails here at once, not after the client's retries
        client = Client(spec.address, timeout=CONNECT_SECONDS)
    except Exception as exc:  # noqa: BLE001 — refused, timed out, or something else answered on that port
        raise _unreachable(spec.address, time.monotonic() - started, exc) from None
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
    except (TimeoutError, OSError):
        client.close()
        raise ClusterUnreachable(Msg(
            f"--cluster {spec.address}: the scheduler answers but has no workers; start at least one on each "
            f"machine with `dask worker {spec.address} --nthreads 1` and run again",
            f"--cluster {spec.address}：调度器有响应，但没有 worker；请在各台机器上用 "
            f"`dask worker {spec.address} --nthreads 1` 启动至少一个 worker 后重新运行")) from None
    return ClusterSession(client, spec.address, str(shared_dir()))


@contextmanager
def plain_main():
    """Worker processes start by `spawn`, which re-runs the parent's __main__ file in each child — under Streamlit
    that is the page script (app.py), which must not run in a worker. While the workers start, __main__ is an empty
    module (a worker restarted later by its nanny finds the real one, guarded by `if __name__ == "__main__"`)."""
    real = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if real is not None:
            sys.modules["__main__"] = real


def _probe(address: str) -> None:
    """Open and close a TCP connection to the scheduler's port (raises OSError when nothing listens there)."""
    import socket

    host, port = address[len("tcp://"):].rsplit(":", 1)
    with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS):
        pass


def _unreachable(address: str, waited: float, exc: BaseException) -> ClusterUnreachable:
    return ClusterUnreachable(Msg(
        f"--cluster {address}: no Dask scheduler answered at this address (after {waited:.1f} s: "
        f"{type(exc).__name__}); start one "
        f"on that machine with `dask scheduler --port {address.rsplit(':', 1)[1]}` and workers with "
        f"`dask worker {address}`, check the host name and that the port is open in the firewall, or run without "
        f"--cluster",
        f"--cluster {address}：该地址没有 Dask 调度器响应（等待 {waited:.1f} 秒：{type(exc).__name__}）；请在该机器上用 "
        f"`dask scheduler --port {address.rsplit(':', 1)[1]}` 启动调度器，并用 `dask worker {address}` 启动 "
        f"worker，检查主机名以及防火墙是否放行该端口，或不带 --cluster 运行"))


def close_session(session: ClusterSession | None) -> None:
    """Close the client (and a LocalCluster this run started); never raises."""
    if session is None:
        return
    session.sent.clear()
    cluster = getattr(session.client, "cluster", None)
    owned = session.address.startswith("local:")
    for closing in (session.client, cluster if owned else None):
        if closing is None:
            continue
        try:
            closing.close()
        except Exception:  # noqa: BLE001 — a dead cluster must not hide the run's own outcome
            pass
