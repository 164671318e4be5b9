"""The monitor's statistics: control-chart rules, drift tests on small windows, benefit and accuracy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from engine.ml import benefit, control_charts as cc, drift as dr

KNOWN = cc.Limits(center=0.0, sigma=1.0, baseline_n=10_000, mr_mean=cc.D2)


def test_limits_from_a_baseline():
    x = np.random.default_rng(0).normal(10, 2, 400)
    lim = cc.limits_from(x)
    assert lim.center == pytest.approx(10, abs=0.3) and lim.sigma == pytest.approx(2, rel=0.1)
    with pytest.raises(ValueError):
        cc.limits_from([1.0, np.nan])


def test_each_rule_flags_its_pattern():
    quiet = np.zeros(40)
    spike = quiet.copy()
    spike[20] = 5
    out = cc.check(spike, KNOWN, cc.RULES)
    assert np.flatnonzero(out["flags"]["beyond_limits"]).tolist() == [20]
    assert out["flags"]["moving_range"][20] and out["flags"]["moving_range"][21]
    run = np.r_[np.full(5, -0.5), np.full(12, 0.5)]
    assert np.flatnonzero(cc.check(run, KNOWN, ("nelson2",))["flags"]["nelson2"])[0] == 5 + 8
    assert np.flatnonzero(cc.check(run, KNOWN, ("we4",))["flags"]["we4"])[0] == 5 + 7
    trend = np.r_[np.zeros(5), np.linspace(0.1, 0.6, 6)]
    assert cc.check(trend, KNOWN, ("nelson3",))["flags"]["nelson3"][10]
    two_of_three = np.r_[np.zeros(5), 2.5, 0.0, 2.5]
    assert np.flatnonzero(cc.check(two_of_three, KNOWN, ("we2",))["flags"]["we2"]).tolist() == [7]
    alternating = np.tile([0.5, -0.5], 10)
    assert cc.check(alternating, KNOWN, ("nelson4",))["flags"]["nelson4"][13]
    hugging = np.full(20, 0.1)
    assert cc.check(hugging, KNOWN, ("nelson7",))["flags"]["nelson7"][14]
    with pytest.raises(ValueError, match="unknown"):
        cc.check(quiet, KNOWN, ("nelson9",))


def test_ewma_and_cusum_find_a_small_shift_a_shewhart_chart_misses():
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(0, 1, 100), rng.normal(1.0, 1, 100)]
    out = cc.check(x, KNOWN, ("ewma", "cusum", "beyond_limits"))
    first = {r: np.flatnonzero(f[100:])[:1] for r, f in out["flags"].items()}
    assert first["ewma"].size and first["ewma"][0] < 25
    assert first["cusum"].size and first["cusum"][0] < 30
    assert not out["flags"]["ewma"][:100].any() and not out["flags"]["cusum"][:100].any()


def test_default_rules_rarely_fire_in_control_with_known_limits():
    rng = np.random.default_rng(2)
    alarms = sum(len(cc.episodes(np.any(list(cc.check(rng.normal(size=1000), KNOWN)["flags"].values()), axis=0), 10))
                 for _ in range(20))
    shewhart = sum(int(cc.shewhart_flags(rng.normal(size=1000), KNOWN).sum()) for _ in range(20))
    assert alarms <= 25 and shewhart > 1.5 * alarms  # 20,000 batches: ~54 beyond 3 sigma, ~15 alarms


def test_episodes_merge_a_flag_that_stays_on():
    flags = np.array([0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1], dtype=bool)
    assert cc.episodes(flags).tolist() == [1, 6, 11]
    assert cc.episodes(flags, quiet=3).tolist() == [1, 11]
    assert cc.episodes(np.zeros(5, dtype=bool)).tolist() == []


def test_ks_window_statistic_is_the_two_sample_one():
    rng = np.random.default_rng(3)
    ref, values = rng.normal(size=800), rng.normal(0.3, 1.2, 60)
    settings = dr.DriftSettings(window=20, min_window=10)
    stat, p = dr.ks_windows(ref, values, settings, threshold=1.0)
    for end in (9, 25, 59):
        window = values[max(0, end - 19):end + 1]
        assert stat[end] == pytest.approx(ks_2samp(window, ref).statistic)
    assert np.isnan(stat[:9]).all() and np.isfinite(p[-1])


def test_drift_does_not_cry_wolf_on_small_windows_but_finds_a_move():
    rng = np.random.default_rng(4)
    ref = rng.normal(size=2000)
    for method in dr.METHODS:
        settings = dr.DriftSettings(method=method)
        calm = dr.drift(ref, rng.normal(size=3000), n_columns=5, settings=settings)
        assert calm["flags"].sum() == 0, method
        moved = dr.drift(ref, np.r_[rng.normal(size=100), rng.normal(4, 1, 40)], n_columns=5, settings=settings)
        first = np.flatnonzero(moved["flags"])
        assert first.size and 100 <= first[0] < 120, method
    # PSI read through its small-window null law: about 5 % of in-control windows below p = 0.05, as it should be
    _, p = dr.psi_windows(ref, rng.normal(size=2000), dr.DriftSettings(method="psi"))
    assert 0.005 < np.nanmean(p < 0.05) < 0.12
    with pytest.raises(ValueError):
        dr.drift(ref, ref, settings=dr.DriftSettings(method="chi"))


def test_uplift_interval_and_batches_still_needed():
    rng = np.random.default_rng(5)
    base = rng.normal(80, 2, 100)
    out = benefit.uplift(base, rng.normal(81, 2, 8), expected=1.0)
    assert out["low"] < out["value"] < out["high"] and out["trials"] == 8
    assert not out["confirmed"] and out["batches_needed"] > 8 and out["more_batches"] == out["batches_needed"] - 8
    big = benefit.uplift(base, rng.normal(83, 2, 60), expected=1.0)
    assert big["confirmed"] and big["low"] > 0 and big["more_batches"] == 0
    assert out["verdict"] == "collecting" and big["verdict"] == "confirmed"
    worse = benefit.uplift(base, rng.normal(83, 2, 60), goal="minimize", expected=-1.0)
    assert not worse["confirmed"] and worse["verdict"] == "not_seen"
    assert benefit.uplift(base, [])["value"] is None


def test_recent_accuracy_against_the_cross_validated_error():
    rng = np.random.default_rng(6)
    fine = benefit.accuracy(rng.normal(0, 1, 200), cv_rmse=1.0, window=50)
    worse = benefit.accuracy(rng.normal(0, 2, 200), cv_rmse=1.0, window=50)
    assert fine["batches"] == 50 and 0.7 < fine["ratio"] < 1.3 and fine["p_worse"] > 0.01
    assert worse["ratio"] > 1.5 and worse["p_worse"] < 1e-6
