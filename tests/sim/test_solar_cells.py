"""The solar-cell EL generator: deterministic, the truth it says, 8 and 16 bit."""

import numpy as np

from engine.sim.solar_cells import KINDS, CellConfig, make_cells


def test_same_seed_same_cells_and_classes_in_equal_shares():
    a = make_cells(10, ("ok", "crack"), seed=4, config=CellConfig(size=64, grains=8))
    b = make_cells(10, ("ok", "crack"), seed=4, config=CellConfig(size=64, grains=8))
    assert a.labels == b.labels and all(np.array_equal(x, y) for x, y in zip(a.images, b.images))
    assert sorted(a.labels) == ["crack"] * 5 + ["ok"] * 5
    assert a.images[0].shape == (64, 64) and a.images[0].dtype == np.uint8


def test_truth_marks_defects_and_they_are_darker_where_marked():
    cells = make_cells(10, KINDS, seed=1, config=CellConfig(size=96, grains=10, noise=(0.0, 0.001)))
    truth = cells.truth
    assert (truth.loc[truth.label == "ok", "defect_pixels"] == 0).all()
    assert (truth.loc[truth.label != "ok", "defect_pixels"] > 0).all()
    assert truth.loc[truth.label != "ok", "contrast"].between(0.25, 0.6).all()
    assert truth.loc[truth.label != "ok", "bbox"].notna().all()


def test_sixteen_bit():
    cells = make_cells(2, ("ok", "spot"), seed=0, config=CellConfig(size=48, grains=6, bit_depth=16))
    assert cells.images[0].dtype == np.uint16 and cells.images[0].max() > 255
