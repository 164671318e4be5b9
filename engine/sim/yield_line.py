"""A production line with a known answer: hundreds of parameters, a few of which drive a per-batch quality rate.

Built so that the yield-improvement template can be scored against the truth:
- `drivers`: the controllable setpoints the quality depends on, through quadratic optima (some optima move with the
  incoming material, the context), saturating ramps and pairwise interactions, on the logit scale;
- history: every setpoint ran in a narrow window that drifts slowly (so the 1–99 % envelope is what is trustworthy),
  partly moved together by shared re-tuning factors (confounding);
- decoys: sensors that are near-copies of the drivers (a measured value tracking its setpoint) and groups of sensors
  copying each other; plus noise, missing values, constant / mostly-missing columns and one target leak;
- optionally (`copies_as_controllable`), a downstream reading of each of the first few drivers — the driver plus
  small measurement noise and a calibration offset, correlated `copy_r` with it — listed among the controllables
  (a measured value mistaken for a setting). They come on top of `n_params` from their own random stream, so the
  truth, the settings and the outcome are those of the line without them.
Everything is deterministic with the seed. `score` computes what a test or the bench wants to know: driver recall in
a list of names, and the share of the achievable uplift (inside the historical envelope) a recommendation captures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from engine.sim.yield_truth import Driver, Interaction, Truth

AREAS = ("texture", "diffusion", "etch", "pecvd", "print", "firing")
CONTEXT = "wafer_resistivity"  # incoming material: the optimum of some drivers moves with it


@dataclass(frozen=True)
class LineConfig:
    n_params: int = 300            # setpoints + sensors + context columns (extras come on top)
    n_drivers: int = 15            # controllable setpoints the quality depends on
    rows: int = 2000               # batches (rate) or units (pass/fail)
    missing: float = 0.02          # share of missing values in every parameter column
    outcome: Literal["rate", "pass_fail"] = "rate"
    mean_rate: float = 0.80        # rate: mean A-grade rate of the history
    fail_rate: float = 0.07        # pass/fail: share of failing units in the history
    effect: float = 1.0            # scales every driver effect (pass/fail needs larger effects to be learnable)
    noise: float = 0.12            # unexplained batch-to-batch variation (logit scale)
    copies_per_driver: int = 2     # decoy sensors that nearly copy each driver
    decoy_groups: int = 8          # groups of sensors copying each other, unrelated to quality
    controllable_share: float = 0.4
    units_per_batch: int = 2000    # rate: cells graded per batch (binomial noise)
    extras: bool = True            # constant, near-constant, mostly-missing and leak columns
    copies_as_controllable: int = 0  # this many drivers get a downstream reading (wrongly) listed as controllable
    copy_r: tuple[float, float] = (0.97, 0.995)  # its correlation with the driver: the driver plus small noise
    seed: int = 0


@dataclass
class YieldLine:
    config: LineConfig
    frame: pd.DataFrame            # what the plant exported (with missing values and extras)
    truth: Truth                   # expected quality as a function of the settings
    target: str
    controllable: list[str]
    context: list[str]
    time: str
    extras: list[str] = field(default_factory=list)
    copies: dict[str, str] = field(default_factory=dict)   # downstream copy listed as controllable -> its driver

    @property
    def drivers(self) -> list[str]:
        return [d.name for d in self.truth.drivers]

    def roles(self) -> dict:
        """The roles a recipe for this line assigns (extras sit with the context: cleaning must find them)."""
        return {"target": self.target, "controllable": self.controllable, "context": self.context + self.extras,
                "time": self.time}

    # -- scoring --------------------------------------------------------------------------------------------
    def baseline(self, context: float | None = None) -> pd.Series:
        """Every parameter at its historical median (what the studio calls the baseline), context as given."""
        numeric = self.frame[self.controllable + self.context]
        base = numeric.median()
        if context is not None:
            base[CONTEXT] = context
        return base

    def envelope(self, quantiles: tuple[float, float] = (0.01, 0.99)) -> dict[str, tuple[float, float]]:
        q = self.frame[self.controllable].quantile(list(quantiles))
        return {c: (float(q.iloc[0][c]), float(q.iloc[1][c])) for c in self.controllable}

    def expected(self, settings: pd.DataFrame | pd.Series) -> np.ndarray:
        """True expected rate (pass probability) at the settings: drivers and context read from the columns."""
        frame = settings.to_frame().T if isinstance(settings, pd.Series) else settings
        return self.truth.rate(frame)

    def best_in_envelope(self, context: float | None = None) -> tuple[pd.Series, float]:
        """The best setting of the drivers within the 1–99 % envelope (other parameters at the baseline)."""
        base = self.baseline(context)
        return self.truth.best(base, self.envelope())

    def captured_share(self, recommended: dict, context: float | None = None) -> float:
        """(true(recommended) − true(baseline)) / (true(best in envelope) − true(baseline)); unset params at baseline."""
        base = self.baseline(context)
        point = base.copy()
        for name, value in recommended.items():
            if name in point.index:
                point[name] = value
        best, best_rate = self.best_in_envelope(context)
        start = float(self.expected(base)[0])
        return (float(self.expected(point)[0]) - start) / max(best_rate - start, 1e-12)

    def recall(self, names: list[str]) -> float:
        """Share of the true drivers (and the context driver) found in `names`."""
        wanted = set(self.drivers) | {CONTEXT}
        return len(wanted & set(names)) / len(wanted)


# -- generation -------------------------------------------------------------------------------------------------
def make_line(config: LineConfig | None = None, **overrides) -> YieldLine:
    """A simulated line; `make_line(n_params=150, n_drivers=10, rows=1500)` for a quick one."""
    cfg = LineConfig(**{**(config.__dict__ if config else {}), **overrides})
    # two streams: the plant's structure (names, drivers, effects) does not change with the length of its history
    plant, rng = np.random.default_rng([cfg.seed, 0]), np.random.default_rng([cfg.seed, 1])
    n_sp = max(cfg.n_drivers + 2, round(cfg.n_params * cfg.controllable_share))
    n_sensors = cfg.n_params - n_sp - 2
    if n_sensors < cfg.n_drivers * cfg.copies_per_driver:
        raise ValueError(f"{cfg.n_params} parameters leave too few sensors for the decoy copies; raise n_params")
    sp_names, sensor_names = _names(plant, "sp", n_sp), _names(plant, "pv", n_sensors)
    driver_idx = plant.choice(n_sp, cfg.n_drivers, replace=False)
    offsets, spans = _units(plant, n_sp)
    factors = np.column_stack([_slow(rng, cfg.rows, 5) for _ in range(4)])
    unit = _setpoints(rng, cfg.rows, n_sp, factors)                  # normalized settings, design range 0..1
    context = _material(rng, cfg.rows)
    humidity = 45 + 12 * _slow(rng, cfg.rows, 400) + rng.normal(0, 2, cfg.rows)
    physical = offsets + spans * unit
    truth = _truth(plant, cfg, unit, driver_idx, [sp_names[i] for i in driver_idx], offsets, spans, context)
    outcome = _outcome(rng, cfg, truth, physical, sp_names, context)
    sensors, copy_of = _sensors(rng, cfg, n_sensors, physical, driver_idx, humidity)
    cols = {name: physical[:, j] for j, name in enumerate(sp_names)}
    cols.update({CONTEXT: context["value"], "ambient_humidity": humidity})
    cols.update({name: sensors[:, j] for j, name in enumerate(sensor_names)})
    listed = _readings(cfg, physical, driver_idx, sp_names)
    cols.update({name: values for name, (values, _) in listed.items()})
    frame = pd.DataFrame(cols)
    order = list(plant.permutation(frame.columns))                 # drivers must not be findable by position
    frame = _with_missing(rng, frame[order], cfg.missing)
    target = "a_grade_rate" if cfg.outcome == "rate" else "passed"
    extras = _extras(rng, cfg, outcome) if cfg.extras else pd.DataFrame(index=frame.index)
    times = pd.date_range("2025-01-01", periods=cfg.rows, freq="2h")
    frame = pd.concat([pd.DataFrame({"batch_time": times}), frame, extras, pd.Series(outcome, name=target)], axis=1)
    copies = {name: driver for name, (_, driver) in listed.items()}
    return YieldLine(cfg, frame, truth, target, [c for c in order if c in sp_names or c in copies],
                     [c for c in order if c not in sp_names and c not in copies], "batch_time",
                     list(extras.columns), copies)


def _readings(cfg: LineConfig, physical, driver_idx, sp_names) -> dict[str, tuple[np.ndarray, str]]:
    """{reading name: (values, its driver)}: the first `copies_as_controllable` drivers measured downstream — the
    setting plus small noise (correlation `copy_r`) and a calibration offset, in the setting's units."""
    rng = np.random.default_rng([cfg.seed, 2])
    out = {}
    for k, j in enumerate(driver_idx[: cfg.copies_as_controllable]):
        x = physical[:, j]
        r = rng.uniform(*cfg.copy_r)
        noise = rng.normal(0, x.std() * np.sqrt(1 / r ** 2 - 1), len(x))
        name = f"{rng.choice(AREAS)}_tc_{k + 1:03d}"
        out[name] = (np.round(x + noise + rng.normal(0, 0.02) * x.std(), 4), sp_names[j])
    return out


