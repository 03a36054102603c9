"""Villages, households and consent. Every read goes through ``outreach.auth.scope``; services flush,
the request or command commits.

One module per concern; callers import the names from here: ``units`` (finding units by name and former
name, children, roots), ``villages`` (adding, renaming, deleting them; a village's place checked against
its commune), ``households`` (checking, creating, updating them), ``consents`` (consent per purpose;
the sensitive facts themselves sit with the visits, ``outreach.visits.sensitive``), ``records`` (paged lists, a
resident's export, who read their data, erasure)."""

from outreach.geo.services.consents import (
    grant_consent,
    grant_purpose,
    withdraw_consent,
    withdraw_purpose,
)
from outreach.geo.services.households import (
    DuplicateWarning,
    HouseholdInput,
    create_household,
    possible_duplicates,
    update_household,
    validate_household,
)
from outreach.geo.services.records import (
    MAX_HOUSEHOLDS_PER_PAGE,
    READ_ACTIONS,
    erase_household,
    export_household,
    household_reads,
    list_households,
)
from outreach.geo.services.units import (
    child_units,
    find_communes_by_name,
    former_names,
    root_units,
    search_units,
    word_starts,
)
from outreach.geo.services.villages import (
    AREA_REACH,
    MARGIN_DEG,
    MIN_RADIUS_KM,
    CommuneArea,
    VillageInput,
    check_village,
    commune_area,
    delete_village,
    find_village,
    get_village,
    normalize_village_name,
    save_village,
    usual_village_kind,
    village_columns,
    village_household_count,
)

__all__ = [
    "AREA_REACH",
    "CommuneArea",
    "DuplicateWarning",
    "HouseholdInput",
    "MARGIN_DEG",
    "MAX_HOUSEHOLDS_PER_PAGE",
    "MIN_RADIUS_KM",
    "READ_ACTIONS",
    "VillageInput",
    "check_village",
    "child_units",
    "commune_area",
    "create_household",
    "delete_village",
    "erase_household",
    "export_household",
    "find_village",
    "find_communes_by_name",
    "former_names",
    "get_village",
    "grant_consent",
    "grant_purpose",
    "household_reads",
    "list_households",
    "normalize_village_name",
    "possible_duplicates",
    "root_units",
    "save_village",
    "search_units",
    "update_household",
    "usual_village_kind",
    "validate_household",
    "village_columns",
    "village_household_count",
    "withdraw_consent",
    "withdraw_purpose",
    "word_starts",
]
