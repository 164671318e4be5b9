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


DTYPE_ZH = {"numeric": "数值", "bool": "布尔", "datetime": "日期时间", "text": "文本", "category": "类别", "id": "标识",
            "other": "其他类型", "any": "任意类型"}


def dtype_zh(names: str | list[str]) -> str:
    """The Chinese of one type class, or of several joined with '/' (for messages)."""
    items = [names] if isinstance(names, str) else names
    return "/".join(DTYPE_ZH.get(n, n) for n in items)
