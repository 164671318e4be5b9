"""Runs on a Dask cluster: a LocalCluster of 2 worker processes × 1 thread, started and stopped by the tests.

The same recipe gives the same cross-validated metrics on the cluster as here (within 1 %), with the final model
fitted across the workers by lightgbm.dask; a worker killed while it runs a fold ends the run as failed and leaves
the data factory's tables as they were."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from engine import api
from engine.core.errors import RunFailed

distributed = pytest.importorskip("distributed")


def _cluster(**config):
    import dask

    from engine.service.cluster import plain_main

    # spawn re-runs __main__'s file in each worker: after an AppTest in this process that is a page script
    with dask.config.set(config), plain_main():
        return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                        silence_logs=40)


@pytest.fixture(scope="module")
def cluster():
    local = _cluster()
    yield local
    local.close()


def _plant(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(6)})
    frame["y"] = 2 * frame.x0 - frame.x1 ** 2 + 0.5 * frame.x2 * frame.x3 + rng.normal(scale=0.3, size=rows)
    return frame


def _recipe(table: str, trees: int = 60) -> dict:
    return {"template": "quick_model@1.0.0", "name": "cluster check", "data": {"table": table},
            "roles": {"target": "y", "controllable": ["x0", "x1", "x2"], "context": ["x3", "x4", "x5"]},
            "params": {"folds": 3, "n_estimators": trees, "n_samples": 200, "top_k": 6}}


def _factory(db) -> list[tuple]:
    return sorted((t.name, t.rows, t.fingerprint) for t in api.tables(db))


def test_cluster_run_matches_local_run(db, cluster, monkeypatch):
    monkeypatch.setenv("AI_STUDIO_CLUSTER_SPLIT_ROWS", "500")  # the final model goes across the workers too
    api.ingest_frame(_plant(1500), "plant", db=db)
    here = api.run_recipe(_recipe("plant"), db=db, cluster="")
    there = api.run_recipe(_recipe("plant", trees=61), db=db, cluster=cluster.scheduler_address)  # 61: no cache
    assert "cluster" not in here and there["cluster"] == {"address": cluster.scheduler_address, "workers": 2}
    for name in ("r2", "rmse", "mae"):
        a, b = here["metrics"][name]["mean"], there["metrics"][name]["mean"]
        assert abs(a - b) <= 0.01 * abs(a), (name, a, b)
    assert there["predicted"]["verified"] is True and here["predicted"]["verified"] is True
    report = api.load_result(there["run_id"], db=db)
    assert report["status"] == "succeeded"
    gained = there["predicted"]["uplift"]["value"]
    assert gained > 0 and abs(gained - here["predicted"]["uplift"]["value"]) <= 0.25 * abs(here["predicted"]["uplift"]["value"])


def test_setting_picks_the_cluster_and_a_bad_setting_is_refused(db, cluster, monkeypatch):
    api.ingest_frame(_plant(300), "small", db=db)
    monkeypatch.setenv("AI_STUDIO_CLUSTER", cluster.scheduler_address)
    result = api.run_recipe(_recipe("small"), db=db)
    assert result["cluster"]["address"] == cluster.scheduler_address
    monkeypatch.setenv("AI_STUDIO_CLUSTER", "tcp//nowhere")
    with pytest.raises(api.InvalidInput) as refused:
        api.run_recipe(_recipe("small"), db=db)
    assert "AI_STUDIO_CLUSTER" in str(refused.value.issues[0]) and "tcp//nowhere" in str(refused.value.issues[0])


def _kill_a_busy_worker(local, stop: threading.Event) -> None:
    """SIGKILL the process of the first worker seen running a task (the scheduler lives in this process)."""
    while not stop.is_set():
        for state in list(local.scheduler.workers.values()):
            if state.processing:
                for nanny in local.workers.values():
                    if nanny.worker_address == state.address and nanny.process and nanny.process.process:
                        os.kill(nanny.process.process.pid, signal.SIGKILL)
                        return
        time.sleep(0.02)


def test_killed_worker_fails_the_run_and_leaves_the_factory(db):
    api.ingest_frame(_plant(20_000, seed=1), "big", db=db)
    before = _factory(db)
    local = _cluster(**{"distributed.scheduler.allowed-failures": 0})  # no retry: the loss must surface
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_busy_worker, args=(local, stop), daemon=True)
    try:
        killer.start()
        with pytest.raises(RunFailed) as failed:
            api.run_recipe(_recipe("big", trees=400), db=db, cluster=local.scheduler_address)
    finally:
        stop.set()
        local.close()
    text = failed.value.text("en")
    assert "lost a worker" in text and local.scheduler_address in text
    assert "失去了一个 worker" in failed.value.text("zh")
    assert _factory(db) == before
    run = api.runs(db)[0]
    assert run["status"] == "failed"


def test_scoring_a_table_on_the_cluster_matches_scoring_here(db, cluster, tmp_path):
    from engine.store.partitions import export_table

    api.ingest_frame(_plant(1200), "train_rows", db=db)
    run = api.run_recipe(_recipe("train_rows"), db=db, cluster="")
    fresh = _plant(5000, seed=7).drop(columns="y")
    fresh.insert(0, "batch", np.arange(len(fresh)))
    api.ingest_frame(fresh, "fresh", db=db)
    here = api.score(run["run_id"], table="fresh", keep=["batch"], db=db, collect=True)
    there = api.score_on_cluster(run["run_id"], "fresh", cluster=cluster.scheduler_address, keep=["batch"],
                                 out=tmp_path / "pred.parquet", db=db, rows_per_part=2048)
    assert there.warnings[-1]["partitions"] == 3 and there.rows == len(fresh) == here.rows
    got = pd.read_parquet(tmp_path / "pred.parquet")
    assert got["batch"].tolist() == list(range(len(fresh)))          # the table's row order
    pd.testing.assert_frame_equal(got, here.frame, check_dtype=False)
    assert there.out_of_range == here.out_of_range
    parts = export_table(api.catalog(db), "fresh", tmp_path / "again", rows_per_part=2048)
    assert [p.name for p in parts] == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]
    with pytest.raises(api.InvalidInput) as refused:   # a problem of the new rows: nothing written
        api.ingest_frame(fresh.drop(columns="x1"), "short", db=db)
        api.score_on_cluster(run["run_id"], "short", cluster=cluster.scheduler_address, out=tmp_path / "no.csv", db=db)
    assert "x1" in str(refused.value.issues[0]) and not (tmp_path / "no.csv").exists()


def test_parse_cluster_values():
    from engine.service.cluster import ClusterSpec, parse

    assert parse(None) is None and parse("") is None and parse(" none ") is None
    assert parse("local:3") == ClusterSpec("local", workers=3)
    assert parse("local").workers >= 1
    assert parse("tcp://10.0.0.5:8786") == ClusterSpec("tcp", address="tcp://10.0.0.5:8786")
    assert parse("tcp://dask-head.plant.lan:8786").label == "tcp://dask-head.plant.lan:8786"
    for bad in ("tcp://h:99999", "tcp://h", "local:-1", "local:65", "http://h:8786", "h:8786"):
        with pytest.raises(api.InvalidInput) as refused:
            parse(bad, "--cluster")
        issue = refused.value.issues[0]
        assert issue.path == "--cluster" and bad in issue.text("en") and "不是有效的集群地址" in issue.text("zh")


def test_cancel_stops_a_run_waiting_for_cluster_tasks(db):
    api.ingest_frame(_plant(20_000, seed=3), "long", db=db)
    local = _cluster()   # its own: the cancelled folds keep their workers busy until they end (or the cluster does)
    try:
        run_id = api.start_run(_recipe("long", trees=2000), db=db, cluster=local.scheduler_address)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and api.run_status(run_id, db=db).get("step") != "train":
            time.sleep(0.1)
        time.sleep(1.0)                          # the folds are on the workers now
        asked = time.monotonic()
        assert api.cancel_run(run_id)
        status = api.wait_run(run_id, 30, db=db)
        assert status["status"] == "cancelled", status.get("error")
        assert time.monotonic() - asked < 10
    finally:
        local.close()


def test_model_search_final_model_goes_across_the_cluster(db, cluster, monkeypatch):
    from engine.ml import distributed as dist

    monkeypatch.setenv("AI_STUDIO_CLUSTER_SPLIT_ROWS", "500")
    calls = []
    real = dist.fit_partitioned
    monkeypatch.setattr(dist, "fit_partitioned", lambda x, y, params: calls.append(len(x)) or real(x, y, params))
    api.ingest_frame(_plant(900, seed=5), "searched", db=db)
    recipe = {**_recipe("searched"), "template": "quick_model"}   # model.search@1
    result = api.run_recipe(recipe, db=db, cluster=cluster.scheduler_address)
    assert result["status"] == "succeeded" and result["predicted"]["verified"] is True
    chosen = next(r for r in result["outputs"]["leaderboard"]["rows"] if r["chosen"])["model"]
    assert calls == ([900] if chosen.startswith("lightgbm") else []), (chosen, calls)
    assert result["metrics"]["r2"]["mean"] > 0.5
