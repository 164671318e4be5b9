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
from engine.compiler import check_template, compile_pipeline
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


# -- UI support --------------------------------------------------------------------------------------------
# Small, Streamlit-free helpers the studio's pages call: previews, role suggestions, saved recipes, runs in a
# background worker (survive page switches and browser refreshes), and what-if predictions from a run's model.
import threading  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from engine.errors import StudioError  # noqa: E402


def preview_table(name: str, limit: int = 50, db=None):
    """The first `limit` rows of a table (a pandas DataFrame)."""
    return catalog(db).preview(name, limit)


def table_operators() -> list[registry.OperatorSpec]:
    """Operators a user can apply to a table to make a new one (cleaning, alignment)."""
    return derive.table_operators()


def suggest_roles(table: str, db=None) -> dict[str, list[str]]:
    """A first guess of column roles: last numeric column = target, first date/time = time, identifier-like,
    constant or text columns left unassigned or ignored, other numeric columns = controllable."""
    from engine.dtypes import dtype_class

    info = catalog(db).table_info(table)
    try:
        flags = {c["name"]: c for c in profile_table(info.name, db)["columns"]}
    except StudioError:
        flags = {}
    roles: dict[str, list[str]] = {"columns": [], "target": [], "controllable": [], "context": [], "time": [],
                                   "ignore": []}
    kinds = {c: dtype_class(t) for c, t in info.columns.items()}
    useless = {c for c, p in flags.items() if p.get("constant") or p.get("identifier_like")}
    numeric = [c for c, k in kinds.items() if k == "numeric" and c not in useless]
    times = [c for c, k in kinds.items() if k == "datetime"]
    if times:
        roles["time"].append(times[0])
    if numeric:
        roles["target"].append(numeric[-1])
    assigned = set(roles["time"]) | set(roles["target"])
    for col, kind in kinds.items():
        if col in assigned:
            continue
        if col in useless:
            roles["ignore"].append(col)
        elif kind in ("numeric", "bool"):
            roles["controllable"].append(col)
        else:
            roles["columns"].append(col)
    return roles


def recipes_dir(db=None) -> Path:
    """Recipes saved from the studio live in the studio home, beside the data factory."""
    return config.db_path(db).parent / "recipes"


def save_recipe(recipe: dict[str, Any], db=None) -> Path:
    """Write a recipe dict as YAML into the studio's recipes folder (file name from the recipe name)."""
    import re

    load_recipe(recipe)  # refuse to save something that is not a recipe
    slug = re.sub(r"[^\w\-]+", "_", str(recipe.get("name", "recipe")), flags=re.UNICODE).strip("_")[:60] or "recipe"
    path = recipes_dir(db) / f"{slug}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(recipe_yaml(recipe), encoding="utf-8")
    return path


def recipe_yaml(recipe: dict[str, Any]) -> str:
    return dump(recipe)


def saved_recipes(db=None) -> list[Path]:
    folders = [recipes_dir(db), config.REPO_ROOT / "recipes"]
    return [p for folder in folders if folder.is_dir() for p in sorted(folder.glob("*.y*ml"))]


def read_recipe(path: str | Path) -> dict[str, Any]:
    """A recipe file as a plain dict (validated), e.g. to edit it in the studio."""
    return load_recipe(path).recipe.model_dump(mode="json", exclude_none=True)


@dataclass
class _Worker:
    run_id: str
    thread: threading.Thread | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    fraction: float = 0.0
    step: str | None = None
    message: str = ""
    log: list[str] = field(default_factory=list)
    error: str | None = None
    done: bool = False


_WORKERS: dict[str, _Worker] = {}
_WORKERS_LOCK = threading.Lock()


