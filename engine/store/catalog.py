"""The data factory: one DuckDB file holding every ingested table, its metadata, and every run.

DuckDB allows one writing process per file. Every access here opens a short-lived connection, does one
transaction and closes it, so the UI and the CLI take turns; a process that finds the file locked waits and
retries ("busy, retrying") up to a timeout, then says which process holds it. Identifiers are always quoted
and values always bound as parameters.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import pandas as pd

from engine.core import config, limits
from engine.core.errors import Busy, InvalidInput, Issue
from engine.core.i18n import Msg, did_you_mean, zh

INTERNAL_PREFIX = "_studio_"
_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS _studio_tables(
        name VARCHAR PRIMARY KEY, source VARCHAR, sha256 VARCHAR, fingerprint VARCHAR, rows BIGINT,
        columns JSON, warnings JSON, ingested_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS _studio_runs(
        run_id VARCHAR PRIMARY KEY, template_id VARCHAR, template_version VARCHAR, recipe_name VARCHAR,
        recipe JSON, data_fingerprint VARCHAR, status VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
        seconds DOUBLE, pid INTEGER, proc_token VARCHAR, host VARCHAR, run_dir VARCHAR, error VARCHAR,
        failed_step VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS _studio_run_steps(
        run_id VARCHAR, step_id VARCHAR, op VARCHAR, status VARCHAR, cached BOOLEAN, seconds DOUBLE,
        started_at TIMESTAMP, finished_at TIMESTAMP, error VARCHAR, PRIMARY KEY(run_id, step_id))""",
    # later additions: ALTER ... IF NOT EXISTS keeps older data-factory files working
    "ALTER TABLE _studio_run_steps ADD COLUMN IF NOT EXISTS io_seconds DOUBLE",
    "ALTER TABLE _studio_runs ADD COLUMN IF NOT EXISTS error_zh VARCHAR",
    "ALTER TABLE _studio_run_steps ADD COLUMN IF NOT EXISTS error_zh VARCHAR",
    """CREATE TABLE IF NOT EXISTS _studio_trials(
        trial_id VARCHAR PRIMARY KEY, run_id VARCHAR, logged_at TIMESTAMP, settings JSON, outcome DOUBLE,
        predicted DOUBLE, predicted_low DOUBLE, predicted_high DOUBLE, batches INTEGER, note VARCHAR)""",
]
_LOCK_RE = re.compile(r"lock", re.IGNORECASE)
_READY: set[str] = set()
_PROCESS_LOCK = threading.RLock()  # threads of one process (Streamlit sessions) share one DuckDB instance


_DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq", ".json", ".yaml", ".yml"}
_DB_HINT = Msg("--db (or AI_STUDIO_DB) is the studio's database file, e.g. studio.duckdb; to load a data file use: "
               "python -m engine ingest FILE --table NAME",
               "--db（或 AI_STUDIO_DB）是工作室的数据库文件，例如 studio.duckdb；导入数据文件请用："
               "python -m engine ingest 文件 --table 表名")


