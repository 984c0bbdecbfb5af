import argparse

import cv2
import numpy as np
import pytest
import torch

from lpr_models.ocr.model import MaskOCR, OcrConfig, patches_of
from lpr_models.ocr.reader import read_batch
from lpr_models.vocab import PAD, REGIONS, encode, is_supported, vocab_size
from train.ocr_data import (
    CHECKED_ROWS,
    CropFolder,
    PlateDataset,
    PlateSample,
    checked_labels,
    checked_rows,
    encode_target,
    full_corners,
    jitter_corners,
    load_crop_folder,
    loosen,
    plausible_label,
    repeat_regions,
    training_crops,
    with_checked_labels,
)
from train.ocr_train import hidden_slot_loss, region_repeat

TINY = OcrConfig(
    height=16,
    width=64,
    strip_width=4,
    embed_dim=32,
    encoder_layers=1,
    heads=2,
    decoder_layers=1,
    max_chars=6,
    mae_decoder_dim=16,
    rows=2,
)


def test_output_has_one_slot_per_character_over_the_vocabulary_and_a_region():
    model = MaskOCR(TINY)
    chars, regions = model(torch.zeros(3, 3, 16, 64))
    assert chars.shape == (3, 6, vocab_size()) and regions.shape == (3, len(REGIONS))


def test_patches_are_strips_in_two_rows_read_row_by_row():
    images = torch.arange(2 * 3 * 16 * 64, dtype=torch.float32).reshape(2, 3, 16, 64)
    patches = patches_of(images, TINY)
    assert patches.shape == (2, 32, 3 * 8 * 4)
    assert torch.equal(patches[1, 5].reshape(3, 8, 4), images[1, :, :8, 20:24])  # top row, 6th strip
    assert torch.equal(patches[1, 16 + 5].reshape(3, 8, 4), images[1, :, 8:, 20:24])  # the same strip, bottom row
    model = MaskOCR(TINY)
    with torch.no_grad():  # the encoder's tokens come in the same order as the MAE targets
        model.encoder.pos.zero_()
        model.encoder.embed.bias.zero_()
        tokens = model.encoder.tokens(images)
        expected = patches_of(images, TINY) @ model.encoder.embed.weight.reshape(32, -1).T
    torch.testing.assert_close(tokens, expected, rtol=1e-4, atol=1e-2)


def test_the_two_rows_of_a_plate_reach_separate_tokens():
    model = MaskOCR(TINY)
    top_only = torch.zeros(1, 3, 16, 64)
    top_only[..., :8, :] = 1.0
    with torch.no_grad():
        tokens = model.encoder.tokens(top_only) - model.encoder.tokens(torch.zeros(1, 3, 16, 64))
    assert tokens[0, :16].abs().sum() > 0 and tokens[0, 16:].abs().sum() == 0


def test_mae_masks_most_strips_and_reconstructs_pixels():
    model = MaskOCR(TINY)
    images = torch.randn(2, 3, 16, 64)
    tokens = model.encoder.tokens(images)
    assert tokens.shape == (2, 32, 32)
    loss = model.mae_loss(images, mask_ratio=0.75)
    assert loss.ndim == 0 and loss.item() > 0
    loss.backward()
    assert model.encoder.embed.weight.grad is not None and model.queries.grad is None