def start_run(source: str | Path | dict, *, db=None, overrides: list[str] | None = None) -> str:
    """Compile (problems raise InvalidInput here), then run in a background thread of this process; the run's
    status lives in the data factory, so it survives page switches and a browser refresh."""
    compile_recipe(source, db=db, overrides=overrides)
    run_id = new_run_id()
    worker = _Worker(run_id)

    def on_progress(event: ProgressEvent) -> None:
        worker.fraction, worker.step, worker.message = event.fraction, event.step, event.message
        worker.log.append(f"{datetime.now():%H:%M:%S} {event.step}: {event.message}")
        del worker.log[:-200]

    def work() -> None:
        try:
            run_recipe(source, db=db, overrides=overrides, on_progress=on_progress, cancelled=worker.cancel.is_set,
                       run_id=run_id)
        except Exception as exc:  # noqa: BLE001 — recorded in the run row; kept here for runs that never started
            worker.error = str(exc) or type(exc).__name__
        finally:
            worker.done = True

    worker.thread = threading.Thread(target=work, name=f"run-{run_id}", daemon=True)
    with _WORKERS_LOCK:
        _WORKERS[run_id] = worker
    worker.thread.start()
    return run_id


def cancel_run(run_id: str) -> bool:
    """Ask a run of this process to stop (at the next step or progress report); False if it is not running here."""
    worker = _WORKERS.get(run_id)
    if worker is None or worker.done:
        return False
    worker.cancel.set()
    return True


def run_status(run_id: str, db=None) -> dict[str, Any]:
    """Status of a run: the data-factory row and step rows, merged with live progress when it runs here."""
    worker = _WORKERS.get(run_id)
    try:
        run = get_run(run_id, db)
    except InvalidInput:
        if worker is None:
            raise
        run = {"run_id": run_id, "status": "failed" if worker.done else "starting", "steps": [],
               "error": worker.error, "run_dir": None}
    planned = _planned_steps(run.get("run_dir"))
    titles = _step_titles(run.get("template_id"), run.get("template_version"))
    recorded = {s["step_id"]: s for s in run.get("steps") or []}
    steps = [{"step_id": s, "op": op, **recorded.get(s, {"status": "pending"})} for s, op in planned]
    steps += [s for s in run.get("steps") or [] if s["step_id"] not in dict(planned)]
    for s in steps:
        s["title"] = titles.get(s["step_id"])
    live = worker is not None and not worker.done
    if live and worker.step:
        for s in steps:
            if s["step_id"] == worker.step and s["status"] == "pending":
                s["status"] = "running"
    finished = sum(s["status"] in ("done", "cached") for s in steps)
    fraction = worker.fraction if live else (1.0 if run["status"] == "succeeded" else finished / max(len(steps), 1))
    return {**run, "steps": steps, "live": live, "fraction": float(fraction),
            "step": worker.step if live else None, "message": worker.message if live else "", "log": list(worker.log) if worker else [],
            "cancel_requested": bool(worker and worker.cancel.is_set())}


def _step_titles(template_id: str | None, version: str | None) -> dict[str, dict | None]:
    """{step id: {en, zh} title} of a run's template (empty when the template is gone)."""
    try:
        template = library().get(template_id, version).template
    except (InvalidInput, TypeError):
        return {}
    return {s.id: s.title.model_dump() if s.title else None for s in template.steps}


def _planned_steps(run_dir: str | None) -> list[tuple[str, str | None]]:
    import json

    path = Path(run_dir) / "pipeline.json" if run_dir else None
    if not path or not path.exists():
        return []
    return [(s["id"], s.get("op")) for s in json.loads(path.read_text(encoding="utf-8")).get("steps", [])]


def wait_run(run_id: str, timeout: float | None = None, db=None) -> dict[str, Any]:
    """Block until a run of this process ends (tests, scripts); its final status."""
    worker = _WORKERS.get(run_id)
    if worker is not None and worker.thread is not None:
        worker.thread.join(timeout)
    return run_status(run_id, db)


_MODELS: dict[tuple[str, str], Any] = {}


