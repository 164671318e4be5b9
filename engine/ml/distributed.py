"""One LightGBM model over data partitioned across a Dask cluster's workers (lightgbm.dask), for large tables.

The model matrix is written as Parquet partitions into the cluster's shared folder (every worker reads it at the same
path), each worker loads its partitions, and LightGBM's data-parallel learner builds one model over all of them
(the workers talk to each other on ports LightGBM picks; `AI_STUDIO_LGBM_PORT` fixes the first one behind a
firewall — only with one worker per machine). The result is an ordinary `lgb.Booster` (`booster_` of the fitted
estimator): prediction, SHAP and the MILP encoder use it unchanged.

Below `AI_STUDIO_CLUSTER_SPLIT_ROWS` rows (default 1,000,000), with categorical features, or with no cluster, the
final model is fitted here as before: a small table fits faster in one process than it travels.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import warnings
import shutil
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from engine.core import compute
from engine.ml.bagging import merge_boosters
from engine.ml.lgbm import fit_booster, lgb_names

_TARGET = "__target__"


def split_rows() -> int:
    raw = os.environ.get("AI_STUDIO_CLUSTER_SPLIT_ROWS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1_000_000


def partitioned(x: pd.DataFrame) -> bool:
    """Whether the final model of this matrix is fitted across the cluster's workers."""
    numeric = all(pd.api.types.is_numeric_dtype(t) for t in x.dtypes)
    return compute.active() is not None and len(x) >= split_rows() and numeric


def fit_final(x: pd.DataFrame, y: np.ndarray, params: dict, seed: int, bag: int = 1) -> lgb.Booster:
    """The final model (an average of `bag` seeds): across the cluster when `partitioned(x)`, else here."""
    if partitioned(x):
        return merge_boosters([fit_partitioned(x, y, {**params, "seed": seed + i}) for i in range(bag)])
    return merge_boosters([fit_booster(x, y, {**params, "seed": seed + i}) for i in range(bag)])


def fit_partitioned(x: pd.DataFrame, y: np.ndarray, params: dict) -> lgb.Booster:
    """One model over `x`, `y` written as Parquet partitions the workers read, trained with lightgbm.dask."""
    import dask.dataframe as dd
    from lightgbm.dask import DaskLGBMClassifier, DaskLGBMRegressor

    session = compute.active()
    folder = Path(session.shared_dir) / f"fit-{secrets.token_hex(6)}"
    try:
        write_partitions(x, y, folder, parts=2 * session.workers())
        data = dd.read_parquet(str(folder))
        data = session.client.persist(data)
        names = lgb_names(x.columns)
        settings = {k: v for k, v in params.items() if k not in ("num_threads", "n_jobs")}
        settings.setdefault("time_out", 10)  # minutes a worker waits for its peers: a lost peer fails the fit
        port = os.environ.get("AI_STUDIO_LGBM_PORT", "").strip()
        if port.isdigit():
            settings["local_listen_port"] = int(port)
        estimator = DaskLGBMClassifier if params.get("objective") == "binary" else DaskLGBMRegressor
        model = estimator(client=session.client, **settings)
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # its port search chatter
                warnings.simplefilter("ignore", UserWarning)
                model.fit(data[names], data[_TARGET])
        except Exception as exc:  # noqa: BLE001 — a lost worker is the cluster's failure, not the data's
            if type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError"):
                raise compute.lost(session.address, exc) from None
            raise
        return model.booster_
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_partitions(x: pd.DataFrame, y: np.ndarray, folder: Path, parts: int) -> list[Path]:
    """x (columns renamed as LightGBM sees them) and the target as `parts` Parquet files of about equal rows."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = x.set_axis(lgb_names(x.columns), axis=1).reset_index(drop=True)
    frame[_TARGET] = np.asarray(y, dtype=float)
    paths = []
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), max(parts, 1))):
        path = folder / f"part-{i:04d}.parquet"
        frame.iloc[rows].to_parquet(path, index=False)
        paths.append(path)
    return paths
