"""Image features: any dtype/channels in, a fixed-length vector out; a defect moves the defect features."""

import numpy as np

from engine.ml.image_features import feature_names, image_features, to_grey
from engine.sim.solar_cells import CellConfig, make_cell


def _cell(label, seed=0):
    return make_cell(np.random.default_rng(seed), label, CellConfig(size=128, grains=12))


def test_grey_of_every_kind_is_float_in_unit_range():
    grey8 = np.full((10, 12), 255, np.uint8)
    assert to_grey(grey8).max() == 1.0 and to_grey(grey8).dtype == np.float32
    assert to_grey((grey8.astype(np.uint16) * 257)).max() == 1.0
    rgb = np.dstack([grey8] * 3)
    assert np.allclose(to_grey(rgb), 1.0, atol=1e-3)
    rgba = np.dstack([grey8] * 4)
    assert to_grey(rgba).shape == (10, 12)


def test_vector_length_matches_names_and_colour_equals_grey():
    image, _ = _cell("ok")
    names = feature_names()
    v = image_features(image)
    assert len(v) == len(names) == len(set(names)) and np.isfinite(v).all()
    colour = np.dstack([image] * 3)
    assert np.allclose(image_features(colour), v, atol=1e-3)
    assert np.allclose(image_features(image.astype(np.uint16) * 257), v, atol=1e-3)


def test_a_dark_region_shows_in_the_dark_spot_features():
    names = feature_names()
    area = names.index("spot8k4_area")
    ok, _ = _cell("ok", 3)
    dark, truth = make_cell(np.random.default_rng(3), "dark_region", CellConfig(size=128, grains=12, contrast=(0.6, 0.6)))
    assert image_features(dark)[area] > image_features(ok)[area] + 20
