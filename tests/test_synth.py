"""Synthetic plates: every type renders its glyphs inside the plate, and composited plates carry exact corners."""

import argparse

import numpy as np
import pytest
from conftest import DATA
from PIL import Image, ImageDraw

from lpr_models.formats import fits_format
from lpr_models.geometry import rectify
from lpr_models.vocab import PROVINCES, is_supported
from train.ocr_data import PlateSample
from train.synth.cn_plates import CN_TYPES, layout_boxes, random_cn_text, render_cn_plate
from train.synth.composite import composite_plate, cover_quad
from train.synth.plates import STYLES, holds, render, style_boost, style_weights, synthetic_samples
from train.synth.world_plates import (
    CONDENSED_SHARE,
    CONDENSED_WIDTH,
    FONTS,
    MIDTONE_INK_CONTRAST,
    US_DARK_SHARE,
    US_MIDTONE_SHARE,
    US_YELLOW_SHARE,
    WORLD_STYLES,
    _text_line,
    glyph_width,
    luma,
    render_eu,
    render_us,
    render_world_plate,
    row_split,
    vn_rows,
)

ART = DATA.parent / "plate_art"
if not ART.is_dir():  # pragma: no cover - the shared folder is beside every checkout
    pytest.skip(f"plate art not found at {ART}", allow_module_level=True)


@pytest.mark.parametrize("kind", list(CN_TYPES))
def test_every_chinese_type_lays_out_one_box_per_character_inside_the_plate(kind):
    rng = np.random.default_rng(0)
    text = random_cn_text(kind, rng)
    spec = CN_TYPES[kind]
    boxes = layout_boxes(spec.layout, len(text))
    width, height = spec.size
    assert len(boxes) == len(text) == (8 if spec.layout == "single8" else 7)
    assert all(0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height for x1, y1, x2, y2 in boxes)
    assert all(a[2] <= b[0] for a, b in zip(boxes, boxes[1:]) if a[1] == b[1])  # no overlap within a row
    assert is_supported(text) and fits_format("cn", text)
    plate = render_cn_plate(kind, text, ART)
    assert plate.shape[:2] == (height, width)


def test_two_row_plates_put_province_and_letter_above_the_rest():
    boxes = layout_boxes("double", 7)
    assert boxes[0][3] <= boxes[2][1] and boxes[1][3] <= boxes[2][1]  # row 1 ends before row 2 starts
    assert len({b[1] for b in boxes[2:]}) == 1 and boxes[0][1] == boxes[1][1]


def test_each_glyph_puts_ink_in_its_own_box():
    text = "粤BD12345"
    clean = render_cn_plate("green_car", text, ART)
    blank = render_cn_plate("green_car", "", ART)
    for x1, y1, x2, y2 in layout_boxes("single8", len(text)):
        changed = np.abs(clean[y1:y2, x1:x2].astype(int) - blank[y1:y2, x1:x2].astype(int)).sum(axis=2) > 60
        assert 0.08 < changed.mean() < 0.8  # a glyph, not an empty box nor a filled one


@pytest.mark.parametrize("style", WORLD_STYLES)
def test_world_plates_fit_their_regions_formats(style):
    rng = np.random.default_rng(1)
    for _ in range(10):
        plate = render_world_plate(style, ART, rng)
        assert is_supported(plate.text) and fits_format(plate.region, plate.text) is not False
        assert plate.image.ndim == 3 and plate.image.std() > 10


def test_provinces_and_types_are_drawn_evenly():
    rng = np.random.default_rng(0)
    firsts = [random_cn_text("blue", rng)[0] for _ in range(3000)]
    counts = np.array([firsts.count(p) for p in PROVINCES])
    assert counts.min() > 0.5 * counts.mean()
    styles = [render(s, ART, rng)[2] for s in STYLES]
    assert set(styles) == {"cn", "eu", "uk", "br", "us", "vn"}


