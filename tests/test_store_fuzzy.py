from hypothesis import given, settings
from hypothesis import strategies as st

from store.fuzzy import bigrams, distance, fold, min_shared_bigrams, normalise

PLATE = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=9)


def test_confusable_misreads_cost_less_than_other_edits():
    assert distance("AB123CD", "AB123CD") == 0
    assert distance("AB123CD", "A8123CD") == 0.25  # B read as 8
    assert distance("AB123CD", "A8I23C0") == 0.75  # three confusions
    assert distance("AB123CD", "AB123CE") == 1  # D and E are not confused
    assert distance("AB123CD", "AB13CD") == 1  # a character dropped
    assert distance("AB123CD", "XY987PQ") > 5


def test_separators_and_case_do_not_matter():
    assert normalise("ls15 ebc") == normalise("LS15-EBC") == "LS15EBC"
    assert normalise("29-B1 123.45") == "29B112345"


@st.composite
def near_pair(draw) -> tuple[str, str]:
    """A plate and a copy with a few edits: substitutions (confusable or not), insertions and deletions."""
    a = draw(PLATE)
    b = list(a)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["sub", "confuse", "insert", "delete"]))
        i = draw(st.integers(0, max(len(b) - 1, 0)))
        if kind == "insert" or not b:
            b.insert(i, draw(st.sampled_from("0123456789ABCXYZ")))
        elif kind == "delete" and len(b) > 1:
            del b[i]
        else:
            b[i] = draw(st.sampled_from("0ODQ1IT8B2Z5S6G" if kind == "confuse" else "0123456789ABCXYZ"))
    return a, "".join(b)


@settings(max_examples=500)
@given(near_pair())
def test_folding_never_hides_a_match_the_bigram_filter_needs(pair):
    a, b = pair
    """The candidate filter is safe: a text within distance d shares enough bigrams after folding."""
    d = distance(a, b)
    shared = len(bigrams(fold(a)) & bigrams(fold(b)))
    assert shared >= min_shared_bigrams(fold(a), d)
    assert distance(fold(a), fold(b)) <= d  # folding removes only confusion costs


@given(PLATE, PLATE)
def test_distance_is_symmetric_and_zero_only_for_equal_texts(a, b):
    assert distance(a, b) == distance(b, a)
    assert (distance(a, b) == 0) == (a == b)
