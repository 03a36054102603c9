"""The outbox through the real twilio client against a local fake Twilio server."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.services import withdraw_consent
from outreach.sms import services
from outreach.sms.dispatcher import dispatch_once
from outreach.sms.gateway import gateway_from_config
from outreach.sms.models import OptOut, SmsMessage, Status
from outreach.sms.segments import count_segments
from tests.conftest import make_household
from tests.sms.conftest import DAY


def queue(users, homes, guide, *, now=DAY, who="sms", **kw):
    plan = services.queue_guide_sms(
        users["leader"], [homes[who].id], guide.id, services.DEFAULT_TEMPLATE, now=now, **kw
    )
    db.session.commit()
    return plan


def message() -> SmsMessage:
    db.session.rollback()
    return db.session.scalar(sa.select(SmsMessage).order_by(SmsMessage.id.desc()).limit(1))


def test_a_queued_message_goes_out_through_twilio_once(app, users, homes, guide, gateway, fake_twilio):
    plan = queue(users, homes, guide)
    assert plan.recipients == 1 and message().status == Status.QUEUED  # written, not sent, by the action
    assert fake_twilio.requests == []
    outcome = dispatch_once(gateway, clock=lambda: DAY)
    assert outcome == {"sent": 1}
    [request] = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{app.config['TWILIO_ACCOUNT_SID']}/Messages.json"
    form = request["form"]
    assert form["To"] == "+84912345678" and form["From"] == app.config["TWILIO_FROM"]
    assert form["StatusCallback"] == "https://outreach.example.vn/sms/status"
    assert "Nguyễn Thị Hoà" in form["Body"] and "https://outreach.example.vn/g/vneid1?t=" in form["Body"]
    sent = message()
    assert sent.status == Status.SENT and sent.provider_sid.startswith("SM") and sent.attempts == 1
    assert sent.token in form["Body"] and sent.encoding == "UCS-2"
    assert sent.segments == count_segments(form["Body"]).segments == 2
    # Nothing is sent again on the next passes.
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(hours=1)) == {}
    assert len(fake_twilio.requests) == 1


def test_only_households_with_sms_consent_and_not_opted_out(app, users, homes, guide, gateway, fake_twilio):
    services.opt_out("+84912345678", source="reply", keyword="huy", now=DAY)
    ids = [h.id for h in homes.values()]
    plan = services.queue_guide_sms(users["leader"], ids, guide.id, services.DEFAULT_TEMPLATE, now=DAY)
    assert plan.recipients == 0
    assert plan.skipped == {"opted_out": 1, "no_consent": 1, "no_phone": 1}
    db.session.rollback()
    services.opt_in("+84912345678")
    assert services.queue_guide_sms(users["leader"], ids, guide.id, "{link}", now=DAY).recipients == 1


def test_consent_withdrawn_after_queueing_cancels_the_message(app, users, homes, guide, gateway, fake_twilio):
    queue(users, homes, guide)
    withdraw_consent(users["leader"], homes["sms"].id, "receive_sms", now=DAY)
    db.session.commit()
    assert dispatch_once(gateway, clock=lambda: DAY) == {"cancelled": 1}
    assert fake_twilio.requests == []


def test_quiet_hours_defer_never_drop(app, users, homes, guide, gateway, fake_twilio):
    late = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # 22:30 in Hà Nội
    plan = queue(users, homes, guide, now=late)
    assert plan.deferred == 1
    assert message().due_at == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 07:00 the next morning
    assert dispatch_once(gateway, clock=lambda: late + timedelta(hours=1)) == {}
    assert dispatch_once(gateway, clock=lambda: datetime(2026, 11, 26, 23, 59, tzinfo=UTC)) == {}  # 06:59
    assert dispatch_once(gateway, clock=lambda: datetime(2026, 11, 27, 0, 1, tzinfo=UTC)) == {"sent": 1}
    assert len(fake_twilio.requests) == 1


def test_a_retry_due_in_the_quiet_hours_waits_for_the_morning(app, users, homes, guide, gateway, fake_twilio):
    queue(users, homes, guide)
    row = message()
    row.due_at = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 21:00
    db.session.commit()
    assert dispatch_once(gateway, clock=lambda: datetime(2026, 11, 26, 14, 0, tzinfo=UTC)) == {}
    assert message().status == Status.QUEUED


def test_daily_cap_per_commune_moves_the_rest_to_the_next_morning(app, users, geo, homes, guide, gateway, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_DAILY_CAP_PER_COMMUNE", 2)
    leader = users["leader"]
    more = [
        make_household(leader, geo["tanha_v2"], f"Hộ {n}", phone=f"09123456{n:02d}", consent_sms=True)
        for n in range(10, 12)
    ]
    ids = [homes["sms"].id] + [h.id for h in more]
    plan = services.queue_guide_sms(leader, ids, guide.id, "{name} {link}", now=DAY)
    db.session.commit()
    assert plan.recipients == 3 and plan.deferred == 1
    dues = sorted(db.session.scalars(sa.select(SmsMessage.due_at)))
    assert dues == [DAY, DAY, datetime(2026, 11, 27, 0, 0, tzinfo=UTC)]


def test_429_and_5xx_are_retried_with_exponential_backoff(app, users, homes, guide, gateway, fake_twilio):
    queue(users, homes, guide)
    fake_twilio.script = [429, 500, 503]
    assert dispatch_once(gateway, clock=lambda: DAY) == {"queued": 1}
    row = message()
    assert (row.attempts, row.due_at, row.error_code) == (1, DAY + timedelta(seconds=30), 20429)
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(seconds=29)) == {}  # not before its time
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(seconds=30)) == {"queued": 1}
    assert message().due_at == DAY + timedelta(seconds=30 + 60)
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(seconds=90)) == {"queued": 1}
    assert message().due_at == DAY + timedelta(seconds=90 + 120)
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(seconds=210)) == {"sent": 1}
    assert len(fake_twilio.requests) == 4 and message().attempts == 4 and message().error_code is None


def test_retries_stop_after_the_last_attempt(app, users, homes, guide, gateway, fake_twilio, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_MAX_ATTEMPTS", 2)
    queue(users, homes, guide)
    fake_twilio.script = [500, 500, 500]
    dispatch_once(gateway, clock=lambda: DAY)
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(minutes=5)) == {"failed": 1}
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(hours=5)) == {}
    assert len(fake_twilio.requests) == 2


def test_connection_refused_is_retried(app, users, homes, guide, fake_twilio, monkeypatch):
    queue(users, homes, guide)
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "twilio")
    monkeypatch.setitem(app.config, "TWILIO_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    unreachable = gateway_from_config(app.config)
    assert dispatch_once(unreachable, clock=lambda: DAY) == {"queued": 1}
    assert message().due_at == DAY + timedelta(seconds=30)


def test_a_dropped_connection_after_sending_is_checked_by_a_person_not_resent(
    app, users, homes, guide, gateway, fake_twilio
):
    queue(users, homes, guide)
    fake_twilio.script = ["drop"]
    assert dispatch_once(gateway, clock=lambda: DAY) == {"needs_check": 1}
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(hours=2)) == {}
    assert len(fake_twilio.requests) == 1


def test_invalid_number_is_final_with_its_reason(app, users, homes, guide, gateway, fake_twilio):
    queue(users, homes, guide)
    fake_twilio.script = [21211]
    assert dispatch_once(gateway, clock=lambda: DAY) == {"failed": 1}
    row = message()
    assert row.error_code == 21211 and row.status == Status.FAILED
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(hours=2)) == {}
    assert len(fake_twilio.requests) == 1


def test_21610_records_the_opt_out_and_cancels_what_waits(app, users, homes, guide, gateway, fake_twilio):
    queue(users, homes, guide)
    queue(users, homes, guide, now=DAY + timedelta(hours=1), again=True)  # a second one, due later
    fake_twilio.script = [21610]
    assert dispatch_once(gateway, clock=lambda: DAY) == {"failed": 1}
    db.session.rollback()
    assert db.session.get(OptOut, "+84912345678").source == "carrier"
    statuses = sorted(db.session.scalars(sa.select(SmsMessage.status)))
    assert statuses == [Status.CANCELLED, Status.FAILED]
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(hours=2)) == {}
    assert len(fake_twilio.requests) == 1


class Crash(BaseException):
    """The dispatcher's process dies (power cut, killed): nothing after this point runs."""


