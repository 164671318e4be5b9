"""The result.json contract (format 1). Top-level keys are stable: add freely, never rename or drop."""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from engine import __version__
from engine.pipeline.executor import Execution
from engine.pipeline.graph import Pipeline
from engine.pipeline.scale import scale_section

FORMAT_VERSION = 1
CONTRACT_KEYS = ("run_id", "status", "template", "recipe", "data", "metrics", "key_parameters", "recommendations",
                 "predicted", "timings", "artifacts")
_CONTRACT_OUTPUTS = ("metrics", "key_parameters", "recommendations", "predicted", "test_reduction")
_OPTIONAL_TOP = ("savings",)  # top-level when a template outputs it (energy: saving in % and money per year)


def build(run_id: str, status: str, pipeline: Pipeline, execution: Execution | None, *, recipe_path: str | None,
          wall_seconds: float, artifacts: dict[str, str], error: dict | None = None) -> dict[str, Any]:
    outputs = execution.outputs if execution else {}
    roles = {c: role for role, cols in pipeline.roles.items() if role != "features" for c in cols}
    key_parameters = [{**kp, "role": roles.get(kp["name"], "feature")} for kp in outputs.get("key_parameters") or []]
    source = pipeline.source
    result = {
        "format_version": FORMAT_VERSION,
        "run_id": run_id,
        "status": status,
        "template": {"id": pipeline.template_id, "version": pipeline.template_version},
        "recipe": {"name": pipeline.recipe.get("name"), "path": recipe_path, "content": pipeline.recipe},
        "data": {"source": source.label, "binding": pipeline.recipe.get("data"), "rows": source.rows,
                 "columns": len(source.columns), "fingerprint": source.fingerprint},
        "metrics": outputs.get("metrics") or {},
        "key_parameters": key_parameters,
        "recommendations": outputs.get("recommendations") or [],
        "predicted": outputs.get("predicted") or {},
        "timings": _timings(execution, wall_seconds),
        "artifacts": artifacts,
        "outputs": {k: v for k, v in outputs.items() if k not in _CONTRACT_OUTPUTS + _OPTIONAL_TOP},
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "engine_version": __version__,
    }
    if outputs.get("test_reduction"):      # test_item_reduction template: items kept/dropped, miss rate, curve
        result["test_reduction"] = outputs["test_reduction"]
    result.update({k: outputs[k] for k in _OPTIONAL_TOP if outputs.get(k)})
    scale = scale_section(pipeline, outputs)
    if scale:                              # big tables: rows used of rows bound, samples, learning curve (issue 21)
        result["scale"] = scale
    if error:
        result["error"] = error
    return result


def _timings(execution: Execution | None, wall_seconds: float) -> dict[str, Any]:
    if execution is None:
        return {"total_seconds": wall_seconds, "executor_seconds": None, "steps": []}
    steps = [{"step": r.step_id, "op": r.op, "status": r.status, "cached": r.cached, "seconds": round(r.seconds, 4),
              "io_seconds": round(r.io_seconds, 4)} for r in execution.records]
    own = sum(r.seconds for r in execution.records)
    return {"total_seconds": round(wall_seconds, 4), "executor_seconds": round(execution.wall_seconds, 4),
            "steps_seconds": round(own, 4),
            "overhead_ratio": round(execution.wall_seconds / own, 4) if own > 0 else None,
            "all_cached": bool(steps) and all(s["cached"] for s in steps), "steps": steps}


def to_jsonable(value: Any) -> Any:
    """Plain JSON: numpy scalars unwrapped, NaN/inf as null, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def write_json(path: Path, data: Any) -> None:
    """Atomic write: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(to_jsonable(data), fh, ensure_ascii=False, indent=2)
    os.replace(tmp, path)
