"""`score(...)`: read new data (a frame, a file or a data-factory table), check it against the run's saved model,
predict in chunks, and write the predictions (CSV, Parquet, a new table, or kept in memory).

The input is checked through a DuckDB view in a private in-memory connection and read back from Parquet one row
group (one chunk) at a time, so a file of a million rows × a hundred columns is never held whole (a model with
pandas rolling windows reads its input whole, as its windows need each row's history). Every check runs before the
first prediction; a problem leaves nothing behind (files are written to a temporary name and renamed at the end;
a table is ingested in one transaction once every chunk is scored).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from engine.store.catalog import Catalog, quote
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.service.scoring import Loaded, load_run_model

CHUNK_ROWS = 100_000
DUCKDB_MEMORY = "256MB"   # the private connection that checks the input (issue 21: scoring memory stays near a chunk)
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
            "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN")
_RELATION = "score_input"


@dataclass
class ScoreResult:
    run_id: str
    rows: int
    seconds: float
    out_of_range: int
    out_of_range_columns: dict[str, int]
    columns: list[str]
    model: dict
    frame: pd.DataFrame | None = None  # the predictions, when kept in memory
    path: str | None = None
    table: str | None = None
    warnings: list = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "rows": self.rows, "seconds": round(self.seconds, 3),
                "rows_per_second": round(self.rows_per_second, 1), "out_of_range": self.out_of_range,
                "out_of_range_columns": self.out_of_range_columns, "columns": self.columns, "model": self.model,
                "path": self.path, "table": self.table}


def score(catalog: Catalog, run_id: str, run_dir: str | Path, *, data: pd.DataFrame | str | Path | None = None,
          table: str | None = None, keep: list[str] | None = None, out: str | Path | None = None,
          into: str | None = None, collect: bool | None = None, chunk_rows: int = CHUNK_ROWS,
          latest: bool = False) -> ScoreResult:
    """Predict new rows with the run's saved model. Exactly one of `data` (a DataFrame or a CSV/Parquet/Excel file)
    and `table`. `out` writes a .csv or .parquet file, `into` a new data-factory table; `collect` keeps the
    predictions in memory (default: when neither is given)."""
    manifest, model = load_run_model(run_id, Path(run_dir))
    if latest:
        model.latest = True  # models with unit windows score each unit's last row only
    keep = list(dict.fromkeys(keep or []))
    out_kind = _out_kind(out) if out else None
    if into:
        catalog.check_new_name(into)
    collect = (out is None and into is None) if collect is None else collect
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="score-") as tmp, duckdb.connect() as con:
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")  # its checks scan the input: no need to read far ahead
        source = Source(con, Path(tmp), chunk_rows)
        data = model.source_data(data, Path(tmp)) if data is not None else data
        _open(source, catalog, data, table)
        columns = _check(con, model, manifest, keep)
        ids = [c for c in manifest.get("id_columns", []) if c in columns["present"]]
        wanted = list(dict.fromkeys([*ids, *keep, *model.kinds()]))
        sinks = []
        if out:
            sinks.append(_FileSink(Path(out), out_kind))
        if into:
            sinks.append(_FileSink(Path(tmp) / "into.parquet", "parquet"))
        if collect:
            sinks.append(_MemorySink())
        rows, flagged, by_column, names = 0, 0, {}, []
        try:
            for chunk in model.batches(source, wanted, chunk_rows):
                predicted = model.predict(chunk)
                part = pd.concat([chunk[[*ids, *[k for k in keep if k not in ids]]].reset_index(drop=True),
                                  predicted.reset_index(drop=True)], axis=1)
                names = list(part.columns)
                for sink in sinks:
                    sink.write(part)
                rows += len(part)
                flagged += int(predicted["out_of_range"].sum())
                for col, n in model.out_of_range_columns(chunk).items():
                    by_column[col] = by_column.get(col, 0) + n
            outputs = [sink.close() for sink in sinks]
        except BaseException:
            for sink in sinks:
                sink.abort()
            raise
        path = str(Path(out)) if out else None
        if into:
            from engine.store.ingest import ingest_file

            ingest_file(catalog, Path(tmp) / "into.parquet", into)
        frame = outputs[-1] if collect else None
    return ScoreResult(run_id, rows, time.perf_counter() - started, flagged, by_column, names,
                       {"kind": manifest["kind"], **model.describe()}, frame, path, into)


def score_run(run_id: str, data=None, *, table: str | None = None, keep: list[str] | None = None,
              out: str | Path | None = None, into: str | None = None, collect: bool | None = None, db=None,
              chunk_rows: int | None = None, latest: bool = False) -> ScoreResult:
    """Apply a run's saved model to new rows: `data` a DataFrame or a CSV/Parquet/Excel file, or `table` a
    data-factory table (`latest`: a unit-windowed model scores each unit's last row, its current state). Returns a
    ScoreResult (rows, rows/s, out-of-range counts, the predictions when kept in memory); `out` writes PRED.csv /
    PRED.parquet, `into` keeps them as a new table. Bad input: InvalidInput naming the columns, nothing written."""
    from engine.service.runner import get_run
    from engine.service.tables import catalog

    run = get_run(run_id, db)
    return score(catalog(db), run_id, run["run_dir"], data=data, table=table, keep=keep, out=out, into=into,
                 collect=collect, chunk_rows=chunk_rows or CHUNK_ROWS, latest=latest)


def save_frame_table(frame: pd.DataFrame, table: str, *, db=None):
    """Keep a DataFrame (e.g. predictions shown on a page) as a new data-factory table, through the ordinary ingest."""
    from engine.service.tables import catalog, ingest_frame

    catalog(db).check_new_name(table)
    return ingest_frame(frame, table, db=db)


# ---------------------------------------------------------------- reading the input

class Source:
    """The new rows: a DuckDB view `score_input` (for the checks) over a Parquet file read back in row groups, or
    over a DataFrame already in memory. CSV, Excel and tables are first copied to a temporary Parquet file whose row
    groups are one chunk each (pyarrow reads one row group at a time: memory stays at about a chunk)."""

    def __init__(self, con, tmp: Path, chunk_rows: int):
        self.con, self.tmp, self.chunk_rows = con, tmp, chunk_rows
        self.relation = _RELATION
        self.parquet: Path | None = None
        self.frame: pd.DataFrame | None = None

    def use_frame(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.con.register("_score_frame", frame)
        self.con.execute(f"CREATE OR REPLACE VIEW {_RELATION} AS SELECT * FROM _score_frame")

    def use_parquet(self, path: Path) -> None:
        self.parquet = path
        self.con.execute(f"CREATE OR REPLACE VIEW {_RELATION} AS SELECT * FROM read_parquet('{_sql_path(path)}')")

    def copy_of(self, con, select: str) -> Path:
        """Run `select` on `con` into a temporary Parquet file of chunk-sized row groups."""
        path = self.tmp / f"input{len(list(self.tmp.glob('input*.parquet')))}.parquet"
        con.execute(f"COPY ({select}) TO '{_sql_path(path)}' (FORMAT parquet, ROW_GROUP_SIZE {self.chunk_rows})")
        return path

    def iter_frames(self, columns: list[str], chunk_rows: int):
        if self.frame is not None:
            for start in range(0, len(self.frame), chunk_rows):
                yield self.frame.iloc[start:start + chunk_rows][columns]
            return
        yield from _parquet_frames(self.parquet, columns, chunk_rows)

    def read(self, columns: list[str]) -> pd.DataFrame:
        if self.frame is not None:
            return self.frame[columns]
        import pyarrow.parquet as pq

        return pq.read_table(self.parquet, columns=columns).to_pandas()

    def sql_frames(self, select: str, chunk_rows: int):
        """The rows of a SELECT over `score_input` (e.g. window features), in chunks."""
        yield from _parquet_frames(self.copy_of(self.con, select), None, chunk_rows)


def _parquet_frames(path: Path, columns: list[str] | None, chunk_rows: int):
    import pyarrow.parquet as pq

    reader = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering would read the whole file ahead
    for batch in reader.iter_batches(batch_size=chunk_rows, columns=columns):
        yield batch.to_pandas()


def _open(source: Source, catalog: Catalog, data, table: str | None) -> None:
    """Point `score_input` at the new rows."""
    if (data is None) == (table is None):
        raise InvalidInput(Issue(Msg("give the new data as a file (--data FILE) or a table (--table NAME), one of them",
                                     "请以文件（--data 文件）或数据表（--table 表名）之一给出新数据"),
                                 ui_hint=Msg("upload a file or pick a table", "请上传文件或选择一张表")))
    if isinstance(data, pd.DataFrame):
        source.use_frame(data)
        return
    if table is not None:
        info = catalog.table_info(table)
        with catalog.connect() as fc:  # a short hold of the data factory: the rows are copied out, then scored
            source.use_parquet(source.copy_of(fc, f"SELECT * FROM {quote(info.name)}"))
        return
    _open_file(source, Path(data))


def _open_file(source: Source, path: Path) -> None:
    if not path.is_file():
        raise InvalidInput(Issue(Msg(f"file not found: {path}", f"找不到文件：{path}"), hint=Msg("check the path", "请检查路径")))
    if path.stat().st_size == 0:
        raise InvalidInput(Issue(Msg(f"{path.name} is empty: no rows to score", f"{path.name} 是空文件：没有可打分的行"),
                                 file=str(path), hint=Msg("export the batches again", "请重新导出这些批次")))
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            source.use_parquet(path)
            source.con.execute(f"SELECT * FROM {_RELATION} LIMIT 1").fetchall()
        elif suffix in (".xlsx", ".xls", ".xlsm"):
            source.use_frame(pd.read_excel(path))
        else:
            source.use_parquet(source.copy_of(source.con, f"SELECT * FROM read_csv('{_sql_path(path)}', header = true)"))
    except (duckdb.Error, ValueError) as exc:
        raise InvalidInput(Issue(Msg(f"cannot read {path.name}: {str(exc).splitlines()[0]}",
                                     f"无法读取 {path.name}：{str(exc).splitlines()[0]}"), file=str(path),
                                 hint=Msg(f"ingest it first (python -m engine ingest {path.name} --table NAME: it reads "
                                          f"GBK, title lines, decimal commas), then score --table NAME",
                                          f"请先导入（python -m engine ingest {path.name} --table 表名：可读取 GBK、标题行、"
                                          f"小数逗号），再用 --table 表名 打分"))) from None


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


# ---------------------------------------------------------------- checking it

def _check(con, model: Loaded, manifest: dict, keep: list[str]) -> dict:
    """Every problem of the new rows at once: missing columns, wrong types, unseen category levels, no rows."""
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {_RELATION}").fetchall()}
    issues = []
    rows = con.execute(f"SELECT count(*) FROM {_RELATION}").fetchall()[0][0]
    if rows == 0:
        issues.append(Issue(Msg("the new data has no rows", "新数据没有任何行"),
                            hint=Msg("export the batches to score again", "请重新导出要打分的批次")))
    kinds = model.kinds()
    missing = [c for c in kinds if c not in types]
    if missing:
        shown = ", ".join(missing[:20]) + (f" … ({len(missing)} in all)" if len(missing) > 20 else "")
        issues.append(Issue(Msg(f"the model needs columns the new data lacks: {shown}",
                                f"模型需要的列在新数据中缺失：{shown}"),
                            hint=Msg(f"add them with the names used in training (run {manifest.get('run_id')}); "
                                     f"the data has: {', '.join(list(types)[:15])}",
                                     f"请按训练时的列名补上（运行 {manifest.get('run_id')}）；现有的列：{', '.join(list(types)[:15])}")))
    absent_keep = [c for c in keep if c not in types]
    if absent_keep:
        issues.append(Issue(Msg(f"--keep names columns the data lacks: {', '.join(absent_keep)}",
                                f"--keep 指定的列在数据中不存在：{', '.join(absent_keep)}"),
                            hint=Msg("check the names (case matters)", "请检查列名（区分大小写）"),
                            ui_hint=Msg("pick columns of the data", "请选择数据中存在的列")))
    for col, kind in kinds.items():
        if col in types and rows:
            issue = _type_issue(con, col, kind, types[col]) if kind in ("numeric", "bool") else None
            issue = issue or (_level_issue(con, col, model.levels()[col]) if col in model.levels() else None)
            if issue:
                issues.append(issue)
    if issues:
        raise InvalidInput(issues)
    return {"present": set(types), "rows": rows}


def _type_issue(con, col: str, kind: str, dtype: str) -> Issue | None:
    if dtype.split("(")[0] in _NUMERIC:
        return None
    target = "DOUBLE" if kind == "numeric" else "BOOLEAN"
    bad = con.execute(f"SELECT DISTINCT CAST({quote(col)} AS VARCHAR) FROM {_RELATION} WHERE {quote(col)} IS NOT NULL "
                      f"AND TRY_CAST({quote(col)} AS {target}) IS NULL LIMIT 5").fetchall()
    if not bad:
        return None  # text that reads as numbers throughout: accepted
    values = ", ".join(repr(r[0]) for r in bad)
    word, word_zh = ("numbers", "数值") if kind == "numeric" else ("true/false or 0/1", "真/假或 0/1")
    return Issue(Msg(f"column '{col}' must hold {word} (as in training) but has {dtype} values such as {values}",
                     f"列 '{col}' 应为{word_zh}（与训练时一致），但含有 {dtype} 值，例如 {values}"), path=col,
                 hint=Msg("fix or remove those values, or check that the right column is exported",
                          "请修正或删除这些值，或检查导出的是否为正确的列"))


def _level_issue(con, col: str, levels: list[str]) -> Issue | None:
    con.register("_score_levels", pd.DataFrame({"level": pd.Series(levels, dtype="object")}))
    try:
        unseen = con.execute(f"SELECT DISTINCT CAST({quote(col)} AS VARCHAR) AS v FROM {_RELATION} "
                             f"WHERE {quote(col)} IS NOT NULL AND CAST({quote(col)} AS VARCHAR) NOT IN "
                             f"(SELECT level FROM _score_levels) ORDER BY v LIMIT 6").fetchall()
    finally:
        con.unregister("_score_levels")
    if not unseen:
        return None
    values = ", ".join(repr(r[0]) for r in unseen[:5]) + (" …" if len(unseen) > 5 else "")
    known = ", ".join(levels[:10]) + (" …" if len(levels) > 10 else "")
    return Issue(Msg(f"column '{col}' has levels never seen in training: {values}",
                     f"列 '{col}' 含有训练中从未出现的取值：{values}"), path=col,
                 hint=Msg(f"the model knows: {known}; map them to a known level, or retrain with data that has them",
                          f"模型认识的取值：{known}；请映射到已知取值，或用包含它们的数据重新训练"))


# ---------------------------------------------------------------- writing the predictions

def _out_kind(out: str | Path) -> str:
    suffix = Path(out).suffix.lower()
    if suffix in (".csv", ".parquet"):
        return suffix[1:]
    raise InvalidInput(Issue(Msg(f"--out {out}: write a .csv or a .parquet file", f"--out {out}：请写为 .csv 或 .parquet 文件"),
                             path="out"))


class _FileSink:
    """Chunks appended to a temporary file beside the target, renamed onto it at the end."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = path, kind
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}", suffix=".tmp")
        os.close(fd)
        self.tmp, self.writer, self.schema, self.first = Path(tmp), None, None, True

    def write(self, part: pd.DataFrame) -> None:
        if self.kind == "csv":
            part.to_csv(self.tmp, mode="w" if self.first else "a", header=self.first, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(part, schema=self.schema, preserve_index=False)
            if self.writer is None:
                self.schema = table.schema
                self.writer = pq.ParquetWriter(self.tmp, self.schema)
            self.writer.write_table(table)
        self.first = False

    def close(self) -> Path:
        if self.writer is not None:
            self.writer.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)


class _MemorySink:
    def __init__(self):
        self.parts = []

    def write(self, part: pd.DataFrame) -> None:
        self.parts.append(part)

    def close(self) -> pd.DataFrame:
        return pd.concat(self.parts, ignore_index=True) if self.parts else pd.DataFrame()

    def abort(self) -> None:
        self.parts = []
