"""The watch folder, for real: `python -m engine watch DIR --table NAME` started as a process, files dropped into
the folder while it runs (new, grown, half-written, bad), then stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from engine import api
from tests.conftest import REPO

HEADER = "batch,temp,yield\n"


def _rows(start: int, n: int) -> str:
    return "".join(f"{i},{800 + i % 7},{90 + (i % 5) / 10}\n" for i in range(start, start + n))


def _wait(predicate, timeout: float = 40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def _table_rows(name: str) -> int:
    try:
        return api.catalog().table_info(name).rows
    except Exception:  # noqa: BLE001 — not there yet
        return 0


def test_watch_ingests_dropped_files_once_and_sets_bad_ones_aside(studio_home, tmp_path):
    inbox = tmp_path / "mes"
    inbox.mkdir()
    env = {**os.environ, "AI_STUDIO_HOME": str(studio_home), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "engine", "watch", str(inbox), "--table", "line",
                             "--interval", "0.3"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        (inbox / "b001.csv").write_text(HEADER + _rows(0, 10), encoding="utf-8")
        _wait(lambda: _table_rows("line") == 10)
        # a file still being written: its last line is incomplete, only the complete ones go in
        grown = inbox / "b002.csv"
        grown.write_text(HEADER + _rows(10, 5) + "15,80", encoding="utf-8")
        _wait(lambda: _table_rows("line") == 15)
        with grown.open("a", encoding="utf-8") as f:  # the MES finishes the line and adds more
            f.write("3,90.3\n" + _rows(16, 4))
        _wait(lambda: _table_rows("line") == 20)
        (inbox / "bad.csv").write_text("batch,pressure\n1,2\n", encoding="utf-8")  # other columns
        (inbox / "notes.tmp").write_text("ignored", encoding="utf-8")
        (inbox / "b003.csv").write_text(HEADER + _rows(20, 5), encoding="utf-8")
        _wait(lambda: (inbox / "rejected" / "bad.csv").exists() and _table_rows("line") == 25)
        time.sleep(1.5)  # a few more passes: nothing is taken twice
        assert _table_rows("line") == 25
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    frame = api.catalog().read_table("line").sort_values("batch")
    assert frame["batch"].tolist() == list(range(25))  # every batch once, the split line whole
    assert frame.loc[frame["batch"] == 15, "yield"].item() == 90.3
    reason = (inbox / "rejected" / "bad.csv.reason.txt").read_text(encoding="utf-8")
    assert "missing column" in reason and "缺少列" in reason
    assert "rejected bad.csv" in err and "ingested b001.csv: 10 rows" in out and "appended b002.csv: 5 rows" in out
    assert "stopped: 4 file(s)" in out and (inbox / "notes.tmp").exists()


def test_a_rewritten_file_is_set_aside_and_its_rows_kept(studio_home, tmp_path):
    from engine.service.watch import Watcher

    inbox = tmp_path / "mes"
    inbox.mkdir()
    (inbox / "a.csv").write_text(HEADER + _rows(0, 4), encoding="utf-8")
    watcher = Watcher(inbox.resolve(), "line", api.catalog())
    assert watcher.poll() == []  # first look: size not yet known to be stable
    assert [e.kind for e in watcher.poll()] == ["ingested"]
    (inbox / "a.csv").write_text(HEADER + _rows(100, 6), encoding="utf-8")  # rewritten, not grown
    watcher.poll()
    events = watcher.poll()
    assert [e.kind for e in events] == ["rejected"] and "rewritten" in events[0].message
    assert _table_rows("line") == 4 and (inbox / "rejected" / "a.csv").exists()
    pd.DataFrame({"batch": [7], "temp": [1.0], "yield": [2.0]}).to_parquet(inbox / "p.parquet")
    watcher.poll()
    assert [e.kind for e in watcher.poll()] == ["ingested"] and _table_rows("line") == 5