def test_a_recognition_step_lowers_the_loss():
    torch.manual_seed(0)
    model = MaskOCR(TINY)
    images = torch.randn(4, 3, 16, 64)
    targets = torch.tensor([encode(t, 6) for t in ["AB12", "皖A123", "XY9", "77"]])
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(20):
        loss = torch.nn.functional.cross_entropy(model(images)[0].flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_a_hidden_position_is_taught_to_hold_a_character_not_the_plates_end():
    """UC3M paints two characters over: the cross-entropy ignores them, this loss keeps them characters."""
    targets = torch.tensor([encode_target("57-4JN-", 8)])
    ends_early = torch.zeros(1, 8, vocab_size())
    ends_early[0, 6, PAD] = 8.0  # the last hidden position read as the plate's end
    holds_one = torch.zeros(1, 8, vocab_size())
    holds_one[0, 6, PAD] = -8.0
    assert hidden_slot_loss(ends_early, targets) > 1.0 > 0.1 > hidden_slot_loss(holds_one, targets)
    assert hidden_slot_loss(ends_early, torch.tensor([encode_target("5714JNB", 8)])) == 0  # nothing hidden


def test_reader_returns_text_up_to_the_end_class_with_confidences():
    model = MaskOCR(TINY).eval()
    with torch.no_grad():
        model.head.bias.zero_()
        model.head.weight.zero_()
        model.head.bias[encode("A", 1)[0]] = 5.0
        model.region_head.weight.zero_()
        model.region_head.bias.zero_()
        model.region_head.bias[REGIONS.index("us")] = 5.0  # a region with no known format: the text as read
    readings = read_batch(model, np.zeros((2, 32, 64, 3), np.uint8), TINY)
    assert [r.text for r in readings] == ["AAAAAA"] * 2
    assert readings[0].region == "us" and readings[0].region_confidence > 0.9 and readings[0].format_valid is None
    assert len(readings[0].char_confidences) == 6 and 0 < readings[0].confidence < 1


def test_training_warp_jitters_corners_within_bounds():
    rng = np.random.default_rng(0)
    corners = np.array([[0, 0], [100, 0], [100, 20], [0, 20]], np.float32)
    moves = np.stack([jitter_corners(corners, rng, 0.05) - corners for _ in range(200)])
    # shift + per-corner move + scale about the centre: at most 3 * 5% of the width/height
    assert np.abs(moves[..., 0]).max() <= 15 and np.abs(moves[..., 1]).max() <= 3
    assert np.abs(moves[..., 0]).max() > 5  # the whole plate moves, not just its corners
    vertical_only = np.stack([jitter_corners(corners, rng, (0.0, 0.05)) - corners for _ in range(50)])
    assert np.abs(vertical_only[..., 0]).max() < 1e-4 and np.abs(vertical_only[..., 1]).max() > 1
    image = np.zeros((20, 100, 3), np.uint8)
    dataset = PlateDataset([PlateSample(image, full_corners(image), "AB1", "x")], TINY, strength=1.0)
    x, y, region = dataset[0]
    assert x.shape == (3, 16, 64) and y.tolist() == encode("AB1", 6) and REGIONS[region] == "cn"


def test_a_loosely_framed_plate_has_its_surroundings_around_it_in_the_view():
    rng = np.random.default_rng(0)
    corners = np.array([[100, 50], [200, 50], [200, 70], [100, 70]], np.float32)
    grown = np.stack([loosen(corners, rng) - corners for _ in range(200)])
    outward = grown * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]])  # each corner's move away from the plate
    assert outward.min() >= 0 and outward[..., 0].max() <= 8.0 + 1e-4 and outward[..., 1].max() <= 3.0 + 1e-4
    assert outward[..., 0].max() > 6 and outward[..., 1].max() > 2
    image = np.zeros((120, 300, 3), np.uint8)  # a white plate on a black car
    image[50:70, 100:200] = 255
    sample = PlateSample(image, corners, "AB1", "x")
    tight, loose = (PlateDataset([sample], TINY, loose_share=share, seed=1)[0][0] for share in (0.0, 1.0))
    # the white plate fills less of the loosely framed view: some of the black around it came in
    assert (loose > 0).float().mean() < (tight > 0).float().mean() - 0.03


