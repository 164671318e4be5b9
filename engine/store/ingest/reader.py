"""Reading any supported file into a DuckDB table inside the caller's connection (the job of an ingest and of a
recipe's bound file alike): CSV streamed by DuckDB with the sniffed dialect, rejected lines named, text not UTF-8
transcoded first; Excel through pandas; Parquet as it is. Then the type overrides and the value checks
(engine.store.ingest.convert). Storing the table in the data factory is engine.store.ingest.core's job."""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path
from typing import Callable

import duckdb

from engine.core import limits
from engine.store.catalog import create_from_frame, quote
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.store.ingest import convert
from engine.store.ingest.dialect import CsvDialect, renamed_list, sniff
from engine.store.ingest.encoding import scan_encoding
from engine.store.ingest.excel import read_sheet
from engine.store.ingest.options import IngestOptions
from engine.store.ingest.text import CSV_EXT, PARQUET_EXT, transcode_to_utf8

Progress = Callable[[float, str], None]
_NO_ROWS = Msg("the file has a header but no data rows", "文件只有表头，没有数据行")
SNIFF_CHARS = 1 << 18


def _sniff_file(path: Path, delimiter: str | None, shown: Path | None = None) -> CsvDialect:
    """The dialect, refusing files with no header, a first line past the sniff sample, or too many columns."""
    shown = shown or path
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        text = fh.read(SNIFF_CHARS)
        complete = not fh.read(1)
    if not complete and "\n" not in text and "\r" not in text:
        raise InvalidInput(Issue(Msg(f"line 1 is longer than {SNIFF_CHARS:,} characters: not a table export",
                                     f"第 1 行超过 {SNIFF_CHARS:,} 个字符：不像是表格导出"), str(shown), line=1,
                                 hint=Msg("check that the file is a CSV with one record per line",
                                          "请检查文件是否为每行一条记录的 CSV")))
    if not text.strip():
        raise InvalidInput(Issue(Msg("the file has only blank lines: no header, no data",
                                     "文件只有空行：没有表头，也没有数据"), str(shown),
                                 hint=Msg("export the data again", "请重新导出数据")))
    dialect = sniff(text, complete, delimiter)
    _check_columns(len(dialect.names), shown, dialect.skip + 1)
    return dialect


def _check_columns(count: int, shown: Path, line: int | None = None) -> None:
    limit = int(limits.COLUMNS.value())
    if count > limit:
        raise InvalidInput(Issue(Msg(f"the header has {count:,} columns, above the limit of {limit:,}",
                                     f"表头有 {count:,} 列，超过上限 {limit:,}"), str(shown), line=line,
                                 hint=Msg("check the delimiter (a wide table is usually a wrong one), or keep only the "
                                          f"columns you need; {limits.COLUMNS.raise_hint()}",
                                          f"请检查分隔符（列数过多通常是分隔符不对），或只保留需要的列；"
                                          f"{limits.COLUMNS.raise_hint().zh}")))


def _read_csv(con, table: str, path: Path, dialect: CsvDialect, opts: IngestOptions, progress: Progress,
              shown: Path | None = None) -> list[str]:
    """CREATE TABLE from a UTF-8 CSV with the sniffed dialect; malformed rows stop it unless skipped. Problems
    name `shown` (the user's file) when `path` is a converted copy of it."""
    shown = shown or path
    as_text = {c: "VARCHAR" for c in [*opts.types, *(d.name for d in dialect.date_columns)] if c in dialect.names}
    args = {"path": str(path), "delim": dialect.delimiter, "skip": dialect.skip, "names": dialect.names,
            "nulls": dialect.null_tokens, "dec": dialect.decimal}
    if dialect.thousands:
        args["th"] = dialect.thousands
    # DuckDB reads local times and times with offsets alike as TIMESTAMPTZ; read those as text so that
    # convert.check_values can tell a clean offset column from a mixed one
    try:
        sniffed = con.execute(f"DESCRIBE SELECT * FROM {_reader(dialect, as_text)}", _args(args, as_text)).fetchall()
    except duckdb.Error as exc:
        raise _unreadable(exc, path, shown) from None
    as_text.update({name: "VARCHAR" for name, kind, *_ in sniffed if kind.startswith("TIMESTAMP WITH TIME ZONE")})
    _with_progress(con, f"CREATE TABLE {quote(table)} AS SELECT * FROM {_reader(dialect, as_text)}",
                   _args(args, as_text), shown, progress, path)
    late_text = _cast_rejects(con)
    if late_text:  # text after DuckDB's type sample (a stray 'n/a' at row 50,000): read those columns as text
        as_text.update({c: "VARCHAR" for c in late_text})
        con.execute(f"DROP TABLE {quote(table)}")
        con.execute("DELETE FROM _studio_rejects")
        _with_progress(con, f"CREATE TABLE {quote(table)} AS SELECT * FROM {_reader(dialect, as_text)}",
                       _args(args, as_text), shown, progress, path)
    warnings = _rejects(con, shown, dialect, opts.skip_bad_rows)
    if len(dialect.names) == 1:  # DuckDB reads a blank line of a one-column file as a row: not at the end
        c = quote(dialect.names[0])
        con.execute(f"DELETE FROM {quote(table)} WHERE rowid > (SELECT coalesce(max(rowid), -1) FROM {quote(table)} "
                    f"WHERE {c} IS NOT NULL)")
    if dialect.skip:
        warnings.insert(0, Msg(f"took line {dialect.skip + 1} as the header ({dialect.skip} line(s) above it skipped)",
                               f"以第 {dialect.skip + 1} 行作为表头（跳过了它上面的 {dialect.skip} 行）"))
    if dialect.renames:
        renamed = renamed_list(dialect.renames)
        warnings.append(Msg("renamed columns: " + renamed, "已重命名的列：" + renamed))
    if dialect.decimal == "," or dialect.thousands:
        warnings.append(Msg(f"numbers read with decimal '{dialect.decimal}'"
                            + (f" and thousands separator '{dialect.thousands}'" if dialect.thousands else ""),
                            f"数字按小数点 '{dialect.decimal}'"
                            + (f"、千位分隔符 '{dialect.thousands}'" if dialect.thousands else "") + " 读取"))
    return warnings


