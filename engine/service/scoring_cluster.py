"""Scoring a data-factory table on a Dask cluster: a map over the table's Parquet partitions.

The data factory exports the table once (engine/store/partitions.py) into the cluster's shared folder; the new rows
are checked there exactly as `score` checks them (every problem at once, before any prediction); then each worker
scores whole partitions with the run's saved model (sent to every worker once) and writes its predictions beside
them; the predictions are joined in row order into the output file (or table) at the end. A failure leaves nothing
behind: the output is written under a temporary name and renamed, a table ingested only once every part is scored.
"""

from __future__ import annotations

import secrets
import shutil
import time
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd

from engine.core import compute
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.service import cluster as clusters
from engine.service.scoring import LoadedBundle, as_kinds, load_run_model
from engine.service.scoring_apply import _RELATION, ScoreResult, _check, _out_kind, _sql_path
from engine.store.partitions import export_table


def score_table_on_cluster(run_id: str, table: str, *, cluster: str, out: str | Path | None = None,
                           into: str | None = None, keep: list[str] | None = None, db=None,
                           rows_per_part: int | None = None) -> ScoreResult:
    """Predict every row of `table` with run `run_id`'s model on the cluster `cluster` ('local[:N]' or
    'tcp://HOST:8786'); `out` a .csv/.parquet file and/or `into` a new table (one of them is required)."""
    from engine.service.runner import get_run
    from engine.service.tables import catalog

    spec = clusters.parse(cluster)
    if spec is None:
        raise InvalidInput(Issue(Msg("--cluster is empty: score without it to score here",
                                     "--cluster 为空：不带它即可在本机打分"), path="--cluster"))
    if out is None and into is None:
        raise InvalidInput(Issue(Msg("scoring on a cluster writes its predictions: give --out PRED.parquet or "
                                     "--into TABLE", "在集群上打分会写出预测：请给出 --out PRED.parquet 或 --into 表名")))
    run, cat = get_run(run_id, db), catalog(db)
    manifest, model = load_run_model(run_id, Path(run["run_dir"]))
    if not isinstance(model, LoadedBundle) or model.model.prep:
        raise InvalidInput(Issue(Msg(f"run {run_id}'s model builds features from each row's history (windows) or is "
                                     f"not a LightGBM model: it is scored here, not in partitions",
                                     f"运行 {run_id} 的模型需要用每行的历史构建特征（窗口），或不是 LightGBM 模型："
                                     f"只能在本机打分，不能分区打分"), hint=Msg("run score without --cluster",
                                                                    "请不带 --cluster 运行 score")))
    if into:
        cat.check_new_name(into)
    kind = _out_kind(out) if out else None
    session = clusters.open_session(spec)
    try:
        with compute.using(session):
            return _score(session, cat, run_id, manifest, model, table, keep or [], out, kind, into, rows_per_part)
    finally:
        clusters.close_session(session)


def _score(session, cat, run_id, manifest, model, table, keep, out, kind, into, rows_per_part) -> ScoreResult:
    started = time.perf_counter()
    shared = Path(session.shared_dir)
    parts = export_table(cat, table, shared / "tables", rows_per_part=rows_per_part or 250_000)
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW {_RELATION} AS SELECT * FROM read_parquet([{_paths(parts)}])")
        present = _check(con, model, manifest, keep)["present"]
    ids = [c for c in manifest.get("id_columns", []) if c in present]
    carry = [*ids, *[k for k in keep if k not in ids]]
    wanted = list(dict.fromkeys([*carry, *model.kinds()]))
    folder = shared / f"scores-{secrets.token_hex(6)}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        task = partial(score_partition, columns=wanted, carry=carry, folder=str(folder))
        done = compute.map_tasks(task, [(i, str(p)) for i, p in enumerate(parts)], shared={"model": model})
        outputs = [Path(d["path"]) for d in done]
        by_column: dict[str, int] = {}
        for d in done:
            for col, n in d["by_column"].items():
                by_column[col] = by_column.get(col, 0) + n
        path = _write(outputs, Path(out), kind) if out else None
        if into:
            from engine.store.ingest import ingest_file

            merged = folder / "into.parquet"
            _copy(outputs, merged, "parquet")
            ingest_file(cat, merged, into)
        names = list(pd.read_parquet(outputs[0]).columns) if outputs else []
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows, flagged = sum(d["rows"] for d in done), sum(d["flagged"] for d in done)
    result = ScoreResult(run_id, rows, time.perf_counter() - started, flagged, by_column, names,
                         {"kind": manifest["kind"], **model.describe()}, None, path, into)
    result.warnings.append({"cluster": session.address, "partitions": len(parts)})
    return result


def score_partition(part: tuple[int, str], model: LoadedBundle, columns: list[str], carry: list[str],
                    folder: str) -> dict:
    """One partition's predictions (a task: here or on a worker), written as Parquet beside the others."""
    index, path = part
    frame = as_kinds(pd.read_parquet(path, columns=columns), model.kinds())
    predicted = model.predict(frame)
    output = pd.concat([frame[carry].reset_index(drop=True), predicted.reset_index(drop=True)], axis=1)
    target = Path(folder) / f"pred-{index:06d}.parquet"
    output.to_parquet(target, index=False)
    return {"path": str(target), "rows": len(output), "flagged": int(predicted["out_of_range"].sum()),
            "by_column": model.out_of_range_columns(frame)}


def _paths(paths: list[Path]) -> str:
    return ", ".join(f"'{_sql_path(p)}'" for p in paths)


def _copy(parts: list[Path], target: Path, kind: str) -> None:
    fmt = "(FORMAT parquet)" if kind == "parquet" else "(FORMAT csv, HEADER true)"
    with duckdb.connect() as con:
        con.execute("SET threads = 1")  # the parts' order is the table's row order
        con.execute(f"COPY (SELECT * FROM read_parquet([{_paths(parts)}])) TO '{_sql_path(target)}' {fmt}")


def _write(parts: list[Path], out: Path, kind: str) -> str:
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        _copy(parts, temporary, kind)
        temporary.replace(out)
    finally:
        temporary.unlink(missing_ok=True)
    return str(out)
