"""Accounts in the data factory: users, sessions, API keys, object owners, the run queue and the audit trail.

Plain storage (short transactions through the Catalog, values always bound as parameters); the rules — who may
do what, password policy, lockout — live in engine/service/. Secrets are never stored: passwords as argon2
hashes, session tokens and API keys as SHA-256 of 256-bit random values. The audit table is append-only: this
module has no UPDATE or DELETE for it.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from engine.store.catalog import Catalog

_DDL = [
    """CREATE TABLE IF NOT EXISTS _studio_users(
        name VARCHAR PRIMARY KEY, role VARCHAR NOT NULL, password_hash VARCHAR NOT NULL, disabled BOOLEAN DEFAULT FALSE,
        created_at TIMESTAMP, created_by VARCHAR, failed_count INTEGER DEFAULT 0, locked_until TIMESTAMP,
        password_changed_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS _studio_sessions(
        token_hash VARCHAR PRIMARY KEY, user_name VARCHAR NOT NULL, created_at TIMESTAMP, expires_at TIMESTAMP,
        ended_at TIMESTAMP, address VARCHAR, via VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS _studio_api_keys(
        key_id VARCHAR PRIMARY KEY, user_name VARCHAR NOT NULL, name VARCHAR, key_hash VARCHAR NOT NULL,
        created_at TIMESTAMP, created_by VARCHAR, revoked_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS _studio_owners(
        kind VARCHAR, object_id VARCHAR, user_name VARCHAR, owned_at TIMESTAMP, PRIMARY KEY(kind, object_id))""",
    """CREATE TABLE IF NOT EXISTS _studio_jobs(
        run_id VARCHAR PRIMARY KEY, user_name VARCHAR, status VARCHAR, submitted_at TIMESTAMP, started_at TIMESTAMP,
        finished_at TIMESTAMP, cancel_requested BOOLEAN DEFAULT FALSE, recipe JSON, error VARCHAR, error_zh VARCHAR)""",
    "CREATE SEQUENCE IF NOT EXISTS _studio_audit_seq",
    """CREATE TABLE IF NOT EXISTS _studio_audit(
        seq BIGINT DEFAULT nextval('_studio_audit_seq'), at_time TIMESTAMP, user_name VARCHAR, address VARCHAR,
        via VARCHAR, action VARCHAR, object VARCHAR, result VARCHAR, detail VARCHAR)""",
]
_READY: set[str] = set()


def now() -> datetime:
    """UTC, naive (as the data factory's other TIMESTAMP columns)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Accounts:
    """Rows of the account tables; every method is one short transaction."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def _con(self):
        return _Ready(self.catalog)

    # -- users -------------------------------------------------------------------------------------------
    def user(self, name: str) -> dict[str, Any] | None:
        with self._con() as con:
            return _one(con, "SELECT * FROM _studio_users WHERE name = ?", [name])

    def users(self) -> list[dict[str, Any]]:
        with self._con() as con:
            return _all(con, "SELECT name, role, disabled, created_at, created_by, failed_count, locked_until "
                             "FROM _studio_users ORDER BY name", [])

    def count_users(self, role: str | None = None, enabled_only: bool = True) -> int:
        sql = "SELECT count(*) FROM _studio_users WHERE TRUE"
        args: list = []
        if role:
            sql, args = sql + " AND role = ?", [role]
        if enabled_only:
            sql += " AND NOT disabled"
        with self._con() as con:
            return int(con.execute(sql, args).fetchone()[0])

    def insert_user(self, name: str, role: str, password_hash: str, by: str) -> None:
        with self._con() as con:
            con.execute("INSERT INTO _studio_users (name, role, password_hash, disabled, created_at, created_by, "
                        "failed_count, password_changed_at) VALUES (?, ?, ?, FALSE, ?, ?, 0, ?)",
                        [name, role, password_hash, now(), by, now()])

    def update_user(self, name: str, **values) -> None:
        """Set columns of a user; a password, role or disabled change also ends the user's sessions (same
        transaction)."""
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._con() as con:
            con.execute(f"UPDATE _studio_users SET {cols} WHERE name = ?", [*values.values(), name])
            if {"password_hash", "role", "disabled"} & set(values):
                con.execute("UPDATE _studio_sessions SET ended_at = ? WHERE user_name = ? AND ended_at IS NULL",
                            [now(), name])

    # -- sessions ----------------------------------------------------------------------------------------
    def insert_session(self, token_hash: str, user: str, expires_at: datetime, address: str, via: str) -> None:
        with self._con() as con:
            con.execute("INSERT INTO _studio_sessions VALUES (?, ?, ?, ?, NULL, ?, ?)",
                        [token_hash, user, now(), expires_at, address, via])

    def session(self, token_hash: str) -> dict[str, Any] | None:
        with self._con() as con:
            return _one(con, "SELECT s.*, u.role, u.disabled FROM _studio_sessions s JOIN _studio_users u "
                             "ON u.name = s.user_name WHERE s.token_hash = ?", [token_hash])

    def end_session(self, token_hash: str) -> bool:
        with self._con() as con:
            ended = con.execute("UPDATE _studio_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL "
                                "RETURNING user_name", [now(), token_hash]).fetchall()
        return bool(ended)

    def still_valid(self, session: str) -> bool:
        """Is a principal's session (a token hash, or key:<id>) still live: not ended, expired or revoked, and its
        user not disabled?"""
        with self._con() as con:
            if session.startswith("key:"):
                row = con.execute("SELECT k.revoked_at IS NULL AND NOT u.disabled FROM _studio_api_keys k JOIN "
                                  "_studio_users u ON u.name = k.user_name WHERE k.key_id = ?", [session[4:]]).fetchone()
            else:
                row = con.execute("SELECT s.ended_at IS NULL AND s.expires_at > ? AND NOT u.disabled FROM "
                                  "_studio_sessions s JOIN _studio_users u ON u.name = s.user_name WHERE s.token_hash = ?",
                                  [now(), session]).fetchone()
        return bool(row and row[0])

    # -- API keys ----------------------------------------------------------------------------------------
    def insert_key(self, key_id: str, user: str, name: str, key_hash: str, by: str) -> None:
        with self._con() as con:
            con.execute("INSERT INTO _studio_api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
                        [key_id, user, name, key_hash, now(), by])

    def key(self, key_id: str) -> dict[str, Any] | None:
        with self._con() as con:
            return _one(con, "SELECT k.*, u.role, u.disabled FROM _studio_api_keys k JOIN _studio_users u "
                             "ON u.name = k.user_name WHERE k.key_id = ?", [key_id])

    def keys(self, user: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT key_id, user_name, name, created_at, created_by, revoked_at FROM _studio_api_keys"
        with self._con() as con:
            return _all(con, sql + (" WHERE user_name = ?" if user else "") + " ORDER BY created_at",
                        [user] if user else [])

    def revoke_key(self, key_id: str) -> None:
        with self._con() as con:
            con.execute("UPDATE _studio_api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                        [now(), key_id])

    # -- owners ------------------------------------------------------------------------------------------
    def set_owner(self, kind: str, object_id: str, user: str) -> None:
        with self._con() as con:
            con.execute("INSERT OR REPLACE INTO _studio_owners VALUES (?, ?, ?, ?)", [kind, object_id, user, now()])

    def owners(self, kind: str, ids: list[str] | None = None) -> dict[str, str]:
        sql, args = "SELECT object_id, user_name FROM _studio_owners WHERE kind = ?", [kind]
        if ids is not None:
            if not ids:
                return {}
            sql += f" AND object_id IN ({', '.join('?' * len(ids))})"
            args += list(ids)
        with self._con() as con:
            return dict(con.execute(sql, args).fetchall())

    # -- the run queue -----------------------------------------------------------------------------------
    def insert_job(self, run_id: str, user: str, recipe: dict) -> None:
        with self._con() as con:
            con.execute("INSERT INTO _studio_jobs (run_id, user_name, status, submitted_at, cancel_requested, recipe) "
                        "VALUES (?, ?, 'queued', ?, FALSE, ?)", [run_id, user, now(), json.dumps(recipe, ensure_ascii=False)])
            con.execute("INSERT OR REPLACE INTO _studio_owners VALUES ('run', ?, ?, ?)", [run_id, user, now()])

    def job(self, run_id: str) -> dict[str, Any] | None:
        with self._con() as con:
            row = _one(con, "SELECT * FROM _studio_jobs WHERE run_id = ?", [run_id])
        if row and row.get("recipe"):
            row["recipe"] = json.loads(row["recipe"])
        return row

    def jobs(self, status: str) -> list[dict[str, Any]]:
        with self._con() as con:
            rows = _all(con, "SELECT * FROM _studio_jobs WHERE status = ? ORDER BY submitted_at", [status])
        for row in rows:
            row["recipe"] = json.loads(row["recipe"]) if row.get("recipe") else None
        return rows

    def claim_job(self, run_id: str) -> bool:
        """queued → running, unless it was cancelled meanwhile (one UPDATE: two workers cannot both claim it)."""
        with self._con() as con:
            claimed = con.execute("UPDATE _studio_jobs SET status = 'running', started_at = ? WHERE run_id = ? "
                                  "AND status = 'queued' AND NOT cancel_requested RETURNING run_id",
                                  [now(), run_id]).fetchall()
        return bool(claimed)

    def finish_job(self, run_id: str, status: str, error: str | None = None, error_zh: str | None = None) -> None:
        with self._con() as con:
            con.execute("UPDATE _studio_jobs SET status = ?, finished_at = ?, error = ?, error_zh = ? WHERE run_id = ?",
                        [status, now(), error, error_zh, run_id])

    def request_cancel(self, run_id: str) -> str | None:
        """Flag a job for cancelling; a queued one is cancelled at once. Its status afterwards (None: no job)."""
        with self._con() as con:
            con.execute("UPDATE _studio_jobs SET cancel_requested = TRUE WHERE run_id = ?", [run_id])
            con.execute("UPDATE _studio_jobs SET status = 'cancelled', finished_at = ? WHERE run_id = ? "
                        "AND status = 'queued'", [now(), run_id])
            row = con.execute("SELECT status FROM _studio_jobs WHERE run_id = ?", [run_id]).fetchone()
        return row[0] if row else None

    def cancel_requested(self, run_id: str) -> bool:
        with self._con() as con:
            row = con.execute("SELECT cancel_requested FROM _studio_jobs WHERE run_id = ?", [run_id]).fetchone()
        return bool(row and row[0])

    # -- audit (append-only) -----------------------------------------------------------------------------
    def append_audit(self, user: str | None, address: str | None, via: str | None, action: str, obj: str | None,
                     result: str, detail: str | None = None) -> None:
        with self._con() as con:
            con.execute("INSERT INTO _studio_audit (at_time, user_name, address, via, action, object, result, detail) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [now(), user, address, via, action, obj, result, detail])

    def audit(self, user: str | None = None, since: datetime | None = None, action: str | None = None,
              limit: int = 500) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM _studio_audit WHERE TRUE", []
        for clause, value in (("user_name = ?", user), ("at_time >= ?", since), ("starts_with(action, ?)", action)):
            if value is not None:
                sql, args = f"{sql} AND {clause}", [*args, value]
        with self._con() as con:
            return _all(con, sql + " ORDER BY seq DESC LIMIT ?", [*args, limit])


class _Ready:
    """A transaction on the catalog with the account tables created once per file and process."""

    def __init__(self, catalog: Catalog):
        self.catalog, self._cm = catalog, None

    def __enter__(self):
        key = str(self.catalog.path)
        if not self.catalog.path.exists():
            _READY.discard(key)
        self._cm = self.catalog.transaction()
        con = self._cm.__enter__()
        if key not in _READY:
            for ddl in _DDL:
                con.execute(ddl)
            _READY.add(key)
        return con

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def _one(con, sql: str, args: list) -> dict[str, Any] | None:
    cur = con.execute(sql, args)
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def _all(con, sql: str, args: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, args)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]
