"""Training degradations (train.augment)."""

import numpy as np

from train.augment import harsh


def test_harsh_conditions_change_a_plate_but_leave_its_characters_legible():
    """Each condition must degrade the plate, never wipe it out: an unreadable training plate teaches a guess."""
    plate = np.full((48, 192, 3), 235, np.uint8)
    ink = np.zeros(plate.shape[:2], bool)
    for x in range(12, 180, 28):  # seven dark strokes 14 px wide, as wide as a plate's characters
        ink[8:40, x : x + 14] = True
    plate[ink] = 25
    for seed in range(60):
        out = harsh(plate, np.random.default_rng(seed))
        assert out.shape == plate.shape and out.dtype == np.uint8
        assert np.abs(out.astype(int) - plate).mean() > 3, seed
        core = np.zeros_like(ink)  # the middle of each stroke and of each gap: where a long blur reaches least
        for x in range(12, 180, 28):
            core[16:32, x + 5 : x + 9] = True
        gaps = np.zeros_like(ink)
        for x in range(26, 180, 28):
            gaps[16:32, x + 5 : x + 9] = True
        contrast = out[gaps].mean() - out[core].mean()
        assert contrast > 20, (seed, contrast)
