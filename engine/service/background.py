"""Runs in a background worker of this process (they survive page switches and browser refreshes: their status
lives in the data factory), and what-if predictions from a finished run's model. Reached through engine.api."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.service import runner, tables
from engine.core import config
from engine.pipeline import result as result_io
from engine.pipeline.cache import StepCache
from engine.core.errors import InvalidInput, Issue, StudioError
from engine.core.i18n import Msg, zh
from engine.pipeline.executor import LocalExecutor, ProgressEvent
from engine.ml.bands import outcome_band
from engine.pipeline.graph import InputRef, Pipeline


_STATUS_WORDS = {"done": Msg("done", "完成"), "cached": Msg("from cache", "来自缓存")}  # the executor's plain words


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
    step_started: float = 0.0        # monotonic time the current step started
    step_fraction: float = 0.0       # progress inside the current step (0..1)
    last_line: tuple = ()            # (step, message) of the last log line: repeats are counted, not repeated
    repeats: int = 0


def _step_clock(worker: _Worker, event: ProgressEvent) -> None:
    """Progress inside the current step, and when it started (for the time-left estimate)."""
    import time

    if event.step != worker.step or not worker.step_started:
        worker.step_started = time.monotonic()
    worker.step = event.step
    worker.step_fraction = min(max(event.fraction * event.total - event.index, 0.0), 1.0)


def _log_line(worker: _Worker, event: ProgressEvent) -> None:
    """One line per new message in both languages (the page shows its own); a message repeated by the same step
    (a fold's training reporting in) is counted on its line ("×15"), not written again."""
    message = _STATUS_WORDS.get(str(event.message), event.message)
    key = (event.step, str(message))
    if key == worker.last_line and worker.log:
        worker.repeats += 1
        return
    worker.last_line, worker.repeats = key, 0
    stamp = f"{datetime.now():%H:%M:%S} {event.step}: "
    worker.log.append(Msg(stamp + message, stamp + zh(message)))  # the page shows its language
    del worker.log[:-200]


def time_left(worker: _Worker) -> float | None:
    """Seconds the current step still needs, from its pace so far (None until a tenth of it is done)."""
    import time

    if not worker.step_started or worker.step_fraction < 0.1 or worker.step_fraction >= 1.0:
        return None
    elapsed = time.monotonic() - worker.step_started
    return elapsed * (1.0 - worker.step_fraction) / worker.step_fraction


_WORKERS: dict[str, _Worker] = {}
_WORKERS_LOCK = threading.Lock()


def start_run(source: str | Path | dict, *, db=None, overrides: list[str] | None = None, user: str | None = None,
              cluster: str | None = None) -> str:
    """Compile (problems raise InvalidInput here), then run in a background thread of this process; the run's
    status lives in the data factory, so it survives page switches and a browser refresh. `cluster` (None: the
    AI_STUDIO_CLUSTER setting) is opened here, before the run is recorded: a bad or silent one is refused at once."""
    from engine.service import cluster as clusters

    spec = clusters.parse(clusters.setting() if cluster is None else cluster,
                          "cluster" if cluster is not None else "AI_STUDIO_CLUSTER")
    if spec is not None:
        runner.compile_recipe(source, db=db, overrides=overrides)  # a broken recipe is refused before a cluster starts
    session = clusters.open_session(spec) if spec is not None else None
    try:
        prepared = runner.prepare_run(source, db=db, overrides=overrides, user=user)  # listed from now on
    except BaseException:
        clusters.close_session(session)
        raise
    run_id = prepared.run_id
    worker = _Worker(run_id)

    def on_progress(event: ProgressEvent) -> None:
        _step_clock(worker, event)
        worker.fraction, worker.step, worker.message = event.fraction, event.step, event.message
        _log_line(worker, event)

    def work() -> None:
        try:
            runner.execute_on(session, prepared, on_progress=on_progress, cancelled=worker.cancel.is_set)
        except Exception as exc:  # noqa: BLE001 — recorded in the run row; kept here for runs that never started
            worker.error = exc.msg if isinstance(exc, StudioError) else (str(exc) or type(exc).__name__)
        finally:
            clusters.close_session(session)
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
        run = runner.get_run(run_id, db)
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
            "cancel_requested": bool(worker and worker.cancel.is_set()),
            "step_fraction": worker.step_fraction if live else None,
            "step_seconds_left": time_left(worker) if live else None}