def _slow(rng: np.random.Generator, n: int, tau: float) -> np.ndarray:
    """A standardized Ornstein-Uhlenbeck path with correlation time `tau` rows: the plant's slow drift."""
    a = np.exp(-1.0 / tau)
    shocks = rng.normal(0, np.sqrt(1 - a * a), n)
    out = np.empty(n)
    out[0] = rng.normal()
    for i in range(1, n):
        out[i] = a * out[i - 1] + shocks[i]
    return (out - out.mean()) / max(out.std(), 1e-9)


def _setpoints(rng, rows: int, n: int, factors: np.ndarray) -> np.ndarray:
    """Each setpoint: a slowly drifting centre, faster excursions around it (partly shared with re-tuning factors),
    held for a few batches at a time, plus jitter.

    The window is narrow (a few % of the design range) and drifts, as a plant that rarely experiments does; the
    excursions are what a model can learn from."""
    centre = rng.uniform(0.35, 0.65, n)
    sd = rng.uniform(0.03, 0.06, n)
    share = rng.uniform(0.0, 0.6, n)
    which = rng.integers(0, factors.shape[1], n)
    out = np.empty((rows, n))
    for j in range(n):
        own = _slow(rng, rows, rng.uniform(2, 10))
        fast = np.sqrt(1 - share[j] ** 2) * own + share[j] * factors[:, which[j]]
        hold = int(rng.integers(1, 6))                       # operators change a setpoint every few batches
        fast = np.repeat(fast[::hold], hold)[:rows]
        drift = _slow(rng, rows, rng.uniform(200, 500))
        out[:, j] = centre[j] + sd[j] * (0.8 * fast + 0.6 * drift) + rng.normal(0, sd[j] * 0.2, rows)
    return out