def test_cover_quad_keeps_the_centre_and_covers_the_old_plate():
    quad = np.array([[100, 50], [400, 60], [398, 160], [98, 150]], np.float32)
    for aspect in (1.4, 2.0, 3.0, 4.7):
        new = cover_quad(quad, aspect)
        np.testing.assert_allclose(new.mean(axis=0), quad.mean(axis=0), atol=1e-3)
        width = np.linalg.norm((new[1] - new[0] + new[2] - new[3]) / 2)
        height = np.linalg.norm((new[3] - new[0] + new[2] - new[1]) / 2)
        assert width / height == pytest.approx(aspect, rel=0.05)
        assert width >= 299 and height >= 99


def test_composited_plate_lies_exactly_at_its_labelled_corners():
    rng = np.random.default_rng(2)
    photo = np.full((300, 500, 3), 90, np.uint8)
    quad = np.array([[150, 120], [350, 125], [348, 190], [148, 185]], np.float32)
    plate = np.zeros((140, 440, 3), np.uint8)
    plate[:, :, 1] = 255  # pure green: easy to find again
    plate[:, :220, 2] = 255  # left half yellow, so a mirrored or shifted paste shows
    image, corners = composite_plate(photo, quad, plate, rng)
    assert np.allclose(corners, cover_quad(quad, 440 / 140))
    back = rectify(image, corners, (70, 220)).astype(int)
    assert back[8:-8, 8:100, 2].mean() > 150 and back[8:-8, 120:-8, 2].mean() < 60  # yellow left, green right
    outside = image[5:60, 5:80].astype(int)
    assert np.abs(outside - 90).max() == 0  # the rest of the photo untouched


def test_synthetic_samples_are_composited_into_the_given_scenes():
    scene = np.full((200, 400, 3), 60, np.uint8)
    quad = np.array([[120, 80], [280, 80], [280, 130], [120, 130]], np.float32)
    samples = synthetic_samples(20, [PlateSample(scene, quad, "皖A12345", "ccpd")], ART, seed=0)
    assert len({s.source for s in samples}) > 4
    for s in samples:
        crop = rectify(s.image, s.corners, (48, 192))
        assert crop.std() > 15 and s.region in ("cn", "eu", "uk", "br", "us", "vn")
        assert s.rows == 2 or s.source != "synth_cn_yellow_2row"


def test_a_rendered_plate_is_pasted_only_into_a_scene_that_holds_all_of_it():
    scene = np.full((200, 400, 3), 60, np.uint8)
    centred = np.array([[120, 80], [280, 80], [280, 130], [120, 130]], np.float32)
    at_the_edge = centred + np.array([110, 0], np.float32)  # a long plate over it would stick out to the right
    scenes = [PlateSample(scene, at_the_edge, "皖A12345", "ccpd"), PlateSample(scene, centred, "皖A12345", "ccpd")]
    assert holds(scenes[0], 440 / 140) and not holds(scenes[0], 4.7) and holds(scenes[1], 4.7)
    for s in synthetic_samples(30, scenes, ART, seed=1, styles=("eu", "uk", "cn_blue")):
        # cut out around the plate: a plate that stuck out of its scene has corners past the cut's edge
        assert s.corners.min() >= 0 and s.corners[:, 0].max() <= s.image.shape[1]
    with pytest.raises(ValueError, match="no scene of 1 holds a plate"):
        synthetic_samples(5, scenes[:1], ART, seed=1, styles=("uk",))


def test_boosted_synthetic_samples_draw_that_style_more_often():
    scene = np.full((200, 400, 3), 60, np.uint8)
    quad = np.array([[120, 80], [280, 80], [280, 130], [120, 130]], np.float32)
    scenes = [PlateSample(scene, quad, "皖A12345", "ccpd")]
    plain = synthetic_samples(60, scenes, ART, seed=4)
    boosted = synthetic_samples(60, scenes, ART, seed=4, boost={"us": 20.0})
    assert sum(s.region == "us" for s in boosted) > 2 * max(1, sum(s.region == "us" for s in plain))


def test_style_weights_give_the_chinese_types_their_share_and_split_the_rest_evenly():
    for cn_share in (0.55, 0.3):
        weights = dict(zip(STYLES, style_weights(cn_share=cn_share)))
        assert abs(sum(w for s, w in weights.items() if s.startswith("cn_")) - cn_share) < 1e-9
        world = {w for s, w in weights.items() if not s.startswith("cn_")}
        assert len(world) == 1 and abs(world.pop() * 5 - (1 - cn_share)) < 1e-9


