"""Long work never holds the data factory, and a writer that finds it held waits, says what for, and keeps its work.

A run that finds the data factory held by another process when it records its work: it waits and says what it
waits for, keeps its result, and is never recorded as 'interrupted … killed or crashed' (issue 22, item 3)."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from engine import api
from engine.core.errors import Busy

HOLDER = ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
          "time.sleep(float(sys.argv[2]))")
ROWS = "".join(f"{(i * 37) % 100 / 10:.1f},{(i * 53) % 90 / 9:.2f},{(i * 29) % 70 / 7 + i % 5:.3f}\n" for i in range(60))


@pytest.fixture
def small_recipe(tmp_path):
    (tmp_path / "ok.csv").write_text("x1,x2,y\n" + ROWS, encoding="utf-8")
    path = tmp_path / "r.yaml"
    path.write_text("template: quick_model\nname: lock\ndata: {file: ok.csv}\nroles: {target: y, controllable: [x1, x2]}\n"
                    "params: {folds: 3, n_estimators: 20, n_samples: 100}\n", encoding="utf-8")
    return path


def _hold_when_last_step_ends(db, seconds: float, holders: list):
    """A progress callback that makes another process take the data factory as soon as the last step is done."""
    def on_progress(event) -> None:
        if event.fraction >= 1.0 and not holders:
            proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(seconds)], stdout=subprocess.PIPE,
                                    text=True)
            assert proc.stdout.readline().strip() == "locked"
            holders.append(proc)
    return on_progress


def test_a_finished_run_waits_for_the_factory_and_keeps_its_result(db, small_recipe, monkeypatch):
    said, holders = [], []
    api.report_busy(said.append)
    try:
        started = time.perf_counter()
        result = api.run_recipe(small_recipe, db=db, on_progress=_hold_when_last_step_ends(db, 3.0, holders))
        waited = time.perf_counter() - started
    finally:
        api.report_busy(None)
        for proc in holders:
            proc.wait()
    assert holders and result["status"] == "succeeded"
    assert any("waits to record its progress" in str(m) and result["run_id"] in str(m) for m in said), said
    assert any("busy" in str(m) for m in said) and waited >= 3.0
    run = api.get_run(result["run_id"], db)
    assert run["status"] == "succeeded" and run["error"] is None


def test_a_run_that_gives_up_waiting_is_recorded_from_its_result_not_as_interrupted(db, small_recipe, monkeypatch):
    monkeypatch.setenv("AI_STUDIO_RECORD_WAIT_SECONDS", "0.5")
    holders = []
    try:
        with pytest.raises(Busy) as info:
            api.run_recipe(small_recipe, db=db, on_progress=_hold_when_last_step_ends(db, 2.5, holders))
    finally:
        for proc in holders:
            proc.wait()
    text = info.value.text("en")
    assert "The run itself finished: its result is saved in" in text and "result.json" in text
    assert "运行本身已完成" in info.value.text("zh")
    run_dir = text.split("saved in ")[1].split("result.json")[0]
    assert '"status": "succeeded"' in open(run_dir + "result.json", encoding="utf-8").read()
    # the process that ran it ends (here: the row is given a finished process's id), then anyone lists the runs
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    con = duckdb.connect(str(db))
    con.execute("UPDATE _studio_runs SET pid = ?, proc_token = NULL", [gone.pid])
    con.close()
    run = api.runs(db)[0]
    assert run["status"] == "succeeded", run
    assert run["seconds"] is not None


def test_ingest_reads_the_file_without_holding_the_data_factory(db, tmp_path, monkeypatch):
    """While a file is read and checked (the long part), another process can open the data factory."""
    from engine.store.ingest import core

    api.tables(db)  # the factory exists
    seen = []
    real_create = core._create

    def create_then_look(con, table, path, opts, progress):
        warnings = real_create(con, table, path, opts, progress)
        probe = subprocess.run([sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
                                "print(con.execute('SELECT count(*) FROM _studio_tables').fetchone()[0])", str(db)],
                               capture_output=True, text=True, timeout=60)
        seen.append((probe.returncode, probe.stdout.strip(), probe.stderr[-200:]))
        return warnings

    monkeypatch.setattr(core, "_create", create_then_look)
    csv = tmp_path / "d.csv"
    csv.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(100)), encoding="utf-8")
    info = api.ingest(csv, "d", db=db)
    assert info.rows == 100
    assert seen == [(0, "0", "")], seen  # the other process read the factory while this one was reading the file
    assert [t.name for t in api.tables(db)] == ["d"] and not list(db.parent.glob(".ingest-*"))


def test_a_run_past_its_wall_time_stops_with_exit_2_and_says_which_setting(db, small_recipe, monkeypatch, capsys):
    from engine.cli.main import main

    monkeypatch.setenv("AI_STUDIO_HOME", str(db.parent))
    monkeypatch.setenv("AI_STUDIO_MAX_RUN_SECONDS", "0.001")
    assert main(["run", str(small_recipe), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "stopped at the wall-time limit of 0.001 s" in err and "AI_STUDIO_MAX_RUN_SECONDS" in err, err
    run = api.runs(db)[0]
    assert run["status"] == "cancelled" and "wall-time limit" in str(run["error"])


def test_a_read_file_waits_to_be_stored_and_says_so(db, tmp_path, monkeypatch):
    """The data factory is taken by another process after the file was read: the ingest waits, says for what,
    and stores the table when the holder lets go."""
    from engine.store.ingest import core

    api.tables(db)
    holders, said = [], []
    real_create = core._create

    def create_then_hold(con, table, path, opts, progress):
        warnings = real_create(con, table, path, opts, progress)
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), "2.0"], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "locked"
        holders.append(proc)
        return warnings

    monkeypatch.setattr(core, "_create", create_then_hold)
    csv = tmp_path / "late.csv"
    csv.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    api.report_busy(said.append)
    try:
        info = api.ingest(csv, "late", db=db)
    finally:
        api.report_busy(None)
        for proc in holders:
            proc.wait()
    assert info.rows == 2 and [t.name for t in api.tables(db)] == ["late"]
    assert any("waiting to store table 'late' (late.csv is read and checked)" in str(m) for m in said), said
    assert any(f"process {holders[0].pid} (python -c" in str(m) for m in said), said


def test_profiling_scans_a_copy_without_holding_the_data_factory(db, tmp_path, monkeypatch):
    from engine.store import profiling

    csv = tmp_path / "p.csv"
    csv.write_text("t,a,b\n" + "".join(f"2024-01-01 00:{i % 60:02d}:00,{i},{i % 7}\n" for i in range(120)), encoding="utf-8")
    api.ingest(csv, "p", db=db)
    seen = []
    real_compute = profiling._compute

    def compute_and_look(con, *args, **kw):
        probe = subprocess.run([sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
                                "print(con.execute('SELECT count(*) FROM _studio_tables').fetchone()[0])", str(db)],
                               capture_output=True, text=True, timeout=60)
        seen.append((probe.returncode, probe.stdout.strip()))
        return real_compute(con, *args, **kw)

    monkeypatch.setattr(profiling, "_compute", compute_and_look)
    profile = api.profile_table("p", db)
    assert profile["rows"] == 120 and not profile["cached"]
    assert seen == [(0, "1")], seen
    assert api.profile_table("p", db)["cached"] and not list(db.parent.glob(".profile-*"))