def _reader(dialect: CsvDialect, types: dict) -> str:
    extra = (", thousands = $th" if dialect.thousands else "") + (", types = $types" if types else "")
    return (f"read_csv($path, delim = $delim, skip = $skip, header = true, names = $names, nullstr = $nulls, "
            f"max_line_size = {int(limits.LINE_KB.value() * 1024)}, "
            f"decimal_separator = $dec, quote = '\"', store_rejects = true, rejects_table = '_studio_rejects', "
            f"rejects_scan = '_studio_reject_scans'{extra})")


def _args(args: dict, types: dict) -> dict:
    return {**args, "types": types} if types else args


def _cast_rejects(con) -> list[str]:
    """Columns whose values failed the sniffed type (only when every reject is such a cast error)."""
    kinds = con.execute("SELECT DISTINCT error_type FROM _studio_rejects").fetchall()
    if not kinds or {k[0] for k in kinds} != {"CAST"}:
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT column_name FROM _studio_rejects").fetchall()]


def _with_progress(con, sql: str, args, path: Path, progress: Progress, source: Path | None = None) -> None:
    """Run a long statement while a thread reports DuckDB's own query progress (`path`: the user's file;
    `source`: the file read, when it is a converted copy)."""
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.5):
            fraction = con.query_progress()
            if fraction is not None and fraction >= 0:
                progress(min(fraction / 100.0, 0.99), Msg("reading", "读取中"))

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        con.execute(sql, args)
    except duckdb.Error as exc:
        raise _unreadable(exc, source or path, path) from None
    finally:
        done.set()
        watcher.join()


def _unreadable(exc: Exception, source: Path, shown: Path) -> InvalidInput:
    """DuckDB could not read the file: say why in plain words (never DuckDB's list of reader options)."""
    text = str(exc).split("\n")[0].strip()
    too_long = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+)", str(exc))
    if too_long:
        limit, size = int(too_long.group(1)), int(too_long.group(2))
        return InvalidInput(Issue(Msg(f"a line is {size:,} bytes long, above the limit of {limit:,} bytes",
                                      f"有一行长 {size:,} 字节，超过上限 {limit:,} 字节"), str(shown),
                                  hint=Msg("check the delimiter and quotes (one record per line), or raise "
                                           "AI_STUDIO_MAX_LINE_KB", "请检查分隔符和引号（每行一条记录），或调高 AI_STUDIO_MAX_LINE_KB")))
    line = _unclosed_quote_line(source) if source.suffix.lower() in CSV_EXT or source != shown else None
    if line is not None:
        return InvalidInput(Issue(Msg(f'a quote (") opened on line {line} is never closed, so the rest of the file '
                                      f"would be one value", f'第 {line} 行开始的引号（"）没有闭合，后面的内容会被当成一个值'),
                                  str(shown), line=line,
                                  hint=Msg('close the quote on that line, or remove it (a " inside a value is written "")',
                                           '请在这一行补上闭合的引号，或删掉它（值里的引号要写成 ""）')))
    if "unicode" in text.lower():
        return InvalidInput(Issue(Msg("the file has bytes that are not valid text", "文件中有不是有效文本的字节"),
                                  str(shown), hint=Msg("the file mixes encodings; export it again as UTF-8",
                                                       "文件混用了多种编码；请重新导出为 UTF-8")))
    text = text.removeprefix("Invalid Input Error: ").removeprefix("Conversion Error: ")
    if shown.suffix.lower() in PARQUET_EXT:
        return InvalidInput(Issue(Msg(f"not a readable Parquet file: {text}", f"不是可读取的 Parquet 文件：{text}"),
                                  str(shown), hint=Msg("export it again (e.g. pandas DataFrame.to_parquet), or use CSV",
                                                       "请重新导出（例如 pandas 的 DataFrame.to_parquet），或改用 CSV")))
    return InvalidInput(Issue(Msg(f"could not read the file: {text}", f"无法读取文件：{text}"), str(shown),
                              hint=Msg("check that the file is a well-formed table with one header row",
                                       "请检查文件是否为只有一行表头的规整表格")))


