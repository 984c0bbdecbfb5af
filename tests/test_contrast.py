"""Contrast stretching (lpr_models.contrast): the same levels as a percentile of every pixel, only faster."""

import numpy as np

from lpr_models.contrast import is_dark, percentiles, stretched


def test_percentiles_read_off_the_histogram_are_numpy_s_for_any_channel():
    rng = np.random.default_rng(0)
    for _ in range(300):
        height, width = rng.integers(1, 90, 2)
        channel = np.clip(rng.normal(rng.uniform(0, 255), rng.uniform(0, 70), (height, width)), 0, 255)
        channel = channel.astype(np.uint8)
        np.testing.assert_allclose(percentiles(channel, (2.0, 98.0)), np.percentile(channel, (2, 98)), atol=1e-9)


def test_a_plate_at_night_is_spread_over_every_level_in_order_and_a_flat_one_is_left_flat():
    rng = np.random.default_rng(1)
    night = rng.integers(5, 45, (48, 96, 3)).astype(np.uint8)
    out = stretched(night)
    assert is_dark(night, 40) and not is_dark(out, 40)
    assert out.min() == 0 and out.max() == 255
    for c in range(3):  # a brighter pixel never comes out darker
        order = np.argsort(night[..., c], axis=None, kind="stable")
        assert (np.diff(out[..., c].ravel()[order].astype(int)) >= 0).all()
    flat = np.full((8, 8, 3), 30, np.uint8)
    assert len(np.unique(stretched(flat))) == 1
