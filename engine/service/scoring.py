"""Apply a run's saved model to new data ("scoring").

Every run whose template trains a model keeps that model in its run folder, `model/`: `model.json` (a versioned
manifest: format, the scorer kind and its own version, the id columns, the studio version that wrote it) plus the
kind's own files. `score(run_id, data)` loads it, checks the new rows (every problem at once, nothing written when one
is found), and predicts in chunks.

Kinds are a small registry: `lightgbm` (a ModelBundle, with its rolling-window recipe when it has one) here, and other
packages add theirs with `register_scorer` (e.g. an image model), so `score` dispatches on the manifest's `kind`.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from engine import __version__
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.ml.artifact import SavedModel, can_save, save_bundle
from engine.ml.lgbm import ModelBundle

MODEL_DIR = "model"
MANIFEST = "model.json"
FORMAT = "ai-studio-model"
FORMAT_VERSION = 1  # bump when model.json changes incompatibly; older folders then ask for a retrain


class Scorer(ABC):
    """How one kind of model is saved, loaded, checked and applied."""

    kind: str = ""
    version: int = 1  # of this kind's files; a folder written with another version is refused with "retrain"

    @abstractmethod
    def accepts(self, model: Any) -> bool:
        """Whether this scorer saves `model` (a step's `model` output)."""

    @abstractmethod
    def save(self, model: Any, folder: Path) -> dict:
        """Write the kind's files into `folder`; return the manifest fields it needs to load them."""

    @abstractmethod
    def load(self, folder: Path, manifest: dict) -> "Loaded":
        """The model back, ready to check and score new rows."""


class Loaded(ABC):
    """A loaded model: what it needs from new data and how it predicts."""

    @abstractmethod
    def kinds(self) -> dict[str, str]:
        """Raw input column -> kind it must have: numeric, bool, category (or 'any')."""

    def levels(self) -> dict[str, list[str]]:
        """Category column -> the levels seen in training (a level never seen is refused)."""
        return {}

    def batches(self, source, columns: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
        """The input in chunks of at most `chunk_rows` rows, columns in their model kinds (windowed models override
        this). `source` is a scoring_apply.Source: iter_frames / read / sql_frames."""
        kinds = self.kinds()
        for frame in source.iter_frames(columns, chunk_rows):
            yield as_kinds(frame, kinds)

    @abstractmethod
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """prediction columns + out_of_range, on `frame`'s index."""

    def out_of_range_columns(self, frame: pd.DataFrame) -> dict[str, int]:
        return {}

    def source_data(self, data, tmp: Path):
        """The new data as this kind reads it: most kinds take it as given; an image model turns a folder or zip
        of images into rows (file, label, path) first."""
        return data

    def describe(self) -> dict:
        """task, target, threshold ...: shown beside the predictions."""
        return {}


_SCORERS: dict[str, Scorer] = {}


def register_scorer(scorer: Scorer) -> Scorer:
    """Add (or replace) the scorer of a model kind."""
    _SCORERS[scorer.kind] = scorer
    return scorer


def scorers() -> dict[str, Scorer]:
    return dict(_SCORERS)


# ---------------------------------------------------------------- the LightGBM bundle

class LightGBMScorer(Scorer):
    kind = "lightgbm"
    version = 1

    def accepts(self, model: Any) -> bool:
        return isinstance(model, ModelBundle) and can_save(model)

    def save(self, model: ModelBundle, folder: Path) -> dict:
        return save_bundle(model, folder)

    def load(self, folder: Path, manifest: dict) -> "LoadedBundle":
        return LoadedBundle(SavedModel.load(folder, manifest))


class LoadedBundle(Loaded):
    def __init__(self, model: SavedModel):
        self.model = model
        self.latest = False  # windowed models: score only each unit's last row

    def kinds(self) -> dict[str, str]:
        kinds = self.model.kinds()
        for step in self.model.prep:  # the time (and group) a rolling window is ordered by
            for key in ("time", "group"):
                if step["params"].get(key):
                    kinds.setdefault(step["params"][key], "any")
        return kinds

    def levels(self) -> dict[str, list[str]]:
        return self.model.coder.levels

    def batches(self, source, columns, chunk_rows):
        if not self.model.prep:
            yield from super().batches(source, columns, chunk_rows)
            return
        if self.model.prep[0].get("op") == "pdm.window_features":  # DuckDB windows over the input, then chunks
            from engine.ml.pdm_windows import spec_of, windows_sql

            p = self.model.prep[0]["params"]
            sql = windows_sql(source.relation, spec_of(p))
            if self.latest:  # each unit's last row: its current state
                sql = f"SELECT * FROM ({sql}) QUALIFY row_number() OVER (PARTITION BY {_q(p['group'])} " \
                      f"ORDER BY {_q(p['time'])} DESC) = 1 ORDER BY {_q(p['group'])}"
            for frame in source.sql_frames(sql, chunk_rows):
                yield as_kinds(frame, self.kinds())
            return
        # rolling windows need each row's history: the whole input is read, the windows built as in training,
        # then scored in chunks
        frame = _apply_prep(as_kinds(source.read(columns), self.kinds()), self.model.prep)
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start:start + chunk_rows]

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.model.predict(frame)

    def out_of_range_columns(self, frame: pd.DataFrame) -> dict[str, int]:
        return self.model.outside_columns(frame)

    def describe(self) -> dict:
        m = self.model
        out = {"task": m.task, "target": m.target, "features": list(m.coder.features)}
        if m.task == "classification":
            out.update(threshold=m.threshold, classes=m.classes)
        else:
            out.update(interval=list(m.residual_q))
        if m.companions:  # predicted beside the target: '<its target>_prediction' ...
            out["also_predicts"] = [c.target for c in m.companions.values()]
        return out


def _apply_prep(frame: pd.DataFrame, prep: list[dict]) -> pd.DataFrame:
    from engine.pipeline.context import StepContext
    from engine.operators.timeseries import LagParams, lag_features

    for step in prep:
        if step.get("op") != "align.lag_features":
            raise InvalidInput(Issue(Msg(f"the saved model needs a feature step this studio does not know: "
                                         f"{step.get('op')}", f"保存的模型需要本工作室不认识的特征步骤：{step.get('op')}"),
                                     hint=_RETRAIN))
        frame = lag_features(LagParams(**step["params"]), StepContext("score", "prep", 0), frame)["frame"]
    return frame


register_scorer(LightGBMScorer())


# ---------------------------------------------------------------- saving with a run

def model_output(pipeline) -> Any:
    """The InputRef of the run's final model: the template's `outputs.model` when declared, else the `model`
    output of the last step that has one (yield: the key-parameter refit, not the screening model)."""
    from engine.pipeline.graph import InputRef

    if "model" in pipeline.outputs:
        return pipeline.outputs["model"]
    steps = [s for s in pipeline.steps if "model" in s.op.outputs]
    return InputRef(steps[-1].id, "model") if steps else None


def save_run_model(model: Any, run_dir: Path, *, run_id: str, pipeline) -> dict:
    """Write the model into `run_dir/model/` (all or nothing); return what result.json says about it."""
    scorer = next((s for s in _SCORERS.values() if s.accepts(model)), None)
    if scorer is None:
        return {"available": False, "reason": f"no scorer for a {type(model).__name__}"}
    target = run_dir / MODEL_DIR
    tmp = Path(tempfile.mkdtemp(dir=run_dir, prefix=".model-"))
    try:
        fields = scorer.save(model, tmp)
        roles = pipeline.roles
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": scorer.kind,
                    "kind_version": scorer.version, "engine_version": __version__, "run_id": run_id,
                    "template": {"id": pipeline.template_id, "version": pipeline.template_version},
                    "id_columns": [c for role in ("group", "time") for c in roles.get(role) or []], **fields}
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"available": True, "kind": scorer.kind, "format_version": FORMAT_VERSION, "path": f"{MODEL_DIR}/{MANIFEST}"}


