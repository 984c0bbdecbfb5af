import cv2
import numpy as np
import pytest

from lpr_models.geometry import (
    Letterbox,
    box_iou,
    expand_quad,
    letterbox,
    order_corners,
    quad_box,
    quad_to_rect,
    rectify,
    rotation_matrix,
    tilt_matrix,
    transform_points,
)


@pytest.mark.parametrize(
    "shape,size",
    [((720, 1280), (640, 640)), ((1160, 720), (640, 640)), ((1080, 1920), (384, 640)), ((100, 50), (64, 96))],
)
def test_letterbox_round_trip_maps_points_back_to_the_frame(shape, size):
    image = np.zeros((*shape, 3), np.uint8)
    boxed, lb = letterbox(image, size)
    assert boxed.shape == (*size, 3)
    points = np.array([[0, 0], [shape[1] - 1, shape[0] - 1], [shape[1] / 3, shape[0] / 2]], np.float32)
    np.testing.assert_allclose(lb.to_frame(lb.to_input(points)), points, atol=1e-3)
    inside = lb.to_input(points)
    assert (inside >= 0).all() and (inside[:, 0] <= size[1]).all() and (inside[:, 1] <= size[0]).all()


def test_letterbox_keeps_aspect_ratio_and_centres():
    boxed, lb = letterbox(np.full((100, 200, 3), 255, np.uint8), (200, 200))
    assert lb.scale == 1.0 and lb.pad_x == 0 and lb.pad_y == 50
    assert boxed[49, 100].tolist() == [114, 114, 114] and boxed[50, 100].tolist() == [255, 255, 255]


def test_rectify_warps_the_quadrilateral_to_the_plate_size():
    image = np.zeros((200, 300, 3), np.uint8)
    image[50:100, 100:200] = (255, 0, 0)
    image[50:100, 150:200] = (0, 0, 255)  # right half red
    plate = rectify(image, np.array([[100, 50], [200, 50], [200, 100], [100, 100]]), (24, 96))
    assert plate.shape == (24, 96, 3)
    assert plate[12, 10].tolist() == [255, 0, 0] and plate[12, 90].tolist() == [0, 0, 255]


def test_quads_of_integer_pixels_come_back_as_float32_for_opencv():
    quad = np.array([[10, 10], [110, 10], [110, 30], [10, 30]])
    assert expand_quad(quad, 0.1, 0.1).dtype == np.float32  # cv2.getPerspectiveTransform takes float32 only


def test_expand_quad_grows_along_the_plate_axes():
    quad = np.array([[10, 10], [110, 10], [110, 30], [10, 30]], np.float32)
    np.testing.assert_allclose(expand_quad(quad, 0.1, 0.25), [[0, 5], [120, 5], [120, 35], [0, 35]])
    tilted = np.array([[0, 0], [100, 100], [90, 110], [-10, 10]], np.float32)
    grown = expand_quad(tilted, 0.1, 0.0)
    np.testing.assert_allclose(grown[1] - tilted[1], [10, 10], atol=1e-4)  # along the tilted top edge


def test_order_corners_from_any_starting_point():
    tl_tr_br_bl = np.array([[10, 10], [100, 12], [98, 40], [8, 38]], np.float32)
    for shift in range(4):
        np.testing.assert_array_equal(order_corners(np.roll(tl_tr_br_bl, shift, axis=0)), tl_tr_br_bl)
    np.testing.assert_array_equal(order_corners(tl_tr_br_bl[::-1]), tl_tr_br_bl)


def test_box_iou_edge_cases():
    a = np.array([[0, 0, 10, 10]])
    assert box_iou(a, a)[0, 0] == pytest.approx(1.0)
    assert box_iou(a, np.array([[10, 0, 20, 10]]))[0, 0] == 0.0  # touching edges
    assert box_iou(a, np.array([[5, 0, 15, 10]]))[0, 0] == pytest.approx(50 / 150)
    assert box_iou(a, np.array([[3, 3, 3, 3]]))[0, 0] == 0.0  # empty box
    assert box_iou(np.zeros((0, 4)), a).shape == (0, 1)


def test_quad_to_rect_and_transform_points_round_trip():
    quad = np.array([[10, 20], [110, 30], [105, 60], [12, 52]], np.float32)
    matrix = quad_to_rect(quad, (30, 90))
    np.testing.assert_allclose(transform_points(matrix, quad), [[0, 0], [90, 0], [90, 30], [0, 30]], atol=1e-3)
    back = transform_points(np.linalg.inv(matrix), np.array([[45, 15]], np.float32))
    assert cv2.pointPolygonTest(quad, tuple(map(float, back[0])), False) > 0


