"""9. The SMS outbox dispatcher, to a fake Twilio on loopback, with one and two dispatchers."""

import time
from datetime import timedelta
from pathlib import Path

from bench.fixtures import add_unit
from bench.harness import NOW, close, databases, fresh_database, make_app, postgres_problem, verdict

SMS_MESSAGES = 2_000
SMS_MESSAGES_QUICK = 400
SMS_TARGET_MS = 25.0  # dispatcher overhead per message, fake Twilio on loopback included


def bench_sms(tmp: Path, quick: bool, selected_db: str) -> None:
    """Messages per second through the real twilio client to a local fake Twilio server (tests/sms),
    with one dispatcher and with two (threads, each with its own connection) claiming rows concurrently."""
    import threading

    import sqlalchemy as sa

    from outreach.clock import day_start, local_today
    from outreach.extensions import db
    from outreach.geo.models import Level
    from outreach.sms.dispatcher import dispatch_once
    from outreach.sms.gateway import TwilioGateway
    from outreach.sms.models import Guide, SmsMessage
    from tests.sms.fake_twilio import FakeTwilio

    count = SMS_MESSAGES_QUICK if quick else SMS_MESSAGES
    # The run's one clock, moved to ten in the morning of its local day: at night (quiet hours) the
    # outbox rightly sends nothing, and the benchmark runs on any day at any hour.
    sending_at = day_start(local_today(NOW)) + timedelta(hours=10)
    for kind in databases(selected_db):
        if kind != "postgresql":
            continue  # several dispatchers at once is a PostgreSQL feature (SKIP LOCKED)
        url = fresh_database(kind, tmp, "sms")
        if url is None:
            print(f"sms.dispatch {kind} SKIP (PostgreSQL unreachable: {postgres_problem()})")
            continue
        app = make_app(url)
        with FakeTwilio() as fake, app.app_context():
            province = add_unit(Level.PROVINCE, "08", "Tỉnh Tuyên Quang")
            commune = add_unit(Level.COMMUNE, "02216", "Phường Tân Hà", province)
            guide = Guide(code="vneid1", title_vi="Cài VNeID", body_vi="1. Mở CH Play", created_at=NOW, updated_at=NOW)
            db.session.add(guide)
            db.session.commit()
            rows = [
                {"kind": "guide", "commune_id": commune.id, "guide_id": guide.id, "to_phone": f"+8491{n:07d}",
                 "body": f"Chào hộ {n}, hướng dẫn: https://x.vn/g/vneid1?t={n:08d}", "encoding": "UCS-2",
                 "segments": 1, "token": f"{n:08d}", "status": "queued", "due_at": sending_at, "attempts": 0,
                 "opens": 0, "provider_status": "", "error_message": "", "created_at": NOW, "updated_at": NOW}
                for n in range(count)
            ]  # fmt: skip
            db.session.execute(sa.insert(SmsMessage), rows)
            db.session.commit()

            def gateway():
                return TwilioGateway(
                    account_sid="AC" + "0" * 32, auth_token="bench", from_="+15005550006",
                    status_callback="https://x.vn/sms/status", api_base=fake.url,
                )  # fmt: skip

            def run(dispatchers: int, app=app) -> float:
                def work():
                    with app.app_context():
                        gw = gateway()
                        while dispatch_once(gw, clock=lambda: sending_at, limit=50):
                            pass
                        db.session.remove()

                threads = [threading.Thread(target=work) for _ in range(dispatchers)]
                start = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return time.perf_counter() - start

            results = {}
            for dispatchers in (1, 2):
                fake.requests.clear()
                db.session.execute(sa.update(SmsMessage).values(status="queued", provider_sid=None, attempts=0))
                db.session.commit()
                seconds = run(dispatchers)
                bodies = [r["form"]["Body"] for r in fake.requests]
                sent = db.session.scalar(sa.select(sa.func.count()).where(SmsMessage.status == "sent"))
                results[dispatchers] = (seconds, len(bodies), len(set(bodies)), sent)
            db.session.remove()
        close(app)
        one, two = results[1], results[2]
        per_ms = one[0] / count * 1000
        once = all(r[1] == r[2] == r[3] == count for r in results.values())
        ok = once and per_ms < SMS_TARGET_MS
        print(
            f"sms.dispatch {kind} messages={count} per_message_ms={per_ms:.1f} "
            f"one_dispatcher_per_s={count / one[0]:,.0f} "
            f"two_dispatchers_per_s={count / two[0]:,.0f} (target <{SMS_TARGET_MS:.0f} ms per message, none twice) "
            f"{verdict(ok, f'sms.dispatch {kind}')}"
        )
        print(
            f"    claim one message at a time (SKIP LOCKED), send it through the twilio client to a fake Twilio, "
            f"record and commit each; "
            f"requests/distinct/sent: one {one[1]}/{one[2]}/{one[3]}, two {two[1]}/{two[2]}/{two[3]} "
            f"(dispatchers are threads of this process, so they share its GIL)"
        )
