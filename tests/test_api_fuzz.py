"""Schemathesis against the API's description (/api/v1/openapi.json): requests made from it, fitting it
and not, sent to the app with a member's token, with every check schemathesis has (no server error,
status codes, content types and bodies as described, schema-violating requests refused, fitting ones
accepted, 401 without the token, 405 with Allow ...). Slow: run by ``make fuzz`` (marker ``fuzz``),
once in CI rather than once per database."""

import contextvars
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.generation.meta import negated_parameters

from outreach.auth.services import issue_token
from outreach.clock import utcnow
from outreach.extensions import db
from outreach.openapi import SPEC
from tests.conftest import make_household, visit_payload

pytestmark = pytest.mark.fuzz


class AppUnderTest:
    """The app as WSGI, each request in its own context (so its own database session), as in
    production. The schema is read when this module is imported; the app exists once a test runs."""

    app = None
    token = None  # the member's, made anew for each operation (the database is emptied after each test)

    def __call__(self, environ, start_response):
        db.session.rollback()  # the test's own read must hold neither a snapshot nor a lock
        # Schemathesis's WSGI transport asks for gzip (as `requests` does) but reads the body as sent: the
        # content is what is checked here; compression on the wire is tests/test_gzip.py's.
        environ.pop("HTTP_ACCEPT_ENCODING", None)
        return contextvars.Context().run(self.app.wsgi_app, environ, start_response)


APP = AppUnderTest()
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # A refusal by status: 413 is how a batch of more than 500 visits is refused.
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "429"]
            },
        },
        "operations": [
            {
                # A household that fits the declaration may still break a rule it cannot state (a village
                # of your area, a Vietnamese mobile number, consent with a phone): 422, by field.
                "include-path": "/households",
                "include-method": "POST",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "409", "422"]}},
            }
        ],
    }
)
# The document /api/v1/openapi.json serves (checked below), read when this module is imported.
schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)
schema.app = APP  # the WSGI transport, for the checks' own probes too


@schema.auth(refresh_interval=None)
class MemberToken:
    """Every request carries the member's token, as the field app's do (the checks also send some without)."""

    def get(self, case, context):
        return APP.token

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.hook
def filter_failure(context, failure, case, response) -> bool:
    """The one value outside its declaration the API takes on purpose, as its description says: a
    ``page`` below the first or not a number is the first page (tests/geo/test_paging.py)."""
    negated = {name for name, _location in negated_parameters(case.meta)}
    return not (isinstance(failure, AcceptedNegativeData) and negated == {"page"})


@pytest.fixture
def api(app, users, geo):
    """A member's token, and households and a visit for it to find."""
    from outreach.visits.services import record_visit

    home = make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An", phone="0912345678")
    make_household(users["leader"], geo["tanha_v1"], "Lê Thị Hoa")
    record_visit(users["member"], visit_payload(home), now=utcnow())
    APP.token = issue_token(users["member"], now=utcnow())
    db.session.commit()
    APP.app = app


def test_the_fuzzed_description_is_the_one_served(client):
    assert client.get("/api/v1/openapi.json").get_json() == json.loads(json.dumps(SPEC))


@schema.parametrize()
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_described_and_none_is_a_server_error(case, api):
    case.call_and_validate()
