"""The facade the UI and the CLI use. Everything the studio does is reachable from here."""

from __future__ import annotations

import secrets
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from engine import config, derive, profiling, recipes, registry, result as result_io
from engine.cache import StepCache
from engine.catalog import Catalog, TableInfo
from engine.compiler import check_template
from engine.errors import InvalidInput, Issue, RunFailed
from engine.context import Cancelled
from engine.executor import Executor, LocalExecutor, ProgressEvent, StepFailed
from engine.ingest import IngestOptions, ingest_file
from engine.library import TemplateLibrary, load_template
from engine.pipeline import Pipeline
from engine.runs import RunStore
from engine.schema.recipe import Recipe
from engine.schema.template import Template
from engine.yaml_io import dump, load_file

DEMO_TABLES = {"concrete": config.REPO_ROOT / "data" / "demo" / "concrete.csv",
               "ccpp": config.REPO_ROOT / "data" / "demo" / "ccpp.csv"}


# -- templates and operators -------------------------------------------------------------------------------
def library() -> TemplateLibrary:
    """Read templates/ afresh, so a new YAML file appears without a restart."""
    return TemplateLibrary.load()


def list_templates() -> list[Template]:
    return library().latest()


def list_operators() -> list[registry.OperatorSpec]:
    return registry.all_operators()


def json_schema(kind: str = "template") -> dict[str, Any]:
    """JSON Schema for template authors ('template', 'recipe') or a template's params ('params:<id>')."""
    if kind == "template":
        return Template.model_json_schema()
    if kind == "recipe":
        return Recipe.model_json_schema()
    if kind.startswith("params:"):
        return library().get(kind.split(":", 1)[1]).template.params_model().model_json_schema()
    raise InvalidInput(Issue(f"unknown schema '{kind}'", hint="use template, recipe or params:<template id>"))


# -- the data factory --------------------------------------------------------------------------------------
_on_busy: Callable[[str], None] | None = None


def report_busy(fn: Callable[[str], None] | None) -> None:
    """Where every data-factory access of this process says "busy, retrying" (the CLI: stderr)."""
    global _on_busy
    _on_busy = fn


def catalog(db: str | Path | None = None, on_busy: Callable[[str], None] | None = None) -> Catalog:
    return Catalog(db, on_busy=on_busy or _on_busy)


def ingest(path: str | Path, table: str, *, db=None, replace: bool = False, sheet=None,
           options: IngestOptions | dict | None = None,
           on_progress: Callable[[float, str], None] | None = None) -> TableInfo:
    """Ingest a file as a table (options: mode create/replace/append, sheet, delimiter, types, formats ...)."""
    return ingest_file(catalog(db), path, table, options, replace=replace, sheet=sheet, on_progress=on_progress)


def tables(db=None) -> list[TableInfo]:
    return catalog(db).tables()


def derive_table(source: str, op_id: str, params: dict[str, Any], new_table: str, *, right: str | None = None,
                 db=None) -> tuple[TableInfo, dict]:
    """A cleaning/alignment action: operator on a table -> a new table (the source is never overwritten)."""
    return derive.derive_table(catalog(db), source, op_id, params, new_table, right=right)


# -- profiles ----------------------------------------------------------------------------------------------
def profile_table(name: str, db=None, *, time: str | None = None, target: str | None = None,
                  controllable: list[str] | None = None, near_constant: float = 0.99,
                  refresh: bool = False) -> dict[str, Any]:
    """Profile of a data-factory table with its data readiness score (computed in DuckDB, cached per fingerprint)."""
    return profiling.profile_table(catalog(db), name, time=time, target=target, controllable=controllable,
                                   near_constant=near_constant, refresh=refresh)


def ensure_demo(db=None) -> list[str]:
    """Ingest the bundled demo tables that are not yet in the data factory; return the ones added."""
    cat = catalog(db)
    have = {t.lower() for t in cat.table_names()}
    added = []
    for name, path in DEMO_TABLES.items():
        if name not in have:
            ingest_file(cat, path, name)
            added.append(name)
    return added


