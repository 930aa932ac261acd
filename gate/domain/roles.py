"""Who may do what in the web app: roles and the permissions they carry."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A staff account's role."""

    GUARD = "guard"
    BUILDING_HEAD = "building_head"  # sees only their own buildings
    UNIT_HEAD = "unit_head"  # 单元长: sees only their own units (kept a unit's WeChat group)
    OFFICE = "office"  # property office
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(StrEnum):
    """One thing a role may do."""

    TERMINAL = "terminal"  # the guard terminal, live feed
    OVERRIDE = "override"  # admit or deny a review
    REGISTER_VISITOR = "register_visitor"
    SEARCH_PERSONS = "search_persons"
    SHIFT_REPORT = "shift_report"
    OFFICE = "office"  # households, persons, statuses (scoped for building heads)
    DAILY_ROUND = "daily_round"  # temperatures and needs of quarantined households
    MANAGE_RULES = "manage_rules"  # rules, exemptions
    REGISTRY_IO = "registry_io"  # import / export
    AUDIT = "audit"
    ACCOUNTS = "accounts"
    IMPACT_ASSESSMENT = "impact_assessment"  # record the PIA face enrolment waits for


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.GUARD: frozenset(
        {
            Permission.TERMINAL,
            Permission.OVERRIDE,
            Permission.REGISTER_VISITOR,
            Permission.SEARCH_PERSONS,
            Permission.SHIFT_REPORT,
        }
    ),
    Role.BUILDING_HEAD: frozenset({Permission.OFFICE, Permission.DAILY_ROUND}),
    Role.UNIT_HEAD: frozenset({Permission.OFFICE, Permission.DAILY_ROUND}),
    Role.OFFICE: frozenset(
        {
            Permission.OFFICE,
            Permission.DAILY_ROUND,
            Permission.MANAGE_RULES,
            Permission.REGISTRY_IO,
            Permission.SEARCH_PERSONS,
            Permission.SHIFT_REPORT,
        }
    ),
    Role.AUDITOR: frozenset({Permission.AUDIT, Permission.SHIFT_REPORT}),
    Role.ADMIN: frozenset(Permission),
}


def allowed(role: Role, permission: Permission) -> bool:
    """True if ``role`` carries ``permission``."""
    return permission in PERMISSIONS[role]


def scoped_to_buildings(role: Role) -> bool:
    """True for roles that see only the buildings (or units) assigned to them."""
    return role in (Role.BUILDING_HEAD, Role.UNIT_HEAD)


def scoped_to_units(role: Role) -> bool:
    """True for roles that see only the units assigned to them, within their buildings."""
    return role is Role.UNIT_HEAD
