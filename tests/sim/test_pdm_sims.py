"""The PdM simulators: the wind farm's faults drift a temperature relative to load before the failure, records go
missing; the turbofan-style fleet follows the C-MAPSS conventions (run to failure, test units cut 7–145 cycles
before it, constant sensors)."""

import numpy as np

from engine.sim.turbofan import SENSORS, make_turbofan
from engine.sim.wind import make_wind_farm


def test_wind_faults_drift_before_failure_and_records_go_missing():
    farm = make_wind_farm(turbines=4, days=120, faulty=2, seed=1)
    f = farm.frame
    assert len(farm.faults) == 2 and f["failure"].sum() == 2
    lead = (farm.faults["failure"] - farm.faults["onset"]).dt.days
    assert lead.between(7, 21).all()
    assert len(f) < 4 * 120 * 24  # lost records, outages and repair downtime
    for fault in farm.faults.itertuples():
        col = "gearbox_bearing_temp_c" if fault.component == "gearbox" else "generator_winding_temp_c"
        unit = f[f["turbine"] == fault.turbine].set_index("timestamp")
        excess = unit[col] - unit["nacelle_temp_c"]
        healthy_rows = unit.index < fault.onset
        coef = np.polyfit(unit["power_kw"][healthy_rows], excess[healthy_rows], 2)  # excess explained by load
        residual = excess - np.polyval(coef, unit["power_kw"])
        last_day = residual[fault.failure - np.timedelta64(1, "D"): fault.failure].mean()
        assert abs(residual[healthy_rows].mean()) < 0.5 and last_day > 3  # hotter than its load explains
    healthy = f[~f["turbine"].isin(farm.faults["turbine"])]
    assert healthy["failure"].sum() == 0


def test_turbofan_follows_the_cmapss_conventions():
    fleet = make_turbofan(units=10, test_units=10, seed=2)
    train, test, truth = fleet.train, fleet.test, fleet.test_rul
    assert (train.groupby("unit")["rul"].min() == 0).all()
    assert train.groupby("unit")["cycle"].max().between(128, 362).all()
    assert truth["rul"].between(7, 145).all() and "rul" not in test
    assert test.groupby("unit")["cycle"].max().min() >= 31
    constant = [s for s in SENSORS if train[s].std() < 1e-9]
    assert {"s1", "s5", "s10", "s16", "s18", "s19"} <= set(constant)
    late = train[train["rul"] < 10]["s4"].mean()
    early = train[train["cycle"] < 20]["s4"].mean()
    assert late - early > 15  # the HPC signature rises towards failure
