"""After a table is created: apply the user's type overrides, settle day/month date columns, and check values
(text mixed into numbers, inf, empty columns). Runs inside the ingest transaction; warnings name rows."""

from __future__ import annotations

from engine.core.dtypes import dtype_class, dtype_zh
from engine.store.catalog import quote
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg, zh
from engine.store.ingest.dialect import CsvDialect, DateColumn
from engine.store.ingest.options import NULL_TOKENS

EXAMPLES = 5
SQL_TYPES = {"numeric": "DOUBLE", "datetime": "TIMESTAMP", "category": "VARCHAR", "text": "VARCHAR", "id": "VARCHAR"}


def _number_text(col: str, dialect: CsvDialect | None) -> str:
    """SQL turning the text of a number as written in the file into one DuckDB can cast."""
    expr = f"trim(CAST({quote(col)} AS VARCHAR))"
    if dialect and dialect.decimal == ",":
        return f"replace(replace({expr}, '.', ''), ',', '.')"
    if dialect and dialect.thousands == ",":
        return f"replace({expr}, ',', '')"
    return expr


def _failures(con, table: str, col: str, converted: str) -> tuple[int, list[str]]:
    """How many non-empty values do not convert, with the first few as 'row N: value'."""
    t, c = quote(table), quote(col)
    where = f"{c} IS NOT NULL AND ({converted}) IS NULL"
    count = con.execute(f"SELECT count(*) FROM {t} WHERE {where}").fetchone()[0]
    if not count:
        return 0, []
    # row_number over the scan order (DuckDB keeps insertion order); rowid is not stable inside the transaction
    rows = con.execute(f"SELECT n, CAST({c} AS VARCHAR) FROM (SELECT row_number() OVER () AS n, * FROM {t}) "
                       f"WHERE {where} ORDER BY n LIMIT ?", [EXAMPLES]).fetchall()
    shown = [(r, v if len(v) <= 60 else v[:60] + "…") for r, v in rows]  # a value can be a whole run-away line
    return count, [Msg(f"data row {r}: '{v}'", f"第 {r} 行数据：'{v}'") for r, v in shown]


def _alter(con, table: str, col: str, sql_type: str, converted: str) -> None:
    con.execute(f"ALTER TABLE {quote(table)} ALTER {quote(col)} TYPE {sql_type} USING ({converted})")


def apply_overrides(con, table: str, columns: dict[str, str], types: dict, formats: dict,
                    dialect: CsvDialect | None) -> list[str]:
    """Cast columns to the kinds the user declared; values that do not convert become missing, and are listed."""
    warnings, unknown = [], [c for c in {**types, **formats} if c not in columns]
    if unknown:
        listed = ', '.join(list(columns)[:15])
        raise InvalidInput(Issue(Msg(f"type/format given for unknown column(s): {', '.join(unknown)}",
                                     f"为不存在的列指定了类型/格式：{', '.join(unknown)}"),
                                 hint=Msg(f"columns: {listed}", f"可选列：{listed}")))
    for col, fmt in formats.items():
        _check_format(con, col, fmt)
    for col in dict.fromkeys([*types, *formats]):
        kind = types.get(col, "datetime")
        if kind == "numeric":
            converted = f"TRY_CAST({_number_text(col, dialect)} AS DOUBLE)"
        elif kind == "datetime" and col in formats:
            converted = f"TRY_STRPTIME(CAST({quote(col)} AS VARCHAR), '{formats[col].replace(chr(39), '')}')"
        elif kind == "datetime":
            converted = f"TRY_CAST({quote(col)} AS TIMESTAMP)"
        else:
            converted = f"CAST({quote(col)} AS VARCHAR)"
        count, examples = _failures(con, table, col, converted)
        if count:
            warnings.append(Msg(f"column '{col}': {count} value(s) are not {kind} and became missing "
                                f"({'; '.join(examples)})",
                                f"列 '{col}'：{count} 个值不是{dtype_zh(kind)}，已置为缺失（{'；'.join(zh(e) for e in examples)}）"))
        _alter(con, table, col, SQL_TYPES[kind], converted)
    return warnings


