"""The words residents agree to and the SMS they get (Vietnamese: they are stored and sent as they are)."""

from datetime import timedelta

SAME_REQUEST_DAYS = 7  # the same phone asking again within a week adds to its open request
QUIET_ASK = timedelta(hours=1)  # per phone: asks closer together than this change nothing
CONSENT_VERSION = "help-2026-11"
# The words the resident ticks on the form, stored word for word with the request.
FORM_CONSENT_TEXT = (
    "Tôi đồng ý để Tổ công nghệ số cộng đồng lưu tên và số điện thoại tôi vừa nhập, và gọi điện hoặc "
    "nhắn tin cho tôi để hẹn đến hướng dẫn. Tôi có thể yêu cầu xoá các thông tin này bất cứ lúc nào."
)
# An SMS reply is the resident's own message from their number: what they wrote is the record.
SMS_CONSENT_PREFIX = "Người dân nhắn lại từ số của mình để xin người đến hướng dẫn: "
ACK_TEXT = (
    "To cong nghe so cong dong da nhan yeu cau ho tro cua ban va se lien he de hen ngay den. "
    "Nhan TU CHOI de ngung nhan tin."
)
TIME_WORDS = {"morning": "buổi sáng", "afternoon": "buổi chiều", "evening": "buổi tối", "weekend": "cuối tuần", "": ""}
NOTICE_TEMPLATE = (
    "Tổ công nghệ số: thành viên {member} sẽ đến hướng dẫn gia đình {when}ngày {date}. Nhắn TU CHOI để ngừng nhận tin."
)
