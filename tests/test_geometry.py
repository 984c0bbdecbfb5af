import cv2
import numpy as np
import pytest

from lpr_models.geometry import box_iou, expand_quad, letterbox, order_corners, quad_to_rect, rectify, transform_points


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
