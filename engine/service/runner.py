"""Recipes and runs as a service: the template library, loading and compiling recipes, running a pipeline with its
run record and result.json, reading runs back."""

from __future__ import annotations

import json
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from engine.core import config, limits
from engine.core.errors import Busy, InvalidInput, Issue, RunFailed, StudioError
from engine.core.i18n import Msg, zh
from engine.core.yaml_io import dump, load_file
from engine.pipeline import result as result_io
from engine.pipeline.cache import StepCache
from engine.pipeline.compiler import check_template_data
from engine.pipeline.context import Cancelled
from engine.pipeline.executor import Executor, LocalExecutor, ProgressEvent, StepFailed
from engine.pipeline.graph import Pipeline
from engine.pipeline.scale import plan_source
from engine.pipeline.library import TemplateLibrary
from engine.service import recipes
from engine.service.access import local_principal
from engine.service.tables import catalog
from engine.store.catalog import Catalog
from engine.store.accounts import Accounts
from engine.store.runs import RunStore


def library() -> TemplateLibrary:
    """Read templates/ afresh, so a new YAML file appears without a restart."""
    return TemplateLibrary.load()


def load_recipe(source: str | Path | dict, overrides: list[str] | None = None) -> recipes.LoadedRecipe:
    """A recipe from a YAML file or a dict (as the UI builds it), validated, with --set overrides applied."""
    return recipes.load_recipe(source, overrides, library())


def compile_recipe(source: str | Path | dict, *, db=None, overrides: list[str] | None = None) -> Pipeline:
    """Template + recipe + data -> a validated pipeline; InvalidInput lists every problem found."""
    return recipes.compile_recipe(source, catalog(db), library(), overrides)


def validate_file(path: str | Path, *, db=None) -> list[Issue]:
    """Every problem in a template or recipe file (empty list: valid). Recipes are compiled against their data."""
    data, smap = load_file(path)
    try:
        if isinstance(data, dict) and "steps" in data:
            return check_template_data(data, smap, path)[1]
        compile_recipe(path, db=db)
    except InvalidInput as exc:
        return exc.issues
    return []


# -- runs --------------------------------------------------------------------------------------------------
def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


@dataclass
class PreparedRun:
    """A compiled run with its folder and its `running` row already in the data factory."""
    run_id: str
    pipeline: Pipeline
    run_dir: Path
    catalog: Catalog
    store: RunStore
    recipe_path: str | None
    started: float
    user: str  # who owns the run (named in result.json)


def prepare_run(source: str | Path | dict, *, db=None, overrides: list[str] | None = None,
                run_id: str | None = None, user: str | None = None) -> PreparedRun:
    """Compile (problems raise InvalidInput), make the run folder and record the run as running: from here on the
    run is listed everywhere, even before a background thread picks it up. `user` (default: the local
    operating-system user, cli:<login>) owns the run."""
    started = time.perf_counter()
    pipeline = compile_recipe(source, db=db, overrides=overrides)
    plan_source(pipeline)  # only the columns the run uses; a stratified sample over the memory budget
    cat = catalog(db)
    run_id = run_id or new_run_id()
    user = user or local_principal().name
    Accounts(cat).set_owner("run", run_id, user)
    run_dir = config.runs_dir(cat.path) / run_id
    store = RunStore(cat, run_id, str(run_dir / "result.json"))
    store.reconcile()
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "recipe.yaml").write_text(dump(pipeline.recipe), encoding="utf-8")
    result_io.write_json(run_dir / "pipeline.json", pipeline.to_dict())
    store.start(run_id, {"template_id": pipeline.template_id, "template_version": pipeline.template_version,
                         "recipe_name": pipeline.recipe["name"], "recipe": pipeline.recipe,
                         "data_fingerprint": pipeline.source.fingerprint}, str(run_dir))
    recipe_path = str(source) if not isinstance(source, dict) else None
    return PreparedRun(run_id, pipeline, run_dir, cat, store, recipe_path, started, user)