def five_queued(users, geo, homes, guide) -> None:
    leader = users["leader"]
    more = [
        make_household(leader, geo["tanha_v2"], f"Hộ {n}", phone=f"09123456{n:02d}", consent_sms=True)
        for n in range(10, 14)
    ]
    services.queue_guide_sms(leader, [homes["sms"].id] + [h.id for h in more], guide.id, "{name} {link}", now=DAY)
    db.session.commit()


def test_a_crash_while_sending_leaves_only_that_message_to_check_and_never_resends_it(
    app, users, geo, homes, guide, gateway, fake_twilio
):
    five_queued(users, geo, homes, guide)

    class DiesDuringTheSecondRequest:
        name = "twilio"
        calls = 0

        def send(self, to, body):
            self.calls += 1
            result = gateway.send(to, body)  # the request leaves ...
            if self.calls == 2:
                raise Crash  # ... and the dispatcher dies before it records the answer
            return result

    with pytest.raises(Crash):
        dispatch_once(DiesDuringTheSecondRequest(), clock=lambda: DAY)
    db.session.rollback()
    statuses = sorted(db.session.scalars(sa.select(SmsMessage.status)))
    assert statuses == [Status.QUEUED] * 3 + [Status.SENDING, Status.SENT]  # only the one in flight
    # The next pass sends the three that never left, and leaves the one in flight alone (maybe
    # another dispatcher is sending it).
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(seconds=60)) == {"sent": 3}
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(minutes=10)) == {"needs_check": 1}
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(minutes=20)) == {}
    assert len(fake_twilio.requests) == 5
    [check] = services.outbox_page(users["leader"], status=None)["attention"]
    assert check.status == Status.NEEDS_CHECK and check.error_message == "interrupted"
    # A person decides: it did not arrive, send it again.
    services.resolve_check(users["leader"], check.id, action="again", now=DAY + timedelta(minutes=30))
    db.session.commit()
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(minutes=31)) == {"sent": 1}
    assert len(fake_twilio.requests) == 6


