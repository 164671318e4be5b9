"""Actions on behalf of a signed-in principal — check, act, audit in one call — and this process's run queue.
The studio's pages and the REST API use these (re-exported by engine.api); the local CLI acts directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.core import config
from engine.core.errors import InvalidInput, StudioError
from engine.service import authoring, background, demo, jobs, paths, runner, tables, trials, workspace
from engine.service.access import Principal
from engine.service.policy import authorize_owner
from engine.service.sessions import accounts, audit, authorize, owners
from engine.store.catalog import TableInfo


def check_recipe_files(recipe: dict, db=None) -> dict:
    """A recipe from the studio or the REST API: its {file: PATH} may only read uploads and AI_STUDIO_DATA_ROOTS."""
    return paths.check_recipe_files(recipe, db)


def ingest_as(by: Principal, path: str | Path, table: str, *, db=None, **kw) -> TableInfo:
    authorize(by, "tables.write", f"table:{table}", db)
    try:
        info = tables.ingest(path, table, db=db, **kw)
    except StudioError as exc:
        audit(by, "tables.ingest", f"table:{table}", "failed", str(exc)[:500], db=db)
        raise
    accounts(db).set_owner("table", info.name, by.name)
    audit(by, "tables.ingest", f"table:{info.name}", "ok", f"{info.rows} rows", db=db)
    return info


def derive_table_as(by: Principal, source: str, op_id: str, params: dict[str, Any], new_table: str, *,
                    right: str | None = None, db=None) -> tuple[TableInfo, dict]:
    authorize(by, "tables.write", f"table:{new_table}", db)
    info, report = tables.derive_table(source, op_id, params, new_table, right=right, db=db)
    accounts(db).set_owner("table", info.name, by.name)
    audit(by, "tables.derive", f"table:{info.name}", "ok", f"{op_id} on {source}", db=db)
    return info, report


def ensure_demo_as(by: Principal, db=None, simulated: bool = False) -> list[str]:
    authorize(by, "tables.write", "demo", db)
    added = demo.ensure_demo(db, simulated)
    if added:
        audit(by, "tables.demo", ",".join(added), "ok", db=db)
    return added


def start_run_as(by: Principal, recipe: dict, *, db=None, cluster: str | None = None) -> str:
    """The studio's Run button: checked, then a background run of this process (engine/service/background.py);
    `cluster` ('local[:N]', 'tcp://HOST:8786'; None: the setting) runs its heavy steps on a Dask cluster."""
    authorize(by, "runs.start", "run", db)
    recipe = check_recipe_files(recipe, db)
    run_id = background.start_run(recipe, db=db, user=by.name, cluster=cluster)
    audit(by, "runs.start", f"run:{run_id}", "ok", str(recipe.get("template")), db=db)
    return run_id


def run_recipe_as(by: Principal, source, *, db=None, **kw) -> dict[str, Any]:
    """A run in the caller's thread (the Home page's demo button), checked and owned by `by`."""
    authorize(by, "runs.start", "run", db)
    result = runner.run_recipe(check_recipe_files(source, db) if isinstance(source, dict) else source, db=db,
                               user=by.name, **kw)
    audit(by, "runs.start", f"run:{result['run_id']}", "ok", db=db)
    return result


_QUEUES: dict[str, jobs.JobQueue] = {}


def job_queue(db=None) -> jobs.JobQueue:
    """This process's run queue on the data factory `db` (the REST service owns one)."""
    key = str(config.db_path(db))
    if key not in _QUEUES:
        def run(recipe, run_id, cancelled, user):
            return runner.run_recipe(recipe, db=db, run_id=run_id, cancelled=cancelled, user=user)
        _QUEUES[key] = jobs.JobQueue(accounts(db), run)
    return _QUEUES[key]


def submit_run(by: Principal, recipe: dict, *, db=None) -> str:
    """Queue a run (REST API): checked (runs.start), files confined, compiled now (problems raise InvalidInput
    before anything is queued); returns the run id at once."""
    authorize(by, "runs.start", "run", db)
    recipe = check_recipe_files(recipe, db)
    runner.compile_recipe(recipe, db=db)
    return job_queue(db).submit(by, recipe, runner.new_run_id())


def job_status(run_id: str, db=None) -> dict[str, Any]:
    """A queued or finished run's status: the queue row, then the run's own row with step progress."""
    job = accounts(db).job(run_id)
    if job is None or job["status"] != "queued":
        try:
            status = background.run_status(run_id, db)
        except InvalidInput:
            if job is None:
                raise
            status = {"run_id": run_id, "status": job["status"], "steps": [], "fraction": 0.0}
    else:
        status = {"run_id": run_id, "status": "queued", "steps": [], "fraction": 0.0}
    if job is not None:
        status["user"] = job["user_name"]
        status["cancel_requested"] = bool(job["cancel_requested"]) or status.get("cancel_requested", False)
        if job["status"] in ("cancelled", "failed") and status["status"] in ("queued", "running", "starting"):
            status["status"] = job["status"]
    else:
        status["user"] = owners("run", [run_id], db).get(run_id)
    return status


def cancel_run_as(by: Principal, run_id: str, *, db=None) -> str | None:
    """Cancel a run of any process (a queued job, a job of the REST service, a studio background run): its
    owner or an administrator."""
    owner = owners("run", [run_id], db).get(run_id)
    job = accounts(db).job(run_id)
    if owner is None and job is None:
        runner.get_run(run_id, db)  # unknown run: InvalidInput names it
    authorize_owner(accounts(db), by, "runs.cancel", f"run:{run_id}", owner)
    status = job_queue(db).cancel(run_id) if job else None
    background.cancel_run(run_id)
    audit(by, "runs.cancel", f"run:{run_id}", "ok", db=db)
    return status


def save_template_as(by: Principal, text: str, *, folder=None, file: str = "<editor>", db=None):
    authorize(by, "templates.save", "template", db)
    try:
        saved = authoring.save_template(text, runner.library(), Path(folder) if folder else None, file)
    except StudioError as exc:
        audit(by, "templates.save", "template", "failed", str(exc)[:500], db=db)
        raise
    accounts(db).set_owner("template", saved.path.stem, by.name)
    audit(by, "templates.save", f"template:{saved.path.stem}", "ok", str(saved.path), db=db)
    return saved


def save_recipe_as(by: Principal, recipe: dict, *, db=None) -> Path:
    authorize(by, "recipes.save", "recipe", db)
    path = workspace.save_recipe(recipe, db)
    accounts(db).set_owner("recipe", path.name, by.name)
    audit(by, "recipes.save", f"recipe:{path.name}", "ok", db=db)
    return path


def log_trial_as(by: Principal, run_id: str, settings: dict[str, Any], outcome: float, *, db=None, **kw):
    authorize(by, "trials.log", f"run:{run_id}", db)
    trial = trials.log_trial(run_id, settings, outcome, db=db, **kw)
    accounts(db).set_owner("trial", trial["trial_id"], by.name)
    audit(by, "trials.log", f"trial:{trial['trial_id']}", "ok", f"run {run_id}", db=db)
    return {**trial, "user": by.name}
