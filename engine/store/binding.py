"""Resolve a recipe's `data:` binding into a DataSource: its column types, a fingerprint, and a lazy loader.

The fingerprint is cheap (table metadata, file hash, or the SQL plus the fingerprints of the tables it reads)
so a fully cached rerun never loads the data at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from engine.store.catalog import Catalog, quote
from engine.core.dtypes import dtype_class, matches
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.store.ingest import describe_file, read_file_frame, sha256_file
from engine.schema.recipe import DataBinding


@dataclass
class DataSource:
    label: str
    columns: dict[str, str]  # column -> DuckDB type
    fingerprint: str
    loader: Callable[[], pd.DataFrame]
    rows: int | None = None

    def load(self) -> pd.DataFrame:
        frame = self.loader()
        self.rows = len(frame)
        return frame


def check_select(sql: str, allowed_tables: list[str]) -> list[str]:
    """Accept exactly one SELECT that reads only data-factory tables; return the tables it reads."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise InvalidInput(Issue(Msg(f"SQL does not parse: {first}", f"SQL 无法解析：{first}"), path="data.sql")) from None
    if len(statements) != 1:
        raise InvalidInput(Issue(Msg(f"SQL must be a single SELECT statement (found {len(statements)} statements)",
                                     f"SQL 只能是一条 SELECT 语句（现在有 {len(statements)} 条）"), path="data.sql",
                                 hint=Msg("remove the extra statements and the ';' between them", "请删除多余的语句和它们之间的 ';'")))
    kind = statements[0].type.name
    if kind != "SELECT":
        raise InvalidInput(Issue(Msg(f"SQL must be a read-only SELECT, not {kind}", f"SQL 必须是只读的 SELECT，不能是 {kind}"),
                                 path="data.sql", hint=Msg("data bindings only read; change data through ingest",
                                                           "数据绑定只读取数据；修改数据请通过导入")))
    con = duckdb.connect()
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    finally:
        con.close()
    functions, tables = [], []
    _walk(tree, functions, tables)
    if functions:
        listed = ', '.join(functions)
        raise InvalidInput(Issue(Msg(f"SQL may only read data-factory tables, not table functions ({listed})",
                                     f"SQL 只能读取数据工厂中的表，不能用表函数（{listed}）"), path="data.sql",
                                 hint=Msg("ingest the file first, then select from its table", "请先导入文件，再从它的表中查询")))
    lower = {t.lower() for t in allowed_tables}
    unknown = [t for t in tables if t.lower() not in lower]
    if unknown:
        raise InvalidInput(Issue(Msg(f"SQL reads unknown table(s): {', '.join(unknown)}", f"SQL 读取了不存在的表：{', '.join(unknown)}"),
                                 path="data.sql", hint=Msg(f"tables in the data factory: {', '.join(allowed_tables) or '(none)'}",
                                                           f"数据工厂中的表：{', '.join(allowed_tables) or '（无）'}")))
    return tables


def _walk(node, functions: list, tables: list) -> None:
    if isinstance(node, dict):
        if node.get("type") == "TABLE_FUNCTION":
            functions.append(node.get("function", {}).get("function_name", "?"))
        if node.get("type") == "BASE_TABLE":
            tables.append(node.get("table_name", ""))
        for value in node.values():
            _walk(value, functions, tables)
    elif isinstance(node, list):
        for value in node:
            _walk(value, functions, tables)


def resolve(binding: DataBinding, catalog: Catalog, base_dir: Path | None = None) -> DataSource:
    """The DataSource for a binding; errors name the missing table/file or the refused SQL."""
    if binding.table:
        info = catalog.table_info(binding.table)
        return DataSource(Msg(f"table {info.name}", f"表 {info.name}"), info.columns, info.fingerprint,
                          lambda: catalog.read_table(info.name), info.rows)
    if binding.file:
        path = Path(binding.file)
        if not path.is_absolute() and base_dir is not None and not path.exists():
            path = base_dir / path
        columns = describe_file(path, binding.sheet)
        return DataSource(Msg(f"file {path}", f"文件 {path}"), columns, hashlib.sha256(
            f"{sha256_file(path)}|{binding.sheet}".encode()).hexdigest(),
            lambda: read_file_frame(path, binding.sheet)[0])
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
            first = str(exc).splitlines()[0]
            raise InvalidInput(Issue(Msg(f"SQL fails: {first}", f"SQL 执行失败：{first}"), path="data.sql")) from None

    def load() -> pd.DataFrame:
        with catalog.connect() as c:
            return c.execute(sql).df()

    return DataSource(Msg("sql query", "SQL 查询"), columns, fingerprint, load)


__all__ = ["DataSource", "check_select", "dtype_class", "matches", "quote", "resolve"]
