"""How to read a file: one pydantic model drives validation, the CLI flags and the UI's ingest form."""

from __future__ import annotations

from typing import Literal

from engine.schema.base import Strict, ui_field

Kind = Literal["numeric", "category", "datetime", "text", "id"]
NULL_TOKENS = ["", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A", "#DIV/0!", "-", "--", "空", "无"]


class IngestOptions(Strict):
    mode: Literal["create", "replace", "append"] = ui_field(
        "create", en="If the table exists", zh="表已存在时", widget="radio",
        help_en="create refuses an existing name; append checks the columns match", help_zh="追加时检查列一致")
    sheet: str | int | None = ui_field(None, en="Excel sheet", zh="Excel 工作表")
    delimiter: Literal[",", ";", "\t", "|"] | None = ui_field(None, en="Delimiter (auto if empty)", zh="分隔符(留空自动)")
    types: dict[str, Kind] = ui_field({}, en="Column types", zh="列类型",
                                      help_en="override the detected type of a column", help_zh="覆盖自动识别的列类型")
    formats: dict[str, str] = ui_field({}, en="Date formats", zh="日期格式",
                                       help_en="e.g. %d/%m/%Y %H:%M for a datetime column", help_zh="例如 %d/%m/%Y %H:%M")
    skip_bad_rows: bool = ui_field(False, en="Skip malformed rows", zh="跳过格式错误的行",
                                   help_en="otherwise a row with too few or too many fields stops the ingest",
                                   help_zh="否则字段数不对的行会中止导入")
