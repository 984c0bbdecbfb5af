import pytest
from hypothesis import given
from hypothesis import strategies as st

from lpr_models.vocab import CHARSET, PAD, decode, encode, vocab_size


@given(st.text(alphabet=CHARSET, max_size=10))
def test_encode_decode_round_trip_any_length(text):
    ids = encode(text, 10)
    assert len(ids) == 10 and all(0 <= i < vocab_size() for i in ids)
    assert ids[len(text) :] == [PAD] * (10 - len(text))
    assert decode(ids) == text


def test_decode_stops_at_the_first_pad():
    ids = encode("皖A12345", 10)
    ids[3] = PAD
    assert decode(ids) == "皖A1"


def test_every_ccpd_province_and_latin_character_is_supported():
    from train.ccpd import PROVINCES

    for c in PROVINCES[:-1] + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"):
        assert decode(encode(c, 1)) == c


@pytest.mark.parametrize("text,message", [("AB?", "not in the vocabulary"), ("A" * 11, "longer than")])
def test_bad_labels_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        encode(text, 10)
