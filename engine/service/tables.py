"""The data factory as a service: open the catalog (with this process's busy reporter), ingest files and frames,
list, derive and profile tables."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from engine.service import derive
from engine.store import profiling
from engine.store.catalog import Catalog, TableInfo
from engine.store.ingest import IngestOptions, ingest_file

_on_busy: Callable[[str], None] | None = None


def report_busy(fn: Callable[[str], None] | None) -> None:
    """Where every data-factory access of this process says "busy, retrying" (the CLI: stderr)."""
    global _on_busy
    _on_busy = fn


def catalog(db: str | Path | None = None, on_busy: Callable[[str], None] | None = None) -> Catalog:
    return Catalog(db, on_busy=on_busy or _on_busy)


def ingest(path: str | Path, table: str, *, db=None, replace: bool = False, sheet=None,
           options: IngestOptions | dict | None = None,
           on_progress: Callable[[float, str], None] | None = None) -> TableInfo:
    """Ingest a file as a table (options: mode create/replace/append, sheet, delimiter, types, formats ...).
    A folder or a .zip of images becomes an image table (engine.store.ingest.images), one row per image."""
    from engine.store.ingest.images import ingest_images, is_image_source

    if is_image_source(path):
        mode = (options.mode if isinstance(options, IngestOptions) else (options or {}).get("mode")) or "create"
        if mode == "append":
            from engine.core.errors import InvalidInput, Issue
            from engine.core.i18n import Msg

            raise InvalidInput(Issue(Msg("appending to an image table is not supported", "不支持向图片表追加"), str(path),
                                     hint=Msg("ingest the whole folder again with --replace", "请用 --replace 重新导入整个文件夹")))
        return ingest_images(catalog(db), path, table, replace=replace or mode == "replace", on_progress=on_progress)
    return ingest_file(catalog(db), path, table, options, replace=replace, sheet=sheet, on_progress=on_progress)


def ingest_frame(frame: pd.DataFrame, table: str, *, db=None, replace: bool = False) -> TableInfo:
    """Store a frame (a simulator's, a derived one) as a table through a Parquet file: the ordinary ingest path,
    with its checks and its single transaction."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.parquet"
        frame.to_parquet(path, index=False)
        return ingest(path, table, db=db, replace=replace)


def tables(db=None) -> list[TableInfo]:
    return catalog(db).tables()


def derive_table(source: str, op_id: str, params: dict[str, Any], new_table: str, *, right: str | None = None,
                 db=None) -> tuple[TableInfo, dict]:
    """A cleaning/alignment action: operator on a table -> a new table (the source is never overwritten)."""
    return derive.derive_table(catalog(db), source, op_id, params, new_table, right=right)


def profile_table(name: str, db=None, *, time: str | None = None, target: str | None = None,
                  controllable: list[str] | None = None, near_constant: float = 0.99,
                  refresh: bool = False) -> dict[str, Any]:
    """Profile of a data-factory table with its data readiness score (computed in DuckDB, cached per fingerprint)."""
    return profiling.profile_table(catalog(db), name, time=time, target=target, controllable=controllable,
                                   near_constant=near_constant, refresh=refresh)
