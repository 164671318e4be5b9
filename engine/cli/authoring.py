"""Command line for template authors: template check | save | diff | show | dry-run, migrate, docs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine import api
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.core.yaml_io import load_file


def _read(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(Issue(Msg(f"file not found: {path}", f"找不到文件：{path}"), hint=Msg("check the path", "请检查路径")))
    return file.read_text(encoding="utf-8-sig")


def cmd_check(args) -> int:
    """Every problem of a draft, then the semver rule against the newest saved version and the diff."""
    loaded, issues, version_issues = api.check_template_text(_read(args.file), args.file)
    for issue in issues + version_issues:
        print(issue)
    if loaded is not None and not issues:
        diff = api.diff_templates(loaded.template.id, api.library().versions(loaded.template.id)[-1],
                                  draft=_read(args.file)) if api.library().versions(loaded.template.id) else None
        print("\n".join(diff.lines()) if diff else f"{loaded.template.key}: a new template")
    if not issues and not version_issues:
        print(f"{args.file}: ok, can be saved as {loaded.template.key}")
    return 2 if issues or version_issues else 0


def cmd_save(args) -> int:
    saved = api.save_template(_read(args.file), folder=args.folder, file=args.file)
    print(f"saved {saved.path}" + (f" (previous version kept as {saved.archived})" if saved.archived else ""))
    if saved.diff:
        print("\n".join(saved.diff.lines()))
    return 0


def cmd_diff(args) -> int:
    draft = _read(args.draft) if args.draft else None
    if draft is None and args.new is None:
        versions = api.library().versions(args.id)
        args.new = versions[-1] if versions else None
    diff = api.diff_templates(args.id, args.old, args.new, draft=draft)
    if args.json:
        print(json.dumps(diff.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(diff.lines()))
    return 0


def cmd_show(args) -> int:
    sys.stdout.write(api.template_text(args.id, args.version))
    return 0


def cmd_dry_run(args) -> int:
    roles, params, expert = _recipe_parts(args)
    result = api.dry_run(_read(args.file), args.table, db=args.db, roles=roles, params=params, expert=expert,
                         rows=args.rows, how="random" if args.random else "head", seed=args.seed, file=args.file)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        steps = ", ".join(f"{s['step']} {s['seconds']:.2f}s" for s in result["timings"]["steps"])
        print(f"dry run {result['status']} on {result['sample']['rows']} rows of {args.table} ({steps})")
        if result["status"] != "succeeded":
            print(f"failed at step '{result['error']['step']}': {result['error']['message']}")
        for name, metric in (result.get("metrics") or {}).items():
            if isinstance(metric, dict) and "mean" in metric:
                print(f"  {name}: {metric['mean']:.4g} ± {metric.get('std') or 0:.2g}")
    return 0 if result["status"] == "succeeded" else 1


def _recipe_parts(args) -> tuple[dict, dict, dict]:
    """Roles, params, expert knowledge: from --recipe, else the engine's role suggestion for the table."""
    if args.recipe:
        data, _ = load_file(args.recipe)
        return data.get("roles") or {}, data.get("params") or {}, data.get("expert") or {}
    loaded, issues, _ = api.check_template_text(_read(args.file), args.file)
    if issues:  # a broken draft is refused before anything reads (or profiles) the table
        raise InvalidInput(issues)
    suggested = api.suggest_roles(args.table, db=args.db, template=loaded.template if loaded and not issues else None)
    return {k: v for k, v in suggested.items() if k != "columns" and v}, {}, {}


def cmd_migrate(args) -> int:
    plan = api.migrate_recipe(args.recipe, to=args.to, write=args.write)
    print("\n".join(plan.lines()))
    if not plan.ok:
        return 2
    if args.write:
        print(f"{args.recipe}: pin set to {plan.new_ref}")
        issues = api.validate_file(args.recipe, db=args.db)
        for issue in issues:
            print(issue)
        print("re-validated: " + ("ok" if not issues else f"{len(issues)} problem(s)"))
        return 2 if issues else 0
    return 0


def cmd_docs(args) -> int:
    from engine.service import docs

    if args.check:
        stale = docs.outdated()
        for path in stale:
            print(f"out of date: {path} — regenerate with: python -m engine docs", file=sys.stderr)
        return 1 if stale else 0
    for path in docs.write():
        print(f"wrote {path}")
    return 0


def add_commands(add) -> None:
    """Register the authoring commands with `add(name, help) -> parser` of the main CLI."""
    p = add("template", help="author templates: check, save a new version, diff versions, show, dry-run")
    sub = p.add_subparsers(dest="action", required=True)
    q = sub.add_parser("check", help="every problem of a draft, the semver rule, the diff with the newest version")
    q.add_argument("file")
    q.set_defaults(fn=cmd_check)
    q = sub.add_parser("save", help="save a draft as a new version (semver bump enforced)")
    q.add_argument("file")
    q.add_argument("--folder", help="template folder (default: beside the newest version, else templates/)")
    q.set_defaults(fn=cmd_save)
    q = sub.add_parser("diff", help="what changed between two versions (or a version and a draft)")
    q.add_argument("id")
    q.add_argument("old", help="the older version")
    q.add_argument("new", nargs="?", help="the newer version (default: the newest)")
    q.add_argument("--draft", help="compare with this draft file instead of a saved version")
    q.add_argument("--json", action="store_true")
    q.set_defaults(fn=cmd_diff)
    q = sub.add_parser("show", help="print a saved version's YAML (to start a draft)")
    q.add_argument("id")
    q.add_argument("--version")
    q.set_defaults(fn=cmd_show)
    q = sub.add_parser("dry-run", help="run a draft on a sample of a table (nothing is saved)")
    q.add_argument("file")
    q.add_argument("--table", required=True)
    q.add_argument("--recipe", help="take roles, params and expert knowledge from this recipe")
    q.add_argument("--rows", type=int, default=500)
    q.add_argument("--random", action="store_true", help="a random sample instead of the first rows")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--json", action="store_true")
    q.add_argument("--db", default=argparse.SUPPRESS, help="data-factory file")
    q.set_defaults(fn=cmd_dry_run)
    p = add("migrate", help="move a recipe to another template version: what changes, then the new pin")
    p.add_argument("recipe")
    p.add_argument("--to", help="target version (default: the newest)")
    p.add_argument("--write", action="store_true", help="rewrite the pin when nothing blocks it, then re-validate")
    p.set_defaults(fn=cmd_migrate)
    p = add("docs", help="regenerate schemas/*.json and the operator reference in docs/TEMPLATES.md")
    p.add_argument("--check", action="store_true", help="only check they are up to date (exit 1 if not)")
    p.set_defaults(fn=cmd_docs)