def _unclosed_quote_line(path: Path, max_bytes: int = 64 << 20) -> int | None:
    """The line where a double quote opens and is never closed (quotes counted per line), if any."""
    open_at, line = None, 0
    try:
        with path.open("rb") as fh:
            for line, raw in enumerate(fh, start=1):
                if raw.count(b'"') % 2:
                    open_at = None if open_at else line
                if fh.tell() > max_bytes:
                    return None
    except OSError:
        return None
    return open_at


def _rejects(con, path: Path, dialect: CsvDialect, skip_bad: bool) -> list[str]:
    count = con.execute("SELECT count(*) FROM _studio_rejects").fetchone()[0]
    if not count:
        return []
    rows = con.execute("SELECT line, error_type, csv_line FROM _studio_rejects ORDER BY line LIMIT 5").fetchall()
    listed = "; ".join(f"line {line}: {kind.lower().replace('_', ' ')} ('{text[:60]}')" for line, kind, text in rows)
    listed_zh = "；".join(f"第 {line} 行：{_REJECT_ZH.get(kind.replace(' ', '_'), kind)}（'{text[:60]}'）" for line, kind, text in rows)
    fields = len(dialect.names)
    message = f"{count} malformed row(s) (the header has {fields} fields) — {listed}"
    message_zh = f"{count} 行格式不正确（表头有 {fields} 个字段）— {listed_zh}"
    if not skip_bad:
        raise InvalidInput(Issue(Msg(message, message_zh), str(path),
                                 hint=Msg("fix those lines, or ingest again skipping bad rows (--skip-bad-rows)",
                                          "请修正这些行，或跳过坏行重新导入（--skip-bad-rows）"),
                                 ui_hint=Msg("fix those lines, or tick 'Skip malformed rows' and import again",
                                             "请修正这些行，或勾选“跳过格式错误的行”后重新导入")))
    return [Msg(f"skipped {message}", f"已跳过 {message_zh}")]


_REJECT_ZH = {"TOO_FEW_COLUMNS": "字段太少", "MISSING_COLUMNS": "缺少字段", "TOO_MANY_COLUMNS": "字段太多",
              "CAST": "类型转换失败",
              "UNQUOTED_VALUE": "引号不配对", "MISSING_QUOTES": "缺少引号", "INVALID_UNICODE": "无效的 Unicode 字符",
              "LINE_SIZE_OVER_MAXIMUM": "行太长"}


def _create(con, table: str, path: Path, opts: IngestOptions, progress: Progress) -> list[str]:
    """CREATE TABLE `table` from any supported file (inside the caller's transaction); returns warnings."""
    ext, dialect, warnings = path.suffix.lower(), None, []
    if ext in CSV_EXT:
        encoding, encoding_warnings = scan_encoding(path)
        with tempfile.TemporaryDirectory() as tmp:
            source = path
            if encoding != "utf-8":
                progress(0.0, Msg(f"converting {encoding.upper()} to UTF-8", f"正在把 {encoding.upper()} 转换为 UTF-8"))
                source = transcode_to_utf8(path, encoding, tmp)
                warnings += encoding_warnings
            dialect = _sniff_file(source, opts.delimiter or ("\t" if ext == ".tsv" else None), path)
            warnings += _read_csv(con, table, source, dialect, opts, progress, shown=path)
    elif ext in PARQUET_EXT:
        _with_progress(con, f"CREATE TABLE {quote(table)} AS SELECT * FROM read_parquet($path)",
                       {"path": str(path)}, path, progress)
    else:
        frame, sheet_warnings = read_sheet(path, opts.sheet)
        warnings += sheet_warnings
        create_from_frame(con, table, frame)
    columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()}
    _check_columns(len(columns), path)
    warnings += convert.apply_overrides(con, table, columns, opts.types, opts.formats, dialect)
    declared = set(opts.types) | set(opts.formats)
    if dialect:
        warnings += convert.settle_dates(con, table, dialect.date_columns, declared)
    warnings += convert.check_values(con, table, dialect, declared)
    return warnings


