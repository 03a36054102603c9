"""Property-based tests (hypothesis): whatever a phone sends, each record gets its own answer, never an
exception, and good records sent beside bad ones are stored. A phone's batch never stalls on a 500.

Any JSON value in any field, records that are not objects, integers past 64 bits, NaN and Infinity
(Python's json writes them as bare words, as a broken phone might), NUL, deep nesting, any unicode."""

import json
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from outreach.extensions import db
from outreach.visits.checks import check_visit
from outreach.visits.models import VisitRecord
from outreach.visits.payload import VisitPayload
from tests.conftest import NOW, make_household, visit_payload
from tests.visits.test_payload import _validate

FIELDS = sorted(VisitPayload.model_fields)
BOUNDED = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
    st.integers(min_value=2**63 - 1, max_value=2**70),
    st.sampled_from([-(2**64), 2**64, 10**100]),
    st.floats(),  # NaN, Infinity and -0.0 included
)
texts = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "Mất điện", "2026-11-26T09:30:00+07:00", "2026-12-01"]),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01", "9999-12-31"]),
    st.sampled_from(["helped", "follow_up", "nobody_home", "other", "sms", "printed", str(uuid.UUID(int=1))]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def _nested(depth: int):
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def odd_records(draw):
    """Anything in place of a record: another JSON value, or a good record with fields replaced,
    removed or added."""
    if draw(st.integers(0, 5)) == 0:
        return draw(json_values)
    record = visit_payload(1, client_id=str(uuid.uuid4()))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        record[name] = draw(json_values)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=2, unique=True)):
        record.pop(name, None)
    record.update(draw(st.dictionaries(texts, json_values, max_size=2)))
    return record


@given(record=odd_records())
@BOUNDED
@example(record={"notes": _nested(200)})
@example(record={"location": {"lat": float("nan"), "lon": float("inf"), "accuracy": -float("inf")}})
@example(record=visit_payload(1, device_time="0001-01-01T00:00:00+14:00", follow_up_on="9999-12-31"))
def test_the_validator_answers_every_record_by_field_and_never_raises(app, record):
    with app.test_request_context():
        values, errors = check_visit(record, NOW)
    assert isinstance(values, dict) and isinstance(errors, dict)
    for name, message in errors.items():
        assert isinstance(name, str) and isinstance(message, str) and message.strip(), (name, message)
    assert not set(errors) & set(values), "a field in error is never stored"
    if not errors:  # accepted: every column a phone fills is there and fits its declaration
        assert VisitPayload.model_validate(record).client_id == values["client_id"]


@pytest.fixture
def phone(users, geo):
    from outreach.auth.services import issue_token

    home = make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An")
    token = issue_token(users["member"], now=NOW)
    db.session.commit()
    return home, {"Authorization": f"Bearer {token}"}


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(VisitRecord))


@given(odd=st.lists(odd_records(), min_size=1, max_size=4))
@BOUNDED
@example(odd=[{"visits": _nested(300)}, _nested(300), {"client_id": _nested(300)}])
@example(odd=[float("nan"), float("inf"), 2**64, "\x00", None, [], {}])
def test_a_batch_with_odd_records_stores_the_good_ones_and_answers_each(client, phone, odd):
    home, auth = phone
    for record in odd:
        if isinstance(record, dict) and record.get("household_id") == 1:
            record["household_id"] = home.id  # some odd records are good ones: they may be stored
    good = [visit_payload(home), visit_payload(home)]
    batch = [good[0], *odd, good[1]]
    before = _count()
    body = json.dumps({"visits": batch})  # NaN and Infinity written as bare words
    response = client.post("/api/v1/visits/sync", data=body, content_type="application/json", headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    answer = response.get_json()
    _validate(answer, "SyncResponse")
    results = answer["results"]
    assert len(results) == len(batch)
    assert results[0]["status"] == results[-1]["status"] == "created"
    for result in results:
        if result["status"] == "rejected":
            assert result["errors"] and all(m.strip() for m in result["errors"].values()), result
    assert _count() - before == sum(r["status"] == "created" for r in results)