def quote(identifier: str) -> str:
    """A DuckDB identifier, always quoted (quotes inside doubled)."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class TableInfo:
    name: str
    source: str
    sha256: str
    fingerprint: str
    rows: int
    columns: dict[str, str]
    warnings: list[str]
    ingested_at: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Catalog:
    """Short-transaction access to the data-factory file."""

    def __init__(self, path: str | Path | None = None, *, busy_timeout: float = 60.0,
                 on_busy: Callable[[str], None] | None = None):
        self.path = config.db_path(path)
        self.busy_timeout = busy_timeout
        self.on_busy = on_busy

    # -- connections -------------------------------------------------------------------------------------
    def check_path(self) -> None:
        """The data-factory file must be a DuckDB database (or not exist yet, with a name that is not a data file's)."""
        path = self.path
        if path.exists() and not path.is_file():
            what = Msg("a folder", "文件夹") if path.is_dir() else Msg("not a regular file", "不是普通文件")
            raise InvalidInput(Issue(Msg(f"the data factory is {what}", f"数据工厂是{what.zh}"), str(path),
                                     hint=_DB_HINT))
        if path.exists() and path.stat().st_size > 0:
            with path.open("rb") as fh:
                head = fh.read(12)
            if head[8:12] != b"DUCK":
                raise InvalidInput(Issue(Msg("this is not a data-factory (DuckDB) file", "这不是数据工厂（DuckDB）文件"),
                                         str(path), hint=_DB_HINT))
        elif not path.exists() and path.suffix.lower() in _DATA_SUFFIXES:
            raise InvalidInput(Issue(Msg("this names a data file, not a data factory", "这是数据文件名，不是数据工厂"),
                                     str(path), hint=_DB_HINT))

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection held only for the `with` block; waits (and says so) while another process writes."""
        self.check_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            _READY.discard(str(self.path))
        deadline, delay, told = time.monotonic() + self.busy_timeout, 0.05, False
        with _PROCESS_LOCK:
            while True:
                try:
                    con = duckdb.connect(str(self.path))
                    break
                except duckdb.IOException as exc:
                    if not _LOCK_RE.search(str(exc)):
                        raise InvalidInput(Issue(Msg(f"cannot open the data factory: {exc}", f"无法打开数据工厂：{exc}"),
                                                 str(self.path))) from None
                    if time.monotonic() > deadline:
                        holder = _holder(exc)
                        raise Busy(Msg(f"the data factory {self.path} is busy: {holder} has held it for over "
                                       f"{self.busy_timeout:.0f} s; wait for it to finish or stop it",
                                       f"数据工厂 {self.path} 正忙：{zh(holder)} 已占用超过 {self.busy_timeout:.0f} 秒；"
                                       f"请等它结束或停止它")) from None
                    if not told and self.on_busy:
                        self.on_busy(Msg(f"data factory busy ({_holder(exc)}), retrying", f"数据工厂正忙（{zh(_holder(exc))}），正在重试"))
                        told = True
                    time.sleep(delay)
                    delay = min(delay * 1.5, 0.5)
            try:
                if str(self.path) not in _READY:  # schema statements once per file and process
                    for ddl in _SCHEMA:
                        con.execute(ddl)
                    _READY.add(str(self.path))
                yield con
            finally:
                con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: a failure inside rolls back and leaves the factory as it was."""
        with self.connect() as con:
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()

    # -- tables ------------------------------------------------------------------------------------------
    def check_new_name(self, name: str, *, replace: bool = False, con=None) -> None:
        """Refuse names that are empty, internal, or collide (DuckDB names are case-insensitive)."""
        if not name or not name.strip():
            raise InvalidInput(Issue(Msg("table name is empty", "表名为空"),
                                     hint=Msg("give a name with --table NAME", "请用 --table 表名 指定名称"),
                                     ui_hint=Msg("type a table name", "请填写表名")))
        bad = re.search(r"[\x00-\x1f\x7f]", name)
        if bad:
            code = f"U+{ord(bad.group()):04X}"
            raise InvalidInput(Issue(Msg(f"table name {name!r} contains a control character ({code}, e.g. a newline or tab)",
                                         f"表名 {name!r} 含有控制字符（{code}，例如换行或制表符）"),
                                     hint=Msg("use letters, digits, _ and spaces", "请使用字母、数字、_ 和空格"),
                                     ui_hint=Msg("type the name on one line, without tabs", "请在一行内填写表名，不要用制表符")))
        if name != name.strip():
            raise InvalidInput(Issue(Msg(f"table name {name!r} starts or ends with spaces", f"表名 {name!r} 首尾有空格"),
                                     hint=Msg(f"use '{name.strip()}'", f"请使用 '{name.strip()}'")))
        longest = int(limits.TABLE_NAME_CHARS.value())
        if len(name) > longest:
            raise InvalidInput(Issue(Msg(f"table name is {len(name)} characters long, above the limit of {longest}",
                                         f"表名有 {len(name)} 个字符，超过上限 {longest}"),
                                     hint=Msg("choose a shorter name", "请换一个短一些的名称")))
        if name.lower().startswith(INTERNAL_PREFIX):
            raise InvalidInput(Issue(Msg(f"table name '{name}' is reserved (prefix {INTERNAL_PREFIX})",
                                         f"表名 '{name}' 是保留名（前缀 {INTERNAL_PREFIX}）"),
                                     hint=Msg("choose another name", "请换一个名称")))
        existing = {t.lower(): t for t in self.table_names(con=con)}
        if name.lower() in existing and not replace:
            other = existing[name.lower()]
            same = (Msg("already exists", "已存在") if other == name else
                    Msg(f"collides with existing table '{other}' (names ignore case)", f"与已有的表 '{other}' 重名（表名不区分大小写）"))
            raise InvalidInput(Issue(Msg(f"table '{name}' {same}", f"表 '{name}' {zh(same)}"),
                                     hint=Msg("choose another name, or replace the table (ingest --replace)",
                                              "请换一个名称，或替换这张表（ingest --replace）"),
                                     ui_hint=Msg(f"choose another name, e.g. '{self.free_name(name, con=con)}'",
                                                 f"请换一个名称，例如 '{self.free_name(name, con=con)}'")))

    def free_name(self, name: str, con=None) -> str:
        """`name` if no table has it, else the first free `name_2`, `name_3` ... (names ignore case)."""
        taken = {t.lower() for t in self.table_names(con=con)}
        if name.lower() not in taken:
            return name
        return next(f"{name}_{n}" for n in range(2, len(taken) + 3) if f"{name}_{n}".lower() not in taken)

    def table_names(self, con=None) -> list[str]:
        sql = ("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
               "AND NOT starts_with(lower(table_name), ?) ORDER BY table_name")
        if con is not None:
            return [r[0] for r in con.execute(sql, [INTERNAL_PREFIX]).fetchall()]
        with self.connect() as c:
            return [r[0] for r in c.execute(sql, [INTERNAL_PREFIX]).fetchall()]

    def tables(self) -> list[TableInfo]:
        with self.connect() as con:
            rows = con.execute("SELECT * FROM _studio_tables ORDER BY name").fetchall()
            cols = [d[0] for d in con.description]
        return [_table_info(dict(zip(cols, r))) for r in rows]

    def table_info(self, name: str) -> TableInfo:
        with self.connect() as con:
            row = con.execute("SELECT * FROM _studio_tables WHERE lower(name) = lower(?)", [name]).fetchone()
            cols = [d[0] for d in con.description]
        if row is None:
            raise InvalidInput(self._unknown_table(name))
        return _table_info(dict(zip(cols, row)))

    def _unknown_table(self, name: str) -> Issue:
        import difflib

        names = self.table_names()
        close = difflib.get_close_matches(name, names, n=1)
        listed = ', '.join(names[:10])
        hint = did_you_mean(close[0]) if close else (
            Msg(f"tables: {listed}", f"现有的表：{listed}") if names else
            Msg("ingest one first: python -m engine ingest FILE --table NAME", "请先导入一张：python -m engine ingest 文件 --table 表名"))
        return Issue(Msg(f"no table '{name}' in the data factory {self.path}", f"数据工厂 {self.path} 中没有表 '{name}'"), hint=hint,
                     ui_hint=hint if names else Msg("upload one on the Data factory page", "请先在“数据工厂”页上传一张表"))

    def schema(self, name: str) -> dict[str, str]:
        """Column name -> DuckDB type of a table."""
        return self.table_info(name).columns

    def read_table(self, name: str, columns: list[str] | None = None, limit: int | None = None) -> pd.DataFrame:
        info = self.table_info(name)
        cols = ", ".join(quote(c) for c in columns) if columns else "*"
        sql = f"SELECT {cols} FROM {quote(info.name)}" + (" LIMIT ?" if limit is not None else "")
        with self.connect() as con:
            return con.execute(sql, [limit] if limit is not None else []).df()

    def preview(self, name: str, limit: int = 20) -> pd.DataFrame:
        return self.read_table(name, limit=limit)

    def drop(self, name: str) -> None:
        info = self.table_info(name)
        with self.transaction() as con:
            con.execute(f"DROP TABLE {quote(info.name)}")
            con.execute("DELETE FROM _studio_tables WHERE name = ?", [info.name])

    def register_table(self, con, info: TableInfo) -> None:
        """Record a table's metadata (inside the caller's transaction)."""
        con.execute("DELETE FROM _studio_tables WHERE lower(name) = lower(?)", [info.name])
        con.execute("INSERT INTO _studio_tables VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [info.name, _stored_source(info.source), info.sha256, info.fingerprint, info.rows,
                     json.dumps(info.columns, ensure_ascii=False), json.dumps([_stored(w) for w in info.warnings], ensure_ascii=False),
                     info.ingested_at])


