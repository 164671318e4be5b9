"""Read a file into a data-factory table, all or nothing: the file is read, converted and checked into a scratch
DuckDB file without holding the data factory, then create, replace or append is one short transaction.

CSV is streamed by DuckDB straight from disk (never whole into pandas); text that is not UTF-8 is transcoded to a
temporary UTF-8 copy first. Reading a file into a table is engine.store.ingest.reader (dialect: .dialect, checks:
.convert); this module stores it: scratch file, fingerprint, one short create/replace/append transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import duckdb
from pydantic import ValidationError

from engine.core import limits
from engine.store.catalog import Catalog, TableInfo, quote
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg, zh
from engine.store.ingest.options import IngestOptions
from engine.store.ingest.text import check_file, sha256_file
from engine.schema.errors import issues_from_validation
from engine.store.ingest.reader import _NO_ROWS, Progress, _create  # noqa: F401  (file → table: reader.py)


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("|".join([*parts, f"duckdb={duckdb.__version__}"]).encode()).hexdigest()


def ingest_file(catalog: Catalog, path: str | Path, table: str, options: IngestOptions | dict | None = None, *,
                replace: bool = False, sheet=None, on_progress: Progress | None = None,
                after: Callable | None = None) -> TableInfo:
    """Ingest `path` into `table`: read and checked outside the data factory, then stored in one short transaction
    (on any error the data factory is unchanged). `after(con, info)` runs inside that transaction (e.g. a watch
    folder's ledger entry, committed with the rows or not at all)."""
    try:
        opts = IngestOptions.model_validate(options or {})
    except ValidationError as exc:
        raise InvalidInput(issues_from_validation(exc, IngestOptions, options or {}, None, ("options",))) from None
    if replace and opts.mode == "append":
        raise InvalidInput(Issue(Msg("replace and append were both asked for", "同时要求了替换和追加"),
                                 path="mode", hint=Msg("choose one: --replace rebuilds the table, --append adds rows to it",
                                                       "只能选一个：--replace 重建这张表，--append 向表中追加行")))
    if replace:
        opts = opts.model_copy(update={"mode": "replace"})
    if sheet is not None:
        opts = opts.model_copy(update={"sheet": sheet})
    progress = on_progress or (lambda fraction, message: None)
    path = Path(path)
    check_file(path)
    append = opts.mode == "append"
    if append:
        catalog.table_info(table)  # must exist
    else:
        catalog.check_new_name(table, replace=opts.mode == "replace")  # fail fast, before reading anything
    hasher = _Hasher(path)
    try:
        with _staged(catalog, path, opts, progress) as staged:
            sha = hasher.result()
            progress(0.99, Msg("storing in the data factory", "写入数据工厂"))
            with _short_transaction(_storing(catalog, table, path), staged.file) as con:
                info = (_append if append else _replace_or_create)(catalog, con, path, table, opts, sha, staged)
                if after is not None:
                    after(con, info)
    finally:
        hasher.join()
    progress(1.0, Msg("done", "完成"))
    return info


@dataclass
class _Staged:
    file: Path
    warnings: list
    rows: int
    columns: dict


STAGED = "_studio_staging"


@contextlib.contextmanager
def _staged(catalog: Catalog, path: Path, opts: IngestOptions, progress: Progress) -> Iterator[_Staged]:
    """Read, convert and check the file into a scratch DuckDB file beside the data factory — the long part, done
    without holding the factory (another process can list tables or record a run meanwhile)."""
    catalog.path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".ingest-", dir=catalog.path.parent))
    try:
        scratch = folder / "staged.duckdb"
        con = duckdb.connect(str(scratch))
        try:
            warnings = _create(con, "staged", path, opts, progress)
            rows, columns = _shape(con, "staged", path)
        finally:
            con.close()
        yield _Staged(scratch, warnings, rows, columns)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _storing(catalog: Catalog, table: str, path: Path) -> Catalog:
    """The catalog to store a read file with: it waits for a busy data factory as long as a finished run does
    (AI_STUDIO_RECORD_WAIT_SECONDS), saying what it waits for — the file is already read and checked."""
    def waiting(message: str) -> None:
        if catalog.on_busy is not None:
            catalog.on_busy(Msg(f"{message} — waiting to store table '{table}' ({path.name} is read and checked)",
                                f"{zh(message)}——正在等待写入表 '{table}'（{path.name} 已读取并检查完毕）"))
    return Catalog(catalog.path, busy_timeout=limits.RECORD_WAIT_SECONDS.value(), on_busy=waiting)


