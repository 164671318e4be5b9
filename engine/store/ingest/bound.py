"""A file bound by a recipe (`data: {file: ...}`), read where it is.

The file is converted once — with exactly the checks and conversions of an ingest (engine.store.ingest.core) — into
a scratch DuckDB file next to the step cache, named by the file's fingerprint; its column types, statistics and the
rows a run needs are then SQL over that file, so a 1,000,000 × 100 Parquet file is never read whole into pandas to
learn its columns, and a rerun on the same file reuses the conversion. The last few conversions are kept.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb
import pandas as pd

from engine.core import config
from engine.core.errors import InvalidInput, Issue
from engine.store.ingest.options import IngestOptions
from engine.store.ingest.text import check_file, sha256_file

TABLE = "bound_file"
KEEP = 4                       # scratch conversions kept (the most recently used)
SCRATCH_MEMORY = "1GB"         # DuckDB's memory while converting: larger files spill to disk
_LOCK = threading.Lock()
_SHA: dict[tuple, str] = {}    # (real path, size, mtime) -> sha256 (a 10 GB file is hashed once per process)


def scratch_dir() -> Path:
    return config.studio_home() / "bound_files"


def _sha(path: Path) -> str:
    stat = path.stat()
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA:
        _SHA[key] = sha256_file(path)
    return _SHA[key]


def staged(path: str | Path, sheet=None) -> tuple[Path, str]:
    """(scratch DuckDB file holding the file as table `bound_file`, the file's fingerprint)."""
    from engine.store.ingest.core import _NO_ROWS, _create, _fingerprint

    path = Path(path)
    check_file(path)
    fingerprint = _fingerprint(_sha(path), str(sheet))
    target = scratch_dir() / f"{fingerprint[:32]}.duckdb"
    with _LOCK:
        if target.exists():
            os.utime(target)
            return target, fingerprint
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.stem}.{os.getpid()}.partial")
        partial.unlink(missing_ok=True)
        try:
            with duckdb.connect(str(partial)) as con:
                con.execute(f"SET memory_limit = '{SCRATCH_MEMORY}'")
                _create(con, TABLE, path, IngestOptions(sheet=sheet), lambda f, m: None)
                if con.execute(f'SELECT count(*) FROM "{TABLE}"').fetchone()[0] == 0:
                    raise InvalidInput(Issue(_NO_ROWS, str(path)))
                con.execute("CHECKPOINT")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
            Path(str(partial) + ".wal").unlink(missing_ok=True)
        _prune(target)
    return target, fingerprint


def _prune(keep: Path) -> None:
    files = sorted(scratch_dir().glob("*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        if old != keep:
            old.unlink(missing_ok=True)


def connect(db: Path):
    """A read-only connection to a scratch conversion."""
    return duckdb.connect(str(db), read_only=True)


def read_file_frame(path: str | Path, sheet=None, columns: list[str] | None = None) -> tuple[pd.DataFrame, str]:
    """A file binding read without touching the data factory: (frame, fingerprint); `columns`: only those."""
    db, fingerprint = staged(path, sheet)
    cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns) if columns else "*"
    with connect(db) as con:
        frame = con.execute(f'SELECT {cols} FROM "{TABLE}"').df()
    return frame, fingerprint


def describe_file(path: str | Path, sheet=None) -> dict[str, str]:
    """Column name -> DuckDB type of a file (for compiling a recipe bound to a file), without loading its rows."""
    db, _ = staged(path, sheet)
    with connect(db) as con:
        return {r[0]: r[1] for r in con.execute(f'DESCRIBE "{TABLE}"').fetchall()}
