"""Type classes of DuckDB column types, as templates name them (numeric, bool, datetime, text, category)."""

from __future__ import annotations


def dtype_class(duckdb_type: str) -> str:
    """numeric / bool / datetime / text / other for a DuckDB type name."""
    t = duckdb_type.upper()
    if t == "BOOLEAN":
        return "bool"
    if t.startswith(("DATE", "TIMESTAMP", "TIME")):
        return "datetime"
    if t.startswith(("VARCHAR", "ENUM", "CHAR", "TEXT", "STRING")):
        return "text"
    if t.startswith(("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                     "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")):
        return "numeric"
    return "other"


def matches(duckdb_type: str, allowed: list[str]) -> bool:
    """Whether a column of this type may play a role (or fill a param) that allows `allowed` dtypes."""
    cls = dtype_class(duckdb_type)
    if "any" in allowed or cls in allowed:
        return True
    return "category" in allowed and cls in ("text", "bool")
