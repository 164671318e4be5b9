"""Reading a bound table where it is (issue 21): only the role columns, a time/target-stratified sample over the
memory budget, float32 only where exact, and a bound file never read whole to be described."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from engine.core.memory import MEMORY_BUDGET, table_mb
from engine.store import reading
from engine.store.ingest import bound


def _con_with(frame: pd.DataFrame):
    con = duckdb.connect()
    con.register("src_frame", frame)
    con.execute("CREATE TABLE src AS SELECT * FROM src_frame")
    return con


def _frame(n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"t": np.arange(n), "y": rng.normal(size=n), "a": rng.normal(size=n),
                         "halves": np.round(rng.uniform(0, 100, n) * 2) / 2, "unused": rng.normal(size=n)})


def test_no_sample_under_the_budget_and_only_the_columns_asked():
    frame = _frame(2000)
    with _con_with(frame) as con:
        rp = reading.plan(2000, ["t", "y", "a"], time="t", target="y", budget_mb=100)
        out = reading.read(con, '"src"', rp)
    assert not rp.sampled and list(out.columns) == ["t", "y", "a"] and len(out) == 2000


def test_over_the_budget_a_sample_spread_evenly_along_time():
    frame = _frame()
    budget = table_mb(20_000, 3) / 4                      # a quarter of the table fits
    with _con_with(frame.sample(frac=1.0, random_state=0)) as con:   # stored out of time order
        rp = reading.plan(20_000, ["t", "y", "a"], time="t", target="y", budget_mb=budget)
        out = reading.read(con, '"src"', rp)
    assert rp.sampled and rp.stratum == "t" and rp.stratum_role == "time"
    assert abs(len(out) - 5000) <= 1 and rp.rows_used == len(out)
    gaps = np.diff(np.sort(out["t"].to_numpy()))         # in time order, every 4th row: evenly spread
    assert gaps.min() >= 3 and gaps.max() <= 5 and out["t"].min() < 5 and out["t"].max() > 19_994


def test_without_time_the_sample_is_stratified_by_the_target():
    frame = _frame()
    with _con_with(frame) as con:
        rp = reading.plan(20_000, ["y", "a"], time=None, target="y", budget_mb=table_mb(20_000, 2) / 10)
        out = reading.read(con, '"src"', rp)
    assert rp.stratum_role == "target"
    qs = [0.01, 0.1, 0.5, 0.9, 0.99]      # every band of the target keeps its share
    assert np.allclose(np.quantile(out["y"], qs), np.quantile(frame["y"], qs), atol=0.03)


def test_float32_only_for_exact_columns_of_a_large_table(monkeypatch):
    monkeypatch.setattr(reading, "FLOAT32_FROM_MB", 0.0)
    frame = _frame(3000)
    with _con_with(frame) as con:
        rp = reading.plan(3000, ["y", "halves"], time=None, target="y", budget_mb=100)
        out = reading.read(con, '"src"', rp)
    assert rp.float32 == ["halves"] and out["halves"].dtype == np.float32 and out["y"].dtype == np.float64
    assert np.array_equal(out["halves"].to_numpy(np.float64), frame["halves"].to_numpy())   # nothing lost


def test_the_budget_setting_reads_its_variables(monkeypatch):
    monkeypatch.setenv("AI_STUDIO_MEMORY_BUDGET_MB", "123")
    assert MEMORY_BUDGET.mb() == 123 and MEMORY_BUDGET.source() == "AI_STUDIO_MEMORY_BUDGET_MB"
    monkeypatch.delenv("AI_STUDIO_MEMORY_BUDGET_MB")
    monkeypatch.setenv("AI_STUDIO_MEMORY_SHARE", "0.5")
    assert MEMORY_BUDGET.mb() == pytest.approx(0.5 * MEMORY_BUDGET.describe()["ram_mb"], rel=0.01)
    described = MEMORY_BUDGET.describe()
    assert described["label"] and described["label_zh"] != described["label"] and "AI_STUDIO_MEMORY" in described["help"]


def test_a_bound_file_is_converted_once_and_described_without_loading(tmp_path, monkeypatch):
    path = tmp_path / "big.parquet"
    _frame(5000).to_parquet(path)
    calls = []
    monkeypatch.setattr(bound.duckdb.DuckDBPyConnection, "df", lambda self, *a, **k: calls.append(1), raising=False)
    columns = bound.describe_file(path)
    db, fingerprint = bound.staged(path)
    assert columns["t"] == "BIGINT" and columns["y"] == "DOUBLE" and not calls   # no frame was made
    assert bound.staged(path) == (db, fingerprint)                                # reused
    monkeypatch.undo()
    frame, _ = bound.read_file_frame(path, columns=["t", "a"])
    assert list(frame.columns) == ["t", "a"] and len(frame) == 5000


def test_a_large_all_number_read_streams_into_one_block_equal_to_duckdbs(monkeypatch):
    monkeypatch.setattr(reading, "FLOAT32_FROM_MB", 0.0)
    monkeypatch.setattr(reading, "STREAM_ROWS", 1000)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=5000), "b": rng.normal(size=5000), "y": rng.normal(size=5000)})
    frame.loc[::7, "b"] = np.nan
    with _con_with(frame) as con:
        rp = reading.plan(5000, ["a", "b", "y"], time=None, target="y", budget_mb=100)
        out = reading.read(con, '"src"', rp)
        expected = con.execute('SELECT a, b, y FROM src').df()
        sampled_plan = reading.plan(5000, ["a", "b", "y"], time=None, target="y", budget_mb=table_mb(5000, 3) / 5)
        sampled = reading.read(con, '"src"', sampled_plan)
    pd.testing.assert_frame_equal(out, expected)
    assert len(out._mgr.blocks) == 1 and len(sampled) == 1000 and len(sampled._mgr.blocks) == 1