def create_from_frame(con, table: str, frame: pd.DataFrame) -> dict[str, str]:
    """CREATE TABLE from a DataFrame inside the caller's transaction; returns column -> DuckDB type."""
    con.register("_studio_frame", frame)
    try:
        con.execute(f"CREATE TABLE {quote(table)} AS SELECT * FROM _studio_frame")
    finally:
        con.unregister("_studio_frame")
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()}


def _table_info(row: dict) -> TableInfo:
    return TableInfo(row["name"], _source(row["source"]), row["sha256"], row["fingerprint"], int(row["rows"]),
                     json.loads(row["columns"]), [_warning(w) for w in json.loads(row["warnings"] or "[]")],
                     str(row["ingested_at"]))


def _stored_source(source: str) -> str:
    """A table's source as kept in its VARCHAR: JSON {en, zh} when it has Chinese (a file name stays plain)."""
    return json.dumps(source.to_dict(), ensure_ascii=False) if isinstance(source, Msg) else source


def _source(stored: str | None) -> str | None:
    if stored and stored.startswith('{"en"'):
        return _warning(json.loads(stored))
    return stored


def _stored(warning: str) -> str | dict:
    """A warning as kept in the metadata: {en, zh} when it has Chinese (older rows hold plain strings)."""
    return warning.to_dict() if isinstance(warning, Msg) else warning


def _warning(stored: str | dict) -> str:
    return Msg(stored.get("en", ""), stored.get("zh")) if isinstance(stored, dict) else stored


def _holder(exc: Exception) -> str:
    """Who holds the file: 'process 1234 (python -m engine ingest big.csv --table t)' — what the wait is for."""
    match = re.search(r"PID (\d+)", str(exc))
    if not match:
        return Msg("another process", "另一个进程")
    pid, doing = match.group(1), _command_of(match.group(1))
    return Msg(f"process {pid}{f' ({doing})' if doing else ''}", f"进程 {pid}{f'（{doing}）' if doing else ''}")


def _command_of(pid: str) -> str:
    """The command line of a local process (Linux /proc), shortened; '' when it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            parts = [p.decode("utf-8", "replace") for p in fh.read().split(b"\0") if p]
    except OSError:
        return ""
    if parts and parts[0].rsplit("/", 1)[-1].startswith("python"):
        parts[0] = "python"
    text = " ".join(parts)
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return text if len(text) <= 100 else text[:100] + "…"
