"""/metrics in Prometheus's format, only for the configured addresses: requests by route and status
with their latency, sync records by result, import durations, and what the database holds (the SMS
outbox, messages needing a check, the scheduler's runs)."""

import io
import secrets
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from outreach.auth.services import issue_token
from outreach.clock import utcnow
from outreach.extensions import db
from outreach.ops.heartbeat import record_heartbeat, record_job_run
from outreach.ops.metrics import allowed
from outreach.sms.models import SmsMessage, Status
from tests.conftest import csrf_token, login, make_household, visit_payload
from tests.ops.conftest import through_nginx


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_only_configured_addresses_may_read_it(client, app, behind_nginx):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.8.0.5"}).status_code == 404
    # Through nginx from a phone, even one that claims to be the server itself.
    assert client.get("/metrics", headers=through_nginx("203.0.113.7", forged="127.0.0.1")).status_code == 404
    app.config["METRICS_ALLOWED"] = "127.0.0.1, 10.8.0.0/24"
    try:
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.8.0.5"}).status_code == 200
    finally:
        app.config["METRICS_ALLOWED"] = "127.0.0.1, ::1"


def test_the_setting_accepts_addresses_and_networks():
    assert allowed("127.0.0.1", "127.0.0.1, ::1")
    assert allowed("::1", "127.0.0.1, ::1")
    assert allowed("192.168.3.9", "192.168.3.0/24")
    assert not allowed("192.168.4.9", "192.168.3.0/24; not-an-address")
    assert not allowed(None, "0.0.0.0/0")
    assert not allowed("", "")


def test_requests_by_route_and_status_with_latency(client, users):
    before = scrape(client)
    client.get("/login")
    client.get("/households/999999")
    client.get("/no/such/page")
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("outreach_http_requests_total", route="/login", method="GET", status="200") == 1
    assert delta("outreach_http_requests_total", route="(unmatched)", method="GET", status="404") == 1
    assert delta("outreach_http_request_duration_seconds_count", route="/login", method="GET") == 1
    assert delta("outreach_http_request_duration_seconds_bucket", route="/login", method="GET", le="+Inf") == 1
    # The rule, never the address with its numbers (one series per route, not per household).
    assert not any("999999" in str(labels) for _name, labels in after)


def test_sync_records_by_result(client, users, geo):
    home = make_household(users["leader"], geo["tanha_v1"])
    token = issue_token(users["member"], now=utcnow())
    db.session.commit()
    before = scrape(client)
    first = visit_payload(home)
    visits = [first, dict(first), visit_payload(home, outcome="flew_away")]
    response = client.post("/api/v1/visits/sync", json={"visits": visits}, headers={"Authorization": f"Bearer {token}"})
    assert [r["status"] for r in response.json["results"]] == ["created", "duplicate", "rejected"]
    after = scrape(client)
    for result in ("created", "duplicate", "rejected"):
        delta = value(after, "outreach_sync_records_total", result=result) - value(
            before, "outreach_sync_records_total", result=result
        )
        assert delta == 1, result


def test_import_durations(client, users):
    before = scrape(client)
    login(client, "leader.tanha")
    csv = "mã xã;thôn;chủ hộ\n02216;Phú Bình;An\n"
    response = client.post(
        "/imports",
        data={
            "csrf_token": csrf_token(client, "/imports"),
            "kind": "households",
            "file": (io.BytesIO(csv.encode()), "hộ.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    after = scrape(client)
    name = "outreach_import_duration_seconds_count"
    assert value(after, name, kind="households") - value(before, name, kind="households") == 1


def _message(commune, status: str, *, due_minutes_ago: float = 0, dismissed: bool = False) -> SmsMessage:
    now = utcnow()
    message = SmsMessage(
        commune_id=commune.id,
        to_phone="+84912345678",
        body="Cài VNeID",
        encoding="UCS-2",
        token=secrets.token_hex(8),
        status=status,
        due_at=now - timedelta(minutes=due_minutes_ago),
        dismissed_at=now if dismissed else None,
    )
    db.session.add(message)
    return message


def test_what_the_database_holds(client, geo):
    commune = geo["tanha"]
    _message(commune, Status.QUEUED, due_minutes_ago=10)
    _message(commune, Status.QUEUED, due_minutes_ago=-60)  # waits for the end of the quiet hours: not late
    _message(commune, Status.SENT)
    _message(commune, Status.NEEDS_CHECK)
    _message(commune, Status.NEEDS_CHECK, dismissed=True)  # a person decided already
    now = utcnow()
    record_heartbeat("server-1:4242", now=now)
    record_job_run("sms-dispatch", "server-1:4242", started=now - timedelta(seconds=1), finished=now, ok=True)
    record_job_run("leader-daily-summary", "server-1:4242", started=now, finished=now, ok=False)
    db.session.commit()

    samples = scrape(client)
    assert value(samples, "outreach_database_up") == 1
    assert value(samples, "outreach_sms_outbox_messages", status="queued") == 2
    assert value(samples, "outreach_sms_outbox_messages", status="sent") == 1
    assert value(samples, "outreach_sms_outbox_messages", status="failed") == 0
    assert 590 < value(samples, "outreach_sms_oldest_queued_age_seconds") < 700
    assert value(samples, "outreach_sms_needs_check_messages") == 1
    assert value(samples, "outreach_scheduler_heartbeat_timestamp_seconds") == now.timestamp()
    assert value(samples, "outreach_scheduler_last_run_timestamp_seconds", job="sms-dispatch") == now.timestamp()
    assert value(samples, "outreach_scheduler_last_run_success", job="sms-dispatch") == 1
    assert value(samples, "outreach_scheduler_last_run_success", job="leader-daily-summary") == 0


def test_an_empty_outbox_is_zero_not_missing(client, geo):
    samples = scrape(client)
    assert ("outreach_sms_outbox_messages", frozenset({("status", "queued")})) in samples
    assert value(samples, "outreach_sms_oldest_queued_age_seconds") == 0
    assert value(samples, "outreach_scheduler_heartbeat_timestamp_seconds") == 0
