"""The roles a user has. Kernel: the audit page (below auth) checks one; ``outreach.auth.models``
re-exports ``Role`` beside ``User``, where the rest of the package imports it from."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything
    STAFF = "staff"  # province or commune staff (legacy: district too): read-only maps and reports of their subtree
    LEADER = "leader"  # commune leader: villages, households, teams and visits of the commune
    MEMBER = "member"  # team member: their assignments and records
