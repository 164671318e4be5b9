"""Run records in the data factory: one row per run, one per step; interrupted runs are found and marked."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from engine.core import limits
from engine.store.catalog import Catalog
from engine.core.i18n import Msg, zh


@dataclass
class StepRecord:
    step_id: str
    op: str
    status: str  # done | cached | failed
    cached: bool
    seconds: float  # the operator's own time (0 when served from cache)
    started_at: str
    finished_at: str
    error: str | None = None
    io_seconds: float = 0.0  # loading inputs, reading or writing the cache

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


ACTIVE = "running"


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds")


def _stat(pid: int) -> list[bytes] | None:
    """Fields of /proc/PID/stat after the command name (state is [0], start time is [19])."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return fields if len(fields) > 19 else None


def process_token(pid: int) -> str | None:
    """Start time of a process (Linux /proc), so a reused PID is not mistaken for the run's process."""
    fields = _stat(pid)
    return fields[19].decode() if fields else None


def _alive(pid: int, token: str | None, host: str) -> bool:
    if host != socket.gethostname():
        return True  # cannot tell from here; leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat(pid)
    if fields is not None and fields[0] in (b"Z", b"X"):
        return False  # killed or exited, only not yet reaped by its parent
    return token is None or (fields is not None and fields[19].decode() == token)


