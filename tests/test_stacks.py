"""Finding small characters stacked at a plate's end, and what the reader is shown of them (lpr_models.ocr.stacks)."""

import cv2
import numpy as np

from lpr_models.ocr.stacks import GLYPH_REPEATS, find_stack, glyph_reading, glyph_rows, ink, without_stack

HEIGHT, WIDTH = 96, 192  # a reader crop: the plate and its margins


def plate(main: str = "4K27", stack: str = "", at_left: bool = True, side_by_side: bool = False) -> np.ndarray:
    """Dark characters on a light plate, as a reader crop: `main` full height, `stack` small at one end."""
    crop = np.full((HEIGHT, WIDTH, 3), 225, np.uint8)
    font, ink_colour = cv2.FONT_HERSHEY_SIMPLEX, (30, 30, 30)
    x = 60 if at_left else 20
    cv2.putText(crop, main, (x, 70), font, 1.5, ink_colour, 4)
    for k, character in enumerate(stack):
        step = 36 // len(stack)  # the stack spans the characters' height (rows 37-73)
        where = (26 + 16 * k, 55) if side_by_side else ((36 if at_left else 150), 37 + step * (k + 1) - 1)
        cv2.putText(crop, character, where, font, step / 30, ink_colour, 2)
    return crop


def test_a_stack_before_the_characters_is_found_top_to_bottom():
    stack = find_stack(plate(stack="NG"))
    assert stack is not None and stack.at_left
    assert len(stack.boxes) == 2
    upper, lower = stack.boxes
    assert upper[1] + upper[3] <= lower[1]
    assert max(x + w for x, _, w, _ in stack.boxes) < 60  # left of the first full-height character


def test_a_stack_of_three_after_the_characters_is_found():
    stack = find_stack(plate(stack="RTR", at_left=False))
    assert stack is not None and not stack.at_left and len(stack.boxes) == 3


def test_plates_without_a_stack_have_none():
    assert find_stack(plate()) is None
    assert find_stack(plate(stack="NG", side_by_side=True)) is None  # small, but one beside the other
    assert find_stack(np.full((HEIGHT, WIDTH, 3), 200, np.uint8)) is None  # no characters at all


def test_slivers_of_the_plate_s_rim_at_its_end_are_no_stack():
    crop = plate()
    crop[40:54, 36:39] = 30  # two short upright bars, as a shadow cuts a rim into, where a stack would stand
    crop[58:72, 36:39] = 30
    assert find_stack(crop) is None


def test_light_characters_on_a_dark_plate_are_found_too():
    assert find_stack(255 - plate(stack="LH")) is not None


def test_painting_the_stack_over_leaves_the_plate_s_own_characters():
    crop = plate(stack="NG")
    stack = find_stack(crop)
    painted = without_stack(crop, stack)
    x1 = max(x + w for x, _, w, _ in stack.boxes) + 2
    assert ink(crop)[:, :x1].sum() > 0
    assert ink(painted)[:, :x1].sum() == 0
    assert np.array_equal(painted[:, x1:], crop[:, x1:])
    assert find_stack(painted) is None


def test_each_stacked_character_gets_a_row_of_its_own_at_the_characters_height():
    crop = plate(stack="NG")
    stack = find_stack(crop)
    rows = glyph_rows(crop, stack)
    assert len(rows) == 2 and all(row.shape == crop.shape for row in rows)
    for row in rows:
        _, _, stats, _ = cv2.connectedComponentsWithStats(ink(row), connectivity=8)
        glyphs = [s for s in stats[1:] if s[3] >= 0.8 * stack.char_height]
        assert len(glyphs) == GLYPH_REPEATS  # the character, repeated, as tall as the plate's own


def test_a_glyph_row_reads_as_the_character_most_of_it_is():
    character, sure = glyph_reading("RRFRR", (0.9, 0.9, 0.3, 0.9, 0.9))
    assert character == "R" and abs(sure - 0.9 * 4 / 5) < 1e-9
    assert glyph_reading("K1K844R", (0.5,) * 7) is None  # a jumble
    assert glyph_reading("RR", (0.9, 0.9)) is None  # two of the five repeats read
    assert glyph_reading("皖皖皖皖皖", (0.9,) * 5) is None  # never a Chinese character on a US plate
    assert glyph_reading("", ()) is None