def test_a_boosted_style_is_drawn_that_many_times_as_often_and_unknown_styles_are_refused():
    plain = dict(zip(STYLES, style_weights(cn_share=0.3)))
    boosted = dict(zip(STYLES, style_weights(cn_share=0.3, boost={"vn": 3.0})))
    assert abs(boosted["vn"] / boosted["eu"] - 3 * plain["vn"] / plain["eu"]) < 1e-9
    assert abs(sum(boosted.values()) - 1) < 1e-9
    assert style_boost("vn=2.5") == ("vn", 2.5)
    for bad in ("xx=2", "vn=0", "vn=many"):
        with pytest.raises(argparse.ArgumentTypeError):
            style_boost(bad)
    with pytest.raises(ValueError, match="unknown plate styles"):
        style_weights(boost={"martian": 2.0})


def test_vietnamese_motorbike_series_are_rendered_in_two_rows_only():
    """A series ending in a digit (29-X1, 29-MD1) is a motorbike's: no one-row plate carries it."""
    rng = np.random.default_rng(3)
    assert {vn_rows(series, rng) for series in ("29X1", "29MD1") for _ in range(20)} == {2}
    assert {vn_rows(series, rng) for series in ("30A", "51LD") for _ in range(20)} == {1, 2}  # cars: both


@pytest.mark.parametrize(
    ("groups", "upper"),
    [((3, 4), 3), ((4, 3), 4), ((2, 5), 2), ((1, 2, 4), 3), ((3, 2, 4), 5), ((2, 3, 2), 2), ((1, 5), 1)],
)
def test_two_row_eu_plates_split_at_the_group_boundary_that_halves_the_text(groups, upper):
    assert row_split(groups) == upper  # Czech 1A2 / 3456, Spanish 1234 / BCD, German B AB / 1234 ...


def test_square_eu_plates_put_the_upper_groups_above_the_lower_ones():
    rng = np.random.default_rng(4)
    plates = [render_eu(ART, rng) for _ in range(60)]
    square = [p for p in plates if p.rows == 2]
    assert 0 < len(square) < len(plates) // 2  # a share of them, not all
    for plate in square:
        assert fits_format("eu", plate.text)
        ink = (plate.image[:, 45:].astype(int).sum(axis=2) < 200).mean(axis=1)  # dark pixels right of the band
        upper, gap, lower = ink[16:92].mean(), ink[94:106].mean(), ink[108:184].mean()
        assert upper > 0.05 and lower > 0.05 and gap < min(upper, lower) / 2  # two rows of text, apart


def test_some_spanish_plates_are_white_on_red_with_no_blue_band():
    rng = np.random.default_rng(5)
    plates = [render_eu(ART, rng) for _ in range(400)]
    red = [p for p in plates if p.image[20:90, 100:500, 2].mean() > 1.5 * p.image[20:90, 100:500, 1].mean()]
    assert red and len(red) < len(plates) // 10  # Spanish ones, half of them: a few of all EU plates
    for plate in red:
        assert fits_format("eu", plate.text, "ES") and plate.rows == 1
        text = plate.image[14:96, 62:508].astype(int).sum(axis=2)
        assert (text > 600).mean() > 0.1  # white characters
        band = plate.image[10:100, 8:48].astype(int)
        assert not (band[..., 0] > band[..., 2] + 60).any()  # nothing blue at the left


def _ink_runs(image: Image.Image) -> list[tuple[int, int]]:
    """(first, last) column of each run of columns holding ink (one run per glyph, for glyphs apart)."""
    columns = np.asarray(image)[..., 0] < 128
    inked = columns.any(axis=0).astype(int)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], inked, [0]])))
    return list(zip(edges[::2], edges[1::2] - 1))


def _line(text: str, width: float, box=(20, 10, 1180, 90)) -> Image.Image:
    image = Image.new("RGB", (1200, 100), (255, 255, 255))
    _text_line(ImageDraw.Draw(image), text, box, FONTS["vn"][0], ART, (0, 0, 0), width)
    return image