# -- recipes ---------------------------------------------------------------------------------------------
def load_recipe(source: str | Path | dict, overrides: list[str] | None = None) -> recipes.LoadedRecipe:
    """A recipe from a YAML file or a dict (as the UI builds it), validated, with --set overrides applied."""
    return recipes.load_recipe(source, overrides, library())


def compile_recipe(source: str | Path | dict, *, db=None, overrides: list[str] | None = None) -> Pipeline:
    """Template + recipe + data -> a validated pipeline; InvalidInput lists every problem found."""
    return recipes.compile_recipe(source, catalog(db), library(), overrides)


def validate_file(path: str | Path, *, db=None) -> list[Issue]:
    """Every problem in a template or recipe file (empty list: valid). Recipes are compiled against their data."""
    data, _ = load_file(path)
    try:
        if isinstance(data, dict) and "steps" in data:
            issues, _ = check_template(load_template(path))
            return issues
        compile_recipe(path, db=db)
    except InvalidInput as exc:
        return exc.issues
    return []


# -- runs --------------------------------------------------------------------------------------------------
def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def run_recipe(source: str | Path | dict, *, db=None, out_dir: str | Path | None = None,
               overrides: list[str] | None = None, on_progress: Callable[[ProgressEvent], None] | None = None,
               cancelled: Callable[[], bool] | None = None, executor: Executor | None = None,
               run_id: str | None = None) -> dict[str, Any]:
    """Compile and run a recipe; write result.json (run folder and `out_dir`); raise RunFailed on failure."""
    started = time.perf_counter()
    pipeline = compile_recipe(source, db=db, overrides=overrides)
    cat = catalog(db)
    store = RunStore(cat)
    store.reconcile()
    run_id = run_id or new_run_id()
    run_dir = config.runs_dir(cat.path) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    recipe_path = str(source) if not isinstance(source, dict) else None
    (run_dir / "recipe.yaml").write_text(dump(pipeline.recipe), encoding="utf-8")
    result_io.write_json(run_dir / "pipeline.json", pipeline.to_dict())
    store.start(run_id, {"template_id": pipeline.template_id, "template_version": pipeline.template_version,
                         "recipe_name": pipeline.recipe["name"], "recipe": pipeline.recipe,
                         "data_fingerprint": pipeline.source.fingerprint}, str(run_dir))
    executor = executor or LocalExecutor(StepCache(config.cache_dir(cat.path)))
    artifacts = {"result": "result.json", "pipeline": "pipeline.json", "recipe": "recipe.yaml"}
    try:
        execution = executor.execute(pipeline, run_id, on_event=on_progress, on_step=lambda r: store.step_later(run_id, r),
                                     cancelled=cancelled)
    except BaseException as exc:  # noqa: BLE001 — any failure (incl. Ctrl-C) marks the run, then propagates
        step_id = getattr(exc, "step_id", None)
        try:
            store.flush()
        except Exception:  # noqa: BLE001 — recording a step must not hide why the run failed
            pass
        for record in getattr(exc, "records", [])[-1:]:
            store.step(run_id, record)
        status = _status_of(exc)
        wall = time.perf_counter() - started
        result = result_io.build(run_id, status, pipeline, None, recipe_path=recipe_path, wall_seconds=wall,
                                 artifacts=artifacts, error={"step": step_id, "message": _message_of(exc)})
        _publish(run_dir, out_dir, result, artifacts)
        store.finish(run_id, status, wall, _message_of(exc), step_id)
        if isinstance(exc, StepFailed):
            raise RunFailed(run_id, step_id, str(exc)) from None
        raise
    store.flush()
    wall = time.perf_counter() - started
    result = result_io.build(run_id, "succeeded", pipeline, execution, recipe_path=recipe_path, wall_seconds=wall,
                             artifacts=artifacts)
    result["run_dir"] = str(run_dir)
    _publish(run_dir, out_dir, result, artifacts)
    store.finish(run_id, "succeeded", wall)
    return result_io.to_jsonable(result)


