"""engine/ml/pdm.py: the window SQL against pandas, labels, the NASA score, alarm counting and the threshold."""

import numpy as np
import pandas as pd

from engine.ml import pdm


def test_window_features_match_pandas_per_unit_in_time_order():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"unit": np.repeat(["a", "b"], 12), "t": np.tile(np.arange(12), 2),
                          "x": rng.normal(size=24)}).sample(frac=1.0, random_state=1)  # rows out of order
    out = pdm.add_windows(frame, "unit", "t", ["x"], 4)
    assert list(out.columns[-7:]) == pdm.window_names(["x"], 4)
    for unit, part in out.groupby("unit"):
        ref = frame[frame["unit"] == unit].sort_values("t")["x"].reset_index(drop=True)
        got = part.reset_index(drop=True)
        assert np.allclose(got["x__mean4"], ref.rolling(4, min_periods=1).mean())
        assert np.allclose(got["x__max4"], ref.rolling(4, min_periods=1).max())
        assert np.allclose(got["x__std4"][1:], ref.rolling(4, min_periods=2).std()[1:])
        assert np.allclose(got["x__since_start"], ref - ref.iloc[0])
        slope = np.polyfit(np.arange(4), ref.iloc[8:12].to_numpy(), 1)[0]
        assert np.isclose(got["x__slope4"].iloc[11], slope)
        assert got["steps_in_service"].tolist() == list(range(1, 13))


def test_steps_to_failure_and_censoring():
    frame = pd.DataFrame({"u": [1, 1, 1, 1, 2, 2], "f": [0, 1, 0, 0, 0, 0]})
    out = pdm.steps_to_failure(frame, "u", "f")
    assert out[:2].tolist() == [1.0, 0.0] and np.isnan(out[2:]).all()


def test_nasa_score_punishes_late_more_than_early():
    assert pdm.nasa_score([50], [60]) > pdm.nasa_score([50], [40]) > 0
    assert pdm.nasa_score([50], [50]) == 0


def test_alarms_caught_lead_and_false_alarms_and_the_budget_threshold():
    units = np.array([1] * 10 + [2] * 10)
    to_fail = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0] + [-1] * 10, dtype=float)
    prob = np.array([0, 0, 0, 0, 0.9, 0.9, 0.9, 0.9, 0.9, 0] + [0, 0, 0.8, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    ev = pdm.evaluate_alarms(prob, 0.5, units, to_fail, horizon=6)
    assert ev["caught"] == 1 and ev["failures"] == 1 and ev["false_alarms"] == 1 and ev["leads"] == [5.0]
    assert pdm.evaluate_alarms(prob, 0.85, units, to_fail, 6)["false_alarms"] == 0
    cut = pdm.threshold_for_false_alarms(prob, units, to_fail, 6, budget=0)
    assert 0.8 < cut <= 0.9


def test_windows_v2_means_slopes_and_health_index_match_pandas():
    """Version 2: means at several lengths, slopes, the change since the unit's first rows, and the health index (a
    sign-fixed first principal component that grows with time in service) — the same values as pandas computes,
    whatever the row order of the input."""
    from engine.ml import pdm_windows as W
    from engine.operators.pdm import _tiny_fleet, windows_for

    frame = _tiny_fleet()
    health = W.fit_health(frame, ["s2", "s3", "s7"], "unit", "cycle")
    assert health["columns"] == ["s2", "s3", "s7"] and health["weights"][2] < 0 < health["weights"][0]  # s7 falls
    spec = {"v": 2, "group": "unit", "time": "cycle", "columns": ["s2", "s3", "s7"], "windows": windows_for(30),
            "health": health}
    assert spec["windows"] == [5, 15, 30]
    out = W.add_windows_v2(frame.sample(frac=1.0, random_state=0), spec)
    assert set(W.windows_names(spec)) <= set(out.columns)
    u = out[out["unit"] == 2].reset_index(drop=True)
    assert u["cycle"].is_monotonic_increasing
    assert np.allclose(u["s2__mean15"], u["s2"].rolling(15, min_periods=1).mean())
    assert np.allclose(u["s3__since_start"], u["s3"].rolling(5, min_periods=1).mean()
                       - u["s3"].expanding().apply(lambda v: v[:30].mean()))
    hi = sum((u[c] - m) / s * w for c, m, s, w in zip(health["columns"], health["mean"], health["std"],
                                                       health["weights"]))
    assert np.allclose(u["health_index"], hi) and np.allclose(u["health_index__mean5"], hi.rolling(5, min_periods=1).mean())
    x = np.arange(30.0)
    assert np.isclose(u["health_index__slope30"].iloc[-1], np.polyfit(x, hi.iloc[-30:], 1)[0])
    assert u["health_index"].iloc[-20:].mean() > u["health_index"].iloc[:20].mean()  # grows with wear


def test_false_alarm_threshold_reaches_a_budget_in_the_top_rows():
    """A budget of a few alarm episodes in 100,000 healthy rows lies in the top few hundredths of a per-cent: the cut
    found lets exactly the budget through (an even quantile grid stopped far above it)."""
    rng = np.random.default_rng(0)
    score = rng.normal(0, 1, 100_000)
    peaks = rng.choice(100_000, 6, replace=False)
    score[peaks] = 10.0 + np.arange(6)  # six isolated excursions, the largest by far
    units = np.zeros(100_000, dtype=int)
    to_failure = np.full(100_000, -1.0)
    cut = pdm.threshold_for_false_alarms(score, units, to_failure, horizon=10, budget=3)
    assert 12.0 < cut <= 13.0  # the three highest peaks alarm, the fourth does not
    assert pdm.evaluate_alarms(score, cut, units, to_failure, 10)["false_alarms"] == 3


def test_a_flickering_alarm_is_one_episode_within_the_gap():
    alarm = np.array([1, 0, 1, 1, 0, 0, 0, 1, 0, 1], dtype=bool)
    units = np.array([0] * 8 + [1] * 2)
    assert pdm.alarm_episodes(alarm, units).nonzero()[0].tolist() == [0, 2, 7, 9]
    # off for 1 row → same episode; off for 3 rows (gap 2) → a new one; a new unit always starts its own
    assert pdm.alarm_episodes(alarm, units, gap=2).nonzero()[0].tolist() == [0, 7, 9]
    assert pdm.alarm_episodes(alarm, units, gap=4).nonzero()[0].tolist() == [0, 9]
