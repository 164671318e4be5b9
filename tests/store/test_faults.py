"""Faults: a run killed mid-step, runs at the same time, readers during a run, a data factory held by someone else.

Everything here uses real processes (`python -m engine ...`) against a data factory under pytest's tmp_path
(AI_STUDIO_HOME is set by the `studio_home` fixture, and subprocesses inherit it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import REPO, run_cli

CCPP_RECIPE = REPO / "recipes" / "ccpp_power.yaml"
# The ccpp demo with a train step of a few seconds (4 LightGBM fits of 250 trees on 9,568 rows) and a quick search.
# quick_model 1.1.0 trains by model search: its time budget sets how long 'train' runs (the tuned study uses it)
SLOW_TRAIN = ["--set", "time_budget=5", "--set", "folds=3", "--set", "n_samples=200"]
SLOWER_TRAIN = ["--set", "time_budget=20", "--set", "folds=3", "--set", "n_samples=200"]
DEMO_ROWS = {name: len(pd.read_csv(REPO / "data" / "demo" / f"{name}.csv")) for name in ("concrete", "ccpp", "ai4i2020")}


class EngineProcess:
    """`python -m engine ARGS` in the background; stderr lines are collected as they come (a thread reads them)."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=REPO, env=dict(os.environ),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr_lines: list[str] = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def wait_for_stderr(self, text: str, timeout: float = 60) -> float:
        """Wait until a stderr line contains `text`; return when that was seen (time.monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.stderr_lines):
                return time.monotonic()
            if self.proc.poll() is not None:
                self._reader.join(2)
                if any(text in line for line in self.stderr_lines):
                    return time.monotonic()
                pytest.fail(f"process ended (exit {self.proc.returncode}) before printing {text!r}; "
                            f"stderr: {self.stderr_lines}")
            time.sleep(0.02)
        pytest.fail(f"no {text!r} on stderr within {timeout} s; stderr so far: {self.stderr_lines}")

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        out = self.proc.stdout.read() if self.proc.stdout else ""
        self.proc.wait(timeout)
        self._reader.join(5)
        return self.proc.returncode, out, "\n".join(self.stderr_lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)


@pytest.fixture
def procs():
    """Background processes started by a test; any still running at the end are killed (by their own id)."""
    started: list[EngineProcess] = []
    yield started
    for p in started:
        p.kill()
        for stream in (p.proc.stdout, p.proc.stderr):
            if stream:
                stream.close()


def cli_json(*args: str):
    proc = run_cli(*args, "--json")
    assert proc.returncode == 0, f"{args} failed: {proc.stderr}"
    return json.loads(proc.stdout)


def cache_entries(db: Path) -> list[Path]:
    return sorted((db.parent / f"{db.stem}.cache").rglob("*.joblib"))


def assert_tables_intact(db: Path) -> None:
    """`tables --json` lists both demo tables with their row counts, and the tables really hold those rows."""
    infos = {t["name"]: t for t in cli_json("tables")}
    assert set(infos) == set(DEMO_ROWS)
    for name, rows in DEMO_ROWS.items():
        assert infos[name]["rows"] == rows, (name, infos[name])
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name, rows in DEMO_ROWS.items():
            assert con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == rows
    finally:
        con.close()


def steps_of(result: dict) -> dict[str, dict]:
    return {s["step"]: s for s in result["timings"]["steps"]}


# -- 1. SIGKILL in the middle of a step --------------------------------------------------------------------
@pytest.mark.slow
def test_run_killed_mid_step_is_interrupted_and_rerun_reuses_finished_steps(demo_db, tmp_path, procs):
    run = EngineProcess("run", str(CCPP_RECIPE), *SLOW_TRAIN)
    procs.append(run)
    seen = run.wait_for_stderr("2/3 train: running")
    # 'clean' finished (its cache entry is written before the next step starts); let 'train' get going
    time.sleep(max(0.0, seen + 0.5 - time.monotonic()))
    assert run.proc.poll() is None, f"the run ended before it could be killed: {run.stderr_lines}"
    assert len(cache_entries(demo_db)) == 1, "only 'clean' should be cached while 'train' is running"
    os.kill(run.proc.pid, signal.SIGKILL)
    run.proc.wait(30)
    assert run.proc.returncode == -signal.SIGKILL
    assert len(cache_entries(demo_db)) == 1, "the kill must have landed inside 'train' (it finished first)"

    # the run is found dead and marked interrupted; nothing else changed
    runs = cli_json("runs")
    assert len(runs) == 1
    killed = runs[0]
    assert killed["status"] == "interrupted", killed
    assert "killed or crashed" in (killed["error"] or "")
    assert killed["failed_step"] is None
    assert not (Path(killed["run_dir"]) / "result.json").exists(), "a killed run must not publish result.json"
    assert_tables_intact(demo_db)

    from engine import api

    detail = api.get_run(killed["run_id"], demo_db)
    assert detail["status"] == "interrupted"
    assert [(s["step_id"], s["status"], s["cached"]) for s in detail["steps"]] == [("clean", "done", False)]

    # rerunning the same recipe succeeds: 'clean' from the cache, the interrupted 'train' (and what follows) computed
    out = tmp_path / "rerun"
    again = run_cli("run", str(CCPP_RECIPE), *SLOW_TRAIN, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "1/3 clean: cached" in again.stderr and "2/3 train: running" in again.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["status"] == "succeeded"
    steps = steps_of(result)
    assert list(steps) == ["clean", "train", "recommend"]
    assert steps["clean"]["cached"] is True and steps["clean"]["status"] == "cached"
    assert steps["train"]["cached"] is False and steps["train"]["status"] == "done"
    assert steps["recommend"]["cached"] is False and steps["recommend"]["status"] == "done"
    assert steps["train"]["seconds"] > steps["clean"]["seconds"]
    assert result["metrics"]["folds"] == 3 and result["metrics"]["rows"] == DEMO_ROWS["ccpp"]
    assert result["recommendations"], "the rerun should recommend settings"
    assert len(cache_entries(demo_db)) == 3

    statuses = {r["run_id"]: r["status"] for r in cli_json("runs")}
    assert statuses == {killed["run_id"]: "interrupted", result["run_id"]: "succeeded"}
    assert_tables_intact(demo_db)


def test_run_killed_but_not_yet_reaped_is_interrupted(demo_db, procs):
    """A killed run whose parent has not yet called wait() is a zombie: dead, though its PID still answers kill(0).

    Anything that launches runs with Popen (a UI, a scheduler, a test) leaves such zombies until it reaps them;
    `runs` must not report a dead run as 'running' in the meantime.
    """
    run = EngineProcess("run", str(CCPP_RECIPE), *SLOW_TRAIN)
    procs.append(run)
    run.wait_for_stderr("2/3 train: running")
    os.kill(run.proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10  # wait for the kill to take effect without reaping the child
    while _proc_state(run.proc.pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _proc_state(run.proc.pid) == "Z", "the killed child should be a zombie until reaped"
    runs = cli_json("runs")
    assert [r["status"] for r in runs] == ["interrupted"], \
        f"run {runs[0]['run_id']} of killed (zombie) process {run.proc.pid} is listed as {runs[0]['status']!r}"


def _proc_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0].decode()
    except OSError:
        return None


@pytest.mark.slow
def test_runs_killed_at_any_moment_leave_the_factory_consistent(demo_db, fast_recipe, tmp_path, procs):
    """SIGKILL at several moments of a short run (opening, recording steps, writing the cache, finishing):
    the data factory always opens, no run stays 'running', and a later run of the same recipe succeeds."""
    delays = (0.0, 0.03, 0.1, 0.25, 0.5, 1.0)  # after the run recorded itself and began its first step
    for delay in delays:
        run = EngineProcess("run", str(fast_recipe))
        procs.append(run)
        run.wait_for_stderr("1/3 clean: ")
        time.sleep(delay)
        run.kill()
    listed = cli_json("runs")
    assert len(listed) == len(delays), listed
    statuses = [r["status"] for r in listed]
    assert set(statuses) <= {"interrupted", "succeeded"}, listed
    assert "interrupted" in statuses, "no kill landed inside a run"
    assert_tables_intact(demo_db)
    for entry in cache_entries(demo_db):  # whatever is in the cache is complete
        import joblib

        assert isinstance(joblib.load(entry), dict), entry

    out = tmp_path / "after"
    again = run_cli("run", str(fast_recipe), "--out", str(out))
    assert again.returncode == 0, again.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["status"] == "succeeded" and result["recommendations"]
    statuses = {r["run_id"]: r["status"] for r in cli_json("runs")}
    assert statuses[result["run_id"]] == "succeeded"
    assert "running" not in statuses.values()


# -- 2. runs at the same time, readers during a run ---------------------------------------------------------
@pytest.mark.slow
def test_two_runs_at_once_both_succeed(demo_db, fast_recipe, tmp_path, procs):
    outs = [tmp_path / "out_a", tmp_path / "out_b"]
    runs = [EngineProcess("run", str(fast_recipe), "--out", str(out)) for out in outs]
    procs.extend(runs)
    finished = [r.finish() for r in runs]
    for code, out, err in finished:
        assert code == 0, err
        assert "succeeded" in out

    results = [json.loads((out / "result.json").read_text(encoding="utf-8")) for out in outs]
    assert [r["status"] for r in results] == ["succeeded", "succeeded"]
    assert results[0]["run_id"] != results[1]["run_id"]
    # same recipe, same data, same seed: the same model and the same recommendation, whoever computed the steps
    assert results[0]["metrics"] == results[1]["metrics"]
    assert results[0]["recommendations"] == results[1]["recommendations"]
    for result in results:
        assert set(steps_of(result)) == {"clean", "train", "recommend"}

    listed = cli_json("runs")
    assert {r["run_id"]: r["status"] for r in listed} == {r["run_id"]: "succeeded" for r in results}
    from engine import api

    details = [api.get_run(result["run_id"], demo_db) for result in results]
    for detail in details:
        assert [s["step_id"] for s in detail["steps"]] == ["clean", "train", "recommend"]
        assert all(s["status"] in ("done", "cached") for s in detail["steps"])
    # they really ran at the same time (each started before the other finished)
    assert max(d["started_at"] for d in details) < min(d["finished_at"] for d in details), details
    assert len(cache_entries(demo_db)) == 3
    assert_tables_intact(demo_db)


@pytest.mark.slow
def test_readers_during_a_run_succeed_and_see_it_running(demo_db, procs):
    run = EngineProcess("run", str(CCPP_RECIPE), *SLOWER_TRAIN)
    procs.append(run)
    run.wait_for_stderr("2/3 train: running")

    t0 = time.monotonic()
    readers = [EngineProcess("tables", "--json"), EngineProcess("runs", "--json")]
    procs.extend(readers)
    (tables_code, tables_out, tables_err), (runs_code, runs_out, runs_err) = [r.finish() for r in readers]
    readers_took = time.monotonic() - t0
    assert tables_code == 0, tables_err
    assert {t["name"]: t["rows"] for t in json.loads(tables_out)} == DEMO_ROWS
    assert runs_code == 0, runs_err
    during = json.loads(runs_out)
    # 'running' (not 'interrupted': a live run is not reconciled away; not 'succeeded': it was read mid-run)
    assert [r["status"] for r in during] == ["running"], during
    assert readers_took < 20

    code, out, err = run.finish()
    assert code == 0, err
    assert "succeeded" in out
    assert [r["status"] for r in cli_json("runs")] == ["succeeded"]
    assert_tables_intact(demo_db)


@pytest.mark.slow
def test_reader_waits_out_a_long_write(demo_db, tmp_path, procs):
    """`tables` started while another process ingests a large file (one long write transaction) still succeeds."""
    big = tmp_path / "big.csv"
    duckdb.sql("COPY (SELECT i AS id, i * 0.5 AS x, i % 7 AS k, 'row ' || i AS label FROM range(3000000) t(i)) "
               f"TO '{big}' (HEADER)")
    writer = EngineProcess("ingest", str(big), "--table", "big")
    procs.append(writer)
    held = _wait_until_locked(demo_db, writer)
    t0 = time.monotonic()
    reader = run_cli("tables", "--json")
    waited = time.monotonic() - t0
    code, _, err = writer.finish()
    assert code == 0, err
    assert reader.returncode == 0, reader.stderr
    names = {t["name"] for t in json.loads(reader.stdout)}
    assert {"concrete", "ccpp"} <= names  # 'big' too, if the reader got in after the ingest committed
    assert held, "the ingest never held the data factory long enough to test a wait"
    infos = {t["name"]: t["rows"] for t in cli_json("tables")}
    assert infos == {**DEMO_ROWS, "big": 3_000_000}
    assert waited < 60


def _wait_until_locked(db: Path, writer: EngineProcess, timeout: float = 30) -> bool:
    """True once another process holds the data factory (a connect from here fails on the lock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and writer.proc.poll() is None:
        try:
            duckdb.connect(str(db), read_only=True).close()
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                return True
        time.sleep(0.02)
    return False


# -- 3. the busy path ---------------------------------------------------------------------------------------
HOLD = ("import duckdb, sys, time\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "print('holding', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "con.close()\n")


@pytest.fixture
def holder(demo_db):
    """Start a process that holds the data factory open for `seconds`; returns (Popen, time it began holding)."""
    started: list[subprocess.Popen] = []

    def hold(seconds: float = 2.0) -> tuple[subprocess.Popen, float]:
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(demo_db), str(seconds)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        started.append(proc)
        line = proc.stdout.readline()
        assert line.strip() == "holding", proc.stderr.read()
        return proc, time.monotonic()

    yield hold
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()


def test_busy_factory_is_waited_for_and_said(demo_db, holder):
    from engine.store.catalog import Catalog

    proc, since = holder(2.0)
    messages: list[str] = []
    infos = Catalog(demo_db, busy_timeout=10, on_busy=messages.append).tables()
    waited = time.monotonic() - since
    assert {i.name: i.rows for i in infos} == DEMO_ROWS
    assert waited >= 1.5, "tables() returned before the holder let go"
    assert proc.wait(10) == 0
    assert len(messages) == 1, messages  # said once, not once per retry
    assert "busy" in messages[0] and "retrying" in messages[0]
    assert f"process {proc.pid}" in messages[0]


def test_cli_says_it_is_waiting_for_a_busy_factory(demo_db, holder):
    """A CLI command that has to wait says so ("busy, retrying", naming the holder) instead of hanging mute."""
    proc, since = holder(6.0)  # the CLI's start-up (imports: 1-4 s on a loaded machine) must fall inside the hold
    tables = run_cli("tables", "--json")
    waited = time.monotonic() - since
    assert tables.returncode == 0, tables.stderr
    assert {t["name"]: t["rows"] for t in json.loads(tables.stdout)} == DEMO_ROWS
    assert waited >= 1.5, "the command finished before the holder let go: it did not wait"
    assert "busy" in tables.stderr and f"process {proc.pid}" in tables.stderr, \
        f"nothing said while waiting {waited:.1f} s; stderr: {tables.stderr!r}"


def test_busy_factory_gives_up_after_timeout_naming_the_holder(demo_db, holder):
    from engine.store.catalog import Catalog
    from engine.core.errors import Busy

    proc, _ = holder(5.0)
    messages: list[str] = []
    t0 = time.monotonic()
    with pytest.raises(Busy) as info:
        Catalog(demo_db, busy_timeout=0.5, on_busy=messages.append).tables()
    gave_up_after = time.monotonic() - t0
    assert proc.poll() is None, "the holder should still hold the factory when the wait gave up"
    assert 0.4 <= gave_up_after < 3.0
    text = str(info.value)
    assert f"process {proc.pid}" in text
    assert "busy" in text and str(demo_db) in text
    assert info.value.exit_code == 1
    assert messages and "busy" in messages[0]

    proc.kill()
    proc.wait(10)
    assert {i.name for i in Catalog(demo_db, busy_timeout=5).tables()} == set(DEMO_ROWS)