_RETRAIN = Msg("retrain this run (run its recipe again: python -m engine run RECIPE, or Rerun on the History page), "
               "then score with the new run", "请重新训练这次运行（再次运行它的配方：python -m engine run 配方，或在“历史”页重新运行），"
                                               "再用新的运行打分")


def load_run_model(run_id: str, run_dir: Path) -> tuple[dict, Loaded]:
    """(manifest, loaded model) of a run; a clear 'retrain' message when it has none or an incompatible one."""
    path = Path(run_dir) / MODEL_DIR / MANIFEST
    if not path.exists():
        raise InvalidInput(Issue(Msg(f"run '{run_id}' has no saved model (it was trained before models were kept, "
                                     f"failed, or its template trains none)",
                                     f"运行 '{run_id}' 没有保存的模型（它在保存模型功能之前训练、运行失败，或其模板不训练模型）"),
                                 hint=_RETRAIN))
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(Issue(Msg(f"the saved model of run '{run_id}' cannot be read ({exc})",
                                     f"无法读取运行 '{run_id}' 保存的模型（{exc}）"), file=str(path), hint=_RETRAIN)) from None
    version, kind = manifest.get("format_version"), manifest.get("kind")
    if manifest.get("format") != FORMAT or version != FORMAT_VERSION:
        raise InvalidInput(Issue(Msg(f"the saved model of run '{run_id}' has format {manifest.get('format')} "
                                     f"version {version}; this studio ({__version__}) reads version {FORMAT_VERSION}",
                                     f"运行 '{run_id}' 保存的模型格式为 {manifest.get('format')} 第 {version} 版；"
                                     f"本工作室（{__version__}）只读取第 {FORMAT_VERSION} 版"), file=str(path), hint=_RETRAIN))
    scorer = _SCORERS.get(kind)
    if scorer is None or manifest.get("kind_version") != scorer.version:
        have = f"version {scorer.version}" if scorer else "none"
        raise InvalidInput(Issue(Msg(f"run '{run_id}' saved a '{kind}' model version {manifest.get('kind_version')}; "
                                     f"this studio's scorer for it: {have}",
                                     f"运行 '{run_id}' 保存的是 '{kind}' 模型第 {manifest.get('kind_version')} 版；"
                                     f"本工作室对应的打分器：{have}"), file=str(path), hint=_RETRAIN))
    try:
        return manifest, scorer.load(path.parent, manifest)
    except InvalidInput:
        raise
    except Exception as exc:  # a damaged or foreign file: say so, never a traceback
        raise InvalidInput(Issue(Msg(f"the saved model of run '{run_id}' cannot be loaded: {type(exc).__name__}: "
                                     f"{exc}", f"无法加载运行 '{run_id}' 保存的模型：{type(exc).__name__}: {exc}"),
                                 file=str(path), hint=_RETRAIN)) from None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def as_kinds(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Columns in the kind the model was trained on: numbers (text that reads as numbers too), 0/1 flags, text."""
    out = frame.copy(deep=False)
    for col, kind in kinds.items():
        if col not in out.columns:
            continue
        s = out[col]
        if kind == "numeric" and not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
            out[col] = pd.to_numeric(s, errors="coerce")
        elif kind == "bool" and not pd.api.types.is_numeric_dtype(s):
            text = s.astype("string").str.strip().str.lower()
            out[col] = text.map({"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "t": 1.0, "f": 0.0}).astype("float64")
        elif kind == "bool":
            out[col] = s.astype("float64")
        elif kind == "category" and not (pd.api.types.is_string_dtype(s) or s.dtype == object):
            out[col] = s.astype("string")
    return out


# scorers of other model kinds live beside their templates and register themselves when imported; loaded by name
# here (a module that imports this one cannot be imported back: the layer test forbids the cycle)
SCORER_MODULES = ("engine.service.image_scorer", "engine.service.pdm_scorer")
for _module in SCORER_MODULES:
    importlib.import_module(_module)