def test_a_crash_between_claim_and_send_is_never_resent(app, users, geo, homes, guide, gateway, fake_twilio):
    five_queued(users, geo, homes, guide)
    claimed = services.claim_next(now=DAY)
    db.session.commit()
    assert claimed is not None  # ... and the dispatcher dies here, before its request
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).where(SmsMessage.status == Status.SENDING)) == 1
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(seconds=60)) == {"sent": 4}
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(minutes=10)) == {"needs_check": 1}
    assert dispatch_once(gateway, clock=lambda: DAY + timedelta(minutes=20)) == {}
    assert len(fake_twilio.requests) == 4
    assert db.session.get(SmsMessage, claimed).status == Status.NEEDS_CHECK


def test_the_console_gateway_marks_sent_without_network(app, users, homes, guide, caplog):
    queue(users, homes, guide)
    logging.getLogger("outreach.sms").disabled = False  # Alembic's logging config turned it off in this process
    with caplog.at_level("INFO", logger="outreach.sms"):
        assert dispatch_once(gateway_from_config(app.config), clock=lambda: DAY) == {"sent": 1}
    assert message().provider_sid.startswith("console-")
    # The log says a message went, not to whom nor what it said (it names the resident).
    assert "+84•••••••678" in caplog.text and "912345678" not in caplog.text
    assert message().body not in caplog.text and "Nguyễn Thị Hoà" not in caplog.text


