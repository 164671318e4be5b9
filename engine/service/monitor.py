"""The monitor: a run (its saved model and recommendation) checked against a table that grows, batch by batch.

`report(run_id, table=... | data=...)` reads the batches, predicts them with the run's saved model
(`engine.service.scoring`, the one model loader), reads the key parameters' training data, and hands everything to
the pure statistics in engine.ml.monitoring. `check(...)` does that for a stored monitor, keeps the new alerts in
the data factory and posts them to the monitor's webhook. `retrain(...)` starts a new run with the monitored batches
(and the run's trials) added to its training table.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.ml import control_charts as cc
from engine.ml.monitoring import Batches, MonitorSettings, evaluate
from engine.store import monitoring as store

DRIFT_COLUMNS = 10  # key parameters tested for drift (the most important ones that are not recommended settings)


def _api():
    """The service functions this module uses, under the facade's names (services never import engine.api)."""
    from types import SimpleNamespace

    from engine.service import runner, tables, trials

    return SimpleNamespace(load_result=runner.load_result, get_run=runner.get_run, catalog=tables.catalog,
                           trials=trials.trials, score=_score)


def _score(run_id: str, data: pd.DataFrame, *, collect: bool = True, db=None):
    """The run's saved model on new rows (engine/service/scoring_apply.py: the one model loader)."""
    from engine.service.scoring_apply import score_run

    return score_run(run_id, data, collect=collect, db=db)


def settings_for(result: dict, baseline: int | None = None, rules: list[str] | None = None,
                 drift_method: str | None = None) -> MonitorSettings:
    s = MonitorSettings(goal=(result.get("predicted") or {}).get("goal", "maximize"))
    if baseline is not None:
        if baseline < 3:
            raise InvalidInput(Issue(Msg(f"--baseline {baseline}: the baseline period needs at least 3 batches",
                                         f"--baseline {baseline}：基准期至少需要 3 批"),
                                     hint=Msg("the default is 100 batches", "默认为 100 批")))
        s = replace(s, baseline=int(baseline))
    if rules:
        unknown = [r for r in rules if r not in cc.RULES]
        if unknown:
            raise InvalidInput(Issue(Msg(f"unknown rule(s) {unknown}", f"未知的判异规则 {unknown}"),
                                     hint=Msg(f"rules: {', '.join(cc.RULES)}", f"可用规则：{', '.join(cc.RULES)}")))
        s = replace(s, rules=tuple(rules))
    if drift_method:
        s = replace(s, drift=replace(s.drift, method=drift_method))
    return s


def read_batches(run_id: str, *, table: str | None = None, data: str | Path | pd.DataFrame | None = None,
                 db=None) -> pd.DataFrame:
    api = _api()
    if (table is None) == (data is None):
        raise InvalidInput(Issue(Msg("give the batches to check: --table NAME or --data FILE (one of them)",
                                     "请给出要检查的批次：--table 表名 或 --data 文件（二选一）")))
    if table is not None:
        return api.catalog(db).read_table(table)
    if isinstance(data, pd.DataFrame):
        return data
    from engine.store.ingest import read_file_frame

    return read_file_frame(data)[0]


def _predict(run_id: str, frame: pd.DataFrame, db) -> tuple[np.ndarray | None, Msg | None]:
    """The run's saved model on the batches; (None, why) when it cannot predict them."""
    api = _api()
    try:
        scored = api.score(run_id, data=frame, collect=True, db=db)
    except InvalidInput as exc:
        why = exc.issues[0].message
        return None, Msg(f"no residual chart: {why}", f"没有残差图：{getattr(why, 'zh', why)}")
    pred = scored.frame
    column = "probability" if "probability" in pred.columns else "prediction"  # a pass/fail run: its probability
    return pd.to_numeric(pred[column], errors="coerce").to_numpy(dtype=float), None


