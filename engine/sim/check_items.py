"""A product test with a known answer: ~300 test items per product, and which of them can be dropped.

Built so that the test-item-reduction template can be scored against the truth:
- failing groups: several items measure one physical quantity (own gain, offset and a little noise) with limits at
  nearly the same point of it, so they fail together; one item per group must stay, the others are redundant;
- singletons: items with a failure of their own (necessary);
- rare defect modes: a defect pushes one item, and only that one, beyond its limit in a few products per thousand
  (necessary, though they seldom fail);
- functional PASS/FAIL checks: some fail together (one fault seen by several checks), some alone (necessary);
- quiet items and quiet groups that never come near their limits (most items of a real test): droppable;
- safety items (hipot) that never fail either but must stay by regulation (mandatory).
The verdict is `bad` when any item fails. `sample(n, seed)` draws fresh products from the same line (same items,
limits, defect modes) so a reduced test can be scored on products it never saw. Deterministic with the seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from engine.core.i18n import Msg

STATIONS = ("ict", "fct", "rf", "pwr", "cal")
VERDICT = "verdict"


@dataclass(frozen=True)
class TestLineConfig:
    n_items: int = 300
    products: int = 4000
    failing_groups: int = 25      # quantities measured by 2–7 items each, failing now and then
    quiet_groups: int = 10        # correlated items that never fail
    singletons: int = 14          # items with a failure of their own
    rare_modes: int = 6           # defect modes each seen by one item only
    functional_modes: int = 3     # PASS/FAIL faults seen by 2–3 functional checks together
    functional_unique: int = 2    # PASS/FAIL checks with a fault of their own
    safety: int = 3               # hipot items: never fail, mandatory by regulation
    bad_rate: float = 0.06        # approximate share of bad products
    seed: int = 0


@dataclass(frozen=True)
class _Item:
    name: str
    kind: str                     # group | singleton | rare | quiet | safety | functional
    latent: int = -1              # column of the latent matrix (measured items)
    gain: float = 1.0
    offset: float = 0.0
    noise: float = 0.0            # own noise, in latent units
    threshold: float = 9.0        # fails when latent + noise passes it (upper side)
    mode: int = -1                # defect mode (rare, functional)
    detect: float = 1.0           # functional: chance the check sees its fault

    def limits(self) -> tuple[float, float]:
        """(low, high) in the item's units: the failing side at the threshold, the other far away."""
        far, near = self.offset + self.gain * -8.0, self.offset + self.gain * self.threshold
        return (far, near) if self.gain > 0 else (near, far)


@dataclass
class Truth:
    necessary: list[str]                 # items that alone catch some bad products: must be kept
    groups: dict[str, list[str]]         # items failing together: keep at least one of each
    quiet: list[str]                     # never fail: droppable
    mandatory: list[str]                 # safety items: kept by rule
    passfail: list[str]                  # PASS/FAIL items

    @property
    def min_kept(self) -> int:
        return len(self.necessary) + len(self.groups) + len(self.mandatory)


@dataclass
class TestLine:
    config: TestLineConfig
    items: list[_Item]
    modes: np.ndarray                    # prevalence of each defect mode (rare modes, then functional)
    n_latent: int
    truth: Truth
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def item_names(self) -> list[str]:
        return [it.name for it in self.items]

    @property
    def limits(self) -> dict[str, tuple[float, float]]:
        """Test limits of the measured items (the PASS/FAIL items fail on 'FAIL')."""
        return {it.name: tuple(round(v, 6) for v in it.limits()) for it in self.items if it.kind != "functional"}

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        """`n` products of this line: serial, every item, and the verdict (good/bad = any item failed)."""
        rng = np.random.default_rng([self.config.seed, seed])
        latent = rng.standard_normal((n, self.n_latent))
        has_mode = rng.random((n, len(self.modes))) < self.modes
        columns, failed = {}, np.zeros(n, bool)
        for it in self.items:
            if it.kind == "functional":
                fail = has_mode[:, it.mode] & (rng.random(n) < it.detect)
                columns[it.name] = np.where(fail, "FAIL", "PASS")
            else:
                z = latent[:, it.latent] + rng.normal(0, it.noise, n)
                if it.kind == "rare":
                    z = z + has_mode[:, it.mode] * rng.uniform(6, 8, n)
                fail = z > it.threshold
                columns[it.name] = np.round(it.offset + it.gain * z, 5)
            failed |= fail
        frame = pd.DataFrame({"serial": [f"SN{seed:03d}-{i:06d}" for i in range(n)], **columns})
        frame[VERDICT] = np.where(failed, "bad", "good")
        return frame

    def recipe(self, table: str, name: str = "Simulated test — drop redundant items", **params) -> dict:
        """A test_item_reduction recipe (as the UI builds one) for this line's table."""
        return {"template": "test_item_reduction@1.0.0", "name": name, "data": {"table": table},
                "roles": {"target": VERDICT, "controllable": self.item_names, "ignore": ["serial"]},
                "params": {"mandatory": list(self.truth.mandatory), **params}}


