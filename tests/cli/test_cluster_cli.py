"""`run --cluster`: local:N starts its own workers and gives the local run's metrics; an address that does not
answer, or a value that is not a cluster, exits 2 quickly with a message naming it (en and zh)."""

from __future__ import annotations

import json
import socket
import time

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli


@pytest.fixture
def plant_recipe(tmp_path):
    """A small regression table as a CSV file and a quick_model@1.0.0 recipe reading it (no demo tables needed)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=800) for i in range(5)})
    frame["y"] = 2 * frame.x0 - frame.x1 ** 2 + frame.x2 * frame.x3 + rng.normal(scale=0.3, size=800)
    frame.to_csv(tmp_path / "plant.csv", index=False)
    path = tmp_path / "plant.yaml"
    path.write_text(f"template: quick_model@1.0.0\nname: cluster check\ndata: {{file: {tmp_path / 'plant.csv'}}}\n"
                    "roles: {target: y, controllable: [x0, x1, x2], context: [x3, x4]}\n"
                    "params: {folds: 3, n_estimators: 60, n_samples: 200, top_k: 5}\n", encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_cluster_exits_2_within_10_s(studio_home, plant_recipe):
    address = f"tcp://127.0.0.1:{_free_port()}"   # nothing listens there
    started = time.monotonic()
    proc = run_cli("run", str(plant_recipe), "--cluster", address, "--quiet")
    took = time.monotonic() - started
    assert proc.returncode == 2, proc.stderr
    assert took <= 10.0, took
    assert address in proc.stderr and "dask scheduler" in proc.stderr and "Traceback" not in proc.stderr
    zh = run_cli("run", str(plant_recipe), "--cluster", address, "--quiet", env={"AI_STUDIO_LANG": "zh"})
    assert zh.returncode == 2 and "没有 Dask 调度器响应" in zh.stderr and address in zh.stderr
    assert json.loads(run_cli("runs", "--json").stdout) == []   # refused before any run was recorded


def test_bad_cluster_value_exits_2_naming_the_option(studio_home, plant_recipe, capsys):
    from engine.cli.main import main

    for bad in ("tcp://host", "local:0", "spark://x:7077", "local:many"):
        assert main(["run", str(plant_recipe), "--cluster", bad, "--quiet"]) == 2, bad
        err = capsys.readouterr().err
        assert "--cluster" in err and bad in err and "local:N" in err and "tcp://HOST:PORT" in err, err


def test_local_cluster_run_gives_the_local_metrics(studio_home, plant_recipe, tmp_path):
    other = {"AI_STUDIO_HOME": str(tmp_path / "other")}   # its own data factory: nothing from the step cache
    here = run_cli("run", str(plant_recipe), "--out", str(tmp_path / "here"), "--quiet")
    assert here.returncode == 0, here.stderr
    there = run_cli("run", str(plant_recipe), "--cluster", "local:2", "--out", str(tmp_path / "there"), "--quiet",
                    env={**other, "AI_STUDIO_CLUSTER_SPLIT_ROWS": "500"})   # the final model across the workers
    assert there.returncode == 0, there.stderr
    a = json.loads((tmp_path / "here" / "result.json").read_text())
    b = json.loads((tmp_path / "there" / "result.json").read_text())
    assert "cluster" not in a and b["cluster"] == {"address": "local:2", "workers": 2}
    assert not any(s["cached"] for s in b["timings"]["steps"])
    for name in ("r2", "rmse"):
        assert abs(a["metrics"][name]["mean"] - b["metrics"][name]["mean"]) <= 0.01 * abs(a["metrics"][name]["mean"])
    assert b["predicted"]["verified"] is True