def test_cli_dispatch_runs_one_pass(app, runner, users, homes, guide):
    queue(users, homes, guide, now=datetime.now(UTC) - timedelta(minutes=1))
    result = runner.invoke(args=["sms", "dispatch"])
    assert result.exit_code == 0, result.output
    # Quiet hours depend on the clock the test runs at; either it went out or it waits.
    assert ("sent 1" in result.output) == (not services.in_quiet_hours(datetime.now(UTC)))


@pytest.mark.parametrize("households", [1000])
def test_two_dispatchers_on_postgresql_never_send_twice(
    app, is_postgres, users, geo, guide, fake_twilio, households, monkeypatch
):
    if not is_postgres:
        pytest.skip("FOR UPDATE SKIP LOCKED needs PostgreSQL (set TEST_DATABASE_URL)")
    import threading

    from outreach.geo.models import Household

    db.session.execute(
        sa.insert(Household),
        [{"village_id": geo["tanha_v1"].id, "head_name": f"Hộ {n}", "head_name_folded": f"ho {n}",
          "phone": f"+8491{n:07d}", "members": 1} for n in range(households)],
    )  # fmt: skip
    ids = list(db.session.scalars(sa.select(Household.id)))
    rows = [
        {"kind": "guide", "commune_id": geo["tanha"].id, "household_id": None, "guide_id": guide.id,
         "to_phone": f"+8491{n:07d}", "body": f"tin {n}", "encoding": "GSM-7", "segments": 1, "token": f"t{n:07d}",
         "status": "queued", "due_at": DAY, "attempts": 0, "opens": 0, "provider_status": "", "error_message": "",
         "created_at": DAY, "updated_at": DAY}
        for n in range(len(ids))
    ]  # fmt: skip
    db.session.execute(sa.insert(SmsMessage), rows)
    db.session.commit()
    monkeypatch.setitem(app.config, "TWILIO_API_BASE", fake_twilio.url)
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "twilio")
    errors = []

    def dispatcher():
        try:
            with app.app_context():
                gw = gateway_from_config(app.config)
                while dispatch_once(gw, clock=lambda: DAY, limit=20):
                    pass
                db.session.remove()
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    bodies = [r["Body"] for r in fake_twilio.sent]
    assert len(bodies) == households and len(set(bodies)) == households
    db.session.rollback()
    counts = dict(db.session.execute(sa.select(SmsMessage.status, sa.func.count()).group_by(SmsMessage.status)).all())
    assert counts == {"sent": households}
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(SmsMessage.provider_sid)))) == households


def test_a_guide_is_not_sent_twice_to_a_household_unless_asked(app, users, homes, guide, gateway, fake_twilio):
    assert queue(users, homes, guide).recipients == 1
    again = queue(users, homes, guide)  # the same form sent twice, or a bulk send over the same village
    assert again.recipients == 0 and again.skipped == {"already_sent": 1}
    assert queue(users, homes, guide, again=True).recipients == 1  # a person chose to send it again
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SmsMessage.id))) == 2


def test_a_number_refused_as_invalid_is_not_sent_again_until_corrected(app, users, homes, guide, gateway, fake_twilio):
    queue(users, homes, guide)
    fake_twilio.script = [21211]
    assert dispatch_once(gateway, clock=lambda: DAY) == {"failed": 1}
    plan = queue(users, homes, guide, again=True)
    assert plan.recipients == 0 and plan.skipped == {"invalid_number": 1}
    with pytest.raises(ValidationError):
        services.resolve_check(users["leader"], message().id, action="again", now=DAY)
    db.session.rollback()
    services.resolve_check(users["leader"], message().id, action="dismiss", now=DAY)
    db.session.commit()
    assert services.outbox_page(users["leader"], status=None)["attention"] == []