def run_recipe(source: str | Path | dict, *, db=None, out_dir: str | Path | None = None,
               overrides: list[str] | None = None, on_progress: Callable[[ProgressEvent], None] | None = None,
               cancelled: Callable[[], bool] | None = None, executor: Executor | None = None,
               run_id: str | None = None, user: str | None = None, cluster: str | None = None) -> dict[str, Any]:
    """Compile and run a recipe; write result.json (run folder and `out_dir`); raise RunFailed on failure.
    `cluster` ('local[:N]', 'tcp://HOST:8786'; None: the AI_STUDIO_CLUSTER setting; '': this machine) runs the
    heavy steps on a Dask cluster, opened before the run is recorded (a bad or silent one: exit 2) and closed after."""
    from engine.service import cluster as clusters

    spec = clusters.parse(clusters.setting() if cluster is None else cluster,
                          "--cluster" if cluster is not None else "AI_STUDIO_CLUSTER")
    if spec is None:
        prepared = prepare_run(source, db=db, overrides=overrides, run_id=run_id, user=user)
        return execute_run(prepared, out_dir=out_dir, on_progress=on_progress, cancelled=cancelled, executor=executor)
    compile_recipe(source, db=db, overrides=overrides)  # a broken recipe is refused before a cluster starts
    session = clusters.open_session(spec)
    try:
        prepared = prepare_run(source, db=db, overrides=overrides, run_id=run_id, user=user)
        return execute_on(session, prepared, out_dir=out_dir, on_progress=on_progress, cancelled=cancelled,
                          executor=executor)
    finally:
        clusters.close_session(session)


def execute_on(session, prepared: PreparedRun, **kw) -> dict[str, Any]:
    """execute_run with `session` (an open cluster, or None) as the cluster of the run's heavy steps."""
    from engine.core import compute

    with compute.using(session):
        return execute_run(prepared, **kw)


def execute_run(prepared: PreparedRun, *, out_dir: str | Path | None = None,
                on_progress: Callable[[ProgressEvent], None] | None = None,
                cancelled: Callable[[], bool] | None = None, executor: Executor | None = None) -> dict[str, Any]:
    """Run a prepared pipeline; write result.json (run folder and `out_dir`); raise RunFailed on failure."""
    run_id, pipeline, run_dir, store = prepared.run_id, prepared.pipeline, prepared.run_dir, prepared.store
    started, recipe_path = prepared.started, prepared.recipe_path
    cancelled, timed_out = _with_deadline(cancelled, started)
    executor = executor or LocalExecutor(StepCache(config.cache_dir(prepared.catalog.path)))
    artifacts = {"result": "result.json", "pipeline": "pipeline.json", "recipe": "recipe.yaml"}
    model_ref = _scoring().model_output(pipeline)
    if model_ref is not None:  # the final model is kept in the run folder, for scoring new data later
        pipeline.outputs.setdefault(_MODEL_OUTPUT, model_ref)
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
        status, message = _status_of(exc), _message_of(exc)
        if timed_out():
            status, message = "cancelled", _TIMED_OUT()
        wall = time.perf_counter() - started
        result = result_io.build(run_id, status, pipeline, None, recipe_path=recipe_path, wall_seconds=wall,
                                 artifacts=artifacts, error={"step": step_id, "message": str(message),
                                                                  "zh": zh(message)})
        result["user"] = prepared.user
        _publish(run_dir, out_dir, result, artifacts)
        _record(run_dir, lambda: store.finish(run_id, status, wall, message, step_id))
        if timed_out():
            raise RunTimedOut(run_id, message) from None
        if isinstance(exc, StepFailed):
            raise RunFailed(run_id, step_id, exc.msg) from None
        raise
    model = execution.outputs.pop(_MODEL_OUTPUT, None)
    scoring = _scoring().save_run_model(model, run_dir, run_id=run_id, pipeline=pipeline) if model is not None else None
    wall = time.perf_counter() - started
    result = result_io.build(run_id, "succeeded", pipeline, execution, recipe_path=recipe_path, wall_seconds=wall,
                             artifacts=artifacts)
    if scoring:
        result["scoring"] = scoring
    result["run_dir"] = str(run_dir)
    _sanity_checks(result, pipeline)
    _cluster_note(result)
    result["user"] = prepared.user
    _publish(run_dir, out_dir, result, artifacts)  # first: the result is safe whatever the data factory does

    def record() -> None:
        store.flush()
        store.finish(run_id, "succeeded", wall)
    _record(run_dir, record)
    return result_io.to_jsonable(result)


class RunTimedOut(StudioError):
    """A run stopped at its wall-time limit (AI_STUDIO_MAX_RUN_SECONDS): a refusal of the input's size (exit 2)."""

    def __init__(self, run_id: str, message: Msg):
        self.run_id = run_id
        super().__init__(Msg(f"run {run_id}: {message}", f"运行 {run_id}：{zh(message)}"))


