import pytest

from lpr_models.ocr.reader import Reading
from stream.voting import vote


def reading(text, conf=0.9, chars=None):
    return Reading(text, conf, tuple(chars or [conf] * len(text)))


def test_majority_per_position_fixes_single_character_errors():
    result = vote([reading("皖A12345"), reading("皖A12845"), reading("皖A1234S")])
    assert result.text == "皖A12345"
    assert {c[0] for c in result.candidates} == {"皖A12845", "皖A1234S"}


def test_length_consensus_ignores_readings_of_another_length():
    result = vote([reading("ABC123"), reading("ABC1234", 0.3), reading("ABC123")])
    assert result.text == "ABC123"
    assert result.candidates[0] == ("ABC1234", pytest.approx(0.3 / 2.1, abs=1e-3))


def test_character_confidence_weights_the_vote():
    result = vote([reading("AB1", chars=[0.9, 0.9, 0.2]), reading("AB7", chars=[0.9, 0.9, 0.95])])
    assert result.text == "AB7"
    assert result.char_confidences[2] < result.char_confidences[0]


def test_unanimous_confident_readings_give_high_confidence():
    assert vote([reading("XY99", 0.99)] * 4).confidence > 0.9
    assert vote([reading("XY99", 0.99), reading("XY98", 0.99)]).confidence < 0.6


def test_no_text_no_vote():
    assert vote([]) is None
    assert vote([reading("")]) is None


def test_format_aware_vote_fixes_an_o_for_zero_confusion():
    # Two crops read a letter O where a Brazilian plate has a digit; one reads the 0. A plain
    # vote takes the O; the format (LLL9999) makes the fitting reading win.
    misread = Reading("ABCO234", 0.6, (0.9,) * 7, region="br", format_valid=False)
    right = Reading("ABC0234", 0.5, (0.9,) * 7, region="br", format_valid=True)
    result = vote([misread, misread, right])
    assert result.text == "ABC0234" and result.region == "br" and result.format_valid is True
    plain = vote(
        [
            Reading("ABCO234", 0.6, (0.9,) * 7, "us"),
            Reading("ABCO234", 0.6, (0.9,) * 7, "us"),
            Reading("ABC0234", 0.5, (0.9,) * 7, "us"),
        ]
    )
    assert plain.text == "ABCO234" and plain.format_valid is None  # no known US format: the readings decide


def test_the_region_is_the_confidence_weighted_majority():
    result = vote(
        [
            Reading("54V39264", 0.9, (0.99,) * 8, "vn"),
            Reading("54V39264", 0.3, (0.9,) * 8, "eu"),
            Reading("54V39264", 0.3, (0.9,) * 8, "eu"),
        ]
    )
    assert result.region == "vn"


def test_the_length_vote_weighs_readings_by_confidence_not_by_count():
    result = vote([reading("ABC123", 0.2), reading("ABC123", 0.2), reading("ABC1234", 0.9)])
    assert result.text == "ABC1234"