def test_plates_from_outside_china_are_shown_inverted_and_chinese_ones_never():
    image = np.full((20, 100, 3), 180, np.uint8)  # dark characters on a light plate (inverted, not dark: DARK_CROP)
    image[5:15, 10:90:10] = 20
    corners = full_corners(image)
    for region, inverted in (("us", True), ("cn", False)):
        sample = PlateSample(image, corners, "AB1", "x", region=region)
        plain, shown = (PlateDataset([sample], TINY, invert_share=share)[0][0] for share in (0.0, 1.0))
        assert torch.allclose(shown, -plain, atol=0.02) if inverted else torch.equal(shown, plain)


def test_a_plate_at_night_is_trained_on_stretched_as_it_is_read_and_a_lit_one_as_it_is():
    night = np.full((20, 100, 3), 30, np.uint8)  # dim characters on a dark plate: mean grey under DARK_CROP
    night[5:15, 10:90:10] = 10
    for image, stretched in ((night, True), (night * 4, False)):
        shown = PlateDataset([PlateSample(image, full_corners(image), "AB1", "x", region="us")], TINY)[0][0]
        # to_tensor maps 0-255 to -1..1: stretched, the plate spans nearly all of it; lit, it keeps its own levels
        assert (shown.max() - shown.min() > 1.9) == stretched
        assert stretched or torch.allclose(shown.max(), torch.tensor(120 / 127.5 - 1), atol=0.02)


