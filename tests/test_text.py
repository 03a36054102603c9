"""The one diacritic folder: the fast way (one str.translate for Latin letters with marks) gives what
the general way gives, character by character, for any text."""

from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.text import _unaccent_each, fold, unaccent

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
marks = st.sampled_from(["\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b"])
letters = st.sampled_from(VIETNAMESE + VIETNAMESE.upper() + " 0123456789-")


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.lists(st.one_of(letters, marks)).map("".join)))
def test_the_fast_way_folds_as_the_general_way(text):
    assert unaccent(text) == _unaccent_each(text)


def test_vietnamese_and_other_scripts():
    assert unaccent("Đội Cấn, Thuỷ Hoà, Ỷ La") == "Doi Can, Thuy Hoa, Y La"
    assert unaccent("Ελλάδα") == "Ελλαδα"  # another script: the general way
    assert unaccent("Tha\u0300nh") == "Thanh"  # decomposed as some phones write it
    assert fold("  MẬT   KHẨU là 123 ") == "mat khau la 123"
    assert unaccent(None) == "" and unaccent("plain ascii") == "plain ascii"
