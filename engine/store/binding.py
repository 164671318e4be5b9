"""Resolve a recipe's `data:` binding into a DataSource: its column types, a fingerprint, and a lazy loader.

The fingerprint is cheap (table metadata, file hash, or the SQL plus the fingerprints of the tables it reads)
so a fully cached rerun never loads the data at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from engine.core import config
from engine.store.catalog import INTERNAL_PREFIX, Catalog, quote
from engine.core.dtypes import dtype_class, matches
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.store import reading
from engine.store.ingest import bound
from engine.schema.recipe import DataBinding


_STATS: dict[tuple[str, str], tuple[int, int, int]] = {}


@dataclass
class DataSource:
    label: str
    columns: dict[str, str]  # column -> DuckDB type
    fingerprint: str
    loader: Callable[[], pd.DataFrame]
    rows: int | None = None
    # column -> (rows, rows where it has a value, distinct values): lets validation refuse a too-small table or a
    # constant target before a run starts
    column_stats: Callable[[str], tuple[int, int, int]] | None = None
    # (a connection context, the relation to select from): lets a run read only its columns, or a sample
    relation: Callable[[], tuple] | None = None
    read_plan: reading.ReadPlan | None = None

    def stats(self, column: str) -> tuple[int, int, int] | None:
        if self.column_stats is None or column not in self.columns:
            return None
        key = (self.fingerprint, column)
        if key not in _STATS:
            if len(_STATS) > 256:
                _STATS.clear()
            _STATS[key] = tuple(int(v) for v in self.column_stats(column))
        return _STATS[key]

    def load(self) -> pd.DataFrame:
        if self.read_plan is not None and self.relation is not None:
            opened, relation = self.relation()
            with opened as con:
                frame = reading.read(con, relation, self.read_plan)
            if self.read_plan.sampled:  # model steps see it (learning curve) through pandas' attrs
                frame.attrs["sample"] = self.read_plan.describe()
        else:
            frame = self.loader()
        self.rows = len(frame)
        return frame

    def plan_read(self, columns: list[str], *, time: str | None, target: str | None,
                  budget_mb: float | None = None) -> reading.ReadPlan | None:
        """Read only `columns`, and a stratified sample when they exceed the memory budget (the fingerprint then
        names the sample, so a cached step never mixes a sample with the whole table)."""
        if self.relation is None:
            return None
        rows = self.rows if self.rows is not None else self._count()
        self.read_plan = reading.plan(rows, [c for c in self.columns if c in set(columns)], time=time, target=target,
                                      budget_mb=budget_mb)
        if self.read_plan.sampled:
            self.fingerprint = hashlib.sha256(f"{self.fingerprint}|sample:{self.read_plan.rows_used}:"
                                              f"{self.read_plan.stratum}".encode()).hexdigest()
        return self.read_plan

    def _count(self) -> int:
        opened, relation = self.relation()
        with opened as con:
            return int(con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0])


_SELECT_HINT = Msg("a data binding is one SELECT ... FROM a data-factory table [JOIN ...] [WHERE ...]; CTEs (WITH) are fine",
                   "数据绑定是一条 SELECT ... FROM 数据工厂中的表 [JOIN ...] [WHERE ...]；可以使用 CTE（WITH）")


def _duck_text(exc: Exception) -> str:
    """DuckDB's message without its error class and caret drawing: 'syntax error at or near "FORM"'."""
    first = str(exc).split("\n")[0]
    return re.sub(r"^[A-Za-z ]+ Error: ", "", first).strip()


def _refuse(en: str, zh_text: str, hint: Msg = _SELECT_HINT) -> InvalidInput:
    return InvalidInput(Issue(Msg(en, zh_text), path="data.sql", hint=hint))


