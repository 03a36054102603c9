"""Words shown for codes stored in the database (roles, levels, datasets, audit actions)."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "staff": _l("District/province staff"),
    "leader": _l("Commune leader"),
    "member": _l("Team member"),
}
LEVEL_LABELS = {
    "province": _l("Province"),
    "district": _l("District"),
    "commune": _l("Commune"),
    "village": _l("Village"),
}
DATASET_LABELS = {
    "2025": _l("units since 1/7/2025"),
    "legacy": _l("units before 1/7/2025"),
}
ACTION_LABELS = {
    "login": _l("Logged in"),
    "login.failed": _l("Failed login"),
    "logout": _l("Logged out"),
    "user.create": _l("User created"),
    "user.change": _l("User changed"),
    "user.role_change": _l("Role or area changed"),
    "user.password": _l("Password changed"),
    "token.create": _l("API token created"),
    "household.export": _l("Household data exported"),
    "household.erase": _l("Household data erased"),
    "households.import": _l("Households imported"),
    "villages.import": _l("Villages imported"),
    "consent.withdraw": _l("Consent withdrawn"),
}