def _step_titles(template_id: str | None, version: str | None) -> dict[str, dict | None]:
    """{step id: {en, zh} title} of a run's template (empty when the template is gone)."""
    try:
        template = runner.library().get(template_id, version).template
    except (InvalidInput, TypeError):
        return {}
    return {s.id: s.title.model_dump() if s.title else None for s in template.steps}


def _planned_steps(run_dir: str | None) -> list[tuple[str, str | None]]:
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
    run, result = runner.get_run(run_id, db), runner.load_result(run_id, db)
    pipeline = runner.compile_recipe(run["recipe"], db=db)
    if pipeline.source.fingerprint != result["data"]["fingerprint"]:
        raise InvalidInput(Issue(Msg(f"the data of run {run_id} changed after it ran", f"运行 {run_id} 的数据在运行后已改变"),
                                 hint=Msg("run the recipe again", "请重新运行配方")))
    ref = recommending_model(pipeline)
    cache = StepCache(config.cache_dir(tables.catalog(db).path))
    step_key_ = LocalExecutor(cache).keys(pipeline).get(ref.step) if ref else None
    if step_key_ is None or not cache.has(step_key_):
        raise InvalidInput(Issue(Msg(f"the model of run {run_id} is no longer in the step cache",
                                     f"运行 {run_id} 的模型已不在步骤缓存中"),
                                 hint=Msg("run the recipe again (unchanged steps come from the cache)",
                                          "请重新运行配方（未改变的步骤直接取自缓存）")))
    if len(_MODELS) >= 8:
        _MODELS.pop(next(iter(_MODELS)))
    _MODELS[key] = cache.get(step_key_)[ref.output]
    return _MODELS[key]


def recommending_model(pipeline: Pipeline) -> InputRef | None:
    """Where the model the recommendation was made with comes from: the `model` input of the step giving the
    `predicted` (or `recommendations`) output. A template may train several models (yield: a screening model of
    every column, then the key-parameter model that recommends); the what-if must re-predict with the latter.
    Without a recommending step: the first model any step outputs."""
    for output in ("predicted", "recommendations"):
        ref = pipeline.outputs.get(output)
        model = pipeline.step(ref.step).inputs.get("model") if ref is not None and ref.step else None
        if model is not None and model.step:
            return model
    step = next((s for s in pipeline.steps if "model" in s.op.outputs), None)
    return InputRef(step.id, "model") if step else None


def what_if(run_id: str, settings: dict[str, Any], db=None) -> dict[str, Any]:
    """Re-predict the run's outcome with some settings changed (others as recommended), with the model the
    recommendation used: value, 90 % band (engine.ml.bands.outcome_band, as the recommendation's), fold-model
    range, and the change from baseline."""
    import pandas as pd

    model, predicted = run_model(run_id, db), runner.load_result(run_id, db)["predicted"]
    point = {**predicted.get("settings", {}), **settings}
    missing = [c for c in model.features if c not in point]
    if missing:
        raise InvalidInput(Issue(Msg(f"what-if needs values for {missing}", f"假设分析需要 {missing} 的值")))
    frame = pd.DataFrame([{c: point[c] for c in model.features}]).infer_objects()
    value = float(model.predict(frame)[0])
    folds = model.predict_folds(frame)[:, 0]
    band = outcome_band(value, model.residual_q, predicted.get("observed_range"))
    baseline = predicted.get("baseline", {}).get("value")
    return result_io.to_jsonable({
        **band, "folds_low": float(folds.min()), "folds_high": float(folds.max()), "baseline": baseline,
        "change": value - baseline if baseline is not None else None, "settings": point})
