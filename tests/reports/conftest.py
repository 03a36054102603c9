import io

import pytest

from outreach.auth.models import Role
from tests.conftest import NOW, make_user


@pytest.fixture
def province_staff(geo):
    return make_user("staff.province", Role.STAFF, geo["province"])


def csv_file(text: str, *, bom: bool = False) -> io.BytesIO:
    data = text.encode("utf-8")
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


__all__ = ["NOW", "csv_file"]
