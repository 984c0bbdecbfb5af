import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from train.ccpd import ALNUM, LETTERS, PROVINCES, parse_ccpd_name

NAME = "025-95_113-154&383_386&473-386&473_177&454_154&383_363&402-0_0_22_27_27_33_16-37-15.jpg"


def test_parses_box_text_and_reorders_corners_to_tl_tr_br_bl():
    label = parse_ccpd_name("some/folder/" + NAME)
    assert label.text == "皖AY339S"
    np.testing.assert_array_equal(label.box, [154, 383, 386, 473])
    # CCPD lists bottom-right, bottom-left, top-left, top-right
    np.testing.assert_array_equal(label.corners, [[154, 383], [363, 402], [386, 473], [177, 454]])


def test_reads_eight_character_green_plates():
    name = NAME.replace("0_0_22_27_27_33_16", "0_0_3_24_30_30_31_32")
    assert parse_ccpd_name(name).text == "皖AD0667" + "8"


@pytest.mark.parametrize(
    "name,why",
    [
        ("plate.jpg", "expected 7 '-' fields"),
        ("a-b-c-d-e-f-g.jpg", "bad numbers"),
        (NAME.replace("154&383_386", "154&383_100"), "empty box"),
        (NAME.replace("0_0_22", "99_0_22"), "character index out of range"),
        (NAME.replace("386&473_177&454_", ""), "need 4 corners and 7\\+ characters"),
        (NAME.replace("386&473_177&454", "386&473&1_177&454"), "need 4 corners"),  # a corner of 3 numbers
        (NAME.replace("0_0_22_27_27_33_16", "0_0_22_27_27_33"), "7\\+ characters"),
        (NAME.replace("154&383_386", "154&383_154"), "empty box"),  # zero width
        (NAME.replace("154&383_386&473", "154&383_386&383"), "empty box"),  # zero height
    ],
)
def test_rejects_names_that_are_not_ccpd_and_says_why(name, why):
    with pytest.raises(ValueError, match=why) as err:
        parse_ccpd_name(name)
    assert name in str(err.value)


def test_the_no_character_index_is_left_out_of_the_text():
    """CCPD's last index of each alphabet ('O') means 'no character here'."""
    name = NAME.replace("0_0_22_27_27_33_16", f"0_0_22_27_27_33_{len(ALNUM) - 1}")
    assert parse_ccpd_name(name).text == "皖AY339"


def test_labels_are_float32_arrays():
    label = parse_ccpd_name(NAME)
    assert label.box.dtype == np.float32 and label.corners.dtype == np.float32


def test_lists_ccpd_images_in_subfolders_sorted_whatever_the_suffix_case(tmp_path):
    from train.ccpd import list_ccpd_images

    (tmp_path / "ccpd_base").mkdir()
    for name in ("ccpd_base/b.jpg", "a.JPG", "c.png", "notes.txt", "d.jpeg.json"):
        (tmp_path / name).write_bytes(b"")
    assert list_ccpd_images(tmp_path) == [tmp_path / "a.JPG", tmp_path / "c.png", tmp_path / "ccpd_base" / "b.jpg"]
    with pytest.raises(FileNotFoundError, match="missing"):
        list_ccpd_images(tmp_path / "missing")


corner = st.tuples(st.integers(0, 2000), st.integers(0, 2000))


@given(
    x1=st.integers(0, 999),
    y1=st.integers(0, 999),
    w=st.integers(1, 999),
    h=st.integers(1, 999),
    pts=st.lists(corner, min_size=4, max_size=4),
    chars=st.tuples(
        st.integers(0, len(PROVINCES) - 2),
        st.integers(0, len(LETTERS) - 2),
        st.lists(st.integers(0, len(ALNUM) - 2), min_size=5, max_size=6),
    ),
)
def test_any_well_formed_name_parses_back_to_its_fields(x1, y1, w, h, pts, chars):
    province, letter, rest = chars
    name = (
        f"0-1_2-{x1}&{y1}_{x1 + w}&{y1 + h}-"
        + "_".join(f"{x}&{y}" for x, y in pts)
        + f"-{province}_{letter}_"
        + "_".join(map(str, rest))
        + "-10-20.jpg"
    )
    label = parse_ccpd_name(name)
    assert label.text == PROVINCES[province] + LETTERS[letter] + "".join(ALNUM[i] for i in rest)
    np.testing.assert_array_equal(label.corners, np.array([pts[2], pts[3], pts[0], pts[1]], np.float32))


@given(st.text(max_size=80))
def test_arbitrary_text_never_crashes_the_parser(name):
    try:
        parse_ccpd_name(name)
    except ValueError:
        pass
