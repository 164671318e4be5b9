"""The feedback loop: settings actually tried on the line after a recommendation, the outcome measured there,
what the run's model predicted for them, and a retrain of the recipe with the trials added to its data."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from engine.service import background, runner, tables
from engine.store.catalog import TableInfo, create_from_frame, quote
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.ml.bands import containing


def log_trial(run_id: str, settings: dict[str, Any], outcome: float, *, batches: int = 1, note: str = "",
              db=None) -> dict[str, Any]:
    """Record one trial against a run; the run's model predicts the same settings (others as recommended)."""
    result = runner.load_result(run_id, db)
    if result["status"] != "succeeded":
        raise InvalidInput(Issue(Msg(f"run {run_id} did not succeed: trials are logged against a recommendation",
                                     f"运行 {run_id} 没有成功：试验结果要记录在某次推荐之下")))
    known = {r["name"] for r in result["recommendations"]} | set(result["predicted"].get("settings", {}))
    unknown = [k for k in settings if k not in known]
    if unknown:
        raise InvalidInput(Issue(Msg(f"unknown setting(s) {unknown} for run {run_id}", f"运行 {run_id} 没有设定 {unknown}"),
                                 hint=Msg(f"settings: {sorted(known)}", f"可用设定：{sorted(known)}")))
    if batches < 1:
        raise InvalidInput(Issue(Msg("batches must be at least 1", "批次数至少为 1")))
    try:
        predicted = background.what_if(run_id, settings, db)
    except InvalidInput:  # the model left the cache: the trial is still worth recording
        predicted = {"value": None, "low": None, "high": None}
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    trial = {"trial_id": now.strftime("T%Y%m%d-%H%M%S%f-") + secrets.token_hex(2), "run_id": run_id,
             "logged_at": now.isoformat(timespec="microseconds"),
             "settings": {**result["predicted"].get("settings", {}), **settings}, "outcome": float(outcome),
             "predicted": predicted["value"], "predicted_low": predicted["low"],
             "predicted_high": predicted["high"], "batches": int(batches), "note": note}
    with tables.catalog(db).transaction() as con:
        con.execute("INSERT INTO _studio_trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [trial["trial_id"], run_id, trial["logged_at"], json.dumps(trial["settings"], ensure_ascii=False),
                     trial["outcome"], trial["predicted"], trial["predicted_low"], trial["predicted_high"],
                     trial["batches"], note])
    return trial


def trials(run_id: str | None = None, db=None) -> list[dict[str, Any]]:
    """Trials of one run (or all), oldest first, with `inside` = the outcome fell in the predicted band."""
    where, args = ("WHERE run_id = ?", [run_id]) if run_id else ("", [])
    with tables.catalog(db).connect() as con:
        cur = con.execute(f"SELECT * FROM _studio_trials {where} ORDER BY logged_at, trial_id", args)
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    for row in rows:
        row["settings"] = json.loads(row["settings"])
        row["logged_at"] = str(row["logged_at"])
        low, high = row["predicted_low"], row["predicted_high"]
        if low is not None and row["predicted"] is not None:  # rows logged before the band held its value
            low, high = row["predicted_low"], row["predicted_high"] = containing(row["predicted"], low, high)
        row["inside"] = None if low is None else bool(low <= row["outcome"] <= high)
    return rows


def retrain_with_trials(run_id: str, new_table: str | None = None, db=None, lang: str = "en") -> tuple[str, dict]:
    """Add the run's trials to its table as new rows (a NEW table) and return (table, recipe bound to it); the
    new recipe's name is written in `lang` (a name is the user's text: one language)."""
    result = runner.load_result(run_id, db)
    table = (result["data"].get("binding") or {}).get("table")
    if not table:
        raise InvalidInput(Issue(Msg(f"run {run_id} read a file or a query, not a table: ingest the data first",
                                     f"运行 {run_id} 读取的是文件或查询，不是表：请先导入数据")))
    logged = trials(run_id, db)
    if not logged:
        raise InvalidInput(Issue(Msg(f"run {run_id} has no trials yet", f"运行 {run_id} 还没有试验记录"),
                                 hint=Msg("log the outcomes measured on the line first", "请先记录产线上实测的结果")))
    target = result["predicted"]["target"]
    extra = pd.DataFrame([{**t["settings"], target: t["outcome"]} for t in logged for _ in range(t["batches"])])
    cat = tables.catalog(db)
    info = cat.table_info(table)
    unknown = [c for c in extra.columns if c not in info.columns]
    if unknown:
        raise InvalidInput(Issue(Msg(f"trial settings {unknown} are not columns of table '{table}'",
                                     f"试验设定 {unknown} 不是表 '{table}' 的列")))
    name = new_table or f"{info.name}_with_trials"
    cat.check_new_name(name, replace=new_table is None and name.lower().endswith("_with_trials"))
    with cat.transaction() as con:
        for old in [t for t in cat.table_names(con=con) if t.lower() == name.lower()]:
            con.execute(f"DROP TABLE {quote(old)}")
        create_from_frame(con, "_studio_trial_rows", extra)
        con.execute(f"CREATE TABLE {quote(name)} AS SELECT * FROM {quote(info.name)} "
                    f"UNION ALL BY NAME SELECT * FROM _studio_trial_rows")
        con.execute("DROP TABLE _studio_trial_rows")
        columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {quote(name)}").fetchall()}
        rows = con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
        fingerprint = hashlib.sha256(f"{info.fingerprint}|{json.dumps(logged, default=str)}".encode()).hexdigest()
        source = Msg(f"{info.name} + {len(extra)} trial rows (run {run_id})",
                     f"{info.name} + {len(extra)} 行试验数据（运行 {run_id}）")
        cat.register_table(con, TableInfo(name, source, "",
                                          fingerprint, int(rows), columns, [], datetime.now(timezone.utc)
                                          .replace(tzinfo=None).isoformat(timespec="seconds")))
    recipe = dict(result["recipe"]["content"])
    recipe["data"] = {"table": name}
    recipe["name"] = f"{recipe['name']} + " + ("试验数据" if lang == "zh" else "trials")
    return name, recipe
