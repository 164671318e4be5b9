"""Bytes to text: file checks, encoding detection (UTF-8, BOM, GBK/GB18030), streaming transcoding, hashing."""

from __future__ import annotations

import codecs
import hashlib
import os
from pathlib import Path

from engine.errors import InvalidInput, Issue

CSV_EXT = {".csv", ".tsv", ".txt"}
PARQUET_EXT = {".parquet", ".pq"}
EXCEL_EXT = {".xlsx", ".xlsm", ".xls"}
SAMPLE_BYTES = 1 << 16
FALLBACK_ENCODINGS = ("gb18030",)


def max_file_bytes() -> int:
    """Upload limit: AI_STUDIO_MAX_FILE_MB (default 4096 MB)."""
    return int(float(os.environ.get("AI_STUDIO_MAX_FILE_MB", "4096")) * (1 << 20))


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path, limit: int | None = None) -> None:
    if not path.exists():
        raise InvalidInput(Issue(f"file not found: {path}", hint="check the path and the working folder"))
    if not path.is_file():
        raise InvalidInput(Issue(f"not a file: {path}"))
    size, limit = path.stat().st_size, limit if limit is not None else max_file_bytes()
    if size == 0:
        raise InvalidInput(Issue("the file is empty (0 bytes)", str(path), hint="export the data again"))
    if size > limit:
        raise InvalidInput(Issue(f"the file is {size / 2**20:,.0f} MB, above the limit of {limit / 2**20:,.0f} MB",
                                 str(path), hint="split the export, or raise AI_STUDIO_MAX_FILE_MB"))
    ext = path.suffix.lower()
    if ext not in CSV_EXT | PARQUET_EXT | EXCEL_EXT:
        raise InvalidInput(Issue(f"unsupported file type '{ext or '(none)'}'", str(path),
                                 hint="use CSV/TSV, Parquet or Excel (.xlsx/.xls)"))


def head_bytes(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def detect_encoding(path: Path) -> str:
    """'utf-8' (BOM or not) or a fallback that decodes the start of the file; refuses binary files."""
    sample = head_bytes(path)
    if b"\x00" in sample:
        raise InvalidInput(Issue("this looks like a binary file, not text (it contains NUL bytes)", str(path),
                                 hint="export the sheet as CSV, or upload the Excel/Parquet file itself"))
    for encoding in ("utf-8", *FALLBACK_ENCODINGS):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InvalidInput(Issue("the text is neither UTF-8 nor GBK/GB18030", str(path),
                             hint="save the file as UTF-8 CSV (Excel: Save As → CSV UTF-8)"))


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
                raise InvalidInput(Issue(f"line {bad_line}: bytes that are not valid {encoding.upper()} text "
                                         f"(detected from the start of the file)", str(path),
                                         hint="the file mixes encodings; export it again as UTF-8")) from None
            line += block.count(b"\n")
            dst.write(text)
        dst.write(decoder.decode(b"", final=True))
    return target
