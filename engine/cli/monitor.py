"""CLI: monitor RUN_ID --data FILE | --table NAME [--baseline N] [--json] [--store] [--webhook URL] [--retrain]
| alerts [list|ack] | watch DIR --table NAME [--run RUN_ID]."""

from __future__ import annotations

import json
import sys

from engine import api
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg, cli_lang, text_of

KIND_TEXT = {"outcome": Msg("outcome chart", "结果控制图"), "residual": Msg("residual chart", "残差控制图"),
             "compliance": Msg("compliance", "符合性"), "drift": Msg("input drift", "输入漂移"),
             "retrain": Msg("retrain", "重新训练")}


def _fmt(x, digits: int = 4) -> str:
    return "—" if x is None else f"{x:.{digits}g}"


def _print_summary(s: dict, lang: str) -> None:
    zh = lang == "zh"
    lim = s["limits"]["outcome"]
    print((f"{s['batches']} 批：基准期 {s['baseline']} 批，检查 {s['monitored']} 批；目标 {s['target']}" if zh else
           f"{s['batches']} batches: baseline {s['baseline']}, checked {s['monitored']}; target {s['target']}"))
    print((f"  结果控制图：中心 {_fmt(lim['center'])}，sigma {_fmt(lim['sigma'])}" if zh else
           f"  outcome chart: centre {_fmt(lim['center'])}, sigma {_fmt(lim['sigma'])}"))
    comp = s["compliance"]
    if comp["share"] is not None:
        print((f"  符合推荐窗口的批次：{comp['share']:.0%}" if zh else
               f"  batches inside every recommended window: {comp['share']:.0%}"))
    acc = s["accuracy"]
    if acc["rmse"] is not None:
        print((f"  最近 {acc['batches']} 批的模型误差 RMSE {_fmt(acc['rmse'])}（交叉验证 {_fmt(acc['cv_rmse'])}）" if zh else
               f"  model accuracy on the last {acc['batches']} batches: RMSE {_fmt(acc['rmse'])} "
               f"(cross-validated {_fmt(acc['cv_rmse'])})"))
    b = s["benefit"]
    if b["value"] is not None:
        more = "—" if b["more_batches"] is None else b["more_batches"]
        verdict = {"confirmed": ("confirmed", "已确认"), "collecting": (f"{more} more batches to confirm",
                                                                      f"还需 {more} 批确认"),
                   "not_seen": ("the expected uplift does not show although enough batches ran",
                                "批次已足够，但预期的提升没有出现")}[b["verdict"]]
        print((f"  实测收益：{_fmt(b['value'])} [{_fmt(b['low'])}, {_fmt(b['high'])}]（{b['trials']} 批试验 vs 基准 "
               f"{b['baseline_batches']} 批；{verdict[1]}）" if zh else
               f"  measured uplift: {_fmt(b['value'])} [{_fmt(b['low'])}, {_fmt(b['high'])}] ({b['trials']} trial "
               f"batches vs {b['baseline_batches']} baseline; {verdict[0]})"))
    if s["retrain"]["suggested"]:
        print("  建议重新训练（python -m engine monitor 运行ID --table 表名 --retrain）" if zh else
              "  retrain suggested (python -m engine monitor RUN_ID --table NAME --retrain)")
    for w in s.get("warnings", []):
        print(f"  warning: {text_of(w, lang)}" if not zh else f"  注意：{text_of(w, lang)}")


def cmd_monitor(args) -> int:
    lang = cli_lang()
    rules = [r.strip() for r in args.rules.split(",")] if args.rules else None
    if args.retrain:
        if not args.table:
            raise InvalidInput(Issue(Msg("--retrain needs --table NAME (the monitored table)",
                                         "--retrain 需要 --table 表名（被监控的表）")))
        table, recipe = api.retrain_from_monitor(args.run_id, args.table, db=args.db, lang=lang)
        result = api.run_recipe(recipe, db=args.db)
        print(f"table '{table}' = training data + monitored batches; retrained as run {result['run_id']} "
              f"({result['status']})")
        return 0
    if args.store or args.webhook:
        if not args.table:
            raise InvalidInput(Issue(Msg("--store and --webhook need --table NAME: alerts are kept per table",
                                         "--store 和 --webhook 需要 --table 表名：报警按表保存")))
        report = api.check_monitor(args.run_id, args.table, baseline=args.baseline, webhook=args.webhook, db=args.db)
    else:
        report = api.monitor_report(args.run_id, table=args.table, data=args.data, baseline=args.baseline,
                                    rules=rules, drift_method=args.drift, db=args.db)
    if args.json:
        print(json.dumps(api.monitor_json(report), ensure_ascii=False, indent=2, default=str))
        return 0
    _print_summary(report["summary"], lang)
    for a in report["alerts"]:
        text = a["zh"] if lang == "zh" else a["message"]
        print(f"[{KIND_TEXT[a['kind']].text(lang)} · {a['rule']}] {text}")
    if "new_alerts" in report:
        print(f"{len(report['new_alerts'])} new alert(s) stored" if lang != "zh"
              else f"新保存 {len(report['new_alerts'])} 条报警")
    return 0