@contextlib.contextmanager
def _short_transaction(catalog: Catalog, staged_file: Path):
    """One transaction of the data factory with the staged table attached read-only: a copy, then commit."""
    with catalog.connect() as con:
        con.execute(f"ATTACH '{str(staged_file).replace(chr(39), chr(39) * 2)}' AS {STAGED} (READ_ONLY)")
        try:
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()
        finally:
            con.execute(f"DETACH {STAGED}")


def _replace_or_create(catalog, con, path, table, opts, sha: str, staged: _Staged) -> TableInfo:
    catalog.check_new_name(table, replace=opts.mode == "replace", con=con)  # another process may have taken it
    for old in [t for t in catalog.table_names(con=con) if t.lower() == table.lower()]:
        con.execute(f"DROP TABLE {quote(old)}")
    con.execute(f"CREATE TABLE {quote(table)} AS SELECT * FROM {STAGED}.staged")
    info = TableInfo(table, path.name, sha, _fingerprint(sha, f"options={opts.model_dump_json()}"), staged.rows,
                     staged.columns, staged.warnings, _now())
    catalog.register_table(con, info)
    return info


def _append(catalog, con, path, table, opts, sha: str, staged: _Staged) -> TableInfo:
    """Check the staged rows have the target's columns and types, then insert them."""
    target = catalog.table_info(table)
    _check_same_schema(target, staged.columns, path)
    names = ", ".join(quote(c) for c in target.columns)
    con.execute(f"INSERT INTO {quote(target.name)} ({names}) SELECT {names} FROM {STAGED}.staged")
    total = con.execute(f"SELECT count(*) FROM {quote(target.name)}").fetchone()[0]
    appended = Msg(f"appended {staged.rows} rows from {path.name}", f"从 {path.name} 追加了 {staged.rows} 行")
    info = TableInfo(target.name, f"{target.source}; {path.name}", sha, _fingerprint(target.fingerprint, sha),
                     int(total), target.columns, target.warnings + [appended] + staged.warnings, _now())
    catalog.register_table(con, info)
    return info


def _check_same_schema(target: TableInfo, columns: dict[str, str], path: Path) -> None:
    from engine.core.dtypes import dtype_class

    missing = [c for c in target.columns if c not in columns]
    extra = [c for c in columns if c not in target.columns]
    clash = [Msg(f"'{c}' is {columns[c]} here but {t} in the table", f"'{c}' 在此文件中是 {columns[c]}，表中是 {t}")
             for c, t in target.columns.items() if c in columns and dtype_class(columns[c]) != dtype_class(t)]
    problems = ([Msg(f"missing column(s): {', '.join(missing)}", f"缺少列：{', '.join(missing)}")] if missing else []) + \
               ([Msg(f"extra column(s): {', '.join(extra)}", f"多出的列：{', '.join(extra)}")] if extra else []) + clash
    if problems:
        raise InvalidInput(Issue(Msg(f"cannot append to '{target.name}': " + "; ".join(problems),
                                     f"无法追加到 '{target.name}'：" + "；".join(zh(p) for p in problems)), str(path),
                                 hint=Msg("append files with the same columns, or ingest as a new table",
                                          "请追加列相同的文件，或导入为新表")))


def _shape(con, table: str, path: Path) -> tuple[int, dict[str, str]]:
    rows = con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]
    if rows == 0:
        raise InvalidInput(Issue(_NO_ROWS, str(path), hint=Msg("export the data rows too", "请把数据行也一起导出")))
    return int(rows), {r[0]: r[1] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()}


class _Hasher:
    """sha256 of the file on a thread, overlapping DuckDB's read (both release the GIL)."""

    def __init__(self, path: Path):
        self.path, self.value, self.error = path, None, None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.value = sha256_file(self.path)
        except OSError as exc:
            self.error = exc

    def join(self) -> None:
        self.thread.join()

    def result(self) -> str:
        self.join()
        if self.error:
            raise InvalidInput(Issue(Msg(f"could not read the file to fingerprint it: {self.error}",
                                         f"无法读取文件以计算指纹：{self.error}"), str(self.path)))
        return self.value


__all__ = ["IngestOptions", "ingest_file"]  # a bound file's reads: engine.store.ingest.bound
