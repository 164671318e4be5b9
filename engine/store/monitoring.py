"""Monitors, their alerts and the watch folder's ledger, kept in the data factory.

- `_studio_monitors`: a run (the model and recommendation in force) tied to a table that grows, with its baseline,
  an optional webhook URL and when it was last checked.
- `_studio_alerts`: one row per alert (rule, batch row, column, the sentence in en and zh), its id a hash of
  (monitor, row, kind, rule, column) so checking a grown table again never repeats an alert; acknowledged by a user;
  whether it was sent to the webhook.
- `_studio_watch_files`: every file a watch folder ingested (or moved aside), how much of it (bytes, rows) and the
  hash of that part — written in the SAME transaction as the rows themselves, so a file is ingested once.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from engine.store.catalog import Catalog
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS _studio_monitors(
        monitor_id VARCHAR PRIMARY KEY, run_id VARCHAR, table_name VARCHAR, baseline INTEGER, webhook VARCHAR,
        settings JSON, created_at TIMESTAMP, checked_at TIMESTAMP, checked_rows BIGINT)""",
    """CREATE TABLE IF NOT EXISTS _studio_alerts(
        alert_id VARCHAR PRIMARY KEY, monitor_id VARCHAR, run_id VARCHAR, table_name VARCHAR, "row" BIGINT,
        "time" VARCHAR, kind VARCHAR, rule VARCHAR, column_name VARCHAR, value DOUBLE, message VARCHAR, zh VARCHAR,
        raised_at TIMESTAMP, acknowledged_by VARCHAR, acknowledged_at TIMESTAMP, note VARCHAR, sent_at TIMESTAMP,
        send_error VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS _studio_watch_files(
        folder VARCHAR, file VARCHAR, table_name VARCHAR, size BIGINT, "offset" BIGINT, sha256 VARCHAR, rows BIGINT,
        status VARCHAR, message VARCHAR, zh VARCHAR, ingested_at TIMESTAMP, PRIMARY KEY(folder, file))""",
]
_READY: set[str] = set()


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")


def ensure(con, path) -> None:
    """Create the tables once per data-factory file and process."""
    if str(path) in _READY:
        return
    for ddl in _SCHEMA:
        con.execute(ddl)
    _READY.add(str(path))


def _rows(cur) -> list[dict]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


# -- monitors ------------------------------------------------------------------------------------------------
def monitor_id(run_id: str, table: str) -> str:
    return "M-" + hashlib.sha256(f"{run_id}|{table.lower()}".encode()).hexdigest()[:12]


def save_monitor(cat: Catalog, run_id: str, table: str, baseline: int, webhook: str | None = None,
                 settings: dict | None = None) -> dict:
    """Create or update the monitor of (run, table); returns it."""
    mid = monitor_id(run_id, table)
    with cat.transaction() as con:
        ensure(con, cat.path)
        old = con.execute("SELECT created_at FROM _studio_monitors WHERE monitor_id = ?", [mid]).fetchone()
        con.execute("DELETE FROM _studio_monitors WHERE monitor_id = ?", [mid])
        con.execute("INSERT INTO _studio_monitors VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    [mid, run_id, table, int(baseline), webhook, json.dumps(settings or {}),
                     old[0] if old else _now()])
    return get_monitor(cat, mid)


def get_monitor(cat: Catalog, mid: str) -> dict:
    rows = [m for m in monitors(cat) if m["monitor_id"] == mid]
    if not rows:
        raise InvalidInput(Issue(Msg(f"no monitor '{mid}'", f"没有监控 '{mid}'"),
                                 hint=Msg("start one: python -m engine monitor RUN_ID --table NAME",
                                          "请先建立：python -m engine monitor 运行ID --table 表名")))
    return rows[0]


def monitors(cat: Catalog, run_id: str | None = None) -> list[dict]:
    where, args = ("WHERE run_id = ?", [run_id]) if run_id else ("", [])
    with cat.connect() as con:
        ensure(con, cat.path)
        rows = _rows(con.execute(f"SELECT * FROM _studio_monitors {where} ORDER BY created_at", args))
    for r in rows:
        r["settings"] = json.loads(r["settings"] or "{}")
        for k in ("created_at", "checked_at"):
            r[k] = None if r[k] is None else str(r[k])
    return rows


def mark_checked(cat: Catalog, mid: str, rows: int) -> str:
    """Record a check; returns its time (UTC, ISO)."""
    now = _now()
    with cat.transaction() as con:
        ensure(con, cat.path)
        con.execute("UPDATE _studio_monitors SET checked_at = ?, checked_rows = ? WHERE monitor_id = ?",
                    [now, int(rows), mid])
    return now


# -- alerts --------------------------------------------------------------------------------------------------
def alert_id(mid: str, alert: dict) -> str:
    key = f"{mid}|{alert['row']}|{alert['kind']}|{alert['rule']}|{alert['column']}"
    return "A-" + hashlib.sha256(key.encode()).hexdigest()[:14]


