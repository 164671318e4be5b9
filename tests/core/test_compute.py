"""engine.core.compute without a cluster: a plain loop in order, with checks, progress and local-only arguments."""

from __future__ import annotations

import pytest

from engine.core import compute


def _times(item, factor, report=None):
    if report:
        report(item)
    return item * factor


def test_map_tasks_runs_here_in_order_without_a_cluster():
    assert compute.active() is None
    seen, done = [], []
    out = compute.map_tasks(_times, [3, 1, 2], shared={"factor": 10}, on_done=lambda n, total: done.append((n, total)),
                            local_extra=lambda i: {"report": seen.append})
    assert out == [30, 10, 20] and seen == [3, 1, 2] and done == [(1, 3), (2, 3), (3, 3)]


def test_map_tasks_check_stops_between_items():
    calls = []

    def check():
        if len(calls) == 2:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        compute.map_tasks(lambda item: calls.append(item), [1, 2, 3, 4], check=check)
    assert calls == [1, 2]


def test_using_sets_and_restores_the_session():
    session = compute.ClusterSession(client=None, address="tcp://x:8786")
    with compute.using(session):
        assert compute.active() is session
    assert compute.active() is None
    assert compute.worker_threads(3) == 3 and compute.in_worker() is False
