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