def _reference(result: dict, columns: list[str], db) -> dict[str, np.ndarray]:
    binding = (result.get("data") or {}).get("binding") or {}
    table = binding.get("table")
    if not table or not columns:
        return {}
    cat = _api().catalog(db)
    try:
        have = cat.table_info(table).columns
    except InvalidInput:
        return {}
    wanted = [c for c in columns if c in have]
    frame = cat.read_table(table, wanted) if wanted else pd.DataFrame()
    return {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in wanted}


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def report(run_id: str, *, table: str | None = None, data=None, baseline: int | None = None,
           rules: list[str] | None = None, drift_method: str | None = None, db=None) -> dict:
    """{"alerts", "summary", "series", "frame"}: the verdicts on every batch of the table (or file)."""
    api = _api()
    result = api.load_result(run_id, db)
    if result.get("status") != "succeeded":
        raise InvalidInput(Issue(Msg(f"run {run_id} did not succeed: a monitor watches a recommendation in force",
                                     f"运行 {run_id} 没有成功：监控针对的是正在执行的推荐")))
    frame = read_batches(run_id, table=table, data=data, db=db)
    predicted = result.get("predicted") or {}
    target = predicted.get("target")
    if target not in frame.columns:
        raise InvalidInput(Issue(Msg(f"the batches have no column '{target}' (the run's target): the measured outcome "
                                     f"is what the monitor compares", f"批次数据中没有列 '{target}'（运行的目标）："
                                     f"监控需要实测结果"), hint=Msg(f"columns: {list(frame.columns)[:20]}",
                                                                f"现有列：{list(frame.columns)[:20]}")))
    settings = settings_for(result, baseline, rules, drift_method)
    if len(frame) < min(settings.baseline, 3) or len(frame) < 3:
        raise InvalidInput(Issue(Msg(f"only {len(frame)} batches: at least 3 are needed for a baseline",
                                     f"只有 {len(frame)} 批：基准期至少需要 3 批")))
    windows = {r["name"]: (float(r["low"]), float(r["high"])) for r in result.get("recommendations", [])
               if r["name"] in frame.columns and isinstance(r.get("low"), (int, float))
               and isinstance(r.get("high"), (int, float))}
    recommended = {r["name"] for r in result.get("recommendations", [])}
    keys = [k["name"] for k in result.get("key_parameters", []) if k["name"] not in recommended
            and k["name"] in frame.columns and k["name"] != target][:DRIFT_COLUMNS]
    reference = _reference(result, keys, db)
    pred, warning = _predict(run_id, frame, db)
    roles = ((result.get("recipe") or {}).get("content") or {}).get("roles") or {}
    times = roles.get("time") or []
    times = [times] if isinstance(times, str) else list(times)
    time_col = next((c for c in times if c in frame.columns), None)
    batches = Batches(_numeric(frame, target), pred, {c: _numeric(frame, c) for c in windows},
                      {c: _numeric(frame, c) for c in keys if c in reference},
                      [None if pd.isna(t) else str(t) for t in frame[time_col]] if time_col else None)
    cv = (result.get("metrics") or {}).get("rmse")
    uplift = (predicted.get("uplift") or {}).get("value")
    out = evaluate(batches, windows, reference, target=target, cv_rmse=cv.get("mean") if isinstance(cv, dict) else None,
                   expected_uplift=uplift, settings=settings)
    summary = out["summary"]
    summary.update(run_id=run_id, table=table, file=None if table or isinstance(data, pd.DataFrame) else str(data),
                   time_column=time_col, windows={k: list(v) for k, v in windows.items()},
                   drift_method=settings.drift.method, logged_trials=_logged_trials(run_id, db),
                   warnings=[warning.to_dict()] if warning else [])
    if len(frame) <= settings.baseline:
        summary["warnings"].append(Msg(
            f"{len(frame)} batches, all in the baseline period ({settings.baseline}): nothing is checked yet — wait "
            f"for more batches or choose a shorter baseline (--baseline)",
            f"共 {len(frame)} 批，全部在基准期（{settings.baseline} 批）内：尚未检查任何批次 —— 请等待更多批次或缩短基准期"
            f"（--baseline）").to_dict())
    out["frame"] = frame
    return out


def _logged_trials(run_id: str, db) -> int:
    try:
        return int(sum(t["batches"] for t in _api().trials(run_id, db)))
    except Exception:  # noqa: BLE001 — the trials table is optional here
        return 0


def start(run_id: str, table: str, *, baseline: int = MonitorSettings.baseline, webhook: str | None = None,
          db=None) -> dict:
    """Tie a run to a table (a stored monitor; calling it again updates the baseline and webhook)."""
    api = _api()
    api.load_result(run_id, db)
    info = api.catalog(db).table_info(table)
    if webhook and not webhook.startswith(("http://", "https://")):
        raise InvalidInput(Issue(Msg(f"webhook '{webhook}' is not an http(s) URL", f"webhook '{webhook}' 不是 http(s) 地址")))
    return store.save_monitor(api.catalog(db), run_id, info.name, baseline, webhook)


def check(run_id: str, table: str, *, baseline: int | None = None, webhook: str | None = None, db=None) -> dict:
    """Evaluate the table, keep the new alerts, post them to the webhook; the report gains "new_alerts" and
    "monitor"."""
    cat = _api().catalog(db)
    existing = [m for m in store.monitors(cat, run_id) if m["table_name"].lower() == table.lower()]
    monitor = existing[0] if existing else None
    if monitor is None or (baseline is not None and baseline != monitor["baseline"]) or \
            (webhook is not None and webhook != monitor["webhook"]):
        monitor = start(run_id, table, baseline=baseline if baseline is not None else
                        (monitor["baseline"] if monitor else MonitorSettings.baseline),
                        webhook=webhook if webhook is not None else (monitor or {}).get("webhook"), db=db)
    out = report(run_id, table=monitor["table_name"], baseline=monitor["baseline"], db=db)
    new = store.store_alerts(cat, monitor, out["alerts"])
    monitor = {**monitor, "checked_at": store.mark_checked(cat, monitor["monitor_id"], out["summary"]["batches"]),
               "checked_rows": out["summary"]["batches"]}
    if new and monitor.get("webhook"):
        error = post(monitor["webhook"], monitor, new, out["summary"])
        store.mark_sent(cat, [a["alert_id"] for a in new], error)
        out["summary"]["webhook"] = {"url": monitor["webhook"], "sent": len(new) if error is None else 0,
                                     "error": error}
    out.update(new_alerts=new, monitor=monitor)
    return out


