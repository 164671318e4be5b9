"""The simulated yield line: deterministic, shaped as configured, and its truth scores what it should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.sim.yield_line import CONTEXT, make_line

SMALL = dict(n_params=150, n_drivers=10, rows=800)


@pytest.fixture(scope="module")
def line():
    return make_line(**SMALL)


def test_deterministic_with_a_seed(line):
    again = make_line(**SMALL)
    pd.testing.assert_frame_equal(line.frame, again.frame)
    assert line.drivers == again.drivers
    assert not make_line(**SMALL, seed=1).frame.equals(line.frame)


def test_shape_roles_and_missing(line):
    roles = line.roles()
    assert len(line.controllable) + len(line.context) == 150
    assert len(line.drivers) == 10 and set(line.drivers) <= set(line.controllable)
    assert CONTEXT in line.context
    assert set(roles["context"]) >= set(line.extras) and roles["time"] == "batch_time"
    rate = line.frame[line.target]
    assert rate.between(0, 1).all() and 0.75 < rate.mean() < 0.85
    missing = line.frame[line.controllable].isna().mean().mean()
    assert 0.01 < missing < 0.03


def test_decoys_nearly_copy_each_driver(line):
    """Every driver has sensors correlated ≥ 0.9 with it: the grouping must see through them."""
    sensors = line.frame[[c for c in line.context if "_pv_" in c]]
    for driver in line.drivers:
        corr = sensors.corrwith(line.frame[driver], method="spearman").abs()
        assert (corr >= 0.9).sum() >= 2, driver


def test_pass_fail_has_the_failure_rate_asked_for():
    units = make_line(n_params=120, n_drivers=8, rows=3000, outcome="pass_fail", fail_rate=0.07, effect=2.0)
    assert set(units.frame["passed"].unique()) == {0, 1}
    assert 0.05 < 1 - units.frame["passed"].mean() < 0.09
    assert "retest_flag" in units.extras


def test_truth_baseline_best_and_captured_share(line):
    base = line.baseline()
    best, best_rate = line.best_in_envelope()
    start = float(line.expected(base)[0])
    assert best_rate > start + 0.02                 # there is something to gain inside the envelope
    envelope = line.envelope()
    assert all(envelope[d][0] - 1e-9 <= best[d] <= envelope[d][1] + 1e-9 for d in line.drivers)
    assert line.captured_share(best[line.drivers].to_dict()) == pytest.approx(1.0, abs=1e-6)
    assert line.captured_share({}) == pytest.approx(0.0, abs=1e-9)
    one = line.drivers[0]
    partial = line.captured_share({one: best[one]})
    assert -1.0 < partial < 1.0


def test_optimum_moves_with_the_context(line):
    lo, hi = line.frame[CONTEXT].quantile([0.1, 0.9])
    best_lo, _ = line.best_in_envelope(context=float(lo))
    best_hi, _ = line.best_in_envelope(context=float(hi))
    moved = [d for d in line.drivers if abs(best_lo[d] - best_hi[d]) > 1e-6]
    assert moved                                     # the right setting depends on the incoming material


def test_recall_counts_drivers_and_context(line):
    assert line.recall(line.drivers + [CONTEXT]) == 1.0
    assert line.recall(line.drivers[:5]) == pytest.approx(5 / 11)
    assert np.isfinite(line.expected(line.frame.fillna(line.frame.median(numeric_only=True)))).all()


def test_structure_does_not_depend_on_the_length_of_history(line):
    shorter = make_line(**{**SMALL, "rows": 300})
    assert shorter.drivers == line.drivers and list(shorter.frame.columns) == list(line.frame.columns)


def test_downstream_readings_listed_as_controllable_are_their_driver_plus_small_noise():
    plain = make_line(n_params=120, n_drivers=8, rows=600, seed=3)
    line = make_line(n_params=120, n_drivers=8, rows=600, seed=3, copies_as_controllable=4)
    assert len(line.copies) == 4 and set(line.copies.values()) <= set(line.drivers)
    assert set(line.copies) <= set(line.controllable) and not set(line.copies) & set(line.context)
    for reading, driver in line.copies.items():
        r = line.frame[[reading, driver]].corr().iloc[0, 1]
        assert 0.96 <= r <= 0.999, (reading, r)
    # the truth, the settings and the outcome are those of the line without the readings
    assert line.frame[line.target].equals(plain.frame[plain.target])
    assert line.drivers == plain.drivers and set(plain.controllable) < set(line.controllable)
