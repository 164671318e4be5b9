"""The run queue: runs submitted through the REST API (or any interface) go to worker threads of the one service
process, never the request's thread.

Design around DuckDB's single writing process: the queue lives in the data factory (`_studio_jobs`), every
read and write of it is one short transaction through the Catalog (which waits and retries while another
process — the studio, a CLI run — holds the file), and the run itself holds no connection while it computes.
So a run survives the browser or the HTTP client going away, two users' runs proceed at once (AI_STUDIO_WORKERS,
default 2), and a cancel can come from any process: it sets a flag in the row that the worker reads (at most
once a second) at its next step or progress report. Jobs still queued when the service stopped are taken up
again when it starts (`resume`).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from engine.core.errors import StudioError
from engine.core.i18n import Msg, zh
from engine.service import audit
from engine.service.access import Principal
from engine.store.accounts import Accounts

# runner(recipe, run_id, cancelled, user) runs a recipe to its end (engine.api.run_recipe, injected by the api)
Runner = Callable[[dict, str, Callable[[], bool], str], Any]


def default_workers() -> int:
    return max(1, int(os.environ.get("AI_STUDIO_WORKERS", "2")))


class JobQueue:
    def __init__(self, accounts: Accounts, runner: Runner, workers: int | None = None, poll_seconds: float = 1.0):
        self.accounts, self.runner, self.poll = accounts, runner, poll_seconds
        self.workers = workers or default_workers()
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="studio-job")
        self._local: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def submit(self, principal: Principal, recipe: dict, run_id: str) -> str:
        """Queue a compiled-and-checked recipe (the caller checked permission and compiled it)."""
        self.accounts.insert_job(run_id, principal.name, recipe)
        audit.record(self.accounts, principal, "runs.start", f"run:{run_id}", "ok", recipe.get("template"))
        self._enqueue(run_id, recipe, principal.name)
        return run_id

    def _enqueue(self, run_id: str, recipe: dict, user: str) -> None:
        with self._lock:
            self._local[run_id] = threading.Event()
        self.pool.submit(self._work, run_id, recipe, user)

    def resume(self) -> list[str]:
        """Take up again the jobs a stopped service left queued."""
        queued = self.accounts.jobs("queued")
        for job in queued:
            self._enqueue(job["run_id"], job["recipe"], job["user_name"])
        return [j["run_id"] for j in queued]

    def _cancel_check(self, run_id: str) -> Callable[[], bool]:
        event, last = self._local.get(run_id), [0.0]

        def cancelled() -> bool:
            if event is not None and event.is_set():
                return True
            if time.monotonic() - last[0] >= self.poll:  # a cancel from another process: read the flag
                last[0] = time.monotonic()
                if self.accounts.cancel_requested(run_id):
                    if event is not None:
                        event.set()
                    return True
            return False
        return cancelled

    def _work(self, run_id: str, recipe: dict, user: str) -> None:
        try:
            if not self.accounts.claim_job(run_id):
                return  # cancelled while queued
            try:
                result = self.runner(recipe, run_id, self._cancel_check(run_id), user)
                status, error = (result or {}).get("status", "succeeded"), None
            except StudioError as exc:
                status, error = ("cancelled" if "cancel" in str(exc) else "failed"), exc.msg
            except BaseException as exc:  # noqa: BLE001 — recorded, never kills the worker
                status, error = "failed", Msg(str(exc) or type(exc).__name__)
            self.accounts.finish_job(run_id, status, None if error is None else str(error),
                                     None if error is None else zh(error))
        finally:
            with self._lock:
                self._local.pop(run_id, None)

    def cancel(self, run_id: str) -> str | None:
        """Ask a queued or running job to stop; its status afterwards (None: not a queued job)."""
        status = self.accounts.request_cancel(run_id)
        event = self._local.get(run_id)
        if event is not None:
            event.set()
        return status

    def running_here(self, run_id: str) -> bool:
        return run_id in self._local

    def wait(self, run_id: str, timeout: float = 120.0) -> dict[str, Any] | None:
        """Block until the job leaves the queue and the worker (tests, scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.accounts.job(run_id)
            if job and job["status"] not in ("queued", "running"):
                return job
            time.sleep(0.2)
        return self.accounts.job(run_id)

    def shutdown(self, wait: bool = False) -> None:
        if not wait:  # a stopping service cancels its running jobs (recorded as cancelled); queued ones resume later
            for event in list(self._local.values()):
                event.set()
        self.pool.shutdown(wait=wait, cancel_futures=not wait)
