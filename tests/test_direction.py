"""Direction of travel from a track's motion, and counting lines."""

import numpy as np
import pytest

from stream.config import ConfigError, load_config, parse_config
from stream.direction import CountingLine, crossings, motion_direction
from tests.conftest import ROOT


def box(cx: float, cy: float, width: float) -> np.ndarray:
    return np.array([cx - width / 2, cy - width / 6, cx + width / 2, cy + width / 6], np.float32)


@pytest.mark.parametrize(
    "first,last,expected",
    [
        (box(500, 300, 80), box(520, 420, 160), "approaching"),
        (box(500, 420, 160), box(480, 300, 80), "receding"),
        (box(200, 300, 100), box(600, 310, 105), "right"),
        (box(600, 300, 100), box(200, 290, 95), "left"),
        (box(400, 300, 100), box(410, 302, 101), "stationary"),
    ],
)
def test_motion_names_where_the_plate_went(first, last, expected):
    assert motion_direction(first, last) == expected


def test_a_counting_line_is_crossed_in_one_way_and_out_the_other():
    barrier = CountingLine("barrier", ((0.0, 500.0), (1000.0, 500.0)))  # left to right across the image
    down, up = (box(400, 300, 80), box(420, 700, 150)), (box(420, 700, 150), box(400, 300, 80))
    # standing on (0, 500) looking at (1000, 500), down the image is on the right: in
    assert crossings(*down, (barrier,)) == [{"line": "barrier", "direction": "in"}]
    assert crossings(*up, (barrier,)) == [{"line": "barrier", "direction": "out"}]
    assert crossings(box(400, 300, 80), box(420, 450, 90), (barrier,)) == []  # stopped short of it
    short = CountingLine("short", ((0.0, 500.0), (100.0, 500.0)))  # ends before the plate's path
    assert crossings(*down, (short,)) == []


def test_counting_lines_are_read_from_the_camera_config():
    cfg = load_config(ROOT / "configs" / "cameras.example.toml")
    assert cfg.cameras[0].line == (CountingLine("barrier", ((0.0, 540.0), (1920.0, 540.0))),)
    camera = {"id": "a", "source": "x"}
    for lines, message in [
        ([{"name": "l", "points": [[0, 0], [0, 0]]}], "two different"),
        ([{"name": "", "points": [[0, 0], [1, 0]]}], "name of its own"),
        ([{"name": "l", "points": [[0, 0]]}], "expected a list of 2"),
        ([{"name": "l", "points": [[0, 0], [1, 1]], "colour": "red"}], "unknown key 'colour'"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_config({"camera": [{**camera, "line": lines}]})
