"""The facade the UI and the CLI use. Everything the studio does is reachable from here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.pipeline import registry
from engine.pipeline.executor import ProgressEvent  # noqa: F401  (re-exported: the CLI's progress type)
from engine.pipeline.graph import Pipeline
from engine.schema.errors import issues_from_validation  # noqa: F401  (re-exported: the generated forms)
from engine.schema.recipe import Recipe
from engine.schema.template import Template
from engine.store.catalog import Catalog, TableInfo  # noqa: F401  (re-exported for pages and the CLI)
from engine.store.ingest import IngestOptions  # noqa: F401  (re-exported: the Data page's ingest options)
from engine.service.demo import (  # noqa: F401  (re-exported)
    DEMO_TABLES, RUBBER_TABLE, SIMULATED_BOILER, SIMULATED_TABLE, TEST_ITEMS_TABLE, ensure_demo)
from engine.service.images import (  # noqa: F401  (re-exported)
    image_samples, ingest_images, is_image_table, score_images)
from engine.service.reports import report_html, report_pdf, write_report  # noqa: F401  (re-exported)
from engine.service.runner import (  # noqa: F401  (re-exported)
    compile_recipe, get_run, library, load_recipe, load_result, new_run_id, run_recipe, runs, validate_file)
from engine.service.tables import (  # noqa: F401  (re-exported)
    catalog, derive_table, ingest, ingest_frame, profile_table, report_busy, tables)
from engine.service.scoring_apply import save_frame_table, score_run as score  # noqa: F401  (re-exported)


def pdm_view(result: dict, lang: str = "en") -> dict | None:
    """What the Results page shows of a predictive-maintenance run (None for other runs): the task sentence, the
    cross-validated figures, units ranked by risk, the sensors driving it, health curves and the alarm timeline."""
    from engine.report import pdm

    if not pdm.is_pdm(result):
        return None
    return {"task": pdm.task_text(result, lang), "kpis": pdm.kpis(result, lang),
            "ranking": pdm.ranking_rows(result, lang, limit=50), "sensors": pdm.sensor_rows(result, lang),
            "curves": pdm.curves_figure(result, lang, units=8), "timeline": pdm.timeline_figure(result, lang),
            "titles": {k: pdm.t(k, lang) for k in ("pdm", "ranking", "sensors", "curves", "timeline")}}

# -- templates and operators -------------------------------------------------------------------------------
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
    raise InvalidInput(Issue(Msg(f"unknown schema '{kind}'", f"未知的 schema '{kind}'"),
                             hint=Msg("use template, recipe or params:<template id>", "请使用 template、recipe 或 params:<模板 id>")))


# -- template authoring (versions, semver rule, diff, dry run, migration) ----------------------------------
def template_text(template_id: str, version: str | None = None) -> str:
    """The YAML text of a saved template version (the newest when None)."""
    return library().get(template_id, version).path.read_text(encoding="utf-8-sig")


def check_template_text(text: str, file: str = "<editor>"):
    """(template or None, every problem of the draft, the semver problems against the newest saved version)."""
    from engine.service import authoring

    loaded, issues = authoring.check_text(text, file)
    return loaded, issues, authoring.version_issues(loaded, library()) if loaded else []


def template_skeleton() -> str:
    """A small valid template to start a new one from."""
    from engine.service import authoring

    return authoring.SKELETON


def suggest_template_version(text: str) -> str | None:
    """The smallest version the semver rule allows for a draft (None: new template or unreadable draft)."""
    from engine.service import authoring

    try:
        return authoring.suggested_version(authoring.parse_text(text), library())
    except InvalidInput:
        return None


def set_template_version(text: str, version: str) -> str:
    from engine.service import authoring

    return authoring.with_version(text, version)


def save_template(text: str, *, folder: str | Path | None = None, file: str = "<editor>"):
    """Save a draft as a new version (semver rule enforced; the replaced version is kept as <id>/<version>.yaml)."""
    from engine.service import authoring

    return authoring.save_template(text, library(), Path(folder) if folder else None, file)


def diff_templates(template_id: str, old: str, new: str | None = None, *, draft: str | None = None):
    """What changed between two saved versions, or between version `old` and a draft's text."""
    from engine.service import authoring
    from engine.pipeline import versions

    lib = library()
    new_template = authoring.parse_text(draft).template if draft is not None else lib.get(template_id, new).template
    return versions.diff_templates(lib.get(template_id, old).template, new_template)