def check_select(sql: str, allowed_tables: list[str]) -> list[str]:
    """Accept exactly one SELECT that reads only data-factory tables (and its own CTEs); return the tables it reads.

    Refused: other statements, table functions (read_csv ...), SHOW/DESCRIBE/SUMMARIZE, schema-qualified names
    (information_schema, other databases) and the studio's internal _studio_* tables."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        text = _duck_text(exc)
        raise _refuse(f"SQL does not parse: {text}", f"SQL 无法解析：{text}") from None
    if len(statements) != 1:
        raise InvalidInput(Issue(Msg(f"SQL must be a single SELECT statement (found {len(statements)} statements)",
                                     f"SQL 只能是一条 SELECT 语句（现在有 {len(statements)} 条）"), path="data.sql",
                                 hint=Msg("remove the extra statements and the ';' between them", "请删除多余的语句和它们之间的 ';'")))
    kind = statements[0].type.name
    if kind == "MULTI":  # PIVOT / UNPIVOT expand into several statements
        raise _refuse("this form of SELECT is not supported in a data binding (e.g. PIVOT)",
                      "数据绑定不支持这种形式的 SELECT（例如 PIVOT）")
    if kind != "SELECT":
        raise InvalidInput(Issue(Msg(f"SQL must be a read-only SELECT, not {kind}", f"SQL 必须是只读的 SELECT，不能是 {kind}"),
                                 path="data.sql", hint=Msg("data bindings only read; change data through ingest",
                                                           "数据绑定只读取数据；修改数据请通过导入")))
    con = duckdb.connect()
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    finally:
        con.close()
    if tree.get("error"):  # PIVOT and other forms DuckDB cannot describe: nothing to check them by, so refused
        raise _refuse("this form of SELECT is not supported in a data binding (e.g. PIVOT)",
                      "数据绑定不支持这种形式的 SELECT（例如 PIVOT）")
    refs = _Refs()
    _walk(tree, refs)
    if refs.functions:
        listed = ', '.join(refs.functions)
        raise InvalidInput(Issue(Msg(f"SQL may only read data-factory tables, not table functions ({listed})",
                                     f"SQL 只能读取数据工厂中的表，不能用表函数（{listed}）"), path="data.sql",
                                 hint=Msg("ingest the file first, then select from its table", "请先导入文件，再从它的表中查询")))
    if refs.show:
        raise _refuse("SQL may only select rows, not SHOW, DESCRIBE or SUMMARIZE (they list the database itself)",
                      "SQL 只能查询数据行，不能用 SHOW、DESCRIBE 或 SUMMARIZE（它们列出的是数据库本身）",
                      Msg("the Data factory page (or: python -m engine tables) lists the tables and their columns",
                          "“数据工厂”页（或 python -m engine tables）会列出各表及其列"))
    internal = [t for t in refs.tables if t.lower().startswith(INTERNAL_PREFIX)]
    if internal or refs.qualified:
        listed = ", ".join(internal + refs.qualified)
        raise _refuse(f"SQL may only read the data factory's own tables, not {listed} (internal or system tables)",
                      f"SQL 只能读取数据工厂中的数据表，不能读取 {listed}（内部表或系统表）",
                      Msg(f"tables in the data factory: {', '.join(allowed_tables) or '(none)'}",
                          f"数据工厂中的表：{', '.join(allowed_tables) or '（无）'}"))
    lower = {t.lower() for t in allowed_tables}
    tables = [t for t in refs.tables if t.lower() not in refs.ctes]
    unknown = [t for t in tables if t.lower() not in lower]
    if unknown:
        raise InvalidInput(Issue(Msg(f"SQL reads unknown table(s): {', '.join(unknown)}", f"SQL 读取了不存在的表：{', '.join(unknown)}"),
                                 path="data.sql", hint=Msg(f"tables in the data factory: {', '.join(allowed_tables) or '(none)'}",
                                                           f"数据工厂中的表：{', '.join(allowed_tables) or '（无）'}")))
    return list(dict.fromkeys(tables))


@dataclass
class _Refs:
    tables: list = field(default_factory=list)
    functions: list = field(default_factory=list)
    qualified: list = field(default_factory=list)
    ctes: set = field(default_factory=set)
    show: bool = False


def _walk(node, refs: _Refs) -> None:
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            refs.functions.append(node.get("function", {}).get("function_name", "?"))
        elif kind == "SHOW_REF":
            refs.show = True
        elif kind == "BASE_TABLE":
            name, schema, catalog = node.get("table_name", ""), node.get("schema_name", ""), node.get("catalog_name", "")
            if catalog or schema.lower() not in ("", "main"):
                refs.qualified.append(".".join(p for p in (catalog, schema, name) if p))
            else:
                refs.tables.append(name)
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            refs.ctes.update(str(entry.get("key", "")).lower() for entry in cte_map.get("map", []))
        for value in node.values():
            _walk(value, refs)
    elif isinstance(node, list):
        for value in node:
            _walk(value, refs)


def file_roots(base_dir: Path | None, catalog: Catalog) -> list[Path]:
    """Folders a recipe's `data: {file: ...}` may read from: the recipe's folder, the working folder, the studio's
    home and data-factory folder, the temporary folder (uploads), and AI_STUDIO_FILE_ROOTS (os.pathsep separated)."""
    extra = [Path(p) for p in os.environ.get("AI_STUDIO_FILE_ROOTS", "").split(os.pathsep) if p]
    roots = [base_dir, Path.cwd(), config.studio_home(), catalog.path.parent, Path(tempfile.gettempdir()), *extra]
    return [Path(os.path.realpath(r)) for r in roots if r is not None]


def check_file_root(path: Path, base_dir: Path | None, catalog: Catalog) -> None:
    """Refuse a file binding that resolves (through a symlink or '..') outside the allowed folders — before
    reading a byte of it, so nothing of its content can show up in a message."""
    real = Path(os.path.realpath(path))
    roots = file_roots(base_dir, catalog)
    if any(real == r or r in real.parents for r in roots):
        return
    via = (Msg(f" (it is a link to {real})", f"（它链接到 {real}）") if os.path.realpath(path) != os.path.abspath(path)
           else Msg("", ""))
    raise InvalidInput(Issue(Msg(f"file {path} is outside the folders a recipe may read{via}",
                                 f"文件 {path} 不在配方允许读取的文件夹内{via.zh}"), path="data.file",
                             hint=Msg("copy the file next to the recipe, ingest it as a table (python -m engine ingest), "
                                      "or add its folder to AI_STUDIO_FILE_ROOTS",
                                      "请把文件复制到配方旁边、把它导入为表（python -m engine ingest），"
                                      "或把它所在的文件夹加入 AI_STUDIO_FILE_ROOTS")))


def resolve(binding: DataBinding, catalog: Catalog, base_dir: Path | None = None) -> DataSource:
    """The DataSource for a binding; errors name the missing table/file or the refused SQL."""
    if binding.table:
        info = catalog.table_info(binding.table)
        return DataSource(Msg(f"table {info.name}", f"表 {info.name}"), info.columns, info.fingerprint,
                          lambda: catalog.read_table(info.name), info.rows,
                          lambda col: _sql_stats(catalog, quote(info.name), col),
                          lambda: (catalog.connect(), quote(info.name)))
    if binding.file:
        path = Path(binding.file)
        if not path.is_absolute() and base_dir is not None and not path.exists():
            path = base_dir / path
        check_file_root(path, base_dir, catalog)
        db, file_fingerprint = bound.staged(path, binding.sheet)
        with bound.connect(db) as con:
            columns = {r[0]: r[1] for r in con.execute(f'DESCRIBE "{bound.TABLE}"').fetchall()}
            rows = int(con.execute(f'SELECT count(*) FROM "{bound.TABLE}"').fetchone()[0])
        table = f'"{bound.TABLE}"'

        def stats(col: str) -> tuple[int, int, int]:
            with bound.connect(db) as con:
                return _stats_on(con, table, col)
        return DataSource(Msg(f"file {path}", f"文件 {path}"), columns, hashlib.sha256(
            f"{file_fingerprint}|{binding.sheet}".encode()).hexdigest(),
            lambda: bound.read_file_frame(path, binding.sheet)[0], rows, stats, lambda: (bound.connect(db), table))
    return _resolve_sql(binding.sql, catalog)


def _resolve_sql(sql: str, catalog: Catalog) -> DataSource:
    tables = check_select(sql, catalog.table_names())
    infos = {t.lower(): catalog.table_info(t) for t in tables}
    fingerprint = hashlib.sha256(
        (sql + "|" + "|".join(sorted(i.fingerprint for i in infos.values()))).encode()).hexdigest()
    with catalog.connect() as con:
        try:
            columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE ({sql})").fetchall()}
        except duckdb.Error as exc:
            text = _duck_text(exc)
            raise _refuse(f"SQL fails: {text}", f"SQL 执行失败：{text}",
                          Msg("check the column and table names against the Data factory page (python -m engine tables)",
                              "请对照“数据工厂”页（python -m engine tables）检查列名和表名")) from None

    def load() -> pd.DataFrame:
        with catalog.connect() as c:
            return c.execute(sql).df()

    return DataSource(Msg("sql query", "SQL 查询"), columns, fingerprint, load, None,
                      lambda col: _sql_stats(catalog, f"({sql})", col), lambda: (catalog.connect(), f"({sql})"))


def _sql_stats(catalog: Catalog, source: str, column: str) -> tuple[int, int, int]:
    with catalog.connect() as con:
        return _stats_on(con, source, column)


def _stats_on(con, source: str, column: str) -> tuple[int, int, int]:
    c = quote(column)
    return con.execute(f"SELECT count(*), count({c}), count(DISTINCT {c}) FROM {source}").fetchone()


__all__ = ["DataSource", "check_select", "dtype_class", "matches", "quote", "resolve"]
