"""Issue 22's corpus: every hostile or broken input through the CLI's main() in-process (fast), each asserting the
exit code, that the message names the file/line/key and says what to do, no traceback, and that the data factory
is unchanged (accepted inputs: changed only by the table they name)."""

from __future__ import annotations

import io
import os
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import duckdb
import pytest

from corpus import TABLES, all_cases, make_files

CASES = all_cases()
_LAST: dict = {}


def cli_main():
    try:
        from engine.cli.main import main  # after the layer move
    except ImportError:
        from engine.cli import main
    return main


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    """One data factory for the whole corpus, with the tables the cases refer to."""
    home = tmp_path_factory.mktemp("corpus_home")
    old = {k: os.environ.get(k) for k in ("AI_STUDIO_HOME", "AI_STUDIO_DB", "AI_STUDIO_TEMPLATES")}
    os.environ["AI_STUDIO_HOME"] = str(home)
    os.environ.pop("AI_STUDIO_DB", None)
    os.environ.pop("AI_STUDIO_TEMPLATES", None)
    from engine import api

    for name, text in TABLES.items():
        path = home / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        api.ingest(path, name, db=home / "studio.duckdb")
    yield home
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def snapshot(db: Path) -> tuple:
    """Everything a refusal must leave alone: every table (internal ones too), metadata rows, row counts."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        counts = tuple((t, con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables)
        meta = tuple(con.execute("SELECT name, fingerprint, rows FROM _studio_tables ORDER BY name").fetchall())
        runs = con.execute("SELECT count(*) FROM _studio_runs").fetchone()[0]
    finally:
        con.close()
    return counts, meta, runs


def run_case(case, folder: Path, monkeypatch) -> tuple[int, str, float]:
    make_files(case, folder)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    argv = [a.replace("{d}", str(folder)) for a in case.argv]
    out, err = io.StringIO(), io.StringIO()
    started = time.process_time()  # CPU of this process: the machine is shared, wall time is not ours
    with redirect_stdout(out), redirect_stderr(err):
        try:
            rc = cli_main()(argv)
        except SystemExit as exc:  # argparse refusals
            rc = exc.code if isinstance(exc.code, int) else 2
    return rc, out.getvalue() + err.getvalue(), time.process_time() - started


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, factory, tmp_path, monkeypatch):
    db = factory / "studio.duckdb"
    before = _LAST.get(db) or snapshot(db)  # the previous case left it as it found it (asserted)
    rc, output, seconds = run_case(case, tmp_path / "case", monkeypatch)
    assert rc == case.rc, f"exit {rc}, expected {case.rc}:\n{output}"
    assert "Traceback" not in output and "internal error" not in output, output
    for words in case.says:
        assert words in output, f"missing {words!r} in:\n{output}"
    if case.advice:
        assert " — " in output, f"no advice (' — hint') in:\n{output}"
    assert seconds < 10, f"took {seconds:.1f} s of CPU"
    if case.changes:
        con = duckdb.connect(str(db))
        try:
            con.execute('DROP TABLE IF EXISTS "acc"')
            con.execute("DELETE FROM _studio_tables WHERE name = 'acc'")
        finally:
            con.close()
    after = snapshot(db)
    assert after == before, "the data factory changed"
    _LAST[db] = after


def test_the_corpus_is_at_least_the_issues_167():
    assert len(CASES) >= 167, len(CASES)