def compile_draft(text: str, table: str, *, db=None, **kw) -> Pipeline:
    """A draft compiled against a sample of a table (roles=, params=, expert=, rows=, how=head|random, seed=)."""
    from engine.service import authoring

    return authoring.compile_draft(text, catalog(db), table, **kw)


def dry_run(text: str, table: str, *, db=None, **kw) -> dict[str, Any]:
    """Run a draft on a sample of a table; leaves no table, run record or cache entry behind."""
    from engine.service import authoring

    return authoring.dry_run(text, catalog(db), table, **kw)


def migrate_recipe(path: str | Path, *, to: str | None = None, write: bool = False):
    """What moving a recipe to another template version takes; with `write`, the new pin when nothing blocks it."""
    from engine.service import migrate

    return migrate.migrate_file(path, library(), to, write)


# -- a process expert's first hour (issue 16): checks before a benefit, plain words, the role board ----------
def check_result(result: dict) -> dict:
    """Whether a run's recommendation can be acted on (engine.optim.sanity): its stored verdict, or one computed now
    for results written before the check existed."""
    from engine.optim.sanity import check_result as check

    return result.get("sanity") or check(result)


def plain_words(result: dict) -> dict:
    """A run's numbers in plain words (engine/report/plain.py): model quality, the optimiser's status, the scenario."""
    from engine.report.plain import quality_words, scenario_words, solver_words

    pred = result.get("predicted") or {}
    context = ((result.get("recipe") or {}).get("content") or {}).get("roles", {}).get("context") or []
    return {"quality": quality_words(result.get("metrics") or {}), "solver": solver_words(pred.get("solver")),
            "scenario": scenario_words(pred, context) if pred else None}


def table_consequences(table: str, target: str, columns: list[str], db=None) -> list[dict]:
    """Which of `columns` are consequences of `target` in a data-factory table (engine/ml/consequences.py), each
    with its evidence: shown on the Build page before a run, for the expert to confirm or move."""
    from engine.ml.consequences import SAMPLE_ROWS, find_consequences

    cat = catalog(db)
    have = set(cat.table_info(table).columns)
    wanted = [c for c in dict.fromkeys([target, *columns]) if c in have]
    if target not in have or len(wanted) < 2:
        return []
    return find_consequences(cat.read_table(table, wanted, limit=SAMPLE_ROWS), target, wanted[1:])


def match_columns(columns: list[str], pattern: str) -> list[str]:
    """Columns matching a search on the role board: a glob such as `*_sp`, or a part of the name."""
    from engine.service.role_guess import match_columns as match

    return match(columns, pattern)


# -- studio pages (Streamlit-free helpers, kept in their own modules) ----------------------------------------
from engine.service.background import (  # noqa: E402,F401  (re-exported)
    cancel_run, run_model, run_status, start_run, wait_run, what_if)
from engine.service.trials import log_trial, retrain_with_trials, trials  # noqa: E402,F401  (re-exported)
from engine.service.workspace import (  # noqa: E402,F401  (re-exported)
    compare_runs, guess_table_roles, preview_table, read_recipe, recipe_yaml, recipes_dir, save_recipe, saved_recipes,
    suggest_roles, table_operators)


# -- live monitoring: a run's recommendation checked against a growing table (engine/service/monitor.py, watch.py)
def monitor_report(run_id: str, *, table: str | None = None, data=None, baseline: int | None = None,
                   rules: list[str] | None = None, drift_method: str | None = None, db=None) -> dict[str, Any]:
    """Verdicts on every batch of a table or file against the run: {"alerts", "summary", "series", "frame"}
    (nothing stored). See engine/ml/monitoring.py."""
    from engine.service import monitor

    return monitor.report(run_id, table=table, data=data, baseline=baseline, rules=rules, drift_method=drift_method,
                          db=db)


def monitor_json(report: dict[str, Any]) -> dict[str, Any]:
    """{"alerts": [{row, time, kind, rule, column, message, zh}], "summary": {...}} of a monitor report."""
    from engine.service import monitor

    return monitor.alerts_json(report)


def start_monitor(run_id: str, table: str, *, baseline: int = 100, webhook: str | None = None, db=None) -> dict:
    """Tie a run to a table that grows (stored; again to change the baseline or the webhook)."""
    from engine.service import monitor

    return monitor.start(run_id, table, baseline=baseline, webhook=webhook, db=db)


