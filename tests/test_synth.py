import re

import numpy as np
import pytest

from lpr_models.geometry import rectify
from lpr_models.vocab import is_supported
from train.synth.plates import STYLES, FontMissing, random_text, render_plate, synthetic_samples

try:
    render_plate("cn_blue", "皖A12345", np.random.default_rng(0))
except FontMissing as err:  # pragma: no cover - CI installs the fonts
    pytest.skip(str(err), allow_module_level=True)

FORMATS = {"cn_blue": r"^[^\x00-\x7f][A-Z][A-Z0-9]{5}$", "cn_green": r"^[^\x00-\x7f][A-Z][DF][A-Z0-9]\d{4}$",
           "br_mercosur": r"^[A-Z]{3}\d[A-Z]\d{2}$", "br_grey": r"^[A-Z]{3}\d{4}$", "us": r"^[A-Z0-9]{5,7}$"}


@pytest.mark.parametrize("style", STYLES)
def test_texts_follow_the_style_and_fit_the_vocabulary(style):
    rng = np.random.default_rng(0)
    for _ in range(50):
        text = random_text(style, rng)
        assert re.match(FORMATS[style], text) and is_supported(text)


def test_every_province_character_is_generated():
    from lpr_models.vocab import PROVINCES

    texts = [s.text for s in synthetic_samples(400, styles=("cn_blue",), weights=(1.0,))]
    assert set(PROVINCES) == {t[0] for t in texts}


def test_corners_locate_the_plate_in_its_scene():
    sample = synthetic_samples(1, seed=3, styles=("cn_blue",), weights=(1.0,))[0]
    plate = rectify(sample.image, sample.corners, (48, 192))
    b, g, r = plate[8:40, 40:150].reshape(-1, 3).mean(axis=0)
    assert b > r + 40  # the rectified crop is the blue plate, not the grey background
