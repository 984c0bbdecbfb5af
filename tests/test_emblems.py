"""Emblems beside a US plate's characters, found and painted over (lpr_models.ocr.emblems)."""

import cv2
import numpy as np

from lpr_models.ocr.emblems import emblem_spans, without_emblems
from lpr_models.ocr.stacks import characters

HEIGHT, WIDTH = 96, 192  # a reader crop: the plate and its margins
GROUND, INK = 225, (30, 30, 30)
PITCH = 26  # between characters of a group: a few pixels apart, as on a plate


def plate(groups: tuple[tuple[str, int], ...], emblem_at: int | None = None) -> np.ndarray:
    """Dark characters on a light plate, as a reader crop: each group of `groups` (text, x) its characters PITCH
    apart, and where `emblem_at` is given a red filled ellipse centred there, nearly as tall as the characters."""
    crop = np.full((HEIGHT, WIDTH, 3), GROUND, np.uint8)
    for text, x in groups:
        for k, character in enumerate(text):
            cv2.putText(crop, character, (x + k * PITCH, 62), cv2.FONT_HERSHEY_SIMPLEX, 1.1, INK, 4)
    if emblem_at is not None:
        cv2.ellipse(crop, (emblem_at, 49), (14, 11), 0, 0, 360, (40, 40, 200), -1)
    return crop


def test_an_emblem_between_the_groups_is_painted_over_and_the_characters_are_left():
    crop = plate((("AB", 12), ("123", 112)), emblem_at=87)
    own = characters(crop)
    assert own is not None and len(own.shapes) == 5
    (span,) = emblem_spans(own)
    assert span[0] <= 87 - 14 and span[1] >= 87 + 14  # the whole ellipse, between B and 1
    clean = without_emblems(crop, own)
    assert clean is not None
    emblem = np.zeros((HEIGHT, WIDTH), bool)
    cv2.ellipse(emblem.view(np.uint8), (87, 49), (14, 11), 0, 0, 360, 1, -1)
    assert np.abs(clean[emblem].astype(int) - GROUND).max() <= 3, "the emblem is painted in the plate's ground"
    outside = np.ones((HEIGHT, WIDTH), bool)
    outside[:, span[0] : span[1]] = False
    assert np.array_equal(clean[outside], crop[outside]), "nothing beside the emblem changes"


def test_an_emblem_before_the_characters_is_painted_over():
    crop = plate((("4K27", 80),), emblem_at=45)
    own = characters(crop)
    assert own is not None and len(own.shapes) == 4
    clean = without_emblems(crop, own)
    assert clean is not None and np.abs(clean[40:58, 33:57].astype(int) - GROUND).max() <= 3
    assert np.array_equal(clean[:, 78:], crop[:, 78:])


def test_a_plain_plate_shows_no_emblem():
    own = characters(plate((("4K27ZB", 20),)))
    assert own is not None and len(own.shapes) == 6 and emblem_spans(own) == []


def test_with_fewer_than_three_characters_no_emblem_is_looked_for():
    own = characters(plate((("A", 40), ("1", 140)), emblem_at=95))
    assert own is not None and len(own.shapes) == 2 and emblem_spans(own) == []


def test_a_sliver_at_the_crop_s_edge_is_no_character_to_measure_a_gap_from():
    """The rim or the car at the crop's edge, as tall as the characters, then a stack or margin before them: not an
    emblem between two characters (a rendered US plate's unfound stack was painted over from such a sliver)."""
    crop = plate((("4K27ZB", 34),))
    crop[37:66, 0:6] = INK  # a bar at the crop's left edge, the characters' height
    own = characters(crop)
    assert own is not None and own.shapes[0][0] == 0, "the bar is taken for one of the characters"
    assert emblem_spans(own) == []
