"""Excel sheets to a frame: choose the sheet, find the header under title rows, name merged/blank header cells."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.store.ingest.dialect import renamed_list, unique_names


def read_sheet(path: Path, sheet) -> tuple[pd.DataFrame, list[str]]:
    """(frame, warnings) for one sheet of an .xlsx/.xls workbook."""
    try:
        sheets = pd.ExcelFile(path, engine="calamine").sheet_names
    except Exception as exc:  # calamine's errors are plain exceptions with a useful text
        raise InvalidInput(Issue(Msg(f"not a readable Excel workbook: {exc}", f"无法读取的 Excel 工作簿：{exc}"),
                                 str(path), hint=_excel_hint(path))) from None
    chosen = sheets[0] if sheet is None else sheet
    if isinstance(chosen, int) and not 0 <= chosen < len(sheets):
        raise InvalidInput(Issue(Msg(f"no sheet number {chosen}", f"没有编号为 {chosen} 的工作表"), str(path),
                                 hint=Msg(f"sheets: {', '.join(sheets)}", f"工作表：{', '.join(sheets)}")))
    if isinstance(chosen, str) and chosen not in sheets:
        raise InvalidInput(Issue(Msg(f"no sheet '{chosen}'", f"没有工作表 '{chosen}'"), str(path),
                                 hint=Msg(f"sheets in this workbook: {', '.join(sheets)}", f"本工作簿的工作表：{', '.join(sheets)}")))
    raw = pd.read_excel(path, sheet_name=chosen, engine="calamine", header=None)
    raw = raw.dropna(how="all").dropna(axis=1, how="all")
    if raw.empty:
        raise InvalidInput(Issue(Msg(f"sheet '{chosen}' is empty", f"工作表 '{chosen}' 是空的"), str(path)))
    header_at = _header_row(raw)
    header = ["" if pd.isna(v) else str(v) for v in raw.iloc[header_at]]
    names, renames = unique_names(header)
    frame = raw.iloc[header_at + 1:].reset_index(drop=True)
    frame.columns = names
    warnings = []
    if header_at:
        row = raw.index[header_at] + 1
        warnings.append(Msg(f"took row {row} of sheet '{chosen}' as the header", f"以工作表 '{chosen}' 的第 {row} 行作为表头"))
    if renames:
        blank = sum(1 for old, _ in renames if not old.strip())
        note, note_zh = (f" ({blank} blank header cells — merged cells?)", f"（{blank} 个空白表头单元格——合并单元格？）") \
            if blank else ("", "")
        renamed = renamed_list(renames)
        warnings.append(Msg("renamed columns" + note + ": " + renamed, "已重命名的列" + note_zh + "：" + renamed))
    return _infer(frame), warnings


def _excel_hint(path: Path) -> Msg:
    """What to do with a file named like a workbook that is not one (a renamed CSV, an HTML or XML 'Excel' export)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        head = b""
    if head.lstrip().lower().startswith((b"<html", b"<!doctype", b"<?xml", b"<table")):
        return Msg("the file is a web page or XML saved with an Excel name: open it in Excel and Save As .xlsx, "
                   "or export CSV", "这个文件其实是网页或 XML，只是用了 Excel 的扩展名：请用 Excel 打开后另存为 .xlsx，或导出 CSV")
    if head and b"\x00" not in head and (b"," in head or b";" in head or b"\t" in head):
        return Msg(f"the file looks like CSV text: rename it to {path.stem}.csv and ingest that",
                   f"这个文件看起来是 CSV 文本：请改名为 {path.stem}.csv 再导入")
    if head.startswith(b"PK") or head.startswith(bytes.fromhex("d0cf11e0")):
        return Msg("the workbook is damaged or password-protected: open it in Excel, remove the password, and "
                   "Save As .xlsx", "工作簿已损坏或有密码保护：请用 Excel 打开、去掉密码后另存为 .xlsx")
    return Msg("open it in Excel and Save As .xlsx (or export CSV)", "请用 Excel 打开后另存为 .xlsx（或导出 CSV）")


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
