"""Behind nginx the app sees the phone's address, not the proxy's: in the audit log, in the login
limiter; and whatever a client writes in X-Forwarded-For itself changes nothing."""

import sqlalchemy as sa

from outreach.audit.models import AuditEvent
from outreach.extensions import db
from tests.conftest import PASSWORD, csrf_token
from tests.ops.conftest import through_nginx

NGINX = {"REMOTE_ADDR": "127.0.0.1"}


def _fail_login(client, headers: dict, username: str = "leader.tanha"):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": "wrong", "csrf_token": token},
        headers=headers,
        environ_base=NGINX,
    )


def _audited_addresses() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.ip).where(AuditEvent.action == "login.failed")))


def test_the_audit_log_records_the_phones_address(client, users, behind_nginx):
    _fail_login(client, through_nginx("203.0.113.7"))
    assert _audited_addresses() == ["203.0.113.7"]


def test_a_forged_forwarded_for_changes_nothing(client, users, behind_nginx):
    _fail_login(client, through_nginx("203.0.113.7", forged="198.51.100.99"))
    assert _audited_addresses() == ["203.0.113.7"]


def test_without_a_trusted_proxy_the_headers_are_ignored(client, users):
    _fail_login(client, through_nginx("203.0.113.7"))
    assert _audited_addresses() == ["127.0.0.1"]


def test_one_phone_throttled_the_other_not(client, users, behind_nginx):
    """Sixty typos in the province no longer lock everyone out: the limiter counts each phone."""
    statuses = [_fail_login(client, through_nginx("203.0.113.7")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    # The same phone cannot escape by writing another address in the header itself.
    assert _fail_login(client, through_nginx("203.0.113.7", forged="198.51.100.1")).status_code == 429
    # Another phone behind the same proxy, same user name: not throttled.
    assert _fail_login(client, through_nginx("203.0.113.8")).status_code == 200


def test_a_login_over_https_through_the_proxy_works(client, users, behind_nginx):
    """nginx says the phone used HTTPS on outreach.example.vn: the CSRF check of a form posted over
    HTTPS compares the page it came from with that address, and it matches."""
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"username": "leader.tanha", "password": PASSWORD, "csrf_token": token},
        headers=through_nginx("203.0.113.7"),
        environ_base=NGINX,
    )
    assert response.status_code == 302
    assert client.get("/", headers=through_nginx("203.0.113.7"), environ_base=NGINX).status_code == 200