class RunStore:
    """A run's rows. Writes wait for the data factory as long as AI_STUDIO_RECORD_WAIT_SECONDS allows (a day by
    default), saying once what they wait for: a run that computed for minutes never loses its record because
    another process held the file for a while."""

    def __init__(self, catalog: Catalog, run_id: str | None = None, result_path: str | None = None):
        self.catalog = catalog
        self.run_id, self.result_path = run_id, result_path
        self.recorder = Catalog(catalog.path, busy_timeout=limits.RECORD_WAIT_SECONDS.value(), on_busy=self._waiting)
        self._writer: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []

    def _waiting(self, message: str) -> None:
        """Say what a waiting write is for (the catalog's own text says who holds the file)."""
        if self.catalog.on_busy is None:
            return
        run = self.run_id or "?"
        kept = (Msg(f"; its result is already saved in {self.result_path}", f"；结果已保存在 {self.result_path}")
                if self.result_path and os.path.exists(self.result_path) else Msg("", ""))
        self.catalog.on_busy(Msg(f"{message} — run {run} waits to record its progress{kept} (it keeps waiting up to "
                                 f"{limits.RECORD_WAIT_SECONDS.value():g} s, AI_STUDIO_RECORD_WAIT_SECONDS)",
                                 f"{zh(message)}——运行 {run} 正在等待记录进度{kept.zh}（最多等待 "
                                 f"{limits.RECORD_WAIT_SECONDS.value():g} 秒，AI_STUDIO_RECORD_WAIT_SECONDS）"))

    def step_later(self, run_id: str, record: StepRecord) -> None:
        """Record a finished step from a background thread, so the run does not wait on the database."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run-store")
        self._pending.append(self._writer.submit(self.step, run_id, record))

    def flush(self) -> None:
        """Wait for background step records (raising the first error, if any)."""
        pending, self._pending = self._pending, []
        try:
            for future in pending:
                future.result()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None

    def start(self, run_id: str, pipeline_meta: dict[str, Any], run_dir: str) -> None:
        pid = os.getpid()
        with self.recorder.transaction() as con:
            con.execute("INSERT INTO _studio_runs (run_id, template_id, template_version, recipe_name, recipe, "
                        "data_fingerprint, status, started_at, pid, proc_token, host, run_dir) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, pipeline_meta["template_id"], pipeline_meta["template_version"],
                         pipeline_meta["recipe_name"], json.dumps(pipeline_meta["recipe"], ensure_ascii=False),
                         pipeline_meta["data_fingerprint"], ACTIVE, _now(), pid, process_token(pid),
                         socket.gethostname(), run_dir])

    def step(self, run_id: str, record: StepRecord) -> None:
        with self.recorder.transaction() as con:
            con.execute("INSERT OR REPLACE INTO _studio_run_steps (run_id, step_id, op, status, cached, seconds, "
                        "started_at, finished_at, error, io_seconds, error_zh) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, record.step_id, record.op, record.status, record.cached, record.seconds,
                         record.started_at, record.finished_at, _en(record.error), record.io_seconds, _zh(record.error)])

    def finish(self, run_id: str, status: str, seconds: float, error: str | None = None,
               failed_step: str | None = None) -> None:
        with self.recorder.transaction() as con:
            con.execute("UPDATE _studio_runs SET status = ?, finished_at = ?, seconds = ?, error = ?, error_zh = ?, "
                        "failed_step = ? WHERE run_id = ?", [status, _now(), seconds, _en(error), _zh(error), failed_step, run_id])

    def reconcile(self) -> list[str]:
        """Mark runs whose process is gone (killed, crashed) as interrupted; return their ids."""
        with self.catalog.connect() as con:
            rows = con.execute("SELECT run_id, pid, proc_token, host, run_dir FROM _studio_runs WHERE status = ?",
                               [ACTIVE]).fetchall()
        dead = [(r[0], r[4]) for r in rows if not _alive(r[1], r[2], r[3])]
        if dead:
            with self.catalog.transaction() as con:
                for run_id, run_dir in dead:
                    status, seconds, error = _finished_result(run_dir)
                    if status is None:
                        status, error = "interrupted", _ENDED
                    con.execute("UPDATE _studio_runs SET status = ?, finished_at = ?, seconds = coalesce(?, seconds), "
                                "error = ?, error_zh = ? WHERE run_id = ? AND status = ?",
                                [status, _now(), seconds, _en(error), _zh(error), run_id, ACTIVE])
        return [run_id for run_id, _ in dead]

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        self.reconcile()
        with self.catalog.connect() as con:
            cur = con.execute("SELECT run_id, template_id, template_version, recipe_name, status, started_at, "
                              "seconds, failed_step, error, error_zh, run_dir FROM _studio_runs "
                              "ORDER BY started_at DESC LIMIT ?", [limit])
            cols = [d[0] for d in cur.description]
            return [_plain(dict(zip(cols, r))) for r in cur.fetchall()]

    def get(self, run_id: str) -> dict[str, Any] | None:
        self.reconcile()
        with self.catalog.connect() as con:
            cur = con.execute("SELECT * FROM _studio_runs WHERE run_id = ?", [run_id])
            cols = [d[0] for d in cur.description]
            row = cur.fetchone()
            if row is None:
                return None
            run = _plain(dict(zip(cols, row)))
            cur = con.execute("SELECT step_id, op, status, cached, seconds, io_seconds, error, error_zh FROM _studio_run_steps "
                              "WHERE run_id = ? ORDER BY started_at", [run_id])
            cols = [d[0] for d in cur.description]
            run["steps"] = [_bilingual_error(dict(zip(cols, r))) for r in cur.fetchall()]
        run["recipe"] = json.loads(run["recipe"]) if run.get("recipe") else None
        return run


def _finished_result(run_dir: str | None) -> tuple[str | None, float | None, Msg | None]:
    """(status, seconds, error) from a run's result.json when the run finished but could not record it (its process
    gave up waiting for the data factory); (None, None, None) when there is no finished result."""
    path = os.path.join(run_dir, "result.json") if run_dir else None
    try:
        with open(path, encoding="utf-8") as fh:
            result = json.load(fh)
    except (OSError, TypeError, ValueError):
        return None, None, None
    status = result.get("status")
    if status not in ("succeeded", "failed", "cancelled"):
        return None, None, None
    seconds = (result.get("timings") or {}).get("total_seconds")
    error = result.get("error") or {}
    message = Msg(error["message"], error.get("zh")) if error.get("message") else None
    if status == "succeeded":
        return status, seconds, None
    late = Msg("recorded from result.json after the data factory was busy", "数据工厂忙，事后根据 result.json 记录")
    return status, seconds, (Msg(f"{message} ({late})", f"{zh(message)}（{late.zh}）") if message else late)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return _bilingual_error({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()})


def _bilingual_error(row: dict[str, Any]) -> dict[str, Any]:
    """`error` as a Msg carrying the Chinese kept beside it (older rows have none); `error_zh` stays too."""
    if row.get("error") and row.get("error_zh"):
        row["error"] = Msg(row["error"], row["error_zh"])
    return row


def _en(error: str | None) -> str | None:
    return None if error is None else str(error)


def _zh(error: str | None) -> str | None:
    return None if error is None else zh(error)


_ENDED = Msg("the process running it ended before it finished (killed or crashed)", "运行它的进程在完成前结束了（被终止或崩溃）")
