"""The data factory's tables as Parquet partitions that Dask workers read from a shared folder.

DuckDB writes them (`COPY ... TO folder`, one row group per file, in the table's row order); the table is never
held in pandas here. Partitions are kept per table fingerprint: the same data is exported once, a changed table gets
new partitions, and a half-written export is never seen (written under a temporary name, renamed when complete).
"""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path

from engine.store.catalog import Catalog, quote

PART_ROWS = 250_000
_DONE = "_complete"


def export_table(catalog: Catalog, table: str, folder: Path, columns: list[str] | None = None,
                 rows_per_part: int = PART_ROWS) -> list[Path]:
    """The Parquet partitions of `table` (only `columns` when given) under `folder`, in row order."""
    info = catalog.table_info(table)
    key = re.sub(r"[^A-Za-z0-9_]", "_", info.name)[:40] + "-" + info.fingerprint[:16]
    if columns:
        key += "-" + _columns_key(columns)
    target = Path(folder) / key
    if (target / _DONE).exists():
        return _parts(target)
    temporary = Path(folder) / f".{key}-{secrets.token_hex(4)}"
    temporary.parent.mkdir(parents=True, exist_ok=True)
    cols = ", ".join(quote(c) for c in columns) if columns else "*"
    try:
        with catalog.connect() as con:
            con.execute("SET threads = 1")  # one writer keeps the row order across the files
            try:
                con.execute(f"COPY (SELECT {cols} FROM {quote(info.name)}) TO '{_sql_path(temporary)}' "
                            f"(FORMAT PARQUET, ROW_GROUP_SIZE {int(rows_per_part)}, ROW_GROUPS_PER_FILE 1, "
                            f"FILENAME_PATTERN 'part-{{i}}')")
            finally:
                con.execute("RESET threads")
        (temporary / _DONE).write_text(f"{info.rows}\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        temporary.rename(target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return _parts(target)


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"), key=lambda p: int(p.stem.split("-")[1]))


def _columns_key(columns: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\x00".join(columns).encode("utf-8")).hexdigest()[:10]


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
