"""A visit record as a phone sends it, declared once: the names, types and limits that the sync API
checks and that the OpenAPI document states (both are read from ``VisitPayload``). What the fields
say together (a follow-up needs a date, nobody is helped at a closed door) and the words a member
reads are in ``services``: this module has no Flask and no database in it."""

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic.json_schema import GenerateJsonSchema

from outreach.visits.models import GUIDES, Obstacle, Outcome

MAX_PEOPLE = 50  # helped at one door; the database checks the same
MAX_ID = 2**31 - 1  # household ids are 32-bit integers on PostgreSQL
NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store a NUL character in text


def _canonical_uuid(text: str) -> str:
    return str(uuid.UUID(text))


def _from_iso(value: Any) -> Any:
    # Python's reading of ISO 8601, not pydantic's (which also takes Unix timestamps).
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value


def _date_or_none(value: Any) -> Any:
    if value == "":  # an empty date box
        return None
    return date.fromisoformat(value) if isinstance(value, str) else value


def _text(limit: int):
    return Annotated[str, StringConstraints(strip_whitespace=True, max_length=limit, pattern=NO_NUL)]


ClientId = Annotated[str, AfterValidator(_canonical_uuid), WithJsonSchema({"type": "string", "format": "uuid"})]
HouseholdId = Annotated[int, Field(ge=1, le=MAX_ID)]
People = Annotated[int, Field(ge=0, le=MAX_PEOPLE)]
if TYPE_CHECKING:  # built from the enums at run time; to a type checker they are strings
    OutcomeCode: TypeAlias = str
    ObstacleCode: TypeAlias = str
    GuideCode: TypeAlias = str
    ShortText: TypeAlias = str
    LongText: TypeAlias = str
else:
    OutcomeCode = Literal[tuple(code.value for code in Outcome)]
    ObstacleCode = Literal[tuple(code.value for code in Obstacle)]
    GuideCode = Literal[GUIDES]
    ShortText = _text(200)
    LongText = _text(1000)


class Location(BaseModel):
    """Where the phone was at the door (degrees, WGS 84)."""

    model_config = ConfigDict(strict=True)  # other keys are ignored

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy: float | None = Field(None, allow_inf_nan=False, description="Metres.")


class VisitPayload(BaseModel):
    """One visit as recorded on a phone. No other field is accepted: never a password, OTP code or ID number."""

    # Strict: "2" is not a number and 1 is not true. validate_assignment lets read_visit set the
    # fields that passed one by one.
    model_config = ConfigDict(title="Visit", strict=True, extra="forbid", validate_assignment=True)

    client_id: ClientId = Field(description="Made on the phone; sending it again changes nothing.")
    household_id: HouseholdId
    device_time: Annotated[AwareDatetime, BeforeValidator(_from_iso)] = Field(
        description="When the visit happened, with its time zone."
    )
    outcome: OutcomeCode
    follow_up_on: Annotated[date | None, BeforeValidator(_date_or_none)] = Field(
        None, description="Required when outcome is follow_up."
    )
    people_helped: People = 0
    helped_under_30: People = 0
    helped_30_to_59: People = 0
    helped_60_plus: People = 0
    vneid_installed: bool = False
    vneid_level1: bool = False
    referred_level2: bool = False
    portal_login: bool = False
    procedure_submitted: bool = False
    fee_payment_setup: bool = False
    procedure: ShortText = Field("", description="Name or code of the procedure submitted.")
    guide_given: GuideCode = ""
    obstacles: set[ObstacleCode] = Field(set(), strict=False)  # a JSON list; repeats count once
    obstacle_other: ShortText = ""
    location_consent: bool = False
    sensitive_consent: bool = Field(
        False,
        description="The resident's explicit consent to record a disability (sensitive data). Without it a "
        "disability is only counted for the village, not linked to the household.",
    )
    location: Location | None = Field(None, description="Only with the resident's consent.")
    notes: LongText = Field("", description="Never ID card numbers, passwords or OTP codes.")
    supersedes: ClientId | None = Field(None, description="client_id of the record this corrects.")


_REQUIRED = [name for name, field in VisitPayload.model_fields.items() if field.is_required()]


def read_visit(sent: dict) -> tuple[VisitPayload, dict[str, set[str]]]:
    """The record as declared, and what does not fit, by field (pydantic's error types, such as
    ``string_too_long``; an unknown field is ``extra_forbidden``). A field that does not fit is
    left at its default (None for a required one), so the other fields can still be read."""
    problems: dict[str, set[str]] = {}
    # A name with a broken character (a lone surrogate) stops pydantic before any field: unknown.
    broken = [] if _readable("".join(sent)) else [name for name in sent if not _readable(name)]
    for name in broken:
        problems[name.encode("utf-8", "replace").decode()] = {"extra_forbidden"}
        sent = {key: value for key, value in sent.items() if key != name}
    try:
        return VisitPayload.model_validate(sent), problems
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_context=False, include_input=False):
            problems.setdefault(str(error["loc"][0]), set()).add(error["type"])
    visit = VisitPayload.model_construct(**dict.fromkeys(_REQUIRED))
    for name, value in sent.items():
        if name not in problems:
            setattr(visit, name, value)  # checked again, and it fits: it did a moment ago
    return visit, problems


def _readable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _WithoutFieldTitles(GenerateJsonSchema):
    def field_title_should_be_set(self, schema) -> bool:
        return False  # a title would only repeat the field's name


def json_schemas(ref_prefix: str = "#/components/schemas/") -> dict[str, dict]:
    """The JSON Schema (2020-12, as OpenAPI 3.1 uses) of a visit record, named "Visit", and of the
    objects it refers to by ``ref_prefix`` + name."""
    schema = VisitPayload.model_json_schema(ref_template=ref_prefix + "{model}", schema_generator=_WithoutFieldTitles)
    return {"Visit": schema, **schema.pop("$defs", {})}


VISIT_SCHEMA = json_schemas()["Visit"]
