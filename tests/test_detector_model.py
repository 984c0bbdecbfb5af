import cv2
import numpy as np
import pytest
import torch

from lpr_models.detector.detector import PlateDetector
from lpr_models.detector.head import decode, make_priors
from lpr_models.detector.model import STRIDES, DetectorConfig, PlateDetectorNet
from lpr_models.detector.preprocess import to_tensor
from lpr_models.geometry import quad_box
from train.det_data import hflip
from train.det_loss import atss_assign, detection_loss

TINY = DetectorConfig(width=0.25, depth=1, neck_channels=16, neck_repeats=1, head_convs=1)


@pytest.mark.parametrize("size", [(640, 640), (384, 640), (96, 160)])
def test_neck_strides_match_the_priors(size):
    net = PlateDetectorNet(TINY)
    feats = net.neck(net.backbone(torch.zeros(1, 3, *size)))
    assert [(size[0] // f.shape[2], size[1] // f.shape[3]) for f in feats] == [(s, s) for s in STRIDES]
    raw = net(torch.zeros(1, 3, *size))
    assert raw.shape == (1, make_priors(*size, STRIDES).shape[0], 13)


def test_decode_places_boxes_and_corners_around_the_prior_centre():
    priors = torch.tensor([[12.0, 20.0, 8.0]])
    raw = torch.zeros(1, 1, 13)
    raw[0, 0, 1:5] = torch.tensor([1.0, 0.5, 2.0, 0.25])
    raw[0, 0, 5:13] = torch.tensor([-1, -1, 1, -1, 1, 1, -1, 1.0])
    _, boxes, corners = decode(raw, priors)
    assert boxes[0, 0].tolist() == [4.0, 16.0, 28.0, 22.0]
    assert corners[0, 0].tolist() == [[4, 12], [20, 12], [20, 28], [4, 28]]


class OnePlateNet(torch.nn.Module):
    """A detector net with one confident prediction at a known prior: nothing random, nothing near a tie."""

    strides = STRIDES

    def __init__(self, size: tuple[int, int], centre: tuple[float, float], stride: int) -> None:
        super().__init__()
        priors = make_priors(*size, STRIDES)
        hit = (priors[:, 0] == centre[0]) & (priors[:, 1] == centre[1]) & (priors[:, 2] == stride)
        assert hit.sum() == 1
        raw = torch.zeros(1, len(priors), 13)
        raw[0, :, 0] = -10.0
        raw[0, hit, 0] = 5.0
        raw[0, hit, 1:5] = torch.tensor([1.0, 0.5, 2.0, 0.25])  # box sides: 1, 0.5, 2, 0.25 strides from the centre
        raw[0, hit, 5:13] = torch.tensor([-1, -1, 1, -1, 1, 1, -1, 1.0])  # corners: one stride from the centre
        self.register_buffer("raw", raw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.raw.expand(x.shape[0], -1, -1) + 0 * x.mean()


@pytest.mark.parametrize("backend", ["eager", "onnx"])
def test_detector_maps_plates_back_to_frame_coordinates(backend):
    """Outputs in letterboxed input pixels come back in the original frame's pixels."""
    # A 300x400 frame letterboxed to 96x160: scale 0.32 (to 96x128), 16 px of padding left and right.
    detector = PlateDetector(OnePlateNet((96, 160), (52.0, 36.0), 8), (96, 160), score_threshold=0.5, backend=backend)
    frame = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    detections = detector.detect(frame)
    assert len(detections) == 1
    # In the input: box [52-8, 36-4, 52+16, 36+2], corners (44..60, 28..44); to the frame: (p - pad) / 0.32.
    np.testing.assert_allclose(detections[0].box, [87.5, 100.0, 162.5, 118.75], atol=1e-3)
    np.testing.assert_allclose(
        detections[0].corners, [[87.5, 87.5], [137.5, 87.5], [137.5, 137.5], [87.5, 137.5]], atol=1e-3
    )


class PlatesBySizeNet(torch.nn.Module):
    """A detector net whose plates depend on the input size: {size: [(centre, stride, score logit, (l, t, r, b))]},
    each box side in strides from the prior's centre; it records the sizes it was given."""

    strides = STRIDES

    def __init__(self, plates: dict[tuple[int, int], list]) -> None:
        super().__init__()
        self.plates, self.seen = plates, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = (int(x.shape[2]), int(x.shape[3]))
        self.seen.append(size)
        priors = make_priors(*size, STRIDES)
        raw = torch.zeros(x.shape[0], len(priors), 13)
        raw[:, :, 0] = -10.0
        for (cx, cy), stride, logit, sides in self.plates.get(size, []):
            (hit,) = torch.nonzero((priors[:, 0] == cx) & (priors[:, 1] == cy) & (priors[:, 2] == stride))[:, 0]
            raw[:, hit, 0] = logit
            raw[:, hit, 1:5] = torch.tensor(sides)
        return raw


def test_the_fine_pass_adds_small_sure_plates_and_replaces_the_rough_boxes_of_small_ones():
    """A 600x1000 frame is shrunk to 0.16 for a 96x160 input, 0.32 at twice it: of the plates found there, the sure
    small one replaces the small one it overlaps at the input size; an unsure one and a wide one are left out."""
    net = PlatesBySizeNet(
        {
            (96, 160): [
                ((52, 36), 8, 5.0, (0.75, 0.5, 0.75, 0.5)),  # small: 12 px wide, box [46, 32, 58, 40]
                ((136, 72), 16, 5.0, (1.5, 0.5, 1.5, 0.5)),  # 48 px wide: not small
            ],
            (192, 320): [
                ((108, 68), 8, 5.0, (1.5, 1.0, 1.5, 1.0)),  # sure, 12 px wide at the input size, on the small one
                ((252, 132), 8, 0.0, (1.0, 1.0, 1.0, 1.0)),  # 0.5 sure: under FINE_MIN_SCORE
                ((176, 112), 32, 5.0, (1.5, 0.5, 1.5, 0.5)),  # sure but 48 px wide at the input size
            ],
        }
    )
    frame = np.zeros((600, 1000, 3), np.uint8)
    without = PlateDetector(net, (96, 160), backend="eager").detect(frame)
    assert sorted(d.box.tolist() for d in without) == [[287.5, 200.0, 362.5, 250.0], [700.0, 400.0, 1000.0, 500.0]]
    net.seen.clear()
    found = PlateDetector(net, (96, 160), backend="eager", fine_pass=True).detect(frame)
    assert net.seen == [(96, 160), (192, 320)]
    assert sorted(d.box.tolist() for d in found) == [[300.0, 187.5, 375.0, 237.5], [700.0, 400.0, 1000.0, 500.0]]


@pytest.mark.parametrize(
    "frame, expected",
    [
        ((1080, 1920), (768, 1280)),
        ((1160, 720), (1280, 1024)),
        ((3024, 4032), (1024, 1280)),
        ((4000, 400), (1280, 256)),
    ],
)
def test_the_fine_pass_sees_a_frame_at_twice_the_inputs_scale_with_little_padding(frame, expected):
    assert PlateDetector(PlatesBySizeNet({}), (640, 640), backend="eager", fine_pass=True).fine_size(frame) == expected


def test_a_frame_the_input_hardly_shrinks_gets_no_fine_pass():
    net = PlatesBySizeNet({})
    PlateDetector(net, (96, 160), backend="eager", fine_pass=True).detect(np.zeros((100, 160, 3), np.uint8))
    assert net.seen == [(96, 160)]


def test_atss_assigns_every_plate_even_tiny_ones():
    priors = make_priors(128, 128, STRIDES)
    boxes = torch.tensor([[10.0, 10.0, 90.0, 40.0], [100.0, 100.0, 112.0, 104.0]])
    assigned = atss_assign(priors, boxes, STRIDES)
    assert set(assigned[assigned >= 0].tolist()) == {0, 1}
    assert (atss_assign(priors, torch.zeros(0, 4), STRIDES) == -1).all()


def test_flip_keeps_corners_in_tl_tr_br_bl_order():
    image = np.zeros((50, 100, 3), np.uint8)
    corners = np.array([[[10, 10], [40, 12], [40, 30], [10, 28]]], np.float32)
    _, _, flipped = hflip(image, corners.copy(), corners)
    np.testing.assert_array_equal(flipped[0], [[60, 12], [90, 10], [90, 28], [60, 30]])


def test_a_training_step_lowers_the_loss_on_a_tiny_batch():
    torch.manual_seed(0)
    net = PlateDetectorNet(TINY)
    images = torch.rand(2, 3, 128, 128)
    targets = [
        {
            "boxes": torch.tensor([[20.0, 30.0, 90.0, 50.0]]),
            "corners": torch.tensor([[[20.0, 30.0], [90.0, 30.0], [90.0, 50.0], [20.0, 50.0]]]),
        },
        {"boxes": torch.zeros(0, 4), "corners": torch.zeros(0, 4, 2)},
    ]
    priors = make_priors(128, 128, STRIDES)
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        loss, parts = detection_loss(net(images), priors, targets, STRIDES)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert parts["pos"] >= 1
    assert losses[-1] < 0.7 * losses[0]


def test_input_tensor_is_rgb_in_unit_range():
    images = np.zeros((2, 4, 6, 3), np.uint8)
    images[1, ..., 0] = 255  # blue in BGR
    x = to_tensor(images)
    assert x.shape == (2, 3, 4, 6) and x.dtype == torch.float32 and x.is_contiguous()
    assert x[1, 2].min() == 1.0 and x[1, :2].max() == 0.0 and x[0].max() == 0.0  # blue lands in channel 2 of RGB


def test_rotation_turns_the_labels_with_the_plate_and_drops_plates_it_takes_out_of_the_frame():
    from train.det_data import rotate

    image = np.zeros((400, 600, 3), np.uint8)
    centre_plate = [[280, 190], [320, 190], [320, 210], [280, 210]]
    corner_plate = [[2, 2], [60, 2], [60, 20], [2, 20]]  # any turn of 20+ degrees takes a corner of it out
    corners = np.array([centre_plate, corner_plate], np.float32)
    cv2.fillConvexPoly(image, corners[0].astype(np.int32), (255, 255, 255))
    cv2.fillConvexPoly(image, corners[1].astype(np.int32), (255, 255, 255))
    for seed in range(5):
        turned, boxes, kept = rotate(image, corners.copy(), corners.copy(), np.random.default_rng(seed), 45)
        assert len(kept) == len(boxes) == 1  # the corner plate is gone, and painted out
        ys, xs = np.nonzero(turned[..., 0] > 128)
        np.testing.assert_allclose([xs.min(), ys.min(), xs.max(), ys.max()], quad_box(kept[0]), atol=1.5)
        top_edge = kept[0][1] - kept[0][0]  # TL -> TR still runs along the plate's long side
        assert np.linalg.norm(top_edge) == pytest.approx(40, abs=0.5)


def test_suppressing_overlaps_keeps_the_surer_of_two_boxes_on_one_plate_and_every_other_plate():
    from lpr_models.detection import Detection
    from lpr_models.detector.postprocess import suppress_overlaps

    def plate(score, x1, y1, x2, y2):
        box = np.array([x1, y1, x2, y2], np.float32)
        return Detection(score, box, np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32))

    lower_row, whole, other = plate(0.4, 10, 30, 110, 60), plate(0.8, 8, 10, 112, 62), plate(0.5, 300, 10, 400, 40)
    kept = suppress_overlaps([lower_row, whole, other], nms_iou=0.5)  # lower row and whole: IoU 0.56
    assert kept == [whole, other]
    assert suppress_overlaps([lower_row, whole], nms_iou=0.6) == [whole, lower_row]  # under the bar: both stay