def _check_format(con, col: str, fmt: str) -> None:
    """A date format DuckDB cannot parse is the user's mistake (exit 2), named with its column."""
    try:
        con.execute("SELECT TRY_STRPTIME('2000-01-01', ?)", [fmt]).fetchone()
    except Exception as exc:  # noqa: BLE001 — DuckDB's InvalidInputException; its first line says which code
        detail = str(exc).split("\n")[0].removeprefix("Invalid Input Error: ")
        raise InvalidInput(Issue(Msg(f"date format '{fmt}' for column '{col}' is not valid: {detail}",
                                     f"列 '{col}' 的日期格式 '{fmt}' 无效：{detail}"), path=f"formats.{col}",
                                 hint=Msg("use strftime codes, e.g. %Y-%m-%d %H:%M:%S or %d/%m/%Y (--format COLUMN=FORMAT)",
                                          "请使用 strftime 代码，例如 %Y-%m-%d %H:%M:%S 或 %d/%m/%Y（--format 列名=格式）"),
                                 ui_hint=Msg("use strftime codes, e.g. %Y-%m-%d %H:%M:%S or %d/%m/%Y",
                                             "请使用 strftime 代码，例如 %Y-%m-%d %H:%M:%S 或 %d/%m/%Y"))) from None


def settle_dates(con, table: str, dates: list[DateColumn], declared: set[str]) -> list[str]:
    """Decide day-first or month-first on the whole column; if the data cannot tell, say so and keep text."""
    warnings = []
    for d in dates:
        if d.name in declared:
            continue
        c = quote(d.name)
        pattern = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-]"  # RE2 in DuckDB has no back-references
        first, second = con.execute(
            f"SELECT max(TRY_CAST(regexp_extract({c}, '{pattern}', 1) AS INTEGER)), "
            f"max(TRY_CAST(regexp_extract({c}, '{pattern}', 2) AS INTEGER)) FROM {quote(table)}").fetchone()
        example = con.execute(f"SELECT {c} FROM {quote(table)} WHERE {c} IS NOT NULL LIMIT 1").fetchone()[0]
        if (first or 0) > 12 and (second or 0) > 12:
            warnings.append(Msg(f"column '{d.name}': dates mix day-first and month-first (e.g. '{example}'); kept as "
                                f"text — fix the export or give its format",
                                f"列 '{d.name}'：日期混用了日在前和月在前（例如 '{example}'）；已保留为文本"
                                f"——请修正导出或指定它的格式"))
            continue
        if (first or 0) <= 12 and (second or 0) <= 12:
            warnings.append(Msg(f"column '{d.name}': day/month order is ambiguous (e.g. '{example}' could be either); "
                                f"kept as text — give its format, e.g. {d.format(True)} or {d.format(False)}",
                                f"列 '{d.name}'：无法判断日和月的先后（例如 '{example}' 两种都可能）；已保留为文本"
                                f"——请指定它的格式，例如 {d.format(True)} 或 {d.format(False)}"))
            continue
        fmt = d.format(day_first=(first or 0) > 12)
        converted = f"TRY_STRPTIME({c}, '{fmt}')"
        count, examples = _failures(con, table, d.name, converted)
        if count:
            warnings.append(Msg(f"column '{d.name}': {count} value(s) do not match {fmt} and became missing "
                                f"({'; '.join(examples)})",
                                f"列 '{d.name}'：{count} 个值不符合 {fmt}，已置为缺失（{'；'.join(zh(e) for e in examples)}）"))
        _alter(con, table, d.name, "TIMESTAMP", converted)
        warnings.append(Msg(f"column '{d.name}': read as dates in the format {fmt} (decided from the data)",
                            f"列 '{d.name}'：按格式 {fmt} 读为日期（根据数据判断）"))
    return warnings