def _box_iou_by_hand(a, b) -> float:
    """The textbook definition, one pair at a time."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def test_box_iou_matches_the_textbook_definition_on_random_boxes():
    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 50, (2, 7, 2, 2))
    a, b = (np.concatenate([c.min(axis=1), c.max(axis=1)], axis=1) for c in corners)  # x1 y1 x2 y2, unequal sides
    expected = [[_box_iou_by_hand(x, y) for y in b] for x in a]
    got = box_iou(a, b)
    assert got.shape == (7, 7) and got.dtype.kind == "f"
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_box_iou_of_tiny_and_empty_boxes():
    tiny = np.array([[0, 0, 0.5, 0.25]])
    assert box_iou(tiny, tiny)[0, 0] == pytest.approx(1.0)  # areas under one pixel still compare
    empty = np.array([[3, 3, 3, 3]])
    assert box_iou(empty, empty)[0, 0] == 0.0
    assert box_iou(empty, empty).dtype.kind == "f"


@pytest.mark.parametrize("seed", range(20))
def test_order_corners_of_any_plate_in_any_order(seed):
    rng = np.random.default_rng(seed)
    w, h, angle = rng.uniform(40, 300), rng.uniform(12, 90), np.deg2rad(rng.uniform(-30, 30))
    centre = rng.uniform(100, 2000, 2)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    plate = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 @ rotation.T + centre  # TL, TR, BR, BL
    shuffled = plate[rng.permutation(4)]
    ordered = order_corners(shuffled)
    assert ordered.dtype == np.float32
    np.testing.assert_allclose(ordered, plate, rtol=1e-5)


def test_order_corners_returns_floats_for_integer_points():
    ordered = order_corners(np.array([[100, 40], [10, 10], [10, 40], [100, 10]]))
    assert ordered.dtype == np.float32 and ordered.tolist() == [[10, 10], [100, 10], [100, 40], [10, 40]]


def test_letterbox_centres_a_tall_image_and_keeps_bytes():
    boxed, lb = letterbox(np.full((200, 50, 3), 255, np.uint8), (100, 100))
    assert boxed.dtype == np.uint8 and lb.scale == 0.5 and (lb.pad_x, lb.pad_y) == (37, 0)  # (100 - 25) // 2
    assert boxed[50, 36].tolist() == [114] * 3 and boxed[50, 37].tolist() == [255] * 3
    assert boxed[50, 61].tolist() == [255] * 3 and boxed[50, 62].tolist() == [114] * 3


def test_letterbox_of_a_one_pixel_line_keeps_it_one_pixel():
    boxed, _ = letterbox(np.full((1000, 1, 3), 255, np.uint8), (100, 100))
    assert (boxed[:, :, 0] == 255).sum(axis=1).max() == 1
    boxed, _ = letterbox(np.full((1, 1000, 3), 255, np.uint8), (100, 100))
    assert (boxed[:, :, 0] == 255).sum(axis=0).max() == 1


def test_letterbox_averages_when_shrinking_and_interpolates_when_growing():
    stripes = np.zeros((8, 64, 3), np.uint8)
    stripes[:, ::4] = 255  # one bright column in four
    small, _ = letterbox(stripes, (2, 16))
    assert np.allclose(small[..., 0], 255 / 4, atol=1)  # the area average, not a sample that misses the stripes
    step = np.zeros((2, 2, 3), np.uint8)
    step[:, 1] = 200
    big, _ = letterbox(step, (4, 4))  # scale 2
    assert 0 < big[1, 1, 0] < 200  # bilinear: a value between the two (area sampling would repeat pixels)


def test_points_map_as_floats_whatever_their_type():
    lb = Letterbox(scale=0.4, pad_x=3, pad_y=1)
    np.testing.assert_allclose(lb.to_frame(np.array([[4, 2]])), [[2.5, 2.5]])  # (4 - 3) / 0.4, (2 - 1) / 0.4
    np.testing.assert_allclose(lb.to_input(np.array([[3, 3]])), [[4.2, 2.2]])
    matrix = np.array([[2, 0, 1], [0, 2, 0], [0, 0, 1]], np.float64)
    np.testing.assert_allclose(transform_points(matrix, np.array([[1, 1], [2, 3]])), [[3, 2], [5, 6]])


def test_rectify_repeats_the_image_edge_beyond_the_frame():
    image = np.full((20, 20, 3), 200, np.uint8)
    plate = rectify(image, np.array([[10, 0], [30, 0], [30, 10], [10, 10]]), (10, 20))  # half outside on the right
    assert plate.min() == 200  # the edge repeated, not black


PLATE = np.array([[300, 200], [440, 200], [440, 244], [300, 244]], np.float32)  # 140 x 44, centred at (370, 222)


def test_quad_box_bounds_any_quadrilateral():
    quad = np.array([[12, 30], [50, 8], [61, 40], [5, 47]])
    box = quad_box(quad)
    assert box.dtype == np.float32 and box.tolist() == [5, 8, 61, 47]


def test_rotation_matrix_turns_counter_clockwise_on_screen_about_its_centre():
    centre = np.array([100.0, 50.0])
    matrix = rotation_matrix(centre, 90)
    points = transform_points(matrix, np.array([[110, 50], [100, 50], [100, 40]], np.float32))
    np.testing.assert_allclose(points, [[100, 40], [100, 50], [90, 50]], atol=1e-4)  # y grows downwards


def test_tilt_matrix_of_no_turn_leaves_a_level_plate_where_it_is():
    np.testing.assert_allclose(transform_points(tilt_matrix(PLATE, 0, 0), PLATE), PLATE, atol=1e-3)


@pytest.mark.parametrize("yaw", [-40.0, 25.0, 50.0])
def test_tilt_matrix_yaw_shows_the_nearer_edge_taller_as_a_pinhole_camera_does(yaw):
    """Turned about its upright axis by `yaw` (the right edge nearer for a positive yaw), seen by a lens 6 plate
    widths away: each edge's height and the plate's width scale as focal / distance."""
    width, height, focal = 140.0, 44.0, 6 * 140.0
    seen = transform_points(tilt_matrix(PLATE, yaw, 0), PLATE)
    nearer = np.sin(np.radians(yaw)) * width / 2  # how much nearer the right edge comes
    right, left = seen[2, 1] - seen[1, 1], seen[3, 1] - seen[0, 1]
    assert right == pytest.approx(height * focal / (focal - nearer), rel=1e-3)
    assert left == pytest.approx(height * focal / (focal + nearer), rel=1e-3)
    half = width / 2 * np.cos(np.radians(yaw))
    across = half * focal / (focal - nearer) + half * focal / (focal + nearer)
    assert seen[1, 0] - seen[0, 0] == pytest.approx(across, rel=1e-3)
    assert seen[:, 1].mean() == pytest.approx(PLATE[:, 1].mean(), abs=1e-2)  # turned about a level axis


@pytest.mark.parametrize("pitch", [-20.0, 15.0])
def test_tilt_matrix_pitch_shows_the_nearer_edge_wider(pitch):
    """Turned about its horizontal axis by `pitch` (the top edge nearer for a positive pitch)."""
    width, height, focal = 140.0, 44.0, 6 * 140.0
    seen = transform_points(tilt_matrix(PLATE, 0, pitch), PLATE)
    nearer = np.sin(np.radians(pitch)) * height / 2
    top, bottom = seen[1, 0] - seen[0, 0], seen[2, 0] - seen[3, 0]
    assert top == pytest.approx(width * focal / (focal - nearer), rel=1e-3)
    assert bottom == pytest.approx(width * focal / (focal + nearer), rel=1e-3)


def test_tilt_matrix_with_a_longer_lens_shows_less_perspective():
    def taper(focal: float) -> float:
        seen = transform_points(tilt_matrix(PLATE, 45, 0, focal=focal), PLATE)
        return float((seen[2, 1] - seen[1, 1]) / (seen[3, 1] - seen[0, 1]))

    assert taper(3.0) > taper(6.0) > taper(24.0) > 1.0


def test_tilt_matrix_turned_both_ways_drops_the_nearer_end_as_a_rigid_plate_does():
    """Yawed (right edge nearer), then pitched about the camera's horizontal axis (top nearer): what is in front of
    that axis moves down, so the top edge slopes down to its nearer right end, by sin(pitch) tan(yaw) as a very
    long lens (near orthographic) shows it."""
    yaw, pitch = 40.0, 20.0
    seen = transform_points(tilt_matrix(PLATE, yaw, pitch, focal=1000.0), PLATE)
    slope = (seen[1, 1] - seen[0, 1]) / (seen[1, 0] - seen[0, 0])
    assert slope == pytest.approx(np.sin(np.radians(pitch)) * np.tan(np.radians(yaw)), rel=1e-2)