def check_monitor(run_id: str, table: str, *, baseline: int | None = None, webhook: str | None = None,
                  db=None) -> dict[str, Any]:
    """Check the table now: the report plus "new_alerts" (stored in the data factory, posted to the webhook)."""
    from engine.service import monitor

    return monitor.check(run_id, table, baseline=baseline, webhook=webhook, db=db)


def monitors(run_id: str | None = None, db=None) -> list[dict]:
    from engine.store import monitoring

    return monitoring.monitors(catalog(db), run_id)


def alerts(*, run_id: str | None = None, table: str | None = None, open_only: bool = False, limit: int | None = None,
           db=None) -> list[dict]:
    """Stored alerts, newest first: alert_id, row, time, kind, rule, column, message, zh, acknowledged_by ..."""
    from engine.store import monitoring

    return monitoring.alerts(catalog(db), run_id=run_id, table=table, open_only=open_only, limit=limit)


def acknowledge_alerts(alert_ids: list[str], user: str, note: str = "", db=None) -> int:
    """Acknowledge alerts as `user`; returns how many were still open."""
    from engine.store import monitoring

    return monitoring.acknowledge(catalog(db), list(alert_ids), user, note)


def retrain_from_monitor(run_id: str, table: str, *, db=None, lang: str = "en") -> tuple[str, dict]:
    """(new table = training data + monitored batches + trials, the run's recipe bound to it); run it with
    run_recipe or start_run."""
    from engine.service import monitor

    return monitor.retrain(run_id, table, db=db, lang=lang)


def watch_folder(folder: str | Path, table: str, *, run_id: str | None = None, interval: float = 2.0,
                 on_event: Callable | None = None, on_check: Callable | None = None, stop=None,
                 max_polls: int | None = None, db=None) -> int:
    """Ingest files dropped into `folder` into `table` until stopped (engine/service/watch.py); with `run_id`, check
    the monitor after every pass that added rows (`on_check(report)`)."""
    from engine.service import watch

    def after(_events):
        report = check_monitor(run_id, table, db=db)
        if on_check:
            on_check(report)

    return watch.watch(folder, table, catalog(db), interval=interval, on_event=on_event or (lambda e: None),
                       after_ingest=after if run_id else None, stop=stop, max_polls=max_polls)


# -- users, sessions, permissions, audit, the run queue (engine/service/access|auth|users|audit|jobs|paths) -------
# Every interface asks authorize(principal, action) — pages, the REST API, the CLI — from the ONE table in
# engine/service/access.py; the *_as functions check, act and audit in one call.
from engine.service.access import (  # noqa: E402,F401  (re-exported)
    PERMISSIONS, ROLE_LABELS, ROLES, AccessError, Conflict, Forbidden, NotAuthenticated, NotFound, Principal, allowed,
    local_principal)
from engine.service.acting import (  # noqa: E402,F401  (re-exported)
    cancel_run_as, check_recipe_files, derive_table_as, ensure_demo_as, ingest_as, job_queue, job_status,
    log_trial_as, run_recipe_as, save_recipe_as, save_template_as, start_run_as, submit_run)
from engine.service.paths import uploads_dir  # noqa: E402,F401  (re-exported)
from engine.service.sessions import (  # noqa: E402,F401  (re-exported)
    accounts, add_user, audit, audit_entries, authorize, change_own_password, create_api_key, disable_user,
    list_api_keys, list_users, login,
    logout, owners, password_problems, revoke_api_key, set_user_password, set_user_role, setup_first_admin,
    users_exist, whoami)


# -- Dask cluster for a run's heavy steps (engine/service/cluster.py) -----------------------------------------------
def check_cluster(value: str | None, option: str = "cluster") -> str | None:
    """The cluster a value names ('local:N' or 'tcp://HOST:PORT'; None for this machine); InvalidInput otherwise."""
    from engine.service import cluster

    spec = cluster.parse(value, option)
    return spec.label if spec else None


def cluster_setting() -> str:
    """The cluster runs use when none is given (AI_STUDIO_CLUSTER; empty: this machine)."""
    from engine.service import cluster

    return cluster.setting()


def score_on_cluster(run_id: str, table: str, *, cluster: str, **kw):
    """Score a data-factory table on a Dask cluster, a map over its Parquet partitions (engine/service/scoring_cluster.py)."""
    from engine.service.scoring_cluster import score_table_on_cluster

    return score_table_on_cluster(run_id, table, cluster=cluster, **kw)