def store_alerts(cat: Catalog, monitor: dict, alerts: list[dict]) -> list[dict]:
    """Insert the alerts not stored yet; returns those (with their alert_id), oldest batch first."""
    mid = monitor["monitor_id"]
    new = []
    with cat.transaction() as con:
        ensure(con, cat.path)
        known = {r[0] for r in con.execute("SELECT alert_id FROM _studio_alerts WHERE monitor_id = ?", [mid]).fetchall()}
        now = _now()
        for a in alerts:
            aid = alert_id(mid, a)
            if aid in known:
                continue
            known.add(aid)
            value = a.get("value")
            con.execute("INSERT INTO _studio_alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, "
                        "NULL, NULL)",
                        [aid, mid, monitor["run_id"], monitor["table_name"], int(a["row"]),
                         None if a.get("time") is None else str(a["time"]), a["kind"], a["rule"], a["column"],
                         None if value is None else float(value), a["message"], a["zh"], now])
            new.append({**a, "alert_id": aid})
    return new


def alerts(cat: Catalog, *, run_id: str | None = None, monitor: str | None = None, table: str | None = None,
           open_only: bool = False, limit: int | None = None) -> list[dict]:
    """Stored alerts, newest batch first."""
    where, args = [], []
    if table:
        where.append("lower(table_name) = lower(?)")
        args.append(table)
    if run_id:
        where.append("run_id = ?")
        args.append(run_id)
    if monitor:
        where.append("monitor_id = ?")
        args.append(monitor)
    if open_only:
        where.append("acknowledged_at IS NULL")
    sql = ("SELECT * FROM _studio_alerts" + (" WHERE " + " AND ".join(where) if where else "")
           + ' ORDER BY raised_at DESC, "row" DESC, kind' + (f" LIMIT {int(limit)}" if limit else ""))
    with cat.connect() as con:
        ensure(con, cat.path)
        rows = _rows(con.execute(sql, args))
    for r in rows:
        r["column"] = r.pop("column_name")
        for k in ("raised_at", "acknowledged_at", "sent_at"):
            r[k] = None if r[k] is None else str(r[k])
    return rows


def acknowledge(cat: Catalog, alert_ids: list[str], user: str, note: str = "") -> int:
    """Mark alerts acknowledged by `user`; returns how many were open. Unknown ids are an error (nothing marked)."""
    if not user or not user.strip():
        raise InvalidInput(Issue(Msg("say who acknowledges the alert (a user name)", "请填写确认报警的用户名"),
                                 hint=Msg("--user NAME", "--user 用户名")))
    with cat.transaction() as con:
        ensure(con, cat.path)
        found = {r[0]: r[1] for r in con.execute(
            "SELECT alert_id, acknowledged_at FROM _studio_alerts WHERE list_contains(?, alert_id)",
            [list(alert_ids)]).fetchall()}
        missing = [a for a in alert_ids if a not in found]
        if missing:
            raise InvalidInput(Issue(Msg(f"no alert(s) {missing}", f"没有报警 {missing}"),
                                     hint=Msg("list them: python -m engine alerts", "列出报警：python -m engine alerts")))
        fresh = [a for a in alert_ids if found[a] is None]
        con.execute("UPDATE _studio_alerts SET acknowledged_by = ?, acknowledged_at = ?, note = ? "
                    "WHERE list_contains(?, alert_id) AND acknowledged_at IS NULL", [user.strip(), _now(), note, fresh])
    return len(fresh)


def mark_sent(cat: Catalog, alert_ids: list[str], error: str | None) -> None:
    with cat.transaction() as con:
        ensure(con, cat.path)
        con.execute("UPDATE _studio_alerts SET sent_at = ?, send_error = ? WHERE list_contains(?, alert_id)",
                    [None if error else _now(), error, list(alert_ids)])


# -- the watch folder's ledger -------------------------------------------------------------------------------
def watched_files(cat: Catalog, folder: str) -> dict[str, dict]:
    with cat.connect() as con:
        ensure(con, cat.path)
        return {r["file"]: r for r in _rows(con.execute("SELECT * FROM _studio_watch_files WHERE folder = ?", [folder]))}


def record_file(con, path, folder: str, file: str, table: str, size: int, offset: int, sha256: str, rows: int,
                status: str, message: Msg | None = None) -> None:
    """Inside the caller's transaction (the one that ingested the rows)."""
    ensure(con, path)
    con.execute("DELETE FROM _studio_watch_files WHERE folder = ? AND file = ?", [folder, file])
    con.execute("INSERT INTO _studio_watch_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [folder, file, table, int(size), int(offset), sha256, int(rows), status,
                 None if message is None else str(message), None if message is None else message.zh, _now()])


def forget_file(cat: Catalog, folder: str, file: str) -> None:
    with cat.transaction() as con:
        ensure(con, cat.path)
        con.execute("DELETE FROM _studio_watch_files WHERE folder = ? AND file = ?", [folder, file])


def as_json(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert as the CLI's --json and the webhook give it: row, time, kind, rule, column, message, zh."""
    return {k: alert.get(k) for k in ("row", "time", "kind", "rule", "column", "message", "zh")}
