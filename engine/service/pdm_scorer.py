"""The predictive-maintenance normal-behaviour model in the scoring registry (engine.service.scoring): a PdM run with
task `normal` keeps one regression per watched temperature and the alarm rule; scoring new rows gives, per row, each
watched temperature's expected value and residual, the alarm score, the alarm flag and the unit's state
(`--latest`: each unit's last row, its current state).

Saved: `model/watch_<i>/` per watched temperature (a LightGBM bundle, engine/ml/artifact.py) and the rule in
model.json (units, time, watched columns, healthy residual spread, horizon, persistence, threshold, window features).
The residual baseline is each unit's own history, so the whole input is read (window features by DuckDB, then the
per-unit baseline in memory) before the rows are handed out in chunks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.ml.artifact import SavedModel, save_bundle
from engine.ml.pdm_windows import spec_of, windows_sql
from engine.ml.pdm_normal import NormalBehaviour
from engine.service.scoring import Loaded, Scorer, _q, as_kinds, register_scorer


class NormalBehaviourScorer(Scorer):
    kind = "pdm_normal_behaviour"
    version = 1

    def accepts(self, model: Any) -> bool:
        return isinstance(model, NormalBehaviour)

    def save(self, model: NormalBehaviour, folder: Path) -> dict:
        members = {}
        for i, col in enumerate(model.watch):
            members[col] = {"folder": f"watch_{i}", **save_bundle(model.models[col], folder / f"watch_{i}")}
        return {"group": model.group, "time": model.time, "watch": list(model.watch), "members": members,
                "spread": {c: float(v) for c, v in model.spread.items()}, "horizon": int(model.horizon),
                "persist": int(model.persist), "threshold": float(model.threshold), "prep": list(model.prep)}

    def load(self, folder: Path, manifest: dict) -> "LoadedNormal":
        members = {col: SavedModel.load(folder / spec["folder"], spec) for col, spec in manifest["members"].items()}
        return LoadedNormal(NormalBehaviour(manifest["group"], manifest["time"], list(manifest["watch"]), members,
                                            dict(manifest["spread"]), int(manifest["horizon"]),
                                            int(manifest["persist"]), float(manifest["threshold"]),
                                            list(manifest.get("prep") or [])))


class LoadedNormal(Loaded):
    def __init__(self, model: NormalBehaviour):
        self.model = model
        self.latest = False

    def kinds(self) -> dict[str, str]:
        m = self.model
        kinds = {}
        for member in m.models.values():
            kinds.update(member.kinds())
        for col in [*m.watch, *[c for step in m.prep for c in step["params"].get("columns", [])]]:
            kinds.setdefault(col, "numeric")
        kinds.setdefault(m.group, "any")
        kinds.setdefault(m.time, "any")
        return kinds

    def levels(self) -> dict[str, list[str]]:
        out = {}
        for member in self.model.models.values():
            out.update(member.coder.levels)
        return out

    def batches(self, source, columns, chunk_rows):
        m = self.model
        if m.prep:
            p = m.prep[0]["params"]
            sql = windows_sql(source.relation, spec_of(p))
        else:
            sql = f"SELECT * FROM {source.relation} ORDER BY {_q(m.group)}, {_q(m.time)}"
        frame = pd.concat(list(source.sql_frames(sql, chunk_rows)), ignore_index=True)
        frame = as_kinds(frame, self.kinds())
        frame = pd.concat([frame, m.score_frame(frame)], axis=1)
        if self.latest:  # each unit's last row: its current state
            frame = frame.groupby(m.group, sort=False).tail(1).reset_index(drop=True)
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start:start + chunk_rows]

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        m = self.model
        cols = [c for w in m.watch for c in (f"expected_{w}", f"residual_{w}")] + ["alarm_score", "alarm", "state"]
        out = frame[cols].copy()
        flag = np.zeros(len(frame), dtype=bool)
        for member in m.models.values():
            flag |= member.outside(frame)
        out["out_of_range"] = flag
        return out

    def out_of_range_columns(self, frame: pd.DataFrame) -> dict[str, int]:
        counts: dict[str, int] = {}
        for member in self.model.models.values():
            for col, n in member.outside_columns(frame).items():
                counts[col] = max(counts.get(col, 0), n)
        return counts

    def describe(self) -> dict:
        m = self.model
        return {"task": "normal_behaviour", "watch": list(m.watch), "threshold": m.threshold, "horizon": m.horizon,
                "persist": m.persist, "residual_std": dict(m.spread)}


register_scorer(NormalBehaviourScorer())
