import unicodedata

from outreach.sms.segments import count_segments, without_diacritics


def test_vietnamese_with_diacritics_is_ucs2_70_then_67_per_segment():
    assert count_segments("Ờ" * 70) == count_segments("Ờ" * 70).__class__("UCS-2", 70, 1, 70)
    two = count_segments("ạ" * 71)
    assert (two.encoding, two.segments, two.per_segment) == ("UCS-2", 2, 67)
    assert count_segments("ạ" * 134).segments == 2 and count_segments("ạ" * 135).segments == 3


def test_plain_ascii_is_gsm7_160_then_153():
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("a" * 306).segments == 2 and count_segments("a" * 307).segments == 3
    # Extension characters take two septets.
    assert count_segments("[" * 80).characters == 160 and count_segments("[" * 81).segments == 2


def test_text_is_normalized_to_nfc_before_counting():
    decomposed = unicodedata.normalize("NFD", "Tiếng Việt có dấu")
    assert len(decomposed) > len("Tiếng Việt có dấu")
    assert count_segments(decomposed).characters == len("Tiếng Việt có dấu")


def test_without_diacritics_is_a_correct_transliteration_and_saves_segments():
    text = "Đăng ký tài khoản định danh điện tử mức 1 — hướng dẫn “từng bước” cho ông bà ở Đội Cấn"
    plain = without_diacritics(text)
    assert plain == 'Dang ky tai khoan dinh danh dien tu muc 1 - huong dan "tung buoc" cho ong ba o Doi Can'
    assert count_segments(text).encoding == "UCS-2" and count_segments(text).segments == 2
    assert count_segments(plain).encoding == "GSM-7" and count_segments(plain).segments == 1
