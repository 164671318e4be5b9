"""Bytes to text: file checks, encoding detection (UTF-8, BOM, GBK/GB18030), streaming transcoding, hashing."""

from __future__ import annotations

import codecs
import hashlib
import os
from pathlib import Path

from engine.core import limits
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg

CSV_EXT = {".csv", ".tsv", ".txt"}
PARQUET_EXT = {".parquet", ".pq"}
EXCEL_EXT = {".xlsx", ".xlsm", ".xls"}
SAMPLE_BYTES = 1 << 16
FALLBACK_ENCODINGS = ("gb18030",)


def max_file_bytes() -> int:
    """Upload limit: AI_STUDIO_MAX_FILE_MB (default 4096 MB; see engine/limits.py)."""
    return int(limits.FILE_MB.value() * (1 << 20))


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path, limit: int | None = None) -> None:
    if not path.exists():
        raise InvalidInput(Issue(Msg(f"file not found: {path}", f"找不到文件：{path}"),
                                 hint=Msg("check the path and the working folder", "请检查路径和工作目录")))
    if not path.is_file():
        what = (Msg("a folder", "文件夹") if path.is_dir() else
                Msg("a pipe or a device, not a regular file", "管道或设备，不是普通文件"))
        raise InvalidInput(Issue(Msg(f"this is {what}", f"这是{what.zh}"), str(path),
                                 hint=Msg("give the path of one CSV, Excel or Parquet file (for a folder of exports, "
                                          "ingest each file, e.g. with --append)",
                                          "请给出一个 CSV、Excel 或 Parquet 文件的路径（一个文件夹的导出请逐个导入，例如用 --append）")))
    size, limit = path.stat().st_size, limit if limit is not None else max_file_bytes()
    if size == 0:
        raise InvalidInput(Issue(Msg("the file is empty (0 bytes)", "文件是空的（0 字节）"), str(path),
                                 hint=Msg("export the data again", "请重新导出数据")))
    if size > limit:
        raise InvalidInput(Issue(Msg(f"the file is {size / 2**20:,.0f} MB, above the limit of {limit / 2**20:,.0f} MB",
                                     f"文件有 {size / 2**20:,.0f} MB，超过上限 {limit / 2**20:,.0f} MB"), str(path),
                                 hint=Msg("split the export, or raise AI_STUDIO_MAX_FILE_MB",
                                          "请拆分导出，或调高 AI_STUDIO_MAX_FILE_MB")))
    ext = path.suffix.lower()
    if ext not in CSV_EXT | PARQUET_EXT | EXCEL_EXT:
        raise InvalidInput(Issue(Msg(f"unsupported file type '{ext or '(none)'}'", f"不支持的文件类型 '{ext or '（无）'}'"),
                                 str(path), hint=Msg("use CSV/TSV, Parquet or Excel (.xlsx/.xls)",
                                                     "请使用 CSV/TSV、Parquet 或 Excel（.xlsx/.xls）")))


def head_bytes(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def detect_encoding(path: Path) -> str:
    """'utf-8' (BOM or not) or a fallback that decodes the start of the file; refuses binary files."""
    sample = head_bytes(path)
    if b"\x00" in sample:
        raise InvalidInput(Issue(Msg("this looks like a binary file, not text (it contains NUL bytes)",
                                     "这看起来是二进制文件，不是文本（含有 NUL 字节）"), str(path),
                                 hint=Msg("export the sheet as CSV, or upload the Excel/Parquet file itself",
                                          "请把表格导出为 CSV，或直接上传 Excel/Parquet 文件")))
    for encoding in ("utf-8", *FALLBACK_ENCODINGS):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InvalidInput(Issue(Msg("the text is neither UTF-8 nor GBK/GB18030", "文本既不是 UTF-8，也不是 GBK/GB18030"),
                             str(path), hint=Msg("save the file as UTF-8 CSV (Excel: Save As → CSV UTF-8)",
                                                 "请把文件保存为 UTF-8 CSV（Excel：另存为 → CSV UTF-8）")))


def transcode_to_utf8(path: Path, encoding: str, out_dir: str) -> Path:
    """Stream `path` into a UTF-8 copy; a byte that does not decode is reported with its line number."""
    target = Path(out_dir) / (path.stem + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while block := src.read(1 << 20):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                bad_line = line + block[: exc.start].count(b"\n")
                raise InvalidInput(Issue(Msg(f"line {bad_line}: bytes that are not valid {encoding.upper()} text "
                                             f"(the encoding read from the rest of the file)",
                                             f"第 {bad_line} 行：含有不是有效 {encoding.upper()} 文本的字节（与文件其余部分的编码不同）"),
                                         str(path), hint=Msg("the file mixes encodings; export it again as UTF-8",
                                                             "文件混用了多种编码；请重新导出为 UTF-8"))) from None
            line += block.count(b"\n")
            dst.write(text)
        dst.write(decoder.decode(b"", final=True))
    return target
