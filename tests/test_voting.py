import pytest

from lpr_models.ocr.reader import Reading
from lpr_models.vocab import has_chinese
from stream.voting import vote


def reading(text, conf=0.9, chars=None):
    """A reading as the reader gives it: a text with a Chinese character is read as a Chinese plate."""
    region = "cn" if has_chinese(text) else "unknown"
    return Reading(text, conf, tuple(chars or [conf] * len(text)), region)


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


def test_a_worked_vote_gives_the_hand_computed_figures():
    """Every figure of one vote, computed by hand from the rules in stream/voting.py's docstring."""
    result = vote(
        [
            reading("AB12", 0.8, [0.9, 0.9, 0.9, 0.6]),
            reading("AB12", 0.6, [0.9, 0.8, 0.9, 0.7]),
            reading("AB17", 0.4, [0.9, 0.9, 0.9, 0.9]),
            reading("ZZ1", 0.25),
            reading("ZZ1", 0.2),
        ]
    )
    # weights 0.8 + 0.6 + 0.4 + 0.25 + 0.2 = 2.25; length 4 holds 1.8 of them (0.8)
    # last position: '2' 0.6 + 0.7 = 1.3 against '7' 0.9, a share of 1.3 / 2.2; the others unanimous
    # confidence: the best agreeing reading's 0.8 x 0.8 x 1.3 / 2.2 = 0.37818
    assert result.text == "AB12" and result.confidence == 0.3782
    assert result.char_confidences == (0.9, 0.9, 0.9, 0.3545)  # that reading's 0.6 x 1.3 / 2.2 last
    assert result.candidates == (("ZZ1", 0.2), ("AB17", 0.1778))  # 0.45 / 2.25 and 0.4 / 2.25, largest first
    assert result.region == "unknown" and result.format_valid is None


def test_a_voted_text_no_reading_gave_takes_each_position_s_best_confidence():
    result = vote([reading("AX12", 0.5, [0.9, 0.2, 0.9, 0.9]), reading("AB72", 0.5, [0.9, 0.9, 0.3, 0.9])])
    # B wins position 2 (0.9 against 0.2), 1 wins position 3 (0.9 against 0.3): "AB12", read by neither
    assert result.text == "AB12"
    # the best confidence of each voted character, 0.9 ** 4, times the agreement 0.9 / 1.1 x 0.9 / 1.2
    assert result.confidence == round(0.9**4 * 0.9 / 1.1 * 0.75, 4) == 0.4026
    assert result.char_confidences == (0.9, 0.7364, 0.675, 0.9)
    assert result.candidates == (("AX12", 0.5), ("AB72", 0.5))


def test_readings_that_miss_the_format_keep_a_tenth_of_their_weight():
    misread = Reading("ABCO234", 0.6, (0.9,) * 7, region="br")
    right = Reading("ABC0234", 0.5, (0.9,) * 7, region="br")
    result = vote([misread, misread, right])
    # weights 0.06 + 0.06 (FORMAT_MISS_WEIGHT 0.1) against 0.5
    assert result.text == "ABC0234" and result.candidates == (("ABCO234", round(0.12 / 0.62, 4)),)


def test_the_region_sums_confidences_over_readings():
    result = vote(
        [
            Reading("ABC1234", 0.5, (0.9,) * 7, "vn"),
            Reading("ABC1234", 0.3, (0.9,) * 7, "br"),
            Reading("ABC1234", 0.3, (0.9,) * 7, "br"),
        ]
    )
    assert result.region == "br"  # 0.6 against 0.5, though each br reading is the less sure


def test_at_most_five_runner_up_readings_are_kept():
    result = vote([reading("AB12", 0.9)] * 2 + [reading(f"AB1{d}", 0.1 + d / 100) for d in range(3, 10)])
    assert [text for text, _ in result.candidates] == ["AB19", "AB18", "AB17", "AB16", "AB15"]


def test_one_reading_object_given_twice_counts_twice():
    twice, once = reading("AB12", 0.5), reading("AB13", 0.6)
    assert vote([twice, twice, once]).candidates == (("AB13", 0.375),)  # 0.6 of 1.6, not of 1.1


def test_a_vote_for_another_region_takes_no_chinese_character_from_a_reading_read_as_chinese():
    """A US plate (no known format to weigh readings by) read as such three times, unsure of its first character,
    and once as a Chinese new-energy plate of the same length, sure of its province: the region vote says US, and the
    Chinese reading is left out of the text's vote, as the reader leaves a province off every plate it does not
    read as Chinese."""
    american = Reading("6AD12345", 0.5, (0.3,) + (0.9,) * 7, "us")
    chinese = Reading("皖AD12345", 0.9, (0.99,) * 8, "cn")
    result = vote([american, american, american, chinese])
    assert result.region == "us" and result.text == "6AD12345", result
    assert not any("皖" in text for text, _ in result.candidates)
    assert vote([chinese, chinese, american]).text == "皖AD12345"  # read as Chinese, the province stands
    assert vote([Reading("皖AD12345", 0.9, (0.99,) * 8, "us")]) is None  # a province only on a Chinese reading
