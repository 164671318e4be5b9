"""After a table is created: apply the user's type overrides, settle day/month date columns, and check values
(text mixed into numbers, inf, empty columns). Runs inside the ingest transaction; warnings name rows."""

from __future__ import annotations

from engine.dtypes import dtype_class
from engine.catalog import quote
from engine.errors import InvalidInput, Issue
from engine.ingest.dialect import CsvDialect, DateColumn

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
    return count, [f"data row {r}: '{v}'" for r, v in rows]


def _alter(con, table: str, col: str, sql_type: str, converted: str) -> None:
    con.execute(f"ALTER TABLE {quote(table)} ALTER {quote(col)} TYPE {sql_type} USING ({converted})")


def apply_overrides(con, table: str, columns: dict[str, str], types: dict, formats: dict,
                    dialect: CsvDialect | None) -> list[str]:
    """Cast columns to the kinds the user declared; values that do not convert become missing, and are listed."""
    warnings, unknown = [], [c for c in {**types, **formats} if c not in columns]
    if unknown:
        raise InvalidInput(Issue(f"type/format given for unknown column(s): {', '.join(unknown)}",
                                 hint=f"columns: {', '.join(list(columns)[:15])}"))
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
            warnings.append(f"column '{col}': {count} value(s) are not {kind} and became missing "
                            f"({'; '.join(examples)})")
        _alter(con, table, col, SQL_TYPES[kind], converted)
    return warnings


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
            warnings.append(f"column '{d.name}': dates mix day-first and month-first (e.g. '{example}'); kept as "
                            f"text — fix the export or give its format")
            continue
        if (first or 0) <= 12 and (second or 0) <= 12:
            warnings.append(f"column '{d.name}': day/month order is ambiguous (e.g. '{example}' could be either); "
                            f"kept as text — give its format, e.g. {d.format(True)} or {d.format(False)}")
            continue
        fmt = d.format(day_first=(first or 0) > 12)
        converted = f"TRY_STRPTIME({c}, '{fmt}')"
        count, examples = _failures(con, table, d.name, converted)
        if count:
            warnings.append(f"column '{d.name}': {count} value(s) do not match {fmt} and became missing "
                            f"({'; '.join(examples)})")
        _alter(con, table, d.name, "TIMESTAMP", converted)
        warnings.append(f"column '{d.name}': read as dates in the format {fmt} (decided from the data)")
    return warnings


def check_values(con, table: str, dialect: CsvDialect | None, skip: set[str]) -> list[str]:
    """Warnings about numbers written as text, inf values (made missing) and empty columns."""
    warnings = []
    columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()}
    rows = con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]
    for col, sql_type in columns.items():
        c, kind = quote(col), dtype_class(sql_type)
        if kind == "text" and col not in skip:
            all_numbers, found = _mixed(con, table, col, dialect)
            warnings += found
            if all_numbers:  # e.g. 'inf' made the sniffer read a numeric column as text
                _alter(con, table, col, "DOUBLE", f"TRY_CAST({_number_text(col, dialect)} AS DOUBLE)")
                sql_type = "DOUBLE"
        if sql_type in ("DOUBLE", "FLOAT"):
            infinite = con.execute(f"SELECT count(*) FROM {quote(table)} WHERE isinf({c})").fetchone()[0]
            if infinite:
                con.execute(f"UPDATE {quote(table)} SET {c} = NULL WHERE isinf({c})")
                warnings.append(f"column '{col}': {infinite} infinite value(s) (inf) made missing")
        if rows and con.execute(f"SELECT count({c}) FROM {quote(table)}").fetchone()[0] == 0:
            warnings.append(f"column '{col}' is empty in every row")
    return warnings


def _mixed(con, table: str, col: str, dialect: CsvDialect | None) -> tuple[bool, list[str]]:
    """(every value is a number, warnings when most but not all are)."""
    converted = f"TRY_CAST({_number_text(col, dialect)} AS DOUBLE)"
    filled, numeric = con.execute(f"SELECT count({quote(col)}), count({converted}) FROM {quote(table)}").fetchone()
    if not filled or numeric < 0.8 * filled:
        return False, []
    if numeric == filled:
        return True, []
    count, examples = _failures(con, table, col, converted)
    return False, [f"column '{col}' is mostly numbers but {count} value(s) are text ({'; '.join(examples)}); it was kept "
            f"as text — fix those values, or declare the column numeric to make them missing"]