def two_band_crop(height: int = 32, width: int = 64) -> np.ndarray:
    """A crop whose upper half is white and lower half black, like the two rows of a plate."""
    crop = np.zeros((height, width, 3), np.uint8)
    crop[: height // 2] = 255
    return crop


def test_two_row_view_puts_the_upper_band_left_of_the_lower_band():
    from lpr_models.ocr.preprocess import one_row_view, two_row_view

    crop = two_band_crop()
    whole, stitched = one_row_view(crop, TINY), two_row_view(crop, TINY)
    assert whole.shape == stitched.shape == (16, 64, 3)
    assert whole[:7].min() == 255 and whole[9:].max() == 0  # the whole plate, shrunk
    # the upper band (top 55%) fills the left half, mostly white; the lower band (from 45%) the right, mostly black
    assert stitched[:, :32].mean() > 200 and stitched[:, 32:].mean() < 50
    assert stitched[:12, :32].min() == 255 and stitched[4:, 32:].max() == 0


def test_a_doubtful_one_row_reading_is_retried_in_the_two_row_view_and_the_surer_view_wins():
    from lpr_models.ocr.reader import read_views

    text_ab, text_cd, nothing = (torch.tensor(encode(t, 6)) for t in ("AB", "CD", ""))
    batch_sizes = []

    def model(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reads AB where the right half is dark (a two-row view of two bands), CD where it is bright, else nothing."""
        batch_sizes.append(len(x))
        right = x[:, :, :, 32:].mean(dim=(1, 2, 3))
        ids = torch.stack([text_ab if r < -0.5 else text_cd if r > 0.5 else nothing for r in right])
        return torch.nn.functional.one_hot(ids, vocab_size()).float() * 20, torch.zeros(len(x), len(REGIONS))

    two_rows, one_row = two_band_crop(), np.full((32, 64, 3), 255, np.uint8)
    chars, _, rows = read_views(model, np.stack([two_rows, one_row]), TINY, copies=())
    assert rows.tolist() == [2, 1]
    assert [decode_ids(c) for c in chars] == ["AB", "CD"]
    assert batch_sizes == [2, 1]  # only the plate that read nothing was read again


@pytest.mark.parametrize("margin", [0, 20])
def test_the_ground_is_dark_where_the_characters_are_lighter_than_the_plate_whatever_frames_it(margin):
    from lpr_models.ocr.preprocess import dark_ground

    def plate(ground: int, ink: int) -> np.ndarray:
        image = np.full((96, 192, 3), 255 - ground, np.uint8)  # the car around it, unlike the plate
        image[margin : 96 - margin, margin : 192 - margin] = ground
        cv2.putText(image, "ABC123", (24, 64), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (ink, ink, ink), 4)
        return image

    assert dark_ground(plate(ground=40, ink=230))
    assert dark_ground(plate(ground=120, ink=250))  # light on a mid-tone colour
    assert not dark_ground(plate(ground=235, ink=20))


@pytest.mark.parametrize("chinese", [False, True])
def test_a_doubtful_light_on_dark_plate_is_read_again_inverted_and_the_surer_reading_wins(chinese):
    from lpr_models.ocr.reader import SECOND_LOOK_BELOW, read_views

    text_ab, text_cd = (torch.tensor(encode(t, 6)) for t in ("AB", "CD"))
    batch_sizes = []
    region = torch.zeros(len(REGIONS))
    region[REGIONS.index("cn" if chinese else "us")] = 20.0

    def model(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reads AB surely on a light ground, CD doubtfully on a dark one; the region as the test says."""
        batch_sizes.append(len(x))
        light = x.mean(dim=(1, 2, 3)) > 0
        logits = torch.stack([torch.nn.functional.one_hot(text_ab if lit else text_cd, vocab_size()) for lit in light])
        sure = torch.where(light, 20.0, 2.0)[:, None, None]
        return logits.float() * sure, region.expand(len(x), -1)

    def crop(ground: int, ink: int) -> np.ndarray:
        image = np.full((32, 64, 3), ground, np.uint8)
        image[10:22, 8:56:8] = ink  # a row of narrow characters, a small share of the plate
        return image

    chars, regions, rows = read_views(model, np.stack([crop(30, 230), crop(230, 30)]), TINY, copies=())
    assert [decode_ids(c) for c in chars] == ["AB", "AB"]  # the dark plate read inverted; the light one as it is
    assert rows.tolist() == [1, 1]
    assert (regions.argmax(-1) == REGIONS.index("cn" if chinese else "us")).all()
    doubt = torch.softmax(torch.nn.functional.one_hot(text_cd, vocab_size()).float() * 2, -1).max(-1).values.min()
    assert doubt < SECOND_LOOK_BELOW
    # both read; the doubtful dark one again in two rows (no surer there), then in its second looks, in one batch:
    # read as Chinese, stretched (still dark, so again in two rows) and inverted; else inverted, and so in grey
    assert batch_sizes == ([2, 1, 2, 1] if chinese else [2, 1, 2])


@pytest.mark.parametrize("chinese", [True, False])
def test_a_doubtful_dull_plate_read_as_chinese_is_read_again_stretched(chinese):
    from lpr_models.ocr.reader import read_views

    text_ab, text_cd = (torch.tensor(encode(t, 6)) for t in ("AB", "CD"))
    region = torch.zeros(len(REGIONS))
    region[REGIONS.index("cn" if chinese else "br")] = 20.0
    batch_sizes = []

    def model(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reads AB surely where the plate has contrast, CD doubtfully where it has little."""
        batch_sizes.append(len(x))
        clear = x.std(dim=(1, 2, 3)) > 0.4
        logits = torch.stack([torch.nn.functional.one_hot(text_ab if c else text_cd, vocab_size()) for c in clear])
        return logits.float() * torch.where(clear, 20.0, 2.0)[:, None, None], region.expand(len(x), -1)

    dull = np.full((32, 64, 3), 150, np.uint8)  # a hazy plate: grey characters on a light grey ground
    dull[10:22, 8:56:2] = 110
    chars, _, _ = read_views(model, dull[None], TINY, copies=())
    # read, again in two rows, then, read as Chinese, stretched alone (its ground is not dark); else never again
    assert decode_ids(chars[0]) == ("AB" if chinese else "CD")
    assert batch_sizes == ([1, 1, 1] if chinese else [1, 1])


@pytest.mark.parametrize("grey_sureness", [5.0, 20.0])
def test_the_grey_look_gives_the_characters_only_where_it_is_surer_than_the_inverted_one_and_grey_min(grey_sureness):
    from lpr_models.ocr.reader import GREY_MIN, INVERTED_MIN, decode_batch, read_views

    text_ab, text_cd, text_ef = (torch.tensor(encode(t, 6)) for t in ("AB", "CD", "EF"))
    us = torch.zeros(len(REGIONS))
    us[REGIONS.index("us")] = 20.0

    def logits(text: torch.Tensor, sure: float) -> torch.Tensor:
        return torch.nn.functional.one_hot(text, vocab_size()).float() * sure

    def model(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """CD doubtfully on a dark ground; EF a little surer inverted (in colour); AB in grey, as sure as the test says."""
        grey = (x[:, 0] == x[:, 1]).all(dim=(1, 2)) & (x[:, 1] == x[:, 2]).all(dim=(1, 2))
        light = x.mean(dim=(1, 2, 3)) > 0
        out = [
            logits(text_ab, grey_sureness) if g else logits(text_ef, 4.5) if lit else logits(text_cd, 2.0)
            for g, lit in zip(grey, light)
        ]
        return torch.stack(out), us.expand(len(x), -1)

    crop = np.zeros((32, 64, 3), np.uint8)
    crop[...] = (90, 60, 20)  # a dark blue ground
    crop[10:22, 8:56:8] = (120, 230, 240)  # light yellow characters
    chars, _, _ = read_views(model, crop[None], TINY, copies=())

    def confidence(text: torch.Tensor, sure: float) -> float:
        return decode_batch(logits(text, sure)[None], us[None])[0].confidence

    inverted, grey = confidence(text_ef, 4.5), confidence(text_ab, grey_sureness)
    assert confidence(text_cd, 2.0) < INVERTED_MIN < inverted < GREY_MIN
    expected = "AB" if grey > GREY_MIN else "EF"  # 5.0: surer than the inverted look, but not GREY_MIN sure
    assert (grey > inverted) and decode_ids(chars[0]) == expected
    assert expected == ("AB" if grey_sureness == 20.0 else "EF")


def test_stretched_grey_spreads_a_dull_plate_over_every_grey_level():
    from lpr_models.contrast import stretched_grey

    dull = np.zeros((32, 64, 3), np.uint8)
    dull[...] = (150, 120, 40)  # turquoise-ish ground
    dull[10:22, 8:56:4] = (60, 200, 220)  # yellow characters, about as bright in grey
    out = stretched_grey(dull)
    assert out.shape == dull.shape and (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    assert out.min() == 0 and out.max() == 255


def test_move_shifts_the_crop_sideways_repeating_its_edge_and_zooms_it_about_its_centre():
    from lpr_models.ocr.reader import move

    crop = np.arange(8, dtype=np.uint8)[None, :, None].repeat(3, 0).repeat(3, 2)
    assert move(crop, 2)[0, :, 0].tolist() == [0, 0, 0, 1, 2, 3, 4, 5]
    assert move(crop, -3)[0, :, 0].tolist() == [3, 4, 5, 6, 7, 7, 7, 7]
    assert move(crop, 0) is crop and move(crop, 5).shape == crop.shape
    square = np.zeros((21, 41, 3), np.uint8)
    square[8:13, 18:23] = 255  # 5x5, centred
    zoomed = move(square, 0, 2.0)
    assert zoomed.shape == square.shape
    for lit, centre in ((np.flatnonzero(zoomed[10, :, 0] > 127), 20), (np.flatnonzero(zoomed[:, 20, 0] > 127), 10)):
        assert lit.min() + lit.max() == 2 * centre and 9 <= len(lit) <= 11  # twice as wide, same centre


def test_copies_are_read_in_the_plates_view_and_their_probabilities_averaged():
    from lpr_models.ocr.preprocess import two_row_view
    from lpr_models.ocr.reader import COPIES, best_view, move

    crop = two_band_crop()
    crop[:, :3] = 128  # a grey left edge, so a shifted copy differs from the crop
    seen: list[np.ndarray] = []
    ab, cd = (torch.nn.functional.one_hot(torch.tensor(encode(t, 6)), vocab_size()).float() * 20 for t in ("AB", "CD"))

    def model(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reads AB from the unmoved two-row view, CD from anything else (its one-row view reads nothing)."""
        seen.extend(x.numpy())
        dark_right = x[:, :, :, 32:].mean(dim=(1, 2, 3)) < -0.5
        base = to_input(two_row_view(crop, TINY))
        logits = [
            ab if d and torch.equal(v, base) else cd if d else torch.zeros_like(ab) for v, d in zip(x, dark_right)
        ]
        return torch.stack(logits), torch.zeros(len(x), len(REGIONS))

    chars, _, rows = best_view(model, crop[None], TINY)
    shifted = [(s, z) for s, z in COPIES if z == 1.0]  # a zoom would move the rows across the bands' split
    assert 0 < len(shifted) < len(COPIES)
    assert rows.tolist() == [2] and len(seen) == (1 + len(COPIES)) + (1 + len(shifted))
    moved = [to_input(two_row_view(move(crop, s * TINY.strip_width), TINY)) for s, _ in shifted]
    two_row_copies = seen[len(seen) - len(shifted) :]
    assert all(torch.equal(torch.from_numpy(a), b) for a, b in zip(two_row_copies, moved))  # two-row, shifted
    assert decode_ids(chars[0]) == "CD"  # the shifted readings outvote the unmoved one
    assert chars[0, 0].exp().max().item() == pytest.approx(len(shifted) / (len(shifted) + 1), abs=1e-3)


def test_a_plate_read_in_one_row_is_averaged_over_every_copy_zoomed_ones_included():
    from lpr_models.ocr.preprocess import one_row_view
    from lpr_models.ocr.reader import COPIES, best_view, move

    crop = np.random.default_rng(0).integers(0, 256, (32, 64, 3), dtype=np.uint8)
    zoomed = [to_input(one_row_view(move(crop, s * TINY.strip_width, z), TINY)) for s, z in COPIES if z != 1.0]
    ab, cd = (torch.nn.functional.one_hot(torch.tensor(encode(t, 6)), vocab_size()).float() * 20 for t in ("AB", "CD"))

    def model(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reads CD from a zoomed copy's one-row view, AB from anything else (surely: no two-row retry)."""
        logits = [cd if any(torch.equal(v, z) for z in zoomed) else ab for v in x]
        return torch.stack(logits), torch.zeros(len(x), len(REGIONS))

    chars, _, rows = best_view(model, crop[None], TINY)
    assert rows.tolist() == [1] and zoomed
    cd_share = chars[0, 0].exp()[encode("CD", 6)[0]].item()
    assert cd_share == pytest.approx(len(zoomed) / (1 + len(COPIES)), abs=1e-3)


def to_input(view: np.ndarray) -> torch.Tensor:
    from lpr_models.ocr.preprocess import to_tensor

    return to_tensor(view[None])[0]


def decode_ids(logits: torch.Tensor) -> str:
    from lpr_models.vocab import decode

    return decode(logits.argmax(-1).tolist())


def test_training_shows_some_plates_in_the_wrong_view_to_be_read_as_nothing():
    image = two_band_crop(20, 100)
    sample = PlateSample(image, full_corners(image), "AB12", "x", "vn", rows=2)
    right = PlateDataset([sample], TINY)[0]
    wrong = PlateDataset([sample], TINY, wrong_view_share=1.0)[0]
    assert right[1].tolist() == encode("AB12", 6) and REGIONS[right[2]] == "vn"
    assert wrong[1].tolist() == encode("", 6) and REGIONS[wrong[2]] == "vn"  # no text, but still its region
    # the two-row sample's own view has the bands side by side; the wrong one is the whole plate
    assert right[0][:, :, 32:].mean() < -0.5 and wrong[0][:, :, 32:].mean() > -0.5


def test_reader_input_is_rgb_in_minus_one_to_one():
    from lpr_models.ocr.preprocess import to_tensor

    plates = np.zeros((2, 4, 6, 3), np.uint8)
    plates[1, ..., 0] = 255  # blue in BGR
    x = to_tensor(plates)
    assert x.shape == (2, 3, 4, 6) and x.dtype == torch.float32
    assert x[0].max() == -1.0 and x[1, 2].min() == 1.0 and x[1, :2].max() == -1.0


def test_transfer_copies_what_fits_between_token_layouts():
    from dataclasses import replace

    from train.ocr_train import transfer_weights

    torch.manual_seed(0)
    one_row = MaskOCR(replace(TINY, rows=1))
    two_rows = MaskOCR(TINY)
    before = {k: v.clone() for k, v in two_rows.state_dict().items()}
    report = transfer_weights(two_rows, one_row.state_dict())
    after = two_rows.state_dict()
    assert torch.equal(after["head.weight"], one_row.state_dict()["head.weight"])  # the character head carries over
    assert torch.equal(after["queries"][:, :-1], one_row.state_dict()["queries"][:, :-1])
    assert torch.equal(after["encoder.embed.weight"], before["encoder.embed.weight"])  # a patch of another shape stays
    assert "encoder.embed.weight" in report and "encoder.pos" in report


def test_a_clean_reading_capped_by_label_smoothing_is_not_read_twice():
    from lpr_models.ocr.reader import TWO_ROW_RETRY, view_scores

    def logits(text: str, p: float) -> torch.Tensor:
        """Each slot's class at probability `p`, the rest sharing 1 - p."""
        ids = torch.tensor(encode(text, 6))
        other = torch.log(torch.tensor((1 - p) / (vocab_size() - 1)))
        out = torch.full((6, vocab_size()), float(other))
        out[torch.arange(6), ids] = float(torch.log(torch.tensor(p)))
        return out

    product, weakest = view_scores(torch.stack([logits("AB123", 0.85), logits("", 0.99), logits("AB123", 0.4)]))
    assert product[0] < TWO_ROW_RETRY < weakest[0]  # 0.85 ** 6 = 0.38, yet every character is sure: one read
    assert product[1] == weakest[1] == 0  # reads nothing: not this layout, try the other
    assert weakest[2] < TWO_ROW_RETRY  # a doubtful character: the other view may read it better


def test_repeating_a_region_adds_copies_of_its_plates_only():
    image = np.zeros((8, 16, 3), np.uint8)
    samples = [
        PlateSample(image, full_corners(image), t, "x", r) for t, r in [("A1", "us"), ("B2", "br"), ("C3", "cn")]
    ]
    repeated = repeat_regions(samples, {"us": 3, "br": 1})
    assert [s.text for s in repeated] == ["A1", "B2", "C3", "A1", "A1"]
    assert region_repeat("us=3") == ("us", 3)
    for bad in ("mars=2", "us=0", "us", "us=x"):
        with pytest.raises(argparse.ArgumentTypeError):
            region_repeat(bad)


def test_a_square_vietnamese_crop_is_a_two_row_plate_even_where_the_labels_do_not_say(tmp_path):
    rows = [
        ("square.png", 80, 60, "vn"),
        ("framed.png", 120, 60, "vn"),  # a two-row plate with some car beside it
        ("cut_off.png", 120, 60, "vn"),  # a one-row plate cut to the same shape, its rows counted by eye
        ("wide.png", 240, 52, "vn"),
        ("square_cz.png", 80, 60, "cz"),
    ]
    lines = ["file,text,region,rows_hint"]
    for name, width, height, country in rows:
        cv2.imwrite(str(tmp_path / name), np.full((height, width, 3), 200, np.uint8))
        lines.append(f"{name},29A18526,{country},0")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    samples = load_crop_folder(tmp_path, spec=CropFolder("vn_crops", noisy=True), rows_by_file={"cut_off.png": 1})
    assert [(s.region, s.rows) for s in samples] == [("vn", 2), ("vn", 2), ("vn", 1), ("vn", 1), ("eu", 1)]


def test_the_rows_counted_by_eye_are_one_or_two_a_crop():
    counted = checked_rows()
    listed = len(CHECKED_ROWS.read_text(encoding="utf-8").splitlines()) - 1
    assert listed > 0 and sum(len(files) for files in counted.values()) == listed  # no crop twice
    assert all(rows in (1, 2) for files in counted.values() for rows in files.values())


def test_checked_labels_put_a_machine_read_label_right_and_leave_out_what_nobody_can_read():
    image = np.zeros((20, 60, 3), np.uint8)
    wrong, unreadable, other = (
        PlateSample(image, full_corners(image), "9B29274ARCZ", "vn_crops", "eu", file="a.jpg"),
        PlateSample(image, full_corners(image), "29A7872", "vn_crops", "vn", file="b.jpg"),
        PlateSample(image, full_corners(image), "9B29274ARCZ", "vn_crops", "eu", file="c.jpg"),
    )
    checked = {("vn_crops", "a.jpg", "9B29274ARCZ"): "9B29274", ("vn_crops", "b.jpg", "29A7872"): ""}
    assert [(s.file, s.text) for s in with_checked_labels([wrong, unreadable, other], checked)] == [
        ("a.jpg", "9B29274"),
        ("c.jpg", "9B29274ARCZ"),  # another crop with the same wrong label was not looked at
    ]


def test_the_shipped_label_checks_are_one_a_crop_and_readable_texts():
    checked = checked_labels()
    assert len({(folder, file) for folder, file, _ in checked}) == len(checked) > 100
    assert all(is_supported(text) for text in checked.values() if text)


def test_a_machine_read_label_must_fit_its_own_countrys_formats_where_the_labels_name_the_country(tmp_path):
    lines = ["file,text,region,rows_hint"]
    labels = [("S334BM", "hr"), ("SI334BM", "hr"), ("5B11181", "cz"), ("BZP2087", "cz"), ("29MD121365", "vn")]
    for i, (text, country) in enumerate(labels):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((50, 230, 3), 200, np.uint8))
        lines.append(f"{i}.png,{text},{country},0")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    samples = load_crop_folder(tmp_path, spec=CropFolder("vn_crops", noisy=True))
    assert [s.country for s in samples] == ["HR", "HR", "CZ", "CZ", ""]
    # S334BM (the I of Sisak dropped) fits the Dutch L-DDD-LL, not a Croatian format
    assert [plausible_label(s) for s in samples] == [False, True, True, True, True]


def test_a_checked_training_label_is_trained_on_with_its_checked_text_even_outside_its_countrys_formats():
    image = np.zeros((20, 60, 3), np.uint8)
    crop = lambda text, file: PlateSample(image, full_corners(image), text, "vn_crops", "eu", file=file, country="HR")  # noqa: E731
    german, wrong, unchecked, unreadable = (
        crop("BK8559", "a"),
        crop("ZG727L1", "b"),
        crop("S334BM", "c"),
        crop("3AI", "d"),
    )
    checked = {
        ("vn_crops", "a", "BK8559"): "BK8559",
        ("vn_crops", "b", "ZG727L1"): "ZG727LI",
        ("vn_crops", "d", "3AI"): "",
    }
    kept = training_crops([german, wrong, unchecked, unreadable], CropFolder("vn_crops", noisy=True), checked)
    assert [(s.file, s.text) for s in kept] == [("a", "BK8559"), ("b", "ZG727LI")]
