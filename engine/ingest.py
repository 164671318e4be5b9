"""Read a file (CSV/TSV, Parquet, Excel) into a data-factory table, all or nothing.

CSV is streamed by DuckDB straight from disk (never whole into pandas). Text that is not UTF-8 is detected
(GBK/GB18030 being the common case in Chinese plants) and transcoded to a temporary UTF-8 copy first.
"""

from __future__ import annotations

import codecs
import hashlib
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from engine.catalog import Catalog, TableInfo, quote
from engine.errors import InvalidInput, Issue

CSV_EXT = {".csv", ".tsv", ".txt"}
PARQUET_EXT = {".parquet", ".pq"}
EXCEL_EXT = {".xlsx", ".xlsm", ".xls"}
SAMPLE_BYTES = 1 << 16
FALLBACK_ENCODINGS = ("gb18030",)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path) -> None:
    if not path.exists():
        raise InvalidInput(Issue(f"file not found: {path}", hint="check the path and the working folder"))
    if not path.is_file():
        raise InvalidInput(Issue(f"not a file: {path}"))
    if path.stat().st_size == 0:
        raise InvalidInput(Issue("the file is empty (0 bytes)", str(path), hint="export the data again"))
    ext = path.suffix.lower()
    if ext not in CSV_EXT | PARQUET_EXT | EXCEL_EXT:
        raise InvalidInput(Issue(f"unsupported file type '{ext or '(none)'}'", str(path),
                                 hint="use CSV/TSV, Parquet or Excel (.xlsx/.xls)"))


def detect_encoding(path: Path) -> str:
    """'utf-8' (BOM or not) or a fallback that decodes the start of the file; refuses binary files."""
    sample = path.read_bytes()[:SAMPLE_BYTES] if path.stat().st_size <= SAMPLE_BYTES else _head(path)
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


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(SAMPLE_BYTES)


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


def _csv_relation_sql(path: Path) -> tuple[str, list]:
    delim = "\t" if path.suffix.lower() == ".tsv" else None
    opts = ", delim = ?" if delim else ""
    return f"SELECT * FROM read_csv(?, header = true, auto_detect = true{opts})", [str(path)] + ([delim] if delim else [])


def _create_from_file(con, table: str, path: Path, sheet) -> list[str]:
    """CREATE TABLE from the file inside the open transaction; returns warnings."""
    ext, warnings = path.suffix.lower(), []
    if ext in CSV_EXT:
        encoding = detect_encoding(path)
        with tempfile.TemporaryDirectory() as tmp:
            source = path
            if encoding != "utf-8":
                source = transcode_to_utf8(path, encoding, tmp)
                warnings.append(f"text encoding {encoding.upper()} converted to UTF-8")
            sql, args = _csv_relation_sql(source)
            _run_read(con, f"CREATE TABLE {quote(table)} AS {sql}", args, path)
    elif ext in PARQUET_EXT:
        _run_read(con, f"CREATE TABLE {quote(table)} AS SELECT * FROM read_parquet(?)", [str(path)], path)
    else:
        frame = _read_excel(path, sheet)
        con.register("_studio_upload", frame)
        try:
            con.execute(f"CREATE TABLE {quote(table)} AS SELECT * FROM _studio_upload")
        finally:
            con.unregister("_studio_upload")
    return warnings


def _run_read(con, sql: str, args: list, path: Path) -> None:
    try:
        con.execute(sql, args)
    except duckdb.Error as exc:
        text = str(exc).split("\n\n")[0].strip()
        hint = "check that the file is a well-formed table with one header row"
        if "unicode" in text.lower():
            hint = "the file mixes encodings; export it again as UTF-8"
        raise InvalidInput(Issue(f"could not read the file: {text}", str(path), hint=hint)) from None


def _read_excel(path: Path, sheet) -> pd.DataFrame:
    try:
        sheets = pd.ExcelFile(path, engine="calamine").sheet_names
    except Exception as exc:
        raise InvalidInput(Issue(f"not a readable Excel workbook: {exc}", str(path))) from None
    chosen = sheets[0] if sheet is None else sheet
    if isinstance(chosen, str) and chosen not in sheets:
        raise InvalidInput(Issue(f"no sheet '{chosen}'", str(path), hint=f"sheets in this workbook: {', '.join(sheets)}"))
    frame = pd.read_excel(path, sheet_name=chosen, engine="calamine")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def ingest_file(catalog: Catalog, path: str | Path, table: str, *, replace: bool = False, sheet=None) -> TableInfo:
    """Ingest `path` as table `table` in one transaction: on any error the data factory is unchanged."""
    path = Path(path)
    check_file(path)
    catalog.check_new_name(table, replace=replace)  # fail fast, before reading anything
    digest: dict[str, object] = {}

    def hash_file() -> None:
        try:
            digest["sha"] = sha256_file(path)
        except OSError as exc:
            digest["error"] = exc

    hasher = threading.Thread(target=hash_file)
    hasher.start()  # hashing overlaps with DuckDB's read (both release the GIL)
    try:
        with catalog.transaction() as con:
            catalog.check_new_name(table, replace=replace, con=con)  # again: another process may have taken it
            existing = [t for t in catalog.table_names(con=con) if t.lower() == table.lower()]
            for old in existing:
                con.execute(f"DROP TABLE {quote(old)}")
            warnings = _create_from_file(con, table, path, sheet)
            rows = con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]
            columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()}
            if rows == 0:
                raise InvalidInput(Issue("the file has a header but no data rows", str(path),
                                         hint="export the data rows too"))
            hasher.join()
            if "error" in digest:
                raise InvalidInput(Issue(f"could not read the file to fingerprint it: {digest['error']}", str(path)))
            info = TableInfo(table, path.name, digest["sha"], _fingerprint(digest["sha"], sheet), int(rows), columns,
                             warnings, datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"))
            catalog.register_table(con, info)
    finally:
        hasher.join()
    return info


def _fingerprint(sha: str, sheet) -> str:
    return hashlib.sha256(f"{sha}|sheet={sheet}|duckdb={duckdb.__version__}".encode()).hexdigest()


def read_file_frame(path: str | Path, sheet=None) -> tuple[pd.DataFrame, str]:
    """A file binding read without touching the data factory: (frame, fingerprint)."""
    path = Path(path)
    check_file(path)
    con = duckdb.connect()
    try:
        _create_from_file(con, "bound_file", path, sheet)
        frame = con.execute('SELECT * FROM "bound_file"').df()
    finally:
        con.close()
    if frame.empty:
        raise InvalidInput(Issue("the file has a header but no data rows", str(path)))
    return frame, _fingerprint(sha256_file(path), sheet)


def describe_file(path: str | Path, sheet=None) -> dict[str, str]:
    """Column name -> DuckDB type of a file (for compiling a recipe bound to a file)."""
    frame, _ = read_file_frame(path, sheet)
    con = duckdb.connect()
    try:
        con.register("f", frame)
        return {r[0]: r[1] for r in con.execute("DESCRIBE f").fetchall()}
    finally:
        con.close()