def make_test_line(config: TestLineConfig | None = None, **overrides) -> TestLine:
    """The line's items (structure from `seed`) and its history table of `products` products."""
    cfg = config or TestLineConfig(**overrides)
    rng = np.random.default_rng(cfg.seed)
    items, truth, n_latent, modes = _build(rng, cfg)
    order = rng.permutation(len(items))             # a test program does not list items by kind
    line = TestLine(cfg, [items[i] for i in order], modes, n_latent, truth)
    line.frame = line.sample(cfg.products, seed=0)
    return line


def _build(rng: np.random.Generator, cfg: TestLineConfig):
    """Item specs by kind; names are station tags in a shuffled numbering, so a name does not betray its kind."""
    measured_fixed = cfg.singletons + cfg.rare_modes + cfg.safety
    check_counts = [int(k) for k in rng.integers(2, 4, cfg.functional_modes)] + [1] * cfg.functional_unique
    functional = sum(check_counts)
    group_sizes = rng.integers(2, 8, cfg.failing_groups + cfg.quiet_groups)
    quiet_single = cfg.n_items - measured_fixed - functional - int(group_sizes.sum())
    if quiet_single < 0:
        raise ValueError(Msg(f"{cfg.n_items} items are too few for the groups, singletons and modes configured",
                             f"{cfg.n_items} 个测试项不够分配所配置的组、单项和失效模式"))
    numbers = iter(rng.permutation(cfg.n_items) + 1)
    share = {"group": 0.45, "singleton": 0.2, "rare": 0.2, "functional": 0.15}
    rate = {k: cfg.bad_rate * v for k, v in share.items()}
    items, latent = [], 0
    necessary, groups, quiet, mandatory, passfail = [], {}, [], [], []

    def measured(kind: str, lat: int, noise: float, threshold: float, mode: int = -1, prefix: str = "") -> _Item:
        name = prefix or f"{rng.choice(STATIONS)}_{next(numbers):03d}"
        gain = float(rng.choice([-1, 1]) * 10 ** rng.uniform(-1, 1.5))
        return _Item(name, kind, lat, gain, float(rng.uniform(-50, 50)), noise, threshold, mode)

    for g, size in enumerate(group_sizes):
        failing = g < cfg.failing_groups
        centre = _threshold(rng, 0.6 * rate["group"] / max(cfg.failing_groups, 1)) if failing else rng.uniform(5.5, 7)
        members = [measured("group" if failing else "quiet", latent, float(np.sqrt(1 / rng.uniform(0.99, 0.999) ** 2 - 1)),
                            centre + rng.uniform(-0.05, 0.05)) for _ in range(size)]
        items += members
        if failing:
            groups[f"group_{g + 1:02d}"] = [m.name for m in members]
        else:
            quiet += [m.name for m in members]
        latent += 1
    for _ in range(cfg.singletons):
        items.append(measured("singleton", latent, 0.0, _threshold(rng, rate["singleton"] / max(cfg.singletons, 1))))
        necessary.append(items[-1].name)
        latent += 1
    modes = list(rng.uniform(0.5, 1.5, cfg.rare_modes) * rate["rare"] / max(cfg.rare_modes, 1))
    for m in range(cfg.rare_modes):
        items.append(measured("rare", latent, 0.0, 4.5, mode=m))
        necessary.append(items[-1].name)
        latent += 1
    for k in range(cfg.safety):
        items.append(measured("safety", latent, 0.0, 6.5, prefix=f"hipot_{k + 1:03d}"))
        mandatory.append(items[-1].name)
        latent += 1
    for _ in range(quiet_single):
        items.append(measured("quiet", latent, 0.0, rng.uniform(5.5, 7)))
        quiet.append(items[-1].name)
        latent += 1
    for m, size in enumerate(check_counts):
        mode = len(modes)
        modes.append(rng.uniform(0.5, 1.5) * rate["functional"] / len(check_counts))
        checks = [_Item(f"func_{next(numbers):03d}", "functional", mode=mode, detect=1.0 if k == 0 else 0.97)
                  for k in range(size)]
        items += checks
        passfail += [c.name for c in checks]
        if size > 1:
            groups[f"functional_{m + 1:02d}"] = [c.name for c in checks]
        else:
            necessary.append(checks[0].name)
    truth = Truth(necessary, groups, quiet, mandatory, passfail)
    return items, truth, latent, np.array(modes)


def _threshold(rng: np.random.Generator, fail_rate: float) -> float:
    """The latent level exceeded by about `fail_rate` of the products (varied ±50 % between items)."""
    return float(norm.isf(min(0.2, fail_rate * rng.uniform(0.5, 1.5))))