def post(url: str, monitor: dict, alerts: list[dict], summary: dict, timeout: float = 5.0) -> str | None:
    """POST the new alerts as JSON to the MES; returns None when it answered 2xx, else what went wrong."""
    body = json.dumps({"monitor": monitor["monitor_id"], "run_id": monitor["run_id"], "table": monitor["table_name"],
                       "alerts": [{**store.as_json(a), "id": a["alert_id"]} for a in alerts],
                       "summary": {k: summary.get(k) for k in ("batches", "baseline", "target", "alerts")}},
                      ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def retrain(run_id: str, table: str, *, db=None, lang: str = "en") -> tuple[str, dict]:
    """A new training table = the run's table + the monitored batches (+ the run's trials), and the run's recipe
    bound to it (the caller runs it). Batches already in the training table are not added twice (by fingerprint of
    the whole row)."""
    from engine.store.catalog import TableInfo, quote
    from datetime import datetime, timezone
    import hashlib

    api = _api()
    result = api.load_result(run_id, db)
    source = ((result.get("data") or {}).get("binding") or {}).get("table")
    if not source:
        raise InvalidInput(Issue(Msg(f"run {run_id} read a file or a query, not a table: ingest the data first",
                                     f"运行 {run_id} 读取的是文件或查询，不是表：请先导入数据")))
    cat = api.catalog(db)
    base, new = cat.table_info(source), cat.table_info(table)
    shared = [c for c in base.columns if c in new.columns]
    name = cat.free_name(f"{base.name}_monitored")
    with cat.transaction() as con:
        cols = ", ".join(quote(c) for c in shared)
        con.execute(f"CREATE TABLE {quote(name)} AS SELECT * FROM {quote(base.name)} UNION ALL BY NAME "
                    f"(SELECT {cols} FROM {quote(new.name)} EXCEPT SELECT {cols} FROM {quote(base.name)})")
        columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE {quote(name)}").fetchall()}
        rows = con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
        fingerprint = hashlib.sha256(f"{base.fingerprint}|{new.fingerprint}".encode()).hexdigest()
        cat.register_table(con, TableInfo(name, Msg(f"{base.name} + monitored batches of {new.name} (run {run_id})",
                                                    f"{base.name} + {new.name} 的监控批次（运行 {run_id}）"), "",
                                          fingerprint, int(rows), columns, [],
                                          datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")))
    recipe = dict(result["recipe"]["content"])
    recipe["data"] = {"table": name}
    recipe["name"] = f"{recipe.get('name', run_id)} + " + ("监控批次" if lang == "zh" else "monitored batches")
    if api.trials(run_id, db):  # the trials logged against the run join too
        name, recipe = _with_trials(run_id, name, recipe, db, lang)
    return name, recipe


def _with_trials(run_id: str, table: str, recipe: dict, db, lang: str) -> tuple[str, dict]:
    from engine.service.trials import trials as logged
    from engine.store.catalog import create_from_frame, quote

    api = _api()
    target = api.load_result(run_id, db)["predicted"]["target"]
    extra = pd.DataFrame([{**t["settings"], target: t["outcome"]} for t in logged(run_id, db) for _ in range(t["batches"])])
    cat = api.catalog(db)
    info = cat.table_info(table)
    extra = extra[[c for c in extra.columns if c in info.columns]]
    with cat.transaction() as con:
        create_from_frame(con, "_studio_trial_rows", extra)
        con.execute(f"INSERT INTO {quote(info.name)} BY NAME SELECT * FROM _studio_trial_rows")
        con.execute("DROP TABLE _studio_trial_rows")
        rows = con.execute(f"SELECT count(*) FROM {quote(info.name)}").fetchone()[0]
        cat.register_table(con, replace_rows(info, int(rows)))
    recipe["name"] += " + " + ("试验数据" if lang == "zh" else "trials")
    return table, recipe


def replace_rows(info, rows: int):
    from dataclasses import replace as dc_replace

    return dc_replace(info, rows=rows, fingerprint=info.fingerprint + f"+{rows}")


def alerts_json(out: dict) -> dict[str, Any]:
    """The CLI's --json: {"alerts": [{row, time, kind, rule, column, message, zh}], "summary": {...}}."""
    return {"alerts": [store.as_json(a) for a in out["alerts"]], "summary": out["summary"]}

