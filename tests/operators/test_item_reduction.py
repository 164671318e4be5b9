"""Test-item reduction on the simulated product test: the limit holds on fresh products, the right items stay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.ml import check_items as ti
from engine.ml.reduction_cv import bounds, choose, needed_bad
from engine.operators.item_reduction import ItemReductionParams
from engine.operators.item_reduction import reduce_test_items as reduce_items
from engine.sim.check_items import make_test_line

SMALL = dict(n_items=120, products=2500, failing_groups=10, quiet_groups=4, singletons=6, rare_modes=3,
             functional_modes=2, functional_unique=1, safety=2, bad_rate=0.1)
LIMIT = 0.01


@pytest.fixture(scope="module")
def line():
    return make_test_line(**SMALL)


@pytest.fixture(scope="module")
def fresh(line):
    frame = line.sample(20000, seed=7)
    return frame, (frame["verdict"] == "bad").to_numpy()


def _run(line, **params):
    p = ItemReductionParams(**{"target": "verdict", "items": line.item_names, "mandatory": line.truth.mandatory,
                               "limits": line.limits, "max_miss_rate": LIMIT, "folds": 4, **params})
    return reduce_items(p, StepContext("test", "reduce", 0), line.frame)


@pytest.fixture(scope="module")
def reduced(line):
    return _run(line)


def test_miss_limit_holds_on_fresh_products(reduced, fresh):
    frame, bad = fresh
    flags = reduced["plan"].flags(frame)
    assert bad.sum() > 1000
    assert (bad & ~flags["flagged"]).sum() / bad.sum() <= LIMIT
    assert (~bad & flags["flagged"]).mean() <= 0.06            # false alarms near the 5 % budget
    # the guards earn their place: kept items alone would miss more
    assert (bad & ~flags["kept_fail"]).sum() >= (bad & ~flags["flagged"]).sum()


def test_keeps_mandatory_necessary_and_one_per_group(line, reduced):
    kept = set(reduced["plan"].kept)
    assert set(line.truth.mandatory) <= kept
    assert set(line.truth.necessary) <= kept
    assert all(kept & set(group) for group in line.truth.groups.values())


def test_reduction_is_substantial_and_reported(line, reduced):
    r = reduced["test_reduction"]
    assert r["items_total"] == 120 and r["items_kept"] + r["items_dropped"] == 120
    assert r["reduction_pct"] >= 25
    assert r["items_kept"] >= line.truth.min_kept
    assert {d["reason"] for d in r["dropped"]} <= {"never_failed", "covered", "predicted", "accepted_risk"}
    assert not set(line.truth.quiet) - {d["name"] for d in r["dropped"]} - set(reduced["plan"].kept)
    rate = r["miss_rate"]
    assert rate["low"] <= rate["value"] <= rate["high"] and rate["of"] == r["verdict"]["bad"]
    assert r["miss_rate"]["value"] <= LIMIT
    points = r["curve"]
    assert points[0]["kept"] == 120 and points[0]["misses"] == 0 and len(points) > r["items_dropped"]
    assert reduced["metrics"]["miss_rate"]["folds"] and reduced["key_parameters"][0]["name"] in reduced["plan"].kept
    assert all(set(g["predictors"]) <= set(reduced["plan"].kept) for g in r["rule"]["guards"])


def test_a_looser_limit_drops_more_and_misses_grow_out_of_fold(line, reduced):
    """Every bad product is held out once; going further down the curve, held-out misses appear."""
    r = _run(line, max_miss_rate=0.2, max_false_alarm=1.0)["test_reduction"]
    assert r["miss_rate"]["of"] == r["verdict"]["bad"]
    assert r["items_kept"] < reduced["test_reduction"]["items_kept"]
    misses = [p["misses_kept_only"] for p in r["curve"]]
    assert misses[0] == 0 and misses[-1] > 0


def test_without_the_model_kept_items_decide_alone(line, fresh):
    out = _run(line, use_model=False)
    r = out["test_reduction"]
    assert r["rule"]["guards"] == [] and r["miss_rate"] == r["miss_rate_kept_only"]
    frame, bad = fresh
    flags = out["plan"].flags(frame)
    assert not flags["model"].any()
    assert set(line.truth.mandatory) <= set(out["plan"].kept)


def test_costs_are_counted(line):
    first, second = line.item_names[:2]
    r = _run(line, costs=f"{first}=10, {second}=5", default_cost=1.0, folds=3)["test_reduction"]
    assert r["cost"]["total"] == pytest.approx(118 + 15)
    assert r["cost"]["saved"] == pytest.approx(r["cost"]["total"] - r["cost"]["kept"])


@pytest.mark.parametrize("change, message", [
    ({"mandatory": ["nope"]}, "not test items: nope"),
    ({"costs": "abc"}, "item=cost"),
    ({"costs": "nope=1"}, "not a test item"),
    ({"bad_label": "broken"}, "bad label 'broken'"),
])
def test_bad_input_is_named(line, change, message):
    with pytest.raises(StudioError, match=message):
        _run(line, **change)


def test_verdict_and_items_are_read_as_plants_write_them():
    bad, value = ti.verdict(pd.Series(["OK", "NG", "OK", "OK"], name="v"), None)
    assert value == "NG" and bad.tolist() == [False, True, False, False]
    bad, value = ti.verdict(pd.Series([1, 1, 1, 0, 1], name="v"), None)        # no words: the rarer value
    assert value == 0 and bad.sum() == 1
    with pytest.raises(StudioError, match="two values"):
        ti.verdict(pd.Series(["a", "b", "c"], name="v"), None)
    frame = pd.DataFrame({"m": [1.0, 2.0, 3.0, 9.0], "pf": ["PASS", "PASS", "PASS", "FAIL"], "flag": [0, 0, 1, 1]})
    bad = np.array([False, False, False, True])
    data = ti.items(frame, ["m", "pf", "flag"], bad)
    assert data.passfail.tolist() == [False, True, True] and data.fail_value == {"pf": "FAIL", "flag": 1}
    low, high, given = ti.limits(data, bad, {})
    assert high[0] == 3.0 and low[0] == -np.inf and not given.any()   # only the side a bad product crossed
    with pytest.raises(StudioError, match="'t' is text"):
        ti.items(pd.DataFrame({"t": ["a", "b", "c"]}), ["t"], np.array([False, True, False]))


def test_bounds_and_the_decision():
    assert bounds(0, 300, 0.95)[1] == pytest.approx(1 - 0.05 ** (1 / 300), rel=1e-6)
    assert needed_bad(0.005, 0.95) == 598
    curve = [{"dropped": d, "misses": m, "miss_high": bounds(m, 1000, 0.95)[1], "false_alarm_rate": 0.01}
             for d, m in enumerate([0, 0, 0, 1, 0, 5])]
    assert choose(curve, 1000, 0.005, 0.95, 0.05) == {"drops": 4, "criterion": "upper_bound", "bad_needed": 598,
                                                      "false_alarm_cap": 0.05}
    assert choose(curve, 1000, 0.004, 0.95, 0.05)["drops"] == 2       # one miss in 1000: bound 0.47 % > 0.4 %
    assert choose(curve, 100, 0.02, 0.95, 0.05)["drops"] == 4          # too few bad: judged on the observed rate
    assert choose(curve, 100, 0.02, 0.95, 0.05)["criterion"] == "median"
