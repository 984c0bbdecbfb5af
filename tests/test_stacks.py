"""Finding small characters stacked at a plate's end, and what the reader is shown of them (lpr_models.ocr.stacks)."""

import cv2
import numpy as np

from lpr_models.ocr.reader import OwnCharacters
from lpr_models.ocr.stacks import (
    GLYPH_REPEATS,
    characters,
    find_stacks,
    glyph_reading,
    glyph_rows,
    ink,
    without_stacks,
)

HEIGHT, WIDTH = 96, 192  # a reader crop: the plate and its margins


def plate(main: str = "4K27", left: str = "", right: str = "", side_by_side: str = "") -> np.ndarray:
    """Dark characters on a light plate, as a reader crop: `main` full height from x = 60, `left` and `right` small
    and stacked at either end, `side_by_side` small and in a row before it."""
    crop = np.full((HEIGHT, WIDTH, 3), 225, np.uint8)
    font, ink_colour = cv2.FONT_HERSHEY_SIMPLEX, (30, 30, 30)
    cv2.putText(crop, main, (60, 70), font, 1.5 if len(main) < 5 else 1.1, ink_colour, 4)
    for stack, x in ((left, 36), (right, 174)):
        step = 36 // max(1, len(stack))  # the stack spans the characters' height (rows 37-73)
        for k, character in enumerate(stack):
            cv2.putText(crop, character, (x, 37 + step * (k + 1) - 1), font, step / 30, ink_colour, 2)
    for k, character in enumerate(side_by_side):
        cv2.putText(crop, character, (26 + 16 * k, 55), font, 0.6, ink_colour, 2)
    return crop


def stacks_of(crop: np.ndarray) -> tuple:
    """The stacks beside the crop's own characters, none where it shows none."""
    own = characters(crop)
    return find_stacks(own) if own is not None else ()


def test_a_plate_s_own_characters_are_its_full_height_shapes_left_to_right():
    own = characters(plate(left="NG"))  # the stack's small characters are not among them
    assert own is not None and len(own.shapes) == 4
    assert [x for x, _, _, _ in own.boxes] == sorted(x for x, _, _, _ in own.boxes)
    assert own.band[0] < own.band[1] and abs(own.height - (own.band[1] - own.band[0])) <= 2
    assert characters(np.full((HEIGHT, WIDTH, 3), 200, np.uint8)) is None


def test_each_crop_s_own_characters_are_found_once_for_all_the_second_looks():
    crops = np.stack([plate(left="NG"), np.full((HEIGHT, WIDTH, 3), 200, np.uint8)])
    own_characters = OwnCharacters(crops)
    first = own_characters[0]
    assert first is not None and first.boxes == characters(crops[0]).boxes
    assert own_characters[0] is first  # kept, not measured again
    assert own_characters[1] is None
    stacks = own_characters.stacks(0)
    assert stacks == find_stacks(first) and len(stacks) == 1 and stacks[0].at_left
    assert own_characters.stacks(0) is stacks and own_characters.stacks(1) == ()


def test_a_stack_before_the_characters_is_found_top_to_bottom():
    (stack,) = stacks_of(plate(left="NG"))
    assert stack.at_left and len(stack.boxes) == 2
    upper, lower = stack.boxes
    assert upper[1] + upper[3] <= lower[1]
    assert max(x + w for x, _, w, _ in stack.boxes) < 60  # left of the first full-height character


def test_a_stack_of_three_after_the_characters_is_found():
    (stack,) = stacks_of(plate("4K2", right="RTR"))
    assert not stack.at_left and len(stack.boxes) == 3


def test_a_stack_at_each_end_is_found_the_left_one_first():
    left, right = stacks_of(plate("692", left="17", right="AB"))
    assert left.at_left and not right.at_left
    assert len(left.boxes) == len(right.boxes) == 2


def test_plates_without_a_stack_have_none():
    assert stacks_of(plate()) == ()
    assert stacks_of(plate(side_by_side="NG")) == ()  # small, but one beside the other
    assert stacks_of(np.full((HEIGHT, WIDTH, 3), 200, np.uint8)) == ()  # no characters at all


def test_slivers_of_the_plate_s_rim_at_its_end_are_no_stack():
    crop = plate()
    crop[40:54, 36:39] = 30  # two short upright bars, as a shadow cuts a rim into, where a stack would stand
    crop[58:72, 36:39] = 30
    assert stacks_of(crop) == ()


def test_light_characters_on_a_dark_plate_are_found_too():
    assert len(stacks_of(255 - plate(left="LH"))) == 1


def test_painting_the_stacks_over_leaves_the_plate_s_own_characters():
    crop = plate("692", left="17", right="AB")
    own = characters(crop)
    stacks = find_stacks(own)
    painted = without_stacks(crop, own, stacks)
    x1 = max(x + w for x, _, w, _ in stacks[0].boxes) + 2
    x2 = min(x for x, _, _, _ in stacks[1].boxes) - 2
    assert ink(crop)[:, :x1].sum() > 0 and ink(crop)[:, x2:].sum() > 0
    assert ink(painted)[:, :x1].sum() == 0 and ink(painted)[:, x2:].sum() == 0
    assert np.array_equal(painted[:, x1:x2], crop[:, x1:x2])
    assert stacks_of(painted) == ()


def test_each_stacked_character_gets_a_row_of_its_own_at_the_characters_height():
    crop = plate(left="NG")
    own = characters(crop)
    (stack,) = find_stacks(own)
    rows = glyph_rows(crop, own, stack.boxes)
    assert len(rows) == 2 and all(row.shape == crop.shape for row in rows)
    for row in rows:
        _, _, stats, _ = cv2.connectedComponentsWithStats(ink(row), connectivity=8)
        glyphs = [s for s in stats[1:] if s[3] >= 0.8 * own.height]
        assert len(glyphs) == GLYPH_REPEATS  # the character, repeated, as tall as the plate's own


def test_a_glyph_row_reads_as_the_character_most_of_it_is():
    character, sure = glyph_reading("RRFRR", (0.9, 0.9, 0.3, 0.9, 0.9))
    assert character == "R" and abs(sure - 0.9 * 4 / 5) < 1e-9
    assert glyph_reading("K1K844R", (0.5,) * 7) is None  # a jumble
    assert glyph_reading("RR", (0.9, 0.9)) is None  # two of the five repeats read
    assert glyph_reading("皖皖皖皖皖", (0.9,) * 5) is None  # never a Chinese character on a US plate
    assert glyph_reading("", ()) is None
