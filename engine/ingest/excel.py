"""Excel sheets to a frame: choose the sheet, find the header under title rows, name merged/blank header cells."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from engine.errors import InvalidInput, Issue
from engine.ingest.dialect import unique_names


def read_sheet(path: Path, sheet) -> tuple[pd.DataFrame, list[str]]:
    """(frame, warnings) for one sheet of an .xlsx/.xls workbook."""
    try:
        sheets = pd.ExcelFile(path, engine="calamine").sheet_names
    except Exception as exc:  # calamine's errors are plain exceptions with a useful text
        raise InvalidInput(Issue(f"not a readable Excel workbook: {exc}", str(path))) from None
    chosen = sheets[0] if sheet is None else sheet
    if isinstance(chosen, int) and not 0 <= chosen < len(sheets):
        raise InvalidInput(Issue(f"no sheet number {chosen}", str(path), hint=f"sheets: {', '.join(sheets)}"))
    if isinstance(chosen, str) and chosen not in sheets:
        raise InvalidInput(Issue(f"no sheet '{chosen}'", str(path), hint=f"sheets in this workbook: {', '.join(sheets)}"))
    raw = pd.read_excel(path, sheet_name=chosen, engine="calamine", header=None)
    raw = raw.dropna(how="all").dropna(axis=1, how="all")
    if raw.empty:
        raise InvalidInput(Issue(f"sheet '{chosen}' is empty", str(path)))
    header_at = _header_row(raw)
    header = ["" if pd.isna(v) else str(v) for v in raw.iloc[header_at]]
    names, renames = unique_names(header)
    frame = raw.iloc[header_at + 1:].reset_index(drop=True)
    frame.columns = names
    warnings = []
    if header_at:
        warnings.append(f"took row {raw.index[header_at] + 1} of sheet '{chosen}' as the header")
    if renames:
        blank = sum(1 for old, _ in renames if not old.strip())
        note = f" ({blank} blank header cells — merged cells?)" if blank else ""
        warnings.append("renamed columns" + note + ": " + ", ".join(f"'{o}' → '{n}'" for o, n in renames))
    return _infer(frame), warnings


def _header_row(raw: pd.DataFrame) -> int:
    """First row with at least half the typical number of filled cells: title rows above a table fill one cell,
    while a header with merged (blank) cells still fills most of them."""
    filled = raw.notna().sum(axis=1).tolist()
    width = Counter(filled[len(filled) // 2:]).most_common(1)[0][0]
    need = max(2, -(-width // 2)) if width >= 2 else 1
    return next((i for i, n in enumerate(filled) if n >= need), 0)


def _infer(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns that are all numbers (or all datetimes) get that type; the rest stay text."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object:
            numbers = pd.to_numeric(s, errors="coerce")
            if numbers.notna().sum() == s.notna().sum():
                s = numbers
            elif all(isinstance(v, pd.Timestamp) for v in s.dropna()):
                s = pd.to_datetime(s)
            else:
                s = s.map(lambda v: None if pd.isna(v) else str(v)).astype("string")
        out[col] = s
    return pd.DataFrame(out)
