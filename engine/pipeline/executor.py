"""Run a Pipeline: topological order, content-hash cache per step, progress events.

`Executor` is the interface; `LocalExecutor` runs steps in this process. A distributed backend implements
`execute` the same way (ship a step's operator id, params and input keys to a worker) without touching operators.
"""

from __future__ import annotations

import time
import traceback
from abc import ABC, abstractmethod
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from engine.pipeline.cache import StepCache, step_key
from engine.pipeline.context import Cancelled, StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.pipeline.graph import InputRef, Pipeline
from engine.store.runs import StepRecord  # noqa: F401  (the record a step leaves; kept in the data factory)


@dataclass
class ProgressEvent:
    step: str
    index: int  # 0-based position of the step
    total: int
    fraction: float  # of the whole run
    message: str
    cached: bool = False


@dataclass
class Execution:
    outputs: dict[str, Any]  # pipeline output name -> value
    records: list[StepRecord] = field(default_factory=list)
    wall_seconds: float = 0.0


class StepFailed(StudioError):
    exit_code = 1

    def __init__(self, step_id: str, message: str, records: list[StepRecord], detail: str = ""):
        self.step_id, self.records, self.detail = step_id, records, detail
        super().__init__(message)


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds")


_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="step-cache")


class Executor(ABC):
    @abstractmethod
    def execute(self, pipeline: Pipeline, run_id: str, *, on_event: Callable[[ProgressEvent], None] | None = None,
                on_step: Callable[[StepRecord], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> Execution:
        """Run every step (or serve it from cache) and return the pipeline's outputs."""


class LocalExecutor(Executor):
    def __init__(self, cache: StepCache):
        self.cache = cache
        self._writes: list[Future] = []

    def keys(self, pipeline: Pipeline) -> dict[str, str]:
        """Each step's cache key; an input's key chains the key of the step that produced it."""
        keys: dict[str, str] = {}
        for step in pipeline.steps:
            inputs = {name: (pipeline.source.fingerprint if ref.step is None else f"{keys[ref.step]}:{ref.output}")
                      for name, ref in step.inputs.items()}
            keys[step.id] = step_key(step.op.id, step.op.version, step.op.code_hash,
                                     step.params.model_dump(mode="json"), pipeline.seed, inputs)
        return keys

    def execute(self, pipeline, run_id, *, on_event=None, on_step=None, cancelled=None) -> Execution:
        start = time.perf_counter()
        on_event, on_step = on_event or (lambda e: None), on_step or (lambda r: None)
        cancelled = cancelled or (lambda: False)
        keys, values, records = self.keys(pipeline), {}, []
        needed = self._needed(pipeline, keys)
        total = len(pipeline.steps)
        last_source_use = max((i for i, s in enumerate(pipeline.steps)
                               if any(ref.step is None for ref in s.inputs.values())), default=-1)
        try:
            for index, step in enumerate(pipeline.steps):
                if cancelled():
                    raise StepFailed(step.id, Msg(f"cancelled before step '{step.id}'", f"在步骤 '{step.id}' 之前被取消"), records)
                t0, started = time.perf_counter(), _now()
                cached = keys[step.id] in needed.cached
                if cached and step.id in needed.load:
                    try:
                        values[step.id] = self.cache.get(keys[step.id])
                    except Exception:  # unreadable entry (older library, disk trouble): recompute, never fail on it
                        cached = False
                op_seconds = 0.0
                if cached:
                    on_event(ProgressEvent(step.id, index, total, (index + 1) / total, "cached", True))
                else:
                    values[step.id], op_seconds = self._run_step(pipeline, step, index, total, run_id, values, keys,
                                                                 records, on_event, cancelled, started, t0)
                    on_event(ProgressEvent(step.id, index, total, (index + 1) / total, "done"))
                if index == last_source_use:
                    values.pop(None, None)  # the bound table: no later step reads it (a big table is freed early)
                elapsed = time.perf_counter() - t0
                record = StepRecord(step.id, step.op.key, "cached" if cached else "done", cached, op_seconds, started,
                                    _now(), io_seconds=elapsed - op_seconds)
                records.append(record)
                on_step(record)
        finally:
            self._flush()  # also on failure: the steps that finished stay cached for the rerun
        outputs = {name: values[ref.step][ref.output] for name, ref in pipeline.outputs.items()}
        return Execution(outputs, records, time.perf_counter() - start)

    def _flush(self) -> None:
        """Wait for the cache writes of this run (a failed write only costs a recomputation next time)."""
        writes, self._writes = self._writes, []
        for future in writes:
            future.exception()

    @dataclass
    class _Plan:
        cached: set
        load: set

    def _needed(self, pipeline: Pipeline, keys: dict[str, str]) -> "_Plan":
        """Which steps are cached, and which cached results must be loaded (inputs of steps that run, outputs)."""
        cached = {k for k in keys.values() if self.cache.has(k)}
        load = {ref.step for ref in pipeline.outputs.values()}
        for step in pipeline.steps:
            if keys[step.id] not in cached:
                load |= {ref.step for ref in step.inputs.values() if ref.step}
        return self._Plan(cached, load)

    def _run_step(self, pipeline, step, index, total, run_id, values, keys, records, on_event, cancelled,
                  started, t0) -> tuple[dict[str, Any], float]:
        def report(fraction: float, message: str) -> None:
            on_event(ProgressEvent(step.id, index, total, (index + fraction) / total, message))

        ctx = StepContext(run_id, step.id, pipeline.seed, report, cancelled)
        on_event(ProgressEvent(step.id, index, total, index / total, Msg("running", "运行中")))
        try:
            inputs = {name: self._input(pipeline, ref, values) for name, ref in step.inputs.items()}
            t_op = time.perf_counter()
            result = step.op.fn(step.params, ctx, **inputs)
            op_seconds = time.perf_counter() - t_op
            outputs = result if isinstance(result, dict) and set(result) == set(step.op.outputs) else None
            if outputs is None:
                if len(step.op.outputs) != 1:
                    raise TypeError(f"operator {step.op.key} must return a dict with keys {list(step.op.outputs)}")
                outputs = {step.op.outputs[0]: result}
        except Exception as exc:
            detail = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], Msg) else None
            message = exc.msg if isinstance(exc, StudioError) else Msg(
                f"{type(exc).__name__}: {exc}", f"意外错误 {type(exc).__name__}: {detail.zh if detail else exc}")
            records.append(StepRecord(step.id, step.op.key, "failed", False, time.perf_counter() - t0, started,
                                      _now(), message))
            raise StepFailed(step.id, message, records, traceback.format_exc()) from exc
        # written while the next step runs: safe because operators never mutate their inputs (contract test)
        self._writes.append(_WRITER.submit(self.cache.put, keys[step.id], outputs))
        return outputs, op_seconds

    @staticmethod
    def _input(pipeline: Pipeline, ref: InputRef, values: dict) -> Any:
        if ref.step is None:
            if None not in values:  # the bound data, loaded once and only if a step that runs needs it
                values[None] = pipeline.source.load()
            return values[None].copy(deep=False)  # copy-on-write: a step that changes it gets its own copy
        return values[ref.step][ref.output]