def _status_of(exc: BaseException) -> str:
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return "interrupted"
    cause = exc.__cause__ if isinstance(exc, StepFailed) else exc
    return "cancelled" if isinstance(cause, Cancelled) or "cancelled" in str(exc) else "failed"


def _message_of(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted by the user (Ctrl-C)"
    return str(exc) or type(exc).__name__


def _publish(run_dir: Path, out_dir, result: dict, artifacts: dict[str, str]) -> None:
    """result.json last: its presence with status 'succeeded' means everything else is in place."""
    result_io.write_json(run_dir / "result.json", result)
    if out_dir:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name in artifacts.values():
            if name != "result.json" and (run_dir / name).exists():
                shutil.copy2(run_dir / name, out / name)
        result_io.write_json(out / "result.json", result)


def runs(db=None, limit: int = 50) -> list[dict[str, Any]]:
    return RunStore(catalog(db)).list(limit)


def get_run(run_id: str, db=None) -> dict[str, Any]:
    run = RunStore(catalog(db)).get(run_id)
    if run is None:
        raise InvalidInput(Issue(f"no run '{run_id}'", hint="list runs with: python -m engine runs"))
    return run


def load_result(run_id: str, db=None) -> dict[str, Any]:
    import json

    run = get_run(run_id, db)
    path = Path(run["run_dir"]) / "result.json"
    if not path.exists():
        raise InvalidInput(Issue(f"run '{run_id}' has no result.json (status {run['status']})"))
    return json.loads(path.read_text(encoding="utf-8"))


# -- reports ---------------------------------------------------------------------------------------------
def write_report(run_id: str, out: str | Path, *, fmt: str = "html", lang: str = "en", db=None,
                 economics: dict | None = None) -> Path:
    """The run's report (HTML or PDF, zh or en); economics = {price, volume, currency} values the uplift per year."""
    from engine import report

    if fmt not in ("html", "pdf") or lang not in ("en", "zh"):
        raise InvalidInput(Issue(f"report format '{fmt}' / language '{lang}' not available", hint="html|pdf, en|zh"))
    result = load_result(run_id, db)
    binding = (result.get("data") or {}).get("binding") or {}
    profile = None
    if binding.get("table"):
        try:
            roles = result["recipe"]["content"].get("roles", {})
            profile = profile_table(binding["table"], db, target=(roles.get("target") or [None])[0],
                                    controllable=roles.get("controllable") or None)
        except InvalidInput:  # the table was dropped since: the report goes without its profile
            profile = None
    return report.write_report(result, out, fmt, lang, profile=profile, economics=economics)


def report_html(run_id: str, *, lang: str = "en", db=None) -> str:
    """The run's report as one self-contained HTML text (for a download button)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = write_report(run_id, Path(tmp) / "report.html", fmt="html", lang=lang, db=db)
        return path.read_text(encoding="utf-8")


def report_pdf(run_id: str, *, lang: str = "en", db=None) -> bytes:
    """The run's report as A4 PDF bytes (needs Chromium; StudioError says how to get it)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return write_report(run_id, Path(tmp) / "report.pdf", fmt="pdf", lang=lang, db=db).read_bytes()


# -- studio pages (Streamlit-free helpers, kept in their own modules) ----------------------------------------
from engine.background import (  # noqa: E402,F401  (re-exported)
    cancel_run, run_model, run_status, start_run, wait_run, what_if)
from engine.trials import log_trial, retrain_with_trials, trials  # noqa: E402,F401  (re-exported)
from engine.workspace import (  # noqa: E402,F401  (re-exported)
    compare_runs, preview_table, read_recipe, recipe_yaml, recipes_dir, save_recipe, saved_recipes, suggest_roles,
    table_operators)