def run_model(run_id: str, db=None):
    """The trained model of a successful run, read back from the step cache (kept in memory afterwards)."""
    key = (str(config.db_path(db)), run_id)
    if key in _MODELS:
        return _MODELS[key]
    run, result = get_run(run_id, db), load_result(run_id, db)
    pipeline = compile_recipe(run["recipe"], db=db)
    if pipeline.source.fingerprint != result["data"]["fingerprint"]:
        raise InvalidInput(Issue(f"the data of run {run_id} changed after it ran", hint="run the recipe again"))
    step = next((s for s in pipeline.steps if "model" in s.op.outputs), None)
    cache = StepCache(config.cache_dir(catalog(db).path))
    step_key_ = LocalExecutor(cache).keys(pipeline).get(step.id) if step else None
    if step_key_ is None or not cache.has(step_key_):
        raise InvalidInput(Issue(f"the model of run {run_id} is no longer in the step cache",
                                 hint="run the recipe again (unchanged steps come from the cache)"))
    if len(_MODELS) >= 8:
        _MODELS.pop(next(iter(_MODELS)))
    _MODELS[key] = cache.get(step_key_)["model"]
    return _MODELS[key]


def what_if(run_id: str, settings: dict[str, Any], db=None) -> dict[str, Any]:
    """Re-predict the run's outcome with some settings changed (others as recommended): value, 90 % band
    (out-of-fold residuals, within the observed range), fold-model range, and the change from baseline."""
    import numpy as np
    import pandas as pd

    model, predicted = run_model(run_id, db), load_result(run_id, db)["predicted"]
    point = {**predicted.get("settings", {}), **settings}
    missing = [c for c in model.features if c not in point]
    if missing:
        raise InvalidInput(Issue(f"what-if needs values for {missing}"))
    frame = pd.DataFrame([{c: point[c] for c in model.features}]).infer_objects()
    value = float(model.predict(frame)[0])
    folds = model.predict_folds(frame)[:, 0]
    lo_obs, hi_obs = predicted.get("observed_range") or (-np.inf, np.inf)
    q_lo, q_hi = model.residual_q
    baseline = predicted.get("baseline", {}).get("value")
    return result_io.to_jsonable({
        "value": value, "low": float(np.clip(value + q_lo, lo_obs, hi_obs)),
        "high": float(np.clip(value + q_hi, lo_obs, hi_obs)),
        "folds_low": float(folds.min()), "folds_high": float(folds.max()), "baseline": baseline,
        "change": value - baseline if baseline is not None else None, "settings": point})


def compare_runs(run_a: str, run_b: str, db=None) -> dict[str, list[dict[str, Any]]]:
    """Two runs side by side: metric means, recommended values, predicted outcomes."""
    a, b = load_result(run_a, db), load_result(run_b, db)

    def metric(res, name):
        value = res.get("metrics", {}).get(name)
        return value.get("mean") if isinstance(value, dict) else None

    names = [m for m in dict.fromkeys([*a.get("metrics", {}), *b.get("metrics", {})])
             if isinstance(a.get("metrics", {}).get(m) or b.get("metrics", {}).get(m), dict)]
    recs = {r["name"]: r for r in a.get("recommendations", [])}, {r["name"]: r for r in b.get("recommendations", [])}
    rec_names = list(dict.fromkeys([*recs[0], *recs[1]]))
    outcome = [(k, sub) for k in ("baseline", "recommended", "uplift") for sub in ("value", "low", "high")]
    return {
        "metrics": [{"name": m, "a": metric(a, m), "b": metric(b, m)} for m in names],
        "recommendations": [{"name": n, "a": recs[0].get(n, {}).get("value"), "b": recs[1].get(n, {}).get("value")}
                            for n in rec_names],
        "predicted": [{"name": f"{k}.{sub}", "a": a.get("predicted", {}).get(k, {}).get(sub),
                       "b": b.get("predicted", {}).get(k, {}).get(sub)} for k, sub in outcome],
    }