def test_condensed_glyphs_are_narrower_and_spread_apart_inside_their_box():
    full, condensed = _ink_runs(_line("50LD04411", 1.0)), _ink_runs(_line("50LD04411", 0.7))
    assert len(full) == len(condensed) == 9  # one glyph each, none merged
    widths = lambda runs: np.array([b - a + 1 for a, b in runs])  # noqa: E731
    assert 0.6 < np.median(widths(condensed) / widths(full)) < 0.8  # each glyph at 0.7 of its width
    gaps = lambda runs: np.array([b[0] - a[1] for a, b in zip(runs, runs[1:])])  # noqa: E731
    assert gaps(condensed).mean() > 1.5 * gaps(full).mean()  # and further apart
    assert (
        condensed[0][0] >= 20 and condensed[-1][1] <= 1180 and gaps(condensed).max() <= 0.2 * 80 + 4
    )  # gaps capped (MAX_GAP)


def test_a_dot_keeps_its_place_at_the_foot_of_a_condensed_line():
    ink = np.asarray(_line("4.1", 0.7))[..., 0] < 128
    dot = _ink_runs(_line("4.1", 0.7))[1]
    rows = np.flatnonzero(ink[:, dot[0] : dot[1] + 1].any(axis=1))
    assert rows.min() > 60 and rows.max() >= 85  # low on the line, not stretched to the height of a digit


def test_a_long_condensed_line_is_squeezed_into_its_box():
    runs = _ink_runs(_line("50LD04411" * 3, 0.9, box=(20, 10, 420, 90)))
    assert runs[0][0] >= 20 and runs[-1][1] <= 420


def test_a_share_of_plates_is_drawn_with_condensed_glyphs():
    rng = np.random.default_rng(0)
    widths = np.array([glyph_width(rng) for _ in range(2000)])
    condensed = widths[widths < 1]
    assert abs(len(condensed) / len(widths) - CONDENSED_SHARE) < 0.04
    assert condensed.min() >= CONDENSED_WIDTH[0] and condensed.max() <= CONDENSED_WIDTH[1]


def test_us_plates_in_a_face_that_draws_o_and_0_alike_carry_no_letter_o(monkeypatch):
    import train.synth.world_plates as world_plates

    monkeypatch.setattr(world_plates, "CONDENSED_SHARE", 1.0)  # narrowed DIN and FE faces lose the O/0 width cue
    rng = np.random.default_rng(3)
    assert not any("O" in world_plates.render_us(ART, rng).text for _ in range(200))
    monkeypatch.setattr(world_plates, "CONDENSED_SHARE", 0.0)
    assert any("O" in world_plates.render_us(ART, rng).text for _ in range(200))  # the full-width faces keep it


def test_us_plates_come_dark_on_light_light_on_dark_dark_on_yellow_and_light_on_colour_always_legible(monkeypatch):
    import train.synth.world_plates as world_plates

    monkeypatch.setattr(world_plates, "US_EMBLEM_SHARE", 0.0)  # an emblem's colours are not the ink's
    monkeypatch.setattr(world_plates, "US_END_EMBLEM_SHARE", 0.0)
    rng = np.random.default_rng(7)
    plates = [render_us(ART, rng) for _ in range(300)]
    dark = yellow = midtone = 0
    for plate in plates:
        grey = plate.image[42:124, 16:284].astype(int).sum(axis=2) / 3  # the text's box
        ground = np.median(plate.image[36:41, 16:284].astype(int).sum(axis=2) / 3)  # between state and text
        b, g, r = plate.image[8, 20].astype(int)  # the ground above the text, inside the border
        if ground < 110:
            dark += 1
            assert np.percentile(grey, 97) > ground + 90  # light ink
        elif np.percentile(grey, 3) > ground - 60:  # no dark ink: light ink on a saturated mid-tone colour
            midtone += 1
            assert ground <= 136 and max(b, g, r) - min(b, g, r) >= 90
            ink = np.percentile(luma(plate.image[42:124, 16:284, ::-1].reshape(-1, 3).T), 99)  # BGR -> RGB rows
            assert ink - luma((r, g, b)) >= MIDTONE_INK_CONTRAST - 2  # no yellow on yellow-green
        yellow += r > 200 and b < 100 and r - g > 20 and np.percentile(grey, 3) < ground - 60
    assert abs(dark / len(plates) - US_DARK_SHARE) < 0.08
    assert abs(yellow / len(plates) - US_YELLOW_SHARE) < 0.06
    assert abs(midtone / len(plates) - US_MIDTONE_SHARE) < 0.06


