"""Command line: templates | operators | schema | validate | ingest | tables | drop | demo | run | runs
(and, from cli_authoring: template check|save|diff|show|dry-run | migrate | docs)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine import api
from engine.cli.progress import ProgressBar, ProgressLine
from engine.core.errors import InvalidInput, Issue, StudioError
from engine.core.i18n import Msg, cli_lang, text_of
from engine.core.memory import MEMORY_BUDGET
from engine.store.profiling.text import summary_lines


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cmd_templates(args) -> int:
    lib = api.library()
    rows = [{"id": t.id, "version": t.version, "scenario": t.scenario, "title": t.title.get(args.lang),
             "versions": lib.versions(t.id)} for t in lib.latest()]
    if args.json:
        _print_json({"templates": rows, "broken": {f: [str(i) for i in v] for f, v in lib.broken.items()}})
    else:
        for r in rows:
            older = [v for v in r["versions"] if v != r["version"]]
            print(f"{r['id']:<24} {r['version']:<8} {r['scenario']:<12} {r['title']}"
                  + (f"  (older versions: {', '.join(reversed(older))})" if older else ""))
        for issues in lib.broken.values():
            for issue in issues:
                print(f"BROKEN {issue.text(cli_lang())}", file=sys.stderr)
    return 0


def cmd_operators(args) -> int:
    ops = api.list_operators()
    if args.json:
        _print_json([op.describe() for op in ops])
        return 0
    from engine.service.docs import type_name

    for op in ops:
        print(f"{op.id}@{op.version}  ({', '.join(op.inputs) or '-'} -> {', '.join(op.outputs)})  {op.description}")
        for name, field in op.params_model.model_fields.items():
            default = "required" if field.is_required() else f"default {field.default!r}"
            print(f"    {name}: {type_name(field.annotation)} ({default})")
    return 0


def cmd_schema(args) -> int:
    _print_json(api.json_schema(args.kind))
    return 0


def cmd_validate(args) -> int:
    try:
        issues = api.validate_file(args.file, db=args.db)
    except InvalidInput as exc:  # unreadable file: reported like any other problem
        issues = exc.issues
    for issue in issues:
        print(issue.text(cli_lang()))
    if not issues:
        print(f"{args.file}: ok")
    return 2 if issues else 0


def _pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(Msg(f"{flag} '{item}' is not COLUMN=VALUE", f"{flag} '{item}' 不是 列名=值 的形式"))
        out[key] = value
    return out


def cmd_ingest(args) -> int:
    if args.append and args.replace:
        raise InvalidInput(Issue(Msg("--append and --replace cannot be used together", "--append 和 --replace 不能同时使用"),
                                 hint=Msg("--replace rebuilds the table from this file; --append adds this file's rows to it",
                                          "--replace 用这个文件重建表；--append 把这个文件的行追加到表中")))
    mode = "append" if args.append else ("replace" if args.replace else "create")
    options = {"mode": mode, "sheet": args.sheet, "delimiter": args.delimiter,
               "types": _pairs(args.type, "--type"), "formats": _pairs(args.format, "--format"),
               "skip_bad_rows": args.skip_bad_rows}
    try:
        options = api.IngestOptions.model_validate(options)
    except ValidationError as exc:
        from engine.schema.errors import zh_of_error

        raise InvalidInput([Issue(Msg(f"--{'.'.join(map(str, e['loc']))}: {e['msg']}",
                                      f"--{'.'.join(map(str, e['loc']))}：{zh_of_error(e)}"))
                            for e in exc.errors()]) from None
    progress = ProgressLine() if not args.quiet else None
    info = api.ingest(args.file, args.table, db=args.db, options=options, on_progress=progress)
    print(f"ingested {info.rows} rows × {len(info.columns)} columns into table '{info.name}'")
    for warning in info.warnings:
        print(f"warning: {text_of(warning, cli_lang())}", file=sys.stderr)
    return 0


def cmd_tables(args) -> int:
    infos = api.tables(args.db)
    if args.json:
        _print_json([i.to_dict() for i in infos])
    for i in [] if args.json else infos:
        print(f"{i.name:<28} {i.rows:>10} rows {len(i.columns):>5} cols  {i.source}  {i.ingested_at}")
    return 0


def cmd_drop(args) -> int:
    api.catalog(args.db).drop(args.table)
    print(f"dropped table '{args.table}'")
    return 0


def cmd_profile(args) -> int:
    profile = api.profile_table(args.table, args.db, time=args.time, target=args.target,
                                controllable=args.controllable, near_constant=args.near_constant,
                                refresh=args.refresh)
    if args.json:
        _print_json(profile)
    else:
        print("\n".join(summary_lines(profile, args.lang)))
    return 0


def cmd_derive(args) -> int:
    params = {}
    for item in args.set or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise InvalidInput(Msg(f"--set '{item}' is not key=value", f"--set '{item}' 不是 键=值 的形式"))
        params[key] = yaml_value(raw)
    info, report = api.derive_table(args.table, args.op, params, args.into, right=args.right, db=args.db)
    print(f"table '{info.name}': {info.rows} rows × {len(info.columns)} columns from {info.source}")
    _print_json(report)
    return 0


def yaml_value(raw: str):
    from engine.core.yaml_io import loads

    return loads(raw, "--set")[0] if raw.strip() else None


def cmd_demo(args) -> int:
    added = api.ensure_demo(args.db, simulated=True)
    print("demo tables ready" + (f" (added: {', '.join(added)})" if added else " (already there)"))
    return 0


def cmd_run(args) -> int:
    if getattr(args, "memory_budget", None):
        if args.memory_budget <= 0:
            raise InvalidInput(Issue(Msg(f"--memory-budget must be a positive number of MB, not {args.memory_budget:g}",
                                         f"--memory-budget 必须是正的 MB 数，而不是 {args.memory_budget:g}")))
        os.environ[MEMORY_BUDGET.env_mb] = str(args.memory_budget)
    progress = None if args.quiet else ProgressBar()
    result = api.run_recipe(args.recipe, db=args.db, out_dir=args.out, overrides=args.set, on_progress=progress,
                            cluster=args.cluster)
    t = result["timings"]
    where = f" → {Path(args.out or result['run_dir']) / 'result.json'}"
    print(f"run {result['run_id']} {result['status']} in {t['total_seconds']:.2f} s "
          f"(executor {t['executor_seconds']:.2f} s; cached {sum(s['cached'] for s in t['steps'])}/{len(t['steps'])} steps)"
          f"{where}")
    return 0


def cmd_report(args) -> int:
    economics = None
    if args.price is not None or args.volume is not None:
        if args.price is None or args.volume is None:
            raise InvalidInput(Msg("give both --price (per unit of the target) and --volume (units per year)",
                                     "请同时给出 --price（目标每单位的价格）和 --volume（每年的数量）"))
        economics = {"price": args.price, "volume": args.volume, "currency": args.currency}
    out = args.out or f"report-{args.run_id}-{args.lang}.{args.format}"
    path = api.write_report(args.run_id, out, fmt=args.format, lang=args.lang, db=args.db, economics=economics)
    print(f"wrote {path}")
    return 0


def cmd_trial(args) -> int:
    if args.action == "log":
        if args.outcome is None:
            raise InvalidInput(Msg("give the measured outcome: --outcome VALUE", "请给出实测结果：--outcome 数值"))
        settings = {k: yaml_value(v) for k, v in _pairs(args.set, "--set").items()}
        trial = api.log_trial(args.run_id, settings, args.outcome, batches=args.batches, note=args.note, db=args.db)
        print(f"logged {trial['trial_id']}: outcome {trial['outcome']} (model predicted {trial['predicted']})")
    elif args.action == "list":
        for t in api.trials(args.run_id, db=args.db):
            band = "" if t["predicted"] is None else f"  predicted {t['predicted']:.4g} [{t['predicted_low']:.4g}, " \
                                                      f"{t['predicted_high']:.4g}]"
            print(f"{t['trial_id']}  {t['logged_at']}  outcome {t['outcome']:.4g} × {t['batches']}{band}  {t['note']}")
    else:
        table, recipe = api.retrain_with_trials(args.run_id, db=args.db)
        result = api.run_recipe(recipe, db=args.db, on_progress=None if args.quiet else ProgressBar())
        print(f"table '{table}' = data + trials; retrained as run {result['run_id']} ({result['status']})")
    return 0


def cmd_runs(args) -> int:
    rows = api.runs(args.db, args.limit)
    if args.json:
        _print_json(rows)
        return 0
    for r in rows:
        took = f"{r['seconds']:.2f}s" if r["seconds"] is not None else "-"
        failed = f"  failed at {r['failed_step']}" if r["failed_step"] else ""
        print(f"{r['run_id']}  {r['status']:<11} {took:>8}  {r['template_id']}@{r['template_version']}  "
              f"{r['recipe_name']}{failed}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description="AI Studio engine (headless).")
    db_help = "data-factory file (default: $AI_STUDIO_DB or ~/.ai_studio/studio.duckdb)"
    parser.add_argument("--db", help=db_help)
    common = argparse.ArgumentParser(add_help=False)  # --db also accepted after the command
    common.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    p = add("templates", help="list templates")
    p.add_argument("--lang", choices=["en", "zh"], default="en")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_templates)
    p = add("operators", help="list registered operators")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_operators)
    p = add("schema", help="print a JSON Schema")
    p.add_argument("kind", nargs="?", default="template", help="template | recipe | params:<template id>")
    p.set_defaults(fn=cmd_schema)
    p = add("validate", help="check a template or recipe file; lists every problem with file:line")
    p.add_argument("file")
    p.set_defaults(fn=cmd_validate)
    p = add("ingest", help="ingest a CSV/Parquet/Excel file as a table, or a folder/zip of images (class "
                           "sub-folders, or images + labels.csv with file,label)")
    p.add_argument("file")
    p.add_argument("--table", required=True)
    p.add_argument("--sheet", help="Excel sheet name")
    p.add_argument("--replace", action="store_true", help="replace an existing table of that name")
    p.add_argument("--append", action="store_true", help="append to an existing table with the same columns")
    p.add_argument("--delimiter", help="CSV delimiter (detected when not given)")
    p.add_argument("--type", action="append", metavar="COL=KIND",
                   help="column type: numeric, category, datetime, text or id (repeatable)")
    p.add_argument("--format", action="append", metavar="COL=FORMAT", help="datetime format, e.g. 时间=%%d/%%m/%%Y")
    p.add_argument("--skip-bad-rows", action="store_true", help="skip malformed rows instead of stopping")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(fn=cmd_ingest)
    p = add("tables", help="list tables in the data factory")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_tables)
    p = add("drop", help="drop a table")
    p.add_argument("table")
    p.set_defaults(fn=cmd_drop)
    p = add("profile", help="profile a table: column statistics, time axis, data readiness score")
    p.add_argument("table")
    p.add_argument("--time", help="time column (default: detected)")
    p.add_argument("--target", help="target column (for the closed-loop score)")
    p.add_argument("--controllable", nargs="+", metavar="COLUMN", help="controllable columns (closed loop)")
    p.add_argument("--near-constant", type=float, default=0.99,
                   help="share of one value that makes a column near-constant")
    p.add_argument("--refresh", action="store_true", help="recompute even if a cached profile exists")
    p.add_argument("--lang", choices=["en", "zh"], default="en")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_profile)
    p = add("derive", help="apply a cleaning/alignment operator to a table, writing a new table")
    p.add_argument("table")
    p.add_argument("--op", required=True, help="operator id, e.g. clean.impute (see: operators)")
    p.add_argument("--into", required=True, help="name of the new table")
    p.add_argument("--right", help="second table (for align.asof_join)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="operator parameter (repeatable)")
    p.set_defaults(fn=cmd_derive)
    p = add("demo", help="ingest the bundled demo tables (concrete, ccpp, ai4i2020), the simulated yield line, rubber "
                         "plant, test line and boiler")
    p.set_defaults(fn=cmd_demo)
    p = add("run", help="run a recipe")
    p.add_argument("recipe")
    p.add_argument("--out", help="folder for result.json and artifacts")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a recipe value (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--memory-budget", type=float, metavar="MB", help=f"{MEMORY_BUDGET.label} for this run "
                   f"(sets {MEMORY_BUDGET.env_mb}; default {round(MEMORY_BUDGET.default_share * 100)}%% of RAM): a larger table "
                   "trains on a stratified sample with a learning curve")
    p.add_argument("--cluster", metavar="local[:N]|tcp://HOST:8786", default=None,
                   help="run the heavy steps (folds, trials, large fits) on a Dask cluster: local[:N] starts N worker "
                        "processes here, tcp://HOST:8786 uses a running `dask scheduler` (default: the "
                        "AI_STUDIO_CLUSTER setting; empty: this process)")
    p.set_defaults(fn=cmd_run)
    p = add("report", help="write a run's report (self-contained HTML or A4 PDF, en or zh)")
    p.add_argument("run_id")
    p.add_argument("--format", choices=["html", "pdf"], default="html")
    p.add_argument("--lang", choices=["en", "zh"], default="en")
    p.add_argument("--out", help="file to write (default report-RUN-LANG.FORMAT)")
    p.add_argument("--price", type=float, help="value of one unit of the target (for money per year)")
    p.add_argument("--volume", type=float, help="units per year (for money per year)")
    p.add_argument("--currency", default="", help="currency label, e.g. CNY")
    p.set_defaults(fn=cmd_report)
    p = add("trial", help="log outcomes measured on the line against a run, list them, retrain with them")
    p.add_argument("action", choices=["log", "list", "retrain"])
    p.add_argument("run_id")
    p.add_argument("--outcome", type=float, help="measured value of the target (log)")
    p.add_argument("--set", action="append", metavar="SETTING=VALUE", help="a setting used on the line (log)")
    p.add_argument("--batches", type=int, default=1, help="batches run at these settings (log)")
    p.add_argument("--note", default="", help="free text (log)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (retrain)")
    p.set_defaults(fn=cmd_trial)
    from engine.cli.authoring import add_commands
    from engine.cli.score import add_commands as add_score

    add_commands(add)
    add_score(add)
    from engine.cli.monitor import add_commands as add_monitor_commands

    add_monitor_commands(add)
    from engine.cli.deploy import add_commands as add_deploy_commands

    add_deploy_commands(add)
    p = add("runs", help="list runs")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_runs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    api.report_busy(lambda message: print(message, file=sys.stderr, flush=True))
    try:
        return args.fn(args)
    except InvalidInput as exc:
        for issue in exc.issues:
            print(f"error: {issue.text(cli_lang())}", file=sys.stderr)
        return 2
    except StudioError as exc:
        print(f"error: {exc.text(cli_lang())}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head`
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: say so plainly; the traceback only when asked for
        if os.environ.get("AI_STUDIO_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} — this is a bug in the studio; rerun with "
              f"AI_STUDIO_DEBUG=1 for details and report it", file=sys.stderr)
        return 1