def _material(rng, rows: int) -> dict:
    """Incoming wafer lots: resistivity constant within a lot, drifting between lots; standardized value `c`."""
    lot = np.cumsum(rng.random(rows) < 1 / 25)
    lot_value = 0.6 * _slow(rng, lot.max() + 1, 8) + 0.8 * rng.normal(0, 1, lot.max() + 1)
    c = lot_value[lot] + rng.normal(0, 0.1, rows)
    c = (c - c.mean()) / c.std()
    return {"c": c, "value": np.round(1.5 + 0.3 * c, 3), "mean": 1.5, "sd": 0.3}


def _units(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Physical units: settings from fractions of a bar to hundreds of degrees."""
    spans = 10 ** rng.uniform(-0.5, 2.7, n)
    offsets = np.round(rng.uniform(0, 3, n) * spans, 1)
    return offsets, spans


def _truth(rng, cfg: LineConfig, unit, driver_idx, names, offsets, spans, context) -> Truth:
    """Driver effects sized on each driver's historical window, so every one is learnable but none dominates."""
    drivers = []
    for k, j in enumerate(driver_idx):
        lo, hi = np.quantile(unit[:, j], [0.05, 0.95])
        kind = "peak" if k % 3 != 2 else "ramp"
        amp = cfg.effect * rng.uniform(0.25, 0.45)
        delta = rng.uniform(-1.3, 1.3)                       # optimum inside or beyond the historical window
        shift = rng.choice([-1, 1]) * rng.uniform(0.3, 0.6) if k % 2 == 0 else 0.0
        if kind == "peak":
            amp = amp / (1 + abs(delta)) ** 2                # the largest loss inside the window stays ~amp
        else:
            amp = amp * rng.choice([-1, 1]) / 1.5             # tanh spans ±1 over the window: same size as a peak
        drivers.append(Driver(names[k], float(offsets[j]), float(spans[j]), kind, float(amp),
                              float((lo + hi) / 2), float((hi - lo) / 2), float(delta), float(shift)))
    pairs = rng.permutation(len(drivers))[: 2 * max(1, len(drivers) // 4)].reshape(-1, 2)
    interactions = [Interaction(drivers[a].name, drivers[b].name, float(cfg.effect * rng.uniform(0.05, 0.1)))
                    for a, b in pairs]
    return Truth(drivers, interactions, CONTEXT, context["mean"], context["sd"], context_coef=-0.15 * cfg.effect)


def _outcome(rng, cfg: LineConfig, truth: Truth, physical, names, context) -> np.ndarray:
    """Per batch: the A-grade share of `units_per_batch` graded cells; per unit: pass (1) or fail (0)."""
    frame = pd.DataFrame(physical, columns=names).assign(**{CONTEXT: context["value"]})
    z = truth.logit(frame, with_intercept=False)
    eps = rng.normal(0, cfg.noise, len(z))
    wanted = cfg.mean_rate if cfg.outcome == "rate" else 1 - cfg.fail_rate
    truth.calibrate(z + eps, wanted)
    p = 1 / (1 + np.exp(-(z + eps + truth.intercept)))
    if cfg.outcome == "rate":
        return rng.binomial(cfg.units_per_batch, p) / cfg.units_per_batch
    return (rng.random(len(p)) < p).astype(np.int64)


def _sensors(rng, cfg: LineConfig, n: int, physical, driver_idx, humidity) -> tuple[np.ndarray, dict[int, int]]:
    """Decoys first (near-copies of drivers, of other setpoints, of each other), then plain drifting sensors.
    Also returns {sensor position: driver number} for the drivers' copies."""
    rows, cols = physical.shape[0], []
    for j in driver_idx:
        cols += [_copy(rng, physical[:, j], rng.uniform(0.93, 0.99)) for _ in range(cfg.copies_per_driver)]
    others = [j for j in range(physical.shape[1]) if j not in set(driver_idx)]
    for j in rng.choice(others, min(len(others), n // 6), replace=False):
        cols.append(_copy(rng, physical[:, j], rng.uniform(0.9, 0.99)))
    for _ in range(cfg.decoy_groups):
        latent = _slow(rng, rows, rng.uniform(20, 200))
        cols += [_copy(rng, latent, rng.uniform(0.92, 0.99)) for _ in range(int(rng.integers(2, 6)))]
    cols.append(_copy(rng, humidity, 0.95))
    cols = cols[:n]
    while len(cols) < n:
        level, scale = rng.uniform(0, 500), 10 ** rng.uniform(-1, 2)
        cols.append(level + scale * (_slow(rng, rows, rng.uniform(5, 300)) + rng.normal(0, 0.3, rows)))
    perm = rng.permutation(n)
    copies = len(driver_idx) * cfg.copies_per_driver
    copy_of = {int(pos): int(perm[pos]) // cfg.copies_per_driver for pos in range(n) if perm[pos] < copies}
    return np.column_stack(cols)[:, perm], copy_of


def _copy(rng, x: np.ndarray, r: float) -> np.ndarray:
    """A sensor correlated r with x, in its own units (gain, offset)."""
    noise = rng.normal(0, x.std() * np.sqrt(1 / r ** 2 - 1), len(x))
    gain = rng.choice([-1, 1]) * 10 ** rng.uniform(-1, 1)
    return np.round(gain * (x + noise) + rng.uniform(-100, 100), 4)


def _names(rng, kind: str, n: int) -> list[str]:
    """Tag-like names spread over the process areas, e.g. `firing_sp_07`, `etch_pv_112`."""
    areas = rng.choice(AREAS, n)
    return [f"{a}_{kind}_{i + 1:03d}" for i, a in enumerate(areas)]


def _with_missing(rng, frame: pd.DataFrame, share: float) -> pd.DataFrame:
    if share <= 0:
        return frame
    return frame.mask(rng.random(frame.shape) < share)


def _extras(rng, cfg: LineConfig, outcome: np.ndarray) -> pd.DataFrame:
    """What cleaning must remove: constants, a near-constant, lab columns mostly missing, and a target leak."""
    rows = len(outcome)
    recipe_version = np.where(rng.random(rows) < 0.998, 7.0, 8.0)
    lab = {f"lab_xrf_{k}": np.where(rng.random(rows) < 0.85, np.nan, rng.normal(3, 0.2, rows)) for k in (1, 2)}
    leak = np.round(100 * outcome, 2) if cfg.outcome == "rate" else 1 - outcome   # final inspection, known too late
    leak_name = "final_inspection_a_pct" if cfg.outcome == "rate" else "retest_flag"
    return pd.DataFrame({"line_id": 3.0, "recipe_version": recipe_version, **lab, leak_name: leak}, index=range(rows))


# -- into the studio ------------------------------------------------------------------------------------------
def recipe_for(line: YieldLine, data: dict, name: str = "Simulated line — A-grade rate", **params) -> dict:
    """A yield_improvement recipe (as a dict, as the UI builds one) binding this line's columns to their roles."""
    goal = {"goal": "maximize"}
    return {"template": "yield_improvement@1.1.0", "name": name, "data": data, "roles": line.roles(),
            "params": {**goal, **params}}
