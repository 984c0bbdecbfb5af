"""The corner refiner: canvas geometry, training samples that line up with their labels, learning, and the command."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from lpr_models.detection import Detection
from lpr_models.detector.refiner import CornerRefiner, CornerRefinerNet, RefinerConfig, canvas_size, warp_to_canvas
from lpr_models.geometry import transform_points
from train import refine_train
from train.loop import load_checkpoint
from train.refine_data import PlatePatch, RefinerDataset, mirror, perturb, shrink

TINY = RefinerConfig(height=32, width=80, channels=8)
CORNERS = np.array([[60, 50], [180, 56], [178, 96], [58, 90]], np.float32)


def bright_plate_patch() -> PlatePatch:
    image = np.zeros((160, 240, 3), np.uint8)
    cv2.fillConvexPoly(image, CORNERS.astype(np.int32), (255, 255, 255))
    image[50:64, 60:84] = (0, 0, 255)  # a red mark at the top-left corner, to catch labels that do not follow a mirror
    return PlatePatch(image, CORNERS.copy())


def test_net_gives_four_corners_inside_the_canvas():
    net = CornerRefinerNet(TINY)
    points = net(torch.rand(3, 3, TINY.height, TINY.width))
    assert points.shape == (3, 4, 2)
    assert points.min() > 0 and points.max() < 1


class _Fixed(torch.nn.Module):
    """Answers with the same canvas positions for every plate."""

    def __init__(self, cfg: RefinerConfig, points: np.ndarray) -> None:
        super().__init__()
        self.cfg, self.points = cfg, torch.from_numpy(points)

    def forward(self, canvas: torch.Tensor) -> torch.Tensor:
        return self.points.expand(len(canvas), 4, 2)


def test_refiner_maps_canvas_answers_back_to_frame_pixels():
    frame = np.zeros((200, 300, 3), np.uint8)
    guess = CORNERS + np.float32([6, -4])
    _, matrix = warp_to_canvas(frame, guess, TINY)
    truth_on_canvas = transform_points(matrix, CORNERS) / canvas_size(TINY)
    refiner = CornerRefiner(_Fixed(TINY, truth_on_canvas), iterations=1, backend="eager")
    box = np.array([50, 40, 190, 100], np.float32)
    (refined,) = refiner.refine(frame, [Detection(0.8, box, guess)])
    np.testing.assert_allclose(refined.corners, CORNERS, atol=1e-2)
    assert refined.score == 0.8  # the score stays the detector's; the box moves halfway to the corners' bounds
    np.testing.assert_allclose(refined.box, (box + np.float32([58, 50, 180, 96])) / 2, atol=1e-2)
    assert refiner.refine(frame, []) == []


def test_a_plate_at_night_is_shown_to_the_refiner_stretched_over_every_grey_level_and_a_lit_one_as_it_is():
    night = np.full((200, 300, 3), 12, np.uint8)
    cv2.fillConvexPoly(night, CORNERS.astype(np.int32), (45, 45, 45))  # a dim plate on a darker car
    canvas, matrix = warp_to_canvas(night, CORNERS, TINY)
    assert canvas.min() < 10 and canvas.max() > 245  # 12 and 45 spread over 0-255
    _, plain_matrix = warp_to_canvas(255 - night, CORNERS, TINY)
    np.testing.assert_allclose(matrix, plain_matrix)  # the geometry is the same either way
    lit = night * 4
    canvas, _ = warp_to_canvas(lit, CORNERS, TINY)
    assert canvas.min() >= 48 and canvas.max() <= 180  # 48 and 180 as they were


def test_a_degenerate_detection_keeps_its_corners():
    refiner = CornerRefiner(CornerRefinerNet(TINY), backend="eager")
    point = np.full((4, 2), 10.0, np.float32)
    (refined,) = refiner.refine(np.zeros((100, 100, 3), np.uint8), [Detection(0.5, np.zeros(4, np.float32), point)])
    np.testing.assert_array_equal(refined.corners, point)


def test_each_look_starts_from_the_previous_corners():
    """A net that always answers "a little to the right of the quad you showed me" moves the corners once per look."""
    frame = np.zeros((200, 300, 3), np.uint8)
    rect = np.array([[60, 50], [180, 50], [180, 90], [60, 90]], np.float32)
    _, matrix = warp_to_canvas(frame, rect, TINY)
    shown = transform_points(matrix, rect) / canvas_size(TINY)
    refiner = CornerRefiner(_Fixed(TINY, shown + np.float32([0.05, 0])), iterations=3, backend="eager")
    (refined,) = refiner.refine(frame, [Detection(0.8, np.zeros(4, np.float32), rect)])
    step = 0.05 * 120 * (1 + 2 * TINY.margin_x)  # a twentieth of the canvas, which spans the grown plate
    np.testing.assert_allclose(refined.corners, rect + np.float32([3 * step, 0]), atol=1e-2)


def test_perturbed_guesses_err_more_across_the_height_and_not_at_all_at_zero():
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(perturb(CORNERS, rng, 0.0), CORNERS, atol=1e-4)
    moves = np.stack([perturb(CORNERS, rng) - CORNERS for _ in range(500)])
    width, height = 120, 40
    assert 0.02 < np.abs(moves[..., 0]).mean() / width < 0.08
    assert np.abs(moves[..., 1]).mean() / height > 1.5 * np.abs(moves[..., 0]).mean() / width


def test_training_targets_land_on_the_plate_in_the_canvas():
    patch = bright_plate_patch()
    for variant, marked in ((patch, 0), (mirror(patch), 1), (shrink(patch, 40), 0)):
        dataset = RefinerDataset([variant], TINY, 4, strength=0.0, seed=1)
        canvas, target = dataset[0]
        image = canvas.permute(1, 2, 0).numpy()  # RGB in [0, 1]
        points = target.numpy() * canvas_size(TINY)
        centre = points.mean(axis=0).round().astype(int)
        assert image[centre[1], centre[0]].mean() > 0.8  # the plate's middle is bright
        opposite = (marked + 2) % 4
        x, y = np.round(points[marked] + (points[opposite] - points[marked]) * 0.08).astype(
            int
        )  # just inside that corner
        r, g, _ = image[y, x]
        assert r > 0.6 and g < 0.4, f"corner {marked} must sit on the red mark"


def test_a_harsh_share_degrades_the_canvas_and_leaves_the_corners_where_they_are():
    patch = bright_plate_patch()
    for seed in range(8):  # each sample's first draws (the plate, its guess) are the same with or without it
        (canvas, target), (degraded, same_target) = (
            RefinerDataset([patch], TINY, 1, strength=0.0, seed=seed, harsh_share=share)[0] for share in (0.0, 1.0)
        )
        assert torch.equal(target, same_target)  # the same plate through the same guess
        assert (canvas - degraded).abs().max() > 0.1  # under one of the harsh conditions


def test_a_training_step_lowers_the_refiner_loss():
    torch.manual_seed(0)
    dataset = RefinerDataset([bright_plate_patch()], TINY, 16, strength=0.0)
    canvases, targets = (torch.stack(t) for t in zip(*(dataset[i] for i in range(16))))
    net = CornerRefinerNet(TINY)
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.l1_loss(net(canvases), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_refine_train_command_writes_a_loadable_refiner(data_root, tmp_path):
    refine_train.main(
        [
            "--data",
            str(data_root / "ccpd" / "images"),
            "--out",
            str(tmp_path),
            "--epochs",
            "1",
            "--samples-per-epoch",
            "16",
            "--batch",
            "8",
            "--limit",
            "40",
            "--val-images",
            "2",
            "--channels",
            "8",
            "--threads",
            "1",
        ]
    )
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["kind"] == "refiner" and state["config"]["channels"] == 8
    refiner = CornerRefiner.from_weights(tmp_path / "best.pt", backend="eager")
    frame = np.zeros((200, 300, 3), np.uint8)
    (refined,) = refiner.refine(frame, [Detection(0.9, np.zeros(4, np.float32), CORNERS)])
    assert refined.corners.shape == (4, 2) and np.isfinite(refined.corners).all()