def cmd_alerts(args) -> int:
    if args.action == "ack":
        if not args.ids:
            raise InvalidInput(Issue(Msg("give the alert id(s) to acknowledge", "请给出要确认的报警 ID")))
        n = api.acknowledge_alerts(args.ids, args.user or "", args.note, db=args.db)
        print(f"acknowledged {n} alert(s) as {args.user}")
        return 0
    rows = api.alerts(run_id=args.run, table=args.table, open_only=args.open, limit=args.limit, db=args.db)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    lang = cli_lang()
    for a in rows:
        ack = f"  ✓ {a['acknowledged_by']}" if a["acknowledged_by"] else ""
        print(f"{a['alert_id']}  {a['run_id']}  {a['table_name']} row {a['row']}  {a['kind']}/{a['rule']}  "
              f"{a['column']}{ack}\n    {a['zh'] if lang == 'zh' else a['message']}")
    return 0


def cmd_watch(args) -> int:
    lang = cli_lang()

    def said(event):
        print(event.text(lang), file=sys.stderr if event.kind == "rejected" else sys.stdout, flush=True)

    def checked(report):
        for a in report["new_alerts"]:
            print(f"alert [{a['kind']}/{a['rule']}] {a['zh'] if lang == 'zh' else a['message']}", flush=True)

    print(f"watching {args.folder} → table '{args.table}' (every {args.interval:g} s; Ctrl-C stops)", flush=True)
    taken = api.watch_folder(args.folder, args.table, run_id=args.run, interval=args.interval, on_event=said,
                             on_check=checked, max_polls=args.polls, db=args.db)
    print(f"stopped: {taken} file(s) ingested or appended", flush=True)
    return 0


def add_commands(add) -> None:
    """Register monitor, alerts and watch with `add(name, help) -> parser` of the main CLI."""
    p = add("monitor", help="check a table or file of new batches against a run: charts, compliance, drift, benefit")
    p.add_argument("run_id")
    p.add_argument("--table", help="data-factory table of the batches (grows)")
    p.add_argument("--data", help="a CSV/Parquet/Excel file of the batches")
    p.add_argument("--baseline", type=int, help="batches of the baseline period (limits, benefit); default 100")
    p.add_argument("--rules", help="control-chart rules, comma-separated (default beyond_limits,ewma; also cusum, "
                                   "moving_range, we2-we4, nelson2-nelson8)")
    p.add_argument("--drift", choices=["ks", "psi"], help="drift test (default ks)")
    p.add_argument("--json", action="store_true", help='print {"alerts": [...], "summary": {...}}')
    p.add_argument("--store", action="store_true", help="keep the alerts in the data factory (a stored monitor)")
    p.add_argument("--webhook", help="POST new alerts to this URL (stored with the monitor)")
    p.add_argument("--retrain", action="store_true", help="retrain the run with the monitored batches and trials")
    p.set_defaults(fn=cmd_monitor)
    p = add("alerts", help="list stored alerts, or acknowledge them")
    p.add_argument("action", nargs="?", choices=["list", "ack"], default="list")
    p.add_argument("ids", nargs="*", help="alert ids (ack)")
    p.add_argument("--user", help="who acknowledges (ack)")
    p.add_argument("--note", default="", help="what was done (ack)")
    p.add_argument("--run", help="only this run's alerts")
    p.add_argument("--table", help="only this table's alerts")
    p.add_argument("--open", action="store_true", help="only alerts not acknowledged")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_alerts)
    p = add("watch", help="ingest files dropped into a folder into a growing table (until stopped)")
    p.add_argument("folder")
    p.add_argument("--table", required=True)
    p.add_argument("--run", help="check this run's monitor after every ingest (alerts stored, webhook posted)")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between looks at the folder")
    p.add_argument("--polls", type=int, help="stop after this many looks (default: until Ctrl-C / SIGTERM)")
    p.set_defaults(fn=cmd_watch)
