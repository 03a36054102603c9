"""The consent texts read to residents (a new wording gets a new version; old records keep theirs)."""

from outreach.geo.models import Purpose

CONSENT_VERSION = "2026-11"

# Read aloud in Vietnamese at the door; the stored record keeps this exact text.
CONSENT_TEXTS = {
    Purpose.STORE_PHONE: (
        "Tôi đồng ý để Tổ công nghệ số cộng đồng lưu số điện thoại của hộ gia đình tôi, chỉ để "
        "liên hệ hướng dẫn sử dụng dịch vụ công trực tuyến. Tôi có thể yêu cầu xoá số này bất cứ lúc nào."
    ),
    Purpose.RECEIVE_SMS: (
        "Tôi đồng ý nhận tin nhắn SMS có đường link hướng dẫn từng bước sử dụng dịch vụ công trực tuyến. "
        "Tôi có thể từ chối nhận tin bất cứ lúc nào (trả lời TU CHOI hoặc báo Tổ công nghệ số)."
    ),
    Purpose.SENSITIVE: (
        "Tôi đồng ý để Tổ công nghệ số cộng đồng ghi lại rằng trong hộ có người khuyết tật, chỉ để hỗ trợ "
        "phù hợp khi hướng dẫn dịch vụ công trực tuyến. Đây là dữ liệu cá nhân nhạy cảm; tôi có thể rút lại "
        "đồng ý bất cứ lúc nào và thông tin này sẽ bị xoá khỏi hồ sơ của hộ."
    ),
}