def check_values(con, table: str, dialect: CsvDialect | None, skip: set[str]) -> list[str]:
    """Warnings about numbers written as text, inf values (made missing) and empty columns.

    One scan counts every column's filled and infinite values; only columns that need more get more queries."""
    warnings = []
    columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()}
    parts = [f"count({quote(c)})" for c in columns] + [
        f"count(*) FILTER (WHERE isinf({quote(c)}))" for c, t in columns.items() if t in ("DOUBLE", "FLOAT")]
    counts = con.execute(f"SELECT count(*), {', '.join(parts)} FROM {quote(table)}").fetchone()
    rows, filled = counts[0], dict(zip(columns, counts[1:]))
    infinite = dict(zip([c for c, t in columns.items() if t in ("DOUBLE", "FLOAT")], counts[1 + len(columns):]))
    for col, sql_type in columns.items():
        kind = dtype_class(sql_type)
        if sql_type.startswith("TIMESTAMP WITH TIME ZONE") or (kind == "text" and col not in skip and filled[col]):
            found, sql_type = _timezones(con, table, col, sql_type)
            warnings += found
            kind = dtype_class(sql_type)
        if kind == "text" and col not in skip and filled[col]:
            converted, found = _mixed(con, table, col, dialect)
            warnings += found
            if converted:  # e.g. 'inf' or a late 'n/a' made the sniffer read a numeric column as text
                _alter(con, table, col, "DOUBLE", converted)
                infinite[col] = con.execute(f"SELECT count(*) FROM {quote(table)} WHERE isinf({quote(col)})"
                                            ).fetchone()[0]
        if infinite.get(col):
            con.execute(f"UPDATE {quote(table)} SET {quote(col)} = NULL WHERE isinf({quote(col)})")
            warnings.append(Msg(f"column '{col}': {infinite[col]} infinite value(s) (inf) made missing",
                                f"列 '{col}'：{infinite[col]} 个无穷大值（inf）已置为缺失"))
        if rows and not filled[col]:
            warnings.append(Msg(f"column '{col}' is empty in every row", f"列 '{col}' 每一行都是空的"))
    return warnings


def _mixed(con, table: str, col: str, dialect: CsvDialect | None) -> tuple[str | None, list[str]]:
    """(SQL converting the column to numbers when every value is one — missing-value words like 'n/a' count as
    missing —, warnings when most but not all values are numbers)."""
    c = quote(col)
    tokens = ", ".join("'" + t.replace("'", "''") + "'" for t in NULL_TOKENS)
    converted = f"CASE WHEN trim({c}) IN ({tokens}) THEN NULL ELSE TRY_CAST({_number_text(col, dialect)} AS DOUBLE) END"
    filled, numeric = con.execute(f"SELECT count(*) FILTER (WHERE trim({c}) NOT IN ({tokens})), count({converted}) "
                                  f"FROM {quote(table)}").fetchone()
    if not filled or numeric < 0.5 * filled or (numeric < 0.8 * filled and filled - numeric > EXAMPLES * 4):
        return None, []  # a text column (a few number-like values in it say nothing)
    if numeric == filled:
        return converted, []
    count, examples = _failures(con, table, col, f"CASE WHEN trim({c}) IN ({tokens}) THEN 0 ELSE {converted} END")
    return None, [Msg(f"column '{col}' is mostly numbers but {count} value(s) are text ({'; '.join(examples)}); it was "
                      f"kept as text — fix those values, or declare the column numeric to make them missing",
                      f"列 '{col}' 大部分是数字，但有 {count} 个值是文本（{'；'.join(zh(e) for e in examples)}）；已保留为文本"
                      f"——请修正这些值，或把该列声明为数值，使它们变为缺失")]


_OFFSET = r"(Z|[+-]\d{2}(:?\d{2})?)$"


def _timezones(con, table: str, col: str, sql_type: str) -> tuple[list[str], str]:
    """Times carrying UTC offsets become UTC; a column mixing offset and local times is reported, not guessed."""
    c, t = quote(col), quote(table)
    to_utc = f"timezone('UTC', TRY_CAST({c} AS TIMESTAMPTZ))"
    if sql_type.startswith("TIMESTAMP WITH TIME ZONE"):
        _alter(con, table, col, "TIMESTAMP", f"timezone('UTC', {c})")
        return [_utc(col)], "TIMESTAMP"
    filled, stamps, with_offset = con.execute(
        f"SELECT count({c}), count(TRY_CAST({c} AS TIMESTAMPTZ)), "
        f"count(*) FILTER (WHERE regexp_matches(trim({c}), '{_OFFSET}') AND TRY_CAST({c} AS TIMESTAMPTZ) IS NOT NULL) "
        f"FROM {t}").fetchone()
    if not filled or stamps < filled or not with_offset:
        return [], sql_type
    if with_offset < filled:
        return [Msg(f"column '{col}' mixes times with a time zone ({with_offset}) and without ({filled - with_offset}); "
                    f"kept as text — export all times in one zone",
                    f"列 '{col}' 混有带时区（{with_offset} 个）和不带时区（{filled - with_offset} 个）的时间；"
                    f"已保留为文本——请统一按一个时区导出")], sql_type
    _alter(con, table, col, "TIMESTAMP", to_utc)
    return [_utc(col)], "TIMESTAMP"


def _utc(col: str) -> Msg:
    return Msg(f"column '{col}': times with UTC offsets converted to UTC", f"列 '{col}'：带 UTC 偏移的时间已转换为 UTC")
