"""The simulated product test: deterministic, shaped as configured, its verdict and truth consistent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.sim.check_items import VERDICT, make_test_line


@pytest.fixture(scope="module")
def line():
    return make_test_line(products=3000)


def _fails(line, frame: pd.DataFrame) -> pd.DataFrame:
    """Which item failed, from the line's limits (PASS/FAIL items: 'FAIL')."""
    out = {}
    for name in line.item_names:
        if name in line.truth.passfail:
            out[name] = frame[name] == "FAIL"
        else:
            lo, hi = line.limits[name]
            out[name] = (frame[name] < lo) | (frame[name] > hi)
    return pd.DataFrame(out)


def test_deterministic_with_its_seeds(line):
    again = make_test_line(products=3000)
    pd.testing.assert_frame_equal(line.frame, again.frame)
    assert not make_test_line(products=3000, seed=1).frame.equals(line.frame)
    fresh = line.sample(500, seed=9)
    assert list(fresh.columns) == list(line.frame.columns) and not fresh.equals(line.frame.head(500))


def test_shape_and_bad_rate(line):
    assert len(line.items) == 300 and len(set(line.item_names)) == 300
    bad = (line.frame[VERDICT] == "bad").mean()
    assert 0.03 < bad < 0.12
    assert set(line.frame[line.truth.passfail].stack().unique()) == {"PASS", "FAIL"}


def test_verdict_is_any_item_failing_its_limits(line):
    fails = _fails(line, line.frame)
    np.testing.assert_array_equal(fails.any(axis=1).to_numpy(), (line.frame[VERDICT] == "bad").to_numpy())


def test_truth_is_consistent(line):
    fails = _fails(line, line.frame)
    truth = line.truth
    assert not fails[truth.quiet + truth.mandatory].any().any(), "quiet and safety items never fail"
    grouped = [n for g in truth.groups.values() for n in g]
    assert not set(truth.necessary) & set(grouped) and set(truth.mandatory) <= set(line.item_names)
    together = alone_in_group = 0                               # members of a failing group fail together
    for group in truth.groups.values():
        count = fails[group].sum(axis=1)
        together, alone_in_group = together + (count >= 2).sum(), alone_in_group + (count == 1).sum()
    assert together >= 2 * alone_in_group
    others = fails.drop(columns=truth.necessary)
    alone = [(fails[n] & ~others.any(axis=1)).sum() for n in truth.necessary]
    assert sum(a >= 1 for a in alone) >= 0.8 * len(alone), "necessary items alone catch bad products"
    assert truth.min_kept == len(truth.necessary) + len(truth.groups) + len(truth.mandatory) < 100
