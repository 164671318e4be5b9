"""Profiles cached in the data factory, keyed by the table's fingerprint + the options + this package's code.

The key includes the code of this package (like the step cache includes an operator's code), so a change in
how profiles are computed never serves an old one. Replacing a table changes its fingerprint; the profiles of
the old content are deleted when the new one is stored.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb

DDL = """CREATE TABLE IF NOT EXISTS _studio_profiles(
    key VARCHAR PRIMARY KEY, table_name VARCHAR, fingerprint VARCHAR, options JSON, profile JSON,
    computed_at TIMESTAMP)"""


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(table: str, fingerprint: str, options: dict) -> str:
    text = json.dumps({"table": table.lower(), "fingerprint": fingerprint, "options": options,
                       "code": code_version()}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def load(con, key: str) -> dict | None:
    try:
        row = con.execute("SELECT profile FROM _studio_profiles WHERE key = ?", [key]).fetchone()
    except duckdb.CatalogException:  # no profile stored yet in this data factory
        return None
    return json.loads(row[0]) if row else None


def save(catalog, key: str, profile: dict) -> None:
    """Store a profile in one short transaction; drop the stale profiles of the table's earlier content."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with catalog.transaction() as con:
        con.execute(DDL)
        con.execute("DELETE FROM _studio_profiles WHERE key = ? OR (lower(table_name) = lower(?) AND fingerprint <> ?)",
                    [key, profile["table"], profile["fingerprint"]])
        con.execute("INSERT INTO _studio_profiles VALUES (?, ?, ?, ?, ?, ?)",
                    [key, profile["table"], profile["fingerprint"], json.dumps(profile["options"], ensure_ascii=False),
                     json.dumps(profile, ensure_ascii=False), now])