def test_stacked_us_characters_stand_at_one_end_one_above_another_and_are_read_there(monkeypatch):
    import train.synth.world_plates as world_plates

    drawn: list[tuple[str, tuple[int, int, int, int]]] = []

    def recording(draw, text, box, *args, **kwargs):
        drawn.append((text, box))
        return _text_line(draw, text, box, *args, **kwargs)

    monkeypatch.setattr(world_plates, "_text_line", recording)
    monkeypatch.setattr(world_plates, "US_STACK_SHARE", 1.0)
    rng = np.random.default_rng(9)
    for _ in range(30):
        drawn.clear()
        plate = render_us(ART, rng)
        stack = [(text, box) for text, box in drawn if len(text) == 1 and box[2] - box[0] <= 24]
        assert len(stack) in (2, 3)
        tops = [box[1] for _, box in stack]
        assert tops == sorted(tops) and all(b[1] >= a[3] for (_, a), (_, b) in zip(stack, stack[1:]))  # apart
        lefts = {box[0] for _, box in stack}
        assert len(lefts) == 1  # one column
        letters = "".join(text for text, _ in stack)
        text_boxes = [box for text, box in drawn if box[1] == 42 and (text, box) not in stack]
        if lefts.pop() < min(box[0] for box in text_boxes):
            assert plate.text.startswith(letters) and len(plate.text) - len(letters) in (5, 6, 7)
        else:
            assert plate.text.endswith(letters) and len(plate.text) - len(letters) in (5, 6, 7)


@pytest.mark.parametrize("share", ["US_EMBLEM_SHARE", "US_END_EMBLEM_SHARE"])
def test_us_emblems_are_nearly_as_tall_as_the_characters_and_clear_of_them(monkeypatch, share):
    import train.synth.world_plates as world_plates

    texts: list[tuple[int, int, int, int]] = []
    emblems: list[tuple[int, int, int, int]] = []
    draw_emblem = world_plates._emblem

    def text_recording(draw, text, box, *args, **kwargs):
        if box[1] == 42:  # the registration's line, not the state or the slogan
            texts.append(box)
        return _text_line(draw, text, box, *args, **kwargs)

    def emblem_recording(draw, box, rng):
        emblems.append(box)
        return draw_emblem(draw, box, rng)

    for name in ("US_STACK_SHARE", "US_EMBLEM_SHARE", "US_END_EMBLEM_SHARE"):
        monkeypatch.setattr(world_plates, name, 0.0)
    monkeypatch.setattr(world_plates, share, 1.0)
    monkeypatch.setattr(world_plates, "_text_line", text_recording)
    monkeypatch.setattr(world_plates, "_emblem", emblem_recording)
    rng = np.random.default_rng(4)
    for _ in range(30):
        texts.clear()
        emblems.clear()
        plate = render_us(ART, rng)
        assert len(emblems) == 1 and len(texts) == (2 if share == "US_EMBLEM_SHARE" else 1)
        x1, y1, x2, y2 = emblems[0]
        assert 0.6 * 82 - 2 <= y2 - y1 <= 82 and 0 < x1 < x2 < plate.image.shape[1]
        assert all(x2 <= t[0] or x1 >= t[2] for t in texts)  # beside every run of characters, never over one
        if share == "US_END_EMBLEM_SHARE":
            assert x2 <= min(t[0] for t in texts)  # at the left end
        else:
            assert min(t[0] for t in texts) < x1 < x2 < max(t[2] for t in texts)  # between the groups


def test_without_emblem_shares_no_us_plate_carries_one(monkeypatch):
    import train.synth.world_plates as world_plates

    monkeypatch.setattr(world_plates, "US_EMBLEM_SHARE", 0.0)
    monkeypatch.setattr(world_plates, "US_END_EMBLEM_SHARE", 0.0)
    calls = []
    monkeypatch.setattr(world_plates, "_emblem", lambda *args: calls.append(args))
    rng = np.random.default_rng(5)
    for _ in range(50):
        render_us(ART, rng)
    assert not calls
