"""The CLI progress line inside a long step (issue 21): the step's own message (fold k of K) and the time left,
also in a log (stderr not a terminal), where a long step writes its message now and then instead of freezing."""

from __future__ import annotations

import io

from engine.cli.progress import ProgressBar, step_time_left
from engine.pipeline.executor import ProgressEvent


def test_time_left_from_the_pace_inside_the_step():
    event = ProgressEvent("train", 1, 3, (1 + 0.25) / 3, "model search, outer fold 2/5")
    assert step_time_left(event, 30.0) == 90.0           # a quarter done in 30 s: 90 s left
    assert step_time_left(ProgressEvent("train", 1, 3, 1.01 / 3, "x"), 30.0) is None   # too early to tell


def test_a_log_gets_the_steps_messages_during_a_long_step(monkeypatch):
    stream = io.StringIO()
    bar = ProgressBar(stream, every=0.0)
    clock = iter([0.0, 10.0, 20.0, 30.0, 40.0])
    monkeypatch.setattr("engine.cli.progress.time.monotonic", lambda: next(clock))
    bar(ProgressEvent("train", 1, 3, 1 / 3, "running"))
    bar(ProgressEvent("train", 1, 3, 1.2 / 3, "model search, outer fold 1/5: searching"))
    bar(ProgressEvent("train", 1, 3, 1.5 / 3, "model search, outer fold 3/5: refitting"))
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("2/3 train: running")
    assert "outer fold 1/5" in lines[1] and "outer fold 3/5" in lines[2]
    assert "left in step" in lines[2]                    # 20 s for half the step: ~20 s left


def test_run_takes_a_memory_budget_and_refuses_a_bad_one(tmp_path):
    from tests.conftest import run_cli

    bad = run_cli("run", "recipes/ccpp_power.yaml", "--memory-budget", "-5",
                  env={"AI_STUDIO_HOME": str(tmp_path)})
    assert bad.returncode == 2 and "--memory-budget must be a positive number" in bad.stderr
    helped = run_cli("run", "--help")
    assert "--memory-budget" in helped.stdout and "AI_STUDIO_MEMORY_BUDGET_MB" in helped.stdout