def test_the_preview_says_when_each_deferred_message_goes_out(client, app, users, homes, guide, monkeypatch):
    """Today and tomorrow are full: the message waits for the day after tomorrow, and the preview says so."""
    from tests.conftest import csrf_token, login

    app.config["SMS_DAILY_CAP_PER_COMMUNE"] = 1
    try:
        tomorrow = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 07:00 in Hà Nội
        for n, due in enumerate([DAY, tomorrow]):
            db.session.add(
                SmsMessage(
                    kind="guide", commune_id=homes["sms"].village.parent_id, to_phone=f"+8490000000{n}", body="x",
                    encoding="GSM-7", segments=1, token=f"full-{n}", status=Status.QUEUED, due_at=due,
                )
            )  # fmt: skip
        db.session.commit()
        plan = services.queue_guide_sms(
            users["leader"], [homes["sms"].id], guide.id, "{name} {link}", now=DAY, dry_run=True
        )
        day_after = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
        assert plan.deferred == 1 and plan.waits == [(day_after, 1)]
        db.session.rollback()
        monkeypatch.setattr("outreach.sms.routes.utcnow", lambda: DAY)
        login(client, "leader.tanha")
        data = {
            "csrf_token": csrf_token(client, "/sms/bulk"), "village_id": homes["sms"].village_id, "which": "all",
            "guide_id": guide.id, "template": "{name} {link}", "action": "preview",
        }  # fmt: skip
        page = client.post("/sms/bulk", data=data).get_data(as_text=True)
        assert "1 tin sẽ chờ đến 28/11/2026 07:00" in page
        assert "27/11/2026" not in page and "26/11/2026" not in page
    finally:
        app.config["SMS_DAILY_CAP_PER_COMMUNE"] = 500


def test_two_bulk_sends_at_once_keep_the_commune_daily_cap(app, is_postgres, users, geo, guide):
    if not is_postgres:
        pytest.skip(
            "two bulk sends in parallel need PostgreSQL (set TEST_DATABASE_URL); on SQLite a send takes the "
            "write lock when it begins (BEGIN IMMEDIATE), so sends cannot overlap"
        )
    import threading
    import time

    from outreach.auth.models import User

    app.config["SMS_DAILY_CAP_PER_COMMUNE"] = 4
    try:
        leader = users["leader"]
        households = [
            make_household(leader, geo["tanha_v1"], f"Hộ {n}", phone=f"09123456{n:02d}", consent_sms=True)
            for n in range(10, 16)
        ]
        batches = [[h.id for h in households[:3]], [h.id for h in households[3:]]]
        leader_id, guide_id = leader.id, guide.id
        first_queued, errors = threading.Event(), []

        def bulk_send(ids, *, first):
            try:
                with app.app_context():
                    if not first:
                        first_queued.wait(10)
                    actor = db.session.get(User, leader_id)
                    services.queue_guide_sms(actor, ids, guide_id, "{name} {link}", now=DAY)
                    if first:
                        first_queued.set()
                        time.sleep(0.5)  # the other send runs while this one has not committed yet
                    db.session.commit()
                    db.session.remove()
            except Exception as exc:  # reported below, not lost in the thread
                errors.append(exc)
            finally:
                first_queued.set()

        threads = [threading.Thread(target=bulk_send, args=(ids,), kwargs={"first": n == 0}) for n, ids in
                   enumerate(batches)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        db.session.rollback()
        dues = sorted(db.session.scalars(sa.select(SmsMessage.due_at)))
        assert dues == [DAY] * 4 + [datetime(2026, 11, 27, 0, 0, tzinfo=UTC)] * 2
    finally:
        app.config["SMS_DAILY_CAP_PER_COMMUNE"] = 500