def _TIMED_OUT() -> Msg:  # noqa: N802 — a message, read when a run stops
    limit = limits.RUN_SECONDS.value()
    return Msg(f"stopped at the wall-time limit of {limit:g} s for one run; bind less data, lower the model's size "
               f"(trees, folds, candidates), or raise AI_STUDIO_MAX_RUN_SECONDS",
               f"运行时长达到上限 {limit:g} 秒，已停止；请绑定更少的数据、调小模型规模（树、折数、候选数），"
               f"或调高 AI_STUDIO_MAX_RUN_SECONDS")


def _with_deadline(cancelled: Callable[[], bool] | None, started: float):
    """(cancelled, timed_out): the caller's cancel, or the run's wall time past AI_STUDIO_MAX_RUN_SECONDS."""
    deadline = started + limits.RUN_SECONDS.value()

    def timed_out() -> bool:
        return time.perf_counter() > deadline

    def stop() -> bool:
        return timed_out() or bool(cancelled and cancelled())
    return stop, timed_out


def _record(run_dir: Path, write: Callable[[], None]) -> None:
    """Write the run's rows; when the data factory stays busy past the wait, the result is kept and said to be."""
    try:
        write()
    except Busy as exc:
        raise Busy(Msg(f"{exc.text('en')}. The run itself finished: its result is saved in {run_dir / 'result.json'}, and "
                       f"the run list records it from there once the data factory is free",
                       f"{exc.text('zh')}。运行本身已完成：结果已保存在 {run_dir / 'result.json'}，"
                       f"数据工厂空闲后运行列表会据此记录")) from None


_MODEL_OUTPUT = "_final_model"  # the pipeline output that carries the model to save (never into result.json)


def _scoring():
    from engine.service import scoring

    return scoring


def _status_of(exc: BaseException) -> str:
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return "interrupted"
    cause = exc.__cause__ if isinstance(exc, StepFailed) else exc
    return "cancelled" if isinstance(cause, Cancelled) or "cancelled" in str(exc) else "failed"


def _message_of(exc: BaseException) -> Msg:
    if isinstance(exc, KeyboardInterrupt):
        return Msg("interrupted by the user (Ctrl-C)", "被用户中断（Ctrl-C）")
    if isinstance(exc, StudioError):
        return exc.msg
    return Msg(str(exc) or type(exc).__name__)


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
    """Run history, newest first; `user` is who started each run."""
    rows = RunStore(catalog(db)).list(limit)
    users = Accounts(catalog(db)).owners("run", [r["run_id"] for r in rows])
    return [{**r, "user": users.get(r["run_id"])} for r in rows]


def get_run(run_id: str, db=None) -> dict[str, Any]:
    run = RunStore(catalog(db)).get(run_id)
    if run is None:
        raise InvalidInput(Issue(Msg(f"no run '{run_id}'", f"没有运行 '{run_id}'"),
                                 hint=Msg("list runs with: python -m engine runs", "查看运行列表：python -m engine runs"),
                                 ui_hint=Msg("pick a run on the History page", "请在“历史”页选择一次运行")))
    run["user"] = Accounts(catalog(db)).owners("run", [run_id]).get(run_id)
    return run


def load_result(run_id: str, db=None) -> dict[str, Any]:
    run = get_run(run_id, db)
    path = Path(run["run_dir"]) / "result.json"
    if not path.exists():
        raise InvalidInput(Issue(Msg(f"run '{run_id}' has no result.json (status {run['status']})",
                                     f"运行 '{run_id}' 没有 result.json（状态 {run['status']}）")))
    return json.loads(path.read_text(encoding="utf-8"))


def _cluster_note(result: dict) -> None:
    """Which Dask cluster ran the heavy steps (absent: this process)."""
    from engine.core import compute

    session = compute.active()
    if session is not None:
        result["cluster"] = {"address": session.address, "workers": session.workers()}


def _sanity_checks(result: dict, pipeline) -> None:
    """Consequences of the target and whether the recommendation is possible (engine/service/result_checks.py)."""
    from engine.service import result_checks

    frame = pipeline.source.load() if result.get("predicted") and pipeline.source is not None else None
    result_checks.add_checks(result, frame, pipeline.roles)
